"""Reading conversations from chat exports: one streaming reader per format, registered by name.

>>> from cosea.chats.io import ReadReport, read_conversations, stream_messages
>>> report = ReadReport()
>>> for conversation in read_conversations(["chat.txt", "export.json"], report=report):
...     ...
>>> for header, message in stream_messages("big.xml", reader="pan12"):
...     ...  # constant memory: header.messages stays empty

Readers: ``jsonl`` (the project's labelled format), ``pan12`` (PAN12 XML),
``whatsapp`` (text export), ``telegram`` (Telegram Desktop JSON), ``discord``
(DiscordChatExporter JSON), ``csv`` (any CSV with a column mapping).
"""

from cosea.chats.io.base import (
    END,
    ChatReader,
    ReaderOption,
    ReadReport,
    detect_reader,
    get_reader,
    read_conversations,
    reader_names,
    register_reader,
    stream_messages,
)
from cosea.chats.io.csvfile import CsvReader, parse_mapping
from cosea.chats.io.discord import DiscordReader
from cosea.chats.io.jsonl import JsonlReader, write_jsonl
from cosea.chats.io.pan12 import Pan12Reader, load_pan12_predators, pan12_gold
from cosea.chats.io.telegram import TelegramReader
from cosea.chats.io.whatsapp import WhatsAppReader

__all__ = [
    "END",
    "ChatReader",
    "CsvReader",
    "DiscordReader",
    "JsonlReader",
    "Pan12Reader",
    "ReadReport",
    "ReaderOption",
    "TelegramReader",
    "WhatsAppReader",
    "detect_reader",
    "get_reader",
    "load_pan12_predators",
    "pan12_gold",
    "parse_mapping",
    "read_conversations",
    "reader_names",
    "register_reader",
    "stream_messages",
    "write_jsonl",
]
