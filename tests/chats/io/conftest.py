"""Fixtures: small chat files of every format (written by ``chat_samples``)."""

from chat_samples import (
    csv_file,
    discord_file,
    jsonl_file,
    pan12_file,
    telegram_file,
    telegram_full_file,
    whatsapp_android,
    whatsapp_ios,
)

__all__ = [
    "csv_file",
    "discord_file",
    "jsonl_file",
    "pan12_file",
    "telegram_file",
    "telegram_full_file",
    "whatsapp_android",
    "whatsapp_ios",
]
