"""Messages in, assessment out: the service's hot path.

One request is one transaction. Its first statement writes the conversation row
(an update of ``updated_at``, or the insert of a new conversation), which takes
the row lock on PostgreSQL and the write lock on SQLite before anything is read,
so two requests for the same conversation, even in different worker processes,
are applied one after the other, never both to the same old state.

The analyser's state is kept as a checkpoint (``service_analyzer_state``: the
JSON state and the number of messages it covers) plus the message log. A worker
continues a conversation from the analyser it has cached, replaying only the
messages other workers added since; without one, from the checkpoint plus the
messages after it. The analysis is deterministic, so this gives exactly the
assessment that one analyser fed every message in order would give, across
requests, workers and restarts, while the state is serialised only every
:data:`CHECKPOINT_EVERY` messages rather than on every request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import queue
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.exc import IntegrityError

from cosea.errors import CoseaError
from cosea.service import webhooks
from cosea.service.analysis import StreamingAnalyzer
from cosea.service.models import (
    AnalyzerState,
    ServiceAlert,
    ServiceConversation,
    StoredMessage,
)
from cosea.service.timeutil import utcnow
from cosea.types import Assessment, ContextSignal, Evidence, Message, Participant

_conv = ServiceConversation.__table__
_state = AnalyzerState.__table__
_msg = StoredMessage.__table__
_alert = ServiceAlert.__table__
LIVE_STATES = ("open", "confirmed", "escalated")
CHECKPOINT_EVERY = 25

# Statements built once: building and cache-keying a statement costs more than running it.
# Locks the row and marks the change for optimistic writers (see ingest_messages).
_LOCK_BY_ID = (
    update(_conv)
    .where(_conv.c.id == bindparam("p_id"))
    .values(updated_at=bindparam("p_now"), revision=_conv.c.revision + 1)
    .returning(
        _conv.c.id,
        _conv.c.external_id,
        _conv.c.platform,
        _conv.c.alert_id,
        _conv.c.participants,
        _conv.c.message_count,
        _conv.c.language,
    )
)
_NEW_CONVERSATION = insert(_conv).returning(_conv.c.id)
_NEW_STATE = insert(_state)
_SAVE_STATE = (
    update(_state)
    .where(_state.c.conversation_id == bindparam("p_id"))
    .values(
        version=bindparam("p_version"),
        position=bindparam("p_position"),
        engine=bindparam("p_engine"),
        state=bindparam("p_state"),
        updated_at=bindparam("p_now"),
    )
)
_PARAMETER = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


class _Raw:
    """The hot path's SQL, run on the DBAPI cursor of the caller's connection.

    SQLAlchemy Core spends more time preparing a small statement than the database
    spends running it, so the statements run for every message are written out
    once per dialect (``:name`` placeholders for sqlite3, ``%(name)s`` for psycopg)
    and values are converted here the way the Core column types would store them.
    They run in the same transaction as any Core statement on that connection.
    """

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"

    def sql(self, text: str) -> str:
        text = " ".join(text.split())
        if self.postgres:
            text = text.replace("JSONVALUE(", "CAST(").replace("):json", " AS JSON)")
            return _PARAMETER.sub(r"%(\1)s", text)
        return text.replace("JSONVALUE(", "(").replace("):json", ")")

    def json(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def when(self, value: datetime | None) -> Any:
        if value is None or self.postgres:
            return value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME form

    def read_when(self, value: Any) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return datetime.fromisoformat(value)

    @staticmethod
    def cursor(connection: Connection) -> Any:
        return connection.connection.cursor()


@functools.cache
def _raw_for(dialect: str) -> tuple[_Raw, dict[str, str]]:
    raw = _Raw(dialect)
    statements = {
        "read_conversation": """SELECT c.id, c.alert_id, c.participants, c.message_count,
            c.language, c.revision, c.risk, c.cls, c.stage, c.suspect, s.version, s.position,
            s.engine FROM service_conversations c
            JOIN service_analyzer_state s ON s.conversation_id = c.id
            WHERE c.platform = :platform AND c.external_id = :external_id""",
        "read_conversation_one": """SELECT c.id, c.alert_id, c.participants,
            c.message_count, c.language, c.revision, c.risk, c.cls, c.stage, c.suspect,
            s.version, s.position, s.engine, (SELECT m.external_id FROM service_messages m
            WHERE m.conversation_id = c.id AND m.external_id = :message) AS duplicate
            FROM service_conversations c
            JOIN service_analyzer_state s ON s.conversation_id = c.id
            WHERE c.platform = :platform AND c.external_id = :external_id""",
        "state_head": """SELECT version, position, engine FROM service_analyzer_state
            WHERE conversation_id = :conversation""",
        "state_body": """SELECT state FROM service_analyzer_state
            WHERE conversation_id = :conversation""",
        "replay": """SELECT external_id, sender, ts, ts_offset, text FROM service_messages
            WHERE conversation_id = :conversation AND position >= :position
            ORDER BY position""",
        "update_conversation": """UPDATE service_conversations SET message_count = :count,
            risk = :risk, cls = :cls, stage = :stage, suspect = :suspect,
            participants = JSONVALUE(:participants):json, updated_at = :now,
            revision = revision + 1 WHERE id = :conversation AND revision = :revision""",
        "insert_message": """INSERT INTO service_messages (conversation_id, external_id,
            position, sender, ts, ts_offset, text, attachments, techniques, received_at)
            VALUES (:conversation_id, :external_id, :position, :sender, :ts, :ts_offset,
            :text, JSONVALUE(:attachments):json, JSONVALUE(:techniques):json, :received_at)""",
        "save_state": """UPDATE service_analyzer_state SET version = :version,
            position = :position, engine = :engine, state = :state, updated_at = :now
            WHERE conversation_id = :conversation""",
        "update_alert": """UPDATE service_alerts SET risk = CASE WHEN media_count > 0
            AND risk > :risk THEN risk ELSE :risk END, cls = :cls, stage = :stage,
            suspect = :suspect, techniques = JSONVALUE(:techniques):json,
            assessment = JSONVALUE(:assessment):json, updated_at = :now
            WHERE id = :alert RETURNING state""",
        "alert_state": "SELECT state FROM service_alerts WHERE id = :alert",
    }
    return raw, {name: raw.sql(text) for name, text in statements.items()}


def _duplicates_sql(raw: _Raw, count: int) -> str:
    names = ", ".join(f":id{i}" for i in range(count))
    return raw.sql(
        "SELECT external_id FROM service_messages WHERE conversation_id = :conversation "
        f"AND external_id IN ({names})"
    )


@dataclass(slots=True)
class IngestResult:
    conversation_pk: int
    assessment: Assessment | None
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    alert_id: int | None = None
    alert_state: str | None = None
    alert_raised: bool = False
    cache_entry: tuple[int, int, int, StreamingAnalyzer] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": len(self.accepted),
            "duplicates": self.duplicates,
            "assessment": assessment_summary(self.assessment) if self.assessment else None,
            "alert": (
                {"id": self.alert_id, "state": self.alert_state, "raised_now": self.alert_raised}
                if self.alert_id is not None
                else None
            ),
        }


def _evidence_dict(item: Evidence) -> dict[str, Any]:
    # Written out field by field: dataclasses.asdict is several times slower on this path.
    return {
        "message_id": item.message_id,
        "technique_id": item.technique_id,
        "tactic_id": item.tactic_id,
        "confidence": item.confidence,
        "contribution": item.contribution,
        "reason": item.reason,
        "recognizer": item.recognizer,
        "speaker": item.speaker,
        "span": list(item.span) if item.span is not None else None,
    }


def _signal_dict(signal: ContextSignal) -> dict[str, Any]:
    return {
        "kind": signal.kind,
        "participant": signal.participant,
        "value": signal.value,
        "weight": signal.weight,
        "description": signal.description,
        "technique_id": signal.technique_id,
    }


def assessment_summary(assessment: Assessment) -> dict[str, Any]:
    """The assessment as the API returns it (same fields as ``Assessment.to_dict``)."""
    return {
        "conversation_id": assessment.conversation_id,
        "messages_seen": assessment.messages_seen,
        "risk": round(float(assessment.risk), 6),
        "class": str(assessment.cls),
        "suspect": assessment.suspect,
        "stage": assessment.stage,
        "tactics_seen": list(assessment.tactics_seen),
        "alert": assessment.alert,
        "alert_message": assessment.alert_message,
        "evidence": [_evidence_dict(e) for e in assessment.evidence],
        "context": [_signal_dict(c) for c in assessment.context],
        "techniques": {k: list(v) for k, v in assessment.techniques.items()},
    }


def _evidence_on(assessment: Assessment, message_id: str) -> list[dict[str, Any]]:
    marks = []
    for item in assessment.evidence:
        if item.message_id != message_id:
            continue
        marks.append(
            {
                "technique": item.technique_id,
                "tactic": item.tactic_id,
                "span": list(item.span) if item.span else None,
                "confidence": round(float(item.confidence), 4),
                "reason": item.reason,
            }
        )
    for technique in assessment.techniques.get(message_id, ()):
        if not any(mark["technique"] == technique for mark in marks):
            marks.append({"technique": technique, "tactic": None, "span": None, "confidence": None})
    return marks


def _merge_participants(
    stored: list[dict[str, Any]], incoming: list[Participant] | None
) -> list[dict[str, Any]]:
    if not incoming:
        return stored
    merged = {p["id"]: dict(p) for p in stored}
    for participant in incoming:
        merged.setdefault(participant.id, {}).update(participant.to_dict())
    return list(merged.values())


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _split_ts(ts: datetime | None) -> tuple[datetime | None, int | None]:
    """UTC wall time for the database, and the offset to give the analyser the same clock."""
    if ts is None:
        return None, None
    if ts.tzinfo is None:
        return ts, None
    offset = ts.utcoffset() or timedelta(0)
    return ts.astimezone(UTC).replace(tzinfo=None), int(offset.total_seconds() // 60)


def _join_ts(ts: datetime | None, offset: int | None) -> datetime | None:
    if ts is None or offset is None:
        return ts
    return ts.replace(tzinfo=UTC).astimezone(timezone(timedelta(minutes=offset)))


class AnalyzerCache:
    """Analysers by conversation with the (version, position) they stand at."""

    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[int, tuple[int, int, StreamingAnalyzer]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def take(self, conversation_pk: int) -> tuple[int, int, StreamingAnalyzer] | None:
        # Taken out while in use: a failed request must not leave a half-fed analyser behind.
        with self._lock:
            return self._items.pop(conversation_pk, None)

    def put(self, conversation_pk: int, version: int, position: int, analyzer: Any) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[conversation_pk] = (version, position, analyzer)
            self._items.move_to_end(conversation_pk)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, conversation_pk: int) -> None:
        with self._lock:
            self._items.pop(conversation_pk, None)


def load_analyzer(
    runtime: Any,
    connection: Connection,
    conversation_pk: int,
    message_count: int,
    header: tuple[str, str, list[dict[str, Any]], str | None],
    head: tuple[int, int, str] | None = None,
) -> tuple[StreamingAnalyzer, int, int]:
    """The conversation's analyser after its first ``message_count`` messages, with the
    checkpoint version it derives from; call with the conversation row locked."""
    raw, sql = _raw_for(connection.dialect.name)
    cursor = raw.cursor(connection)
    if head is None:
        cursor.execute(sql["state_head"], {"conversation": conversation_pk})
        head = cursor.fetchone()
    head_version, head_position, head_engine = head
    cached = runtime.analyzer_cache.take(conversation_pk)
    analyzer: StreamingAnalyzer | None = None
    position = 0
    same_engine = head_engine == runtime.analyzers.name
    if cached is not None and cached[0] == head_version and cached[1] <= message_count:
        _version, position, analyzer = cached
    elif same_engine:
        cursor.execute(sql["state_body"], {"conversation": conversation_pk})
        body = cursor.fetchone()[0]
        if body is not None:
            try:
                analyzer = runtime.analyzers.restore(body)
                position = head_position
            except (CoseaError, KeyError, ValueError, TypeError):
                analyzer = None  # saved by another model or version: replay from the start
    if analyzer is None:
        external_id, platform, participants, language = header
        analyzer = runtime.analyzers.new(
            external_id, [Participant.from_dict(p) for p in participants], platform, language
        )
        position = 0
    if position < message_count:
        cursor.execute(sql["replay"], {"conversation": conversation_pk, "position": position})
        for external_id, sender, ts, ts_offset, text in cursor.fetchall():
            analyzer.observe(
                Message(
                    id=external_id,
                    sender=sender,
                    text=text or "",
                    ts=_join_ts(raw.read_when(ts), ts_offset),
                )
            )
    cursor.close()
    return analyzer, head_version, head_position


def save_checkpoint(
    runtime: Any,
    connection: Connection,
    conversation_pk: int,
    analyzer: StreamingAnalyzer,
    *,
    version: int,
    position: int,
) -> None:
    connection.execute(
        _SAVE_STATE,
        {
            "p_id": conversation_pk,
            "p_version": version,
            "p_position": position,
            "p_engine": runtime.analyzers.name,
            "p_state": runtime.analyzers.dump(analyzer),
            "p_now": utcnow(),
        },
    )


class _Conflict(Exception):
    """Another request changed the conversation between our read and our write."""


@dataclass(slots=True)
class _Plan:
    """What one request will write, computed before any lock is taken."""

    result: IngestResult
    analyzer: StreamingAnalyzer
    platform: str
    external_id: str
    revision: int
    version: int
    position: int
    update: dict[str, Any] | None = None  # the conversation row's new values
    rows: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    alert_id: int | None = None
    alert_summary: dict[str, Any] | None = None


@dataclass(slots=True)
class _NewConversation:
    platform: str
    external_id: str
    participants: list[dict[str, Any]]
    language: str | None
    state: str  # the first checkpoint: the analyser as started


def ingest_messages(
    runtime: Any,
    *,
    platform: str,
    conversation_id: str,
    messages: list[Message],
    participants: list[Participant] | None = None,
    language: str | None = None,
) -> IngestResult:
    """Add messages to a conversation, continue its analysis and keep its alert current.

    Optimistic: everything that reads or computes (duplicates, the analyser, the new
    assessment, the checkpoint's JSON) happens first, holding no lock; the writes
    then go to the worker's batch writer (:class:`WriteBatcher`), which applies them
    on condition that the conversation's ``revision`` is still the one read, or
    reports a conflict, and the request starts over.
    """
    last_error: Exception | None = None
    for _attempt in range(20):
        try:
            step = _plan(runtime, platform, conversation_id, messages, participants, language)
            outcome = runtime.writer.run(_job(runtime, step))
        except (_Conflict, IntegrityError) as error:
            last_error = error
            continue
        if outcome is not None:
            return outcome
    raise CoseaError(f"conversation {conversation_id}: could not store messages ({last_error})")


async def ingest_messages_async(
    runtime: Any,
    *,
    platform: str,
    conversation_id: str,
    messages: list[Message],
    participants: list[Participant] | None = None,
    language: str | None = None,
) -> IngestResult:
    """:func:`ingest_messages` for the event loop: other requests proceed while this one's
    writes wait for the batch writer; requests for one conversation take turns within
    the worker, so each finds the analyser the one before it left in the cache."""
    last_error: Exception | None = None
    async with runtime.conversation_turns.turn((platform, conversation_id)):
        for _attempt in range(20):
            try:
                step = _plan(runtime, platform, conversation_id, messages, participants, language)
                outcome = await runtime.writer.run_async(_job(runtime, step))
            except (_Conflict, IntegrityError) as error:
                last_error = error
                continue
            if outcome is not None:
                return outcome
    raise CoseaError(f"conversation {conversation_id}: could not store messages ({last_error})")


def _job(runtime: Any, step: _Plan | _NewConversation) -> Callable[[Connection, Any], Any]:
    if isinstance(step, _NewConversation):
        return lambda connection, cursor: _write_new(runtime, connection, step)

    def write(connection: Connection, cursor: Any) -> IngestResult:
        _write_plan(runtime, connection, cursor, step)
        return step.result

    def after_commit(result: IngestResult) -> IngestResult:
        # Only a committed state may be cached: a cached analyser is trusted for its position.
        runtime.analyzer_cache.put(
            result.conversation_pk, step.version, step.position, step.analyzer
        )
        return result

    write.after_commit = after_commit  # type: ignore[attr-defined]
    return write


def _write_new(runtime: Any, connection: Connection, step: _NewConversation) -> None:
    now = utcnow()
    conversation_pk = connection.execute(
        _NEW_CONVERSATION,
        {
            "platform": step.platform,
            "external_id": step.external_id,
            "participants": step.participants,
            "language": step.language,
            "message_count": 0,
            "revision": 0,
            "risk": 0.0,
            "cls": "benign",
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    connection.execute(
        _NEW_STATE,
        {
            "conversation_id": conversation_pk,
            "version": 0,
            "position": 0,
            "engine": runtime.analyzers.name,
            "state": step.state,
            "updated_at": now,
        },
    )
    return None


def _plan(
    runtime: Any,
    platform: str,
    external_id: str,
    messages: list[Message],
    participants: list[Participant] | None,
    language: str | None,
) -> _Plan | _NewConversation:
    """Read the conversation and compute everything the request will write."""
    with runtime.readers() as connection:
        raw, sql = _raw_for(connection.dialect.name)
        cursor = raw.cursor(connection)
        single = len(messages) == 1
        if single:  # the common case: the duplicate check rides along with the read
            cursor.execute(
                sql["read_conversation_one"],
                {"platform": platform, "external_id": external_id, "message": messages[0].id},
            )
        else:
            cursor.execute(
                sql["read_conversation"], {"platform": platform, "external_id": external_id}
            )
        row = cursor.fetchone()
        if row is None:
            cursor.close()
            # The first checkpoint fixes what the analyser was started with (participants),
            # so replays always start from the same place as the live analysis did.
            analyzer = runtime.analyzers.new(external_id, participants or [], platform, language)
            return _NewConversation(
                platform,
                external_id,
                [p.to_dict() for p in participants or []],
                language,
                runtime.analyzers.dump(analyzer),
            )
        (
            conversation_pk,
            alert_id,
            stored_participants,
            message_count,
            stored_language,
            revision,
            old_risk,
            old_cls,
            old_stage,
            old_suspect,
            head_version,
            head_position,
            head_engine,
        ) = row[:13]
        stored_participants = _json_value(stored_participants) or []
        seen: set[str] = set()
        if single:
            if row[13] is not None:
                seen.add(row[13])
        elif message_count:
            ids = {f"id{i}": m.id for i, m in enumerate(messages)}
            cursor.execute(_duplicates_sql(raw, len(ids)), {"conversation": conversation_pk, **ids})
            seen.update(value for (value,) in cursor.fetchall())
        cursor.close()
        result = IngestResult(conversation_pk=conversation_pk, assessment=None)
        fresh: list[Message] = []
        for message in messages:
            if message.id in seen:
                result.duplicates.append(message.id)
                continue
            seen.add(message.id)
            fresh.append(message)
        start_state = None
        if message_count == 0:
            # No message yet (media may have created the conversation): the analyser
            # starts now, with the participants known now, and that start is the first
            # checkpoint, so replays start from exactly the same place.
            start_participants = _merge_participants(stored_participants, participants)
            analyzer = runtime.analyzers.new(
                external_id,
                [Participant.from_dict(p) for p in start_participants],
                platform,
                stored_language or language,
            )
            version, checkpoint = head_version, 0
            start_state = runtime.analyzers.dump(analyzer)
            runtime.analyzer_cache.drop(conversation_pk)
        else:
            analyzer, version, checkpoint = load_analyzer(
                runtime,
                connection,
                conversation_pk,
                message_count,
                (external_id, platform, stored_participants, stored_language),
                (head_version, head_position, head_engine),
            )
        if not fresh and alert_id is not None:
            cursor = raw.cursor(connection)
            cursor.execute(sql["alert_state"], {"alert": alert_id})
            found = cursor.fetchone()
            cursor.close()
            result.alert_id, result.alert_state = alert_id, found[0] if found else None
        connection.rollback()  # nothing to end on these connections; kept as a safeguard
    received = raw.when(utcnow())
    plan = _Plan(
        result, analyzer, platform, external_id, revision, version, message_count, alert_id=alert_id
    )
    assessment = None
    for offset, message in enumerate(fresh):
        assessment = analyzer.observe(message)
        marks = _evidence_on(assessment, message.id)
        ts, ts_offset = _split_ts(message.ts)
        plan.rows.append(
            {
                "conversation_id": conversation_pk,
                "external_id": message.id,
                "position": message_count + offset,
                "sender": message.sender,
                "ts": raw.when(ts),
                "ts_offset": ts_offset,
                "text": message.text,
                "attachments": raw.json(message.attachments or None),
                "techniques": raw.json(marks or None),
                "received_at": received,
            }
        )
    if assessment is None:
        assessment = _current(analyzer)
    result.assessment = assessment
    result.accepted = [m.id for m in fresh]
    plan.position = message_count + len(plan.rows)
    merged = _merge_participants(stored_participants, participants)
    if plan.rows or merged != stored_participants:
        changed = bool(plan.rows)
        plan.update = {
            "conversation": conversation_pk,
            "revision": revision,
            "count": plan.position,
            "risk": float(assessment.risk) if changed else old_risk,
            "cls": str(assessment.cls) if changed else old_cls,
            "stage": assessment.stage if changed else old_stage,
            "suspect": assessment.suspect if changed else old_suspect,
            "participants": raw.json(merged),
            "now": received,
        }
    if plan.rows and plan.position - checkpoint >= CHECKPOINT_EVERY:
        plan.checkpoint = {
            "conversation": conversation_pk,
            "version": version,
            "position": plan.position,
            "engine": runtime.analyzers.name,
            "state": runtime.analyzers.dump(analyzer),
            "now": received,
        }
    elif plan.rows and start_state is not None:
        plan.checkpoint = {
            "conversation": conversation_pk,
            "version": version,
            "position": 0,
            "engine": runtime.analyzers.name,
            "state": start_state,
            "now": received,
        }
    if plan.rows and assessment.alert:
        plan.alert_summary = assessment_summary(assessment)
    return plan


def _write_plan(runtime: Any, connection: Connection, cursor: Any, plan: _Plan) -> None:
    """Apply a plan inside the batch writer's transaction; a conflict writes nothing."""
    if plan.update is None:
        return
    _raw, sql = _raw_for(connection.dialect.name)
    cursor.execute(sql["update_conversation"], plan.update)
    if cursor.rowcount != 1:
        raise _Conflict(f"conversation {plan.external_id} changed meanwhile")
    if plan.rows:
        cursor.executemany(sql["insert_message"], plan.rows)
    if plan.checkpoint is not None:
        cursor.execute(sql["save_state"], plan.checkpoint)
    if plan.alert_summary is not None:
        _keep_alert(
            runtime,
            connection,
            cursor,
            plan.result,
            plan.alert_id,
            plan.result.conversation_pk,
            plan.platform,
            plan.external_id,
            plan.alert_summary,
        )
    elif plan.alert_id is not None and plan.result.alert_id is None:
        cursor.execute(sql["alert_state"], {"alert": plan.alert_id})
        found = cursor.fetchone()
        plan.result.alert_id, plan.result.alert_state = plan.alert_id, found[0] if found else None


class _LoopBatch:
    __slots__ = ("pending", "scheduled")

    def __init__(self) -> None:
        self.pending: list[tuple[Any, Any]] = []
        self.scheduled = False


class WriteBatcher:
    """Applies queued writes in batches: one transaction (behind the write gate on
    SQLite) per batch, so taking the database's write lock and committing are paid
    once for many requests.

    On the event loop (:meth:`run_async`), writes queued while the loop works through
    its ready requests are flushed together right after them, on the loop's thread:
    no thread hand-off per request. Callers in other threads (:meth:`run`) go through
    a writer thread that batches the same way. A job that finds a conflict writes
    nothing and fails alone; any other failure re-runs the batch's jobs one by one.
    """

    MAX_BATCH = 64

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._connection: Connection | None = None
        self._wrote = threading.Event()
        self._stopping = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._writing = threading.Lock()  # the writer connection, between loop and thread
        self._loops: weakref.WeakKeyDictionary[Any, _LoopBatch] = weakref.WeakKeyDictionary()

    async def run_async(self, job: Callable[[Connection, Any], Any]) -> Any:
        loop = asyncio.get_running_loop()
        batch = self._loops.get(loop)
        if batch is None:
            batch = self._loops[loop] = _LoopBatch()
        future = loop.create_future()
        batch.pending.append((job, future))
        if not batch.scheduled:
            batch.scheduled = True
            loop.call_soon(self._flush_loop, batch)
        return await future

    def _flush_loop(self, batch: _LoopBatch) -> None:
        batch.scheduled = False
        jobs, batch.pending = batch.pending, []
        if jobs:
            self._write(jobs)

    def submit(self, job: Callable[[Connection, Any], Any]) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="cosea-writer", daemon=True
                    )
                    self._thread.start()
        self._queue.put((job, future))
        return future

    def run(self, job: Callable[[Connection, Any], Any]) -> Any:
        return self.submit(job).result()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None
        with self._writing:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        if self._checkpointer is not None:
            self._stopping.set()
            self._wrote.set()
            self._checkpointer.join(timeout=10)
            self._checkpointer = None
            self._stopping.clear()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                self._write(batch)
            except BaseException as error:  # pragma: no cover - _write reports per job
                for _job, future in batch:
                    if not future.done():
                        future.set_exception(error)

    def _write(self, batch: list[tuple[Any, concurrent.futures.Future[Any]]]) -> None:
        try:
            outcomes = self._transaction(batch)
        except Exception:
            # Something other than a conflict failed and took the batch's transaction
            # with it: run the jobs one by one so only the failing one reports an error.
            outcomes = []
            for job, future in batch:
                try:
                    outcomes.extend(self._transaction([(job, future)]))
                except Exception as error:
                    outcomes.append((job, future, error))
        for job, future, value in outcomes:
            if future.done():  # the request went away (a cancelled task)
                continue
            if isinstance(value, BaseException):
                future.set_exception(value)
                continue
            finish = getattr(job, "after_commit", None)
            future.set_result(finish(value) if finish is not None and value is not None else value)

    def _checkpoint_wal(self) -> None:
        """SQLite: move the write-ahead log into the database often, beside the writer.

        SQLite's own automatic checkpoint runs in the committing writer and copies
        every page written since the last one, stalling the requests queued behind
        it. A passive checkpoint in its own thread, twice a second, copies most pages
        beforehand, so the writer's automatic checkpoint (which still has to run: only
        a checkpoint by the writer between two of its transactions lets the log start
        over, keeping it small) finds little left to do.
        """
        self._wrote.set()
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="cosea-wal-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        while not self._stopping.is_set():
            self._wrote.wait(timeout=1.0)
            if self._stopping.is_set():
                return
            if not self._wrote.is_set():
                continue
            self._wrote.clear()
            try:
                with self.runtime.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # the next round tries again; SQLite stays consistent
                pass
            self._stopping.wait(0.5)

    def _transaction(
        self, batch: list[tuple[Any, concurrent.futures.Future[Any]]]
    ) -> list[tuple[Any, concurrent.futures.Future[Any], Any]]:
        """One transaction for the whole batch. A job that finds a conflict raises before
        writing anything, so it needs no savepoint; any other error aborts the batch."""
        runtime = self.runtime
        outcomes: list[tuple[Any, concurrent.futures.Future[Any], Any]] = []
        with self._writing, runtime.write_gate():
            if self._connection is None:
                # The writer keeps its connection: no pool check-out and ping per batch.
                self._connection = runtime.engine.connect()
            connection = self._connection
            dbapi = connection.connection
            cursor = dbapi.cursor()
            try:
                if connection.dialect.name == "sqlite":
                    cursor.execute("BEGIN IMMEDIATE")
                for job, future in batch:
                    try:
                        value = job(connection, cursor)
                    except _Conflict as conflict:
                        value = conflict
                    outcomes.append((job, future, value))
                dbapi.commit()
            except BaseException:
                # The connection may be broken (or mid-way through something): errors are
                # rare, so it is simply not reused; the next batch opens a fresh one.
                with contextlib.suppress(Exception):
                    cursor.close()
                    dbapi.rollback()
                with contextlib.suppress(Exception):
                    connection.invalidate()
                    connection.close()
                self._connection = None
                raise
            cursor.close()
            connection.rollback()  # reset SQLAlchemy's view; the commit is done
        if connection.dialect.name == "sqlite":
            self._checkpoint_wal()
        return outcomes


