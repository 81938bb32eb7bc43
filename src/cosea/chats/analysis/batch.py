"""The batch driver: many conversations, one analyser per live conversation.

Input is either whole :class:`~cosea.types.Conversation` objects or the
``(header, message)`` pairs of ``cosea.chats.io.stream_messages`` (a reader's
``(header, END)`` markers are understood too). Memory stays bounded:

* readers that group messages by conversation (JSON Lines, PAN12, WhatsApp,
  Telegram, Discord) finish a conversation before starting the next, so with
  ``grouped=True`` a conversation is finalised as soon as the stream moves on;
* for interleaved sources (a CSV of many threads) pass ``grouped=False``: up to
  ``max_live`` conversations stay open and the one idle the longest is
  finalised when that many are open.

Batch-level context (one account opening many conversations with young
accounts, T0105; new or recycled accounts across the batch, T0203) comes from
``cosea.chats.recognizers.batch.BatchContext``: each conversation is shown to it
when it starts, and only conversations seen before count (no look-ahead).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cosea.chats.analysis.analyzer import ConversationAnalyzer
from cosea.chats.analysis.pipeline import Normalizer
from cosea.chats.model import RiskModel, resolve_model
from cosea.chats.recognizers.base import RecognizerRegistry
from cosea.types import Assessment, ContextSignal, Conversation, Message, TechniqueHit


@dataclass
class StreamStats:
    """What the batch driver did; useful to report and to test bounded memory."""

    conversations: int = 0
    messages: int = 0
    alerts: int = 0
    max_live: int = 0
    evicted: int = 0  # interleaved conversations finalised early to bound memory
    reopened: int = 0  # a finalised conversation id seen again (source not grouped)
    notes: list[str] = field(default_factory=list)


def new_batch_context() -> Any | None:
    """The recognizers' batch context when installed, else None (no batch signals)."""
    try:
        from cosea.chats.recognizers.batch import BatchContext
    except ImportError:
        return None
    return BatchContext()


def _batch_findings(batch: Any | None, header: Conversation, first: Message | None) -> list:
    """What the batch context knows about a conversation as its first message arrives.

    A streamed header carries no messages; the batch context is shown the first one
    (its time, sender and id), never a later one.
    """
    if batch is None:
        return []
    if first is not None and not header.messages:
        found = batch.observe_conversation(
            header, first.ts, initiator=first.sender, first_message_id=first.id
        )
    else:
        found = batch.observe_conversation(header, first.ts if first is not None else None)
    return [f for f in (found or []) if isinstance(f, ContextSignal | TechniqueHit)]


def _is_end(item: Any) -> bool:
    """A reader's end-of-conversation marker (``cosea.chats.io.END``)."""
    return not isinstance(item, Message) and type(item).__name__ == "_End"


def analyze_stream(
    source: Iterable[Conversation] | Iterable[tuple[Conversation, Any]],
    model: RiskModel | str | None = None,
    registry: RecognizerRegistry | None = None,
    *,
    grouped: bool = True,
    max_live: int = 10_000,
    batch_context: bool | Any = True,
    normalizer: Normalizer | None = None,
    stats: StreamStats | None = None,
) -> Iterator[Assessment]:
    """One final assessment per conversation, in the order conversations finish."""
    model = resolve_model(model)
    stats = stats if stats is not None else StreamStats()
    if batch_context is True:
        batch = new_batch_context()
    elif batch_context is False or batch_context is None:
        batch = None
    else:
        batch = batch_context  # a BatchContext shared across calls
    live: OrderedDict[str, ConversationAnalyzer] = OrderedDict()
    finished: OrderedDict[str, None] = OrderedDict()  # recent ids, to notice reopening

    def start(header: Conversation, first: Message | None) -> ConversationAnalyzer:
        analyzer = ConversationAnalyzer(model, registry, conversation=header, normalizer=normalizer)
        analyzer.add_context(_batch_findings(batch, header, first))
        return analyzer

    def finish(conversation_id: str) -> Assessment:
        analyzer = live.pop(conversation_id)
        finished[conversation_id] = None
        if len(finished) > 4096:
            finished.popitem(last=False)
        stats.conversations += 1
        assessment = analyzer.assessment
        stats.alerts += assessment.alert
        return assessment

    for item in source:
        if isinstance(item, Conversation):
            analyzer = start(item, item.messages[0] if item.messages else None)
            for message in item.messages:
                analyzer.step(message)
            assessment = analyzer.assessment
            stats.messages += len(item.messages)
            stats.conversations += 1
            stats.alerts += assessment.alert
            yield assessment
            continue
        header, message = item
        cid = header.id
        if type(message) is not Message and _is_end(message):
            if cid in live:
                yield finish(cid)
            continue
        analyzer = live.get(cid)
        if analyzer is None:
            if grouped:
                for open_id in list(live):
                    yield finish(open_id)
            if cid in finished:
                stats.reopened += 1
                if len(stats.notes) < 20:
                    stats.notes.append(
                        f"conversation {cid!r} continued after it was finalised; "
                        "its later messages were assessed separately (pass grouped=False "
                        "for sources that interleave conversations)"
                    )
            analyzer = start(header, message)
            live[cid] = analyzer
            if len(live) > max_live:
                oldest = next(iter(live))
                stats.evicted += 1
                yield finish(oldest)
            stats.max_live = max(stats.max_live, len(live))
        elif not grouped:
            live.move_to_end(cid)
        analyzer.step(message)
        stats.messages += 1
    for open_id in list(live):
        yield finish(open_id)


def batch_findings(batch: Any, header: Conversation, first: Message | None = None) -> list:
    """The batch context's findings for one conversation (for explain and tests)."""
    return _batch_findings(batch, header, first)