class ConversationTurns:
    """Per-conversation turns within one worker's event loop (an asyncio lock per key).

    Locks belong to the loop that made them; test clients may run a loop per request,
    so the table is kept per loop."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[Any, dict[Any, tuple[asyncio.Lock, int]]] = (
            weakref.WeakKeyDictionary()
        )

    @contextlib.asynccontextmanager
    async def turn(self, key: Any) -> AsyncIterator[None]:
        locks = self._by_loop.setdefault(asyncio.get_running_loop(), {})
        lock, users = locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = locks[key]
            if users <= 1:
                del locks[key]
            else:
                locks[key] = (lock, users - 1)


def _current(analyzer: StreamingAnalyzer) -> Assessment | None:
    current = getattr(analyzer, "assessment", None)
    if callable(current):
        return current()
    return current


def _keep_alert(
    runtime: Any,
    connection: Connection,
    cursor: Any,
    result: IngestResult,
    alert_id: int | None,
    conversation_pk: int,
    platform: str,
    external_id: str,
    summary: dict[str, Any],
) -> int:
    """Update the conversation's live alert, or raise a new one (queueing its webhook)."""
    assessment = result.assessment
    assert assessment is not None
    raw, sql = _raw_for(connection.dialect.name)
    now = utcnow()
    techniques = sorted({t for ids in assessment.techniques.values() for t in ids})
    if alert_id is not None:
        cursor.execute(
            sql["update_alert"],
            {
                "alert": alert_id,
                "risk": float(assessment.risk),
                "cls": str(assessment.cls),
                "stage": assessment.stage,
                "suspect": assessment.suspect,
                "techniques": raw.json(techniques),
                "assessment": raw.json(summary),
                "now": raw.when(now),
            },
        )
        found = cursor.fetchone()
        if found is not None:
            result.alert_id, result.alert_state = alert_id, found[0]
            return alert_id
    new_id = connection.execute(
        insert(_alert)
        .values(
            kind="conversation",
            platform=platform,
            conversation_id=conversation_pk,
            state="open",
            risk=float(assessment.risk),
            cls=str(assessment.cls),
            stage=assessment.stage,
            suspect=assessment.suspect,
            alert_message=assessment.alert_message,
            techniques=techniques,
            assessment=summary,
            media_count=0,
            created_at=now,
            updated_at=now,
        )
        .returning(_alert.c.id)
    ).scalar_one()
    connection.execute(update(_conv).where(_conv.c.id == conversation_pk).values(alert_id=new_id))
    result.alert_id, result.alert_state, result.alert_raised = new_id, "open", True
    webhooks.enqueue(
        connection,
        runtime,
        "alert.raised",
        platform,
        {
            "alert_id": new_id,
            "kind": "conversation",
            "platform": platform,
            "conversation": runtime.pseudonymize.conversation(platform, external_id),
            "risk": round(float(assessment.risk), 4),
            "class": str(assessment.cls),
            "stage": assessment.stage,
            "tactics_seen": list(assessment.tactics_seen),
            "techniques": techniques,
            "suspect": runtime.pseudonymize.participant(platform, assessment.suspect),
            "alert_message": assessment.alert_message,
        },
    )
    return new_id


def clear_conversation_alert(
    runtime: Any, connection: Connection, conversation_pk: int, actor: str, reason: str
) -> None:
    """A dismissal clears the analyser's raised alert (it stays raised until a reviewer
    clears it) and detaches the conversation from the alert, so a new one opens if the
    risk rises again. The cleared state becomes a checkpoint with a new version, which
    invalidates analysers other workers cached from before."""
    locked = connection.execute(_LOCK_BY_ID, {"p_id": conversation_pk, "p_now": utcnow()}).one()
    connection.execute(update(_conv).where(_conv.c.id == conversation_pk).values(alert_id=None))
    analyzer, version, _checkpoint = load_analyzer(
        runtime,
        connection,
        conversation_pk,
        locked.message_count,
        (
            locked.external_id,
            locked.platform,
            _json_value(locked.participants) or [],
            locked.language,
        ),
    )
    analyzer.clear_alert(actor, reason)
    save_checkpoint(
        runtime,
        connection,
        conversation_pk,
        analyzer,
        version=version + 1,
        position=locked.message_count,
    )
    runtime.analyzer_cache.drop(conversation_pk)
