"""Messages in, assessment out: the service's hot path.

One request is one transaction. Its first statement writes the conversation row
(insert, or an update of ``updated_at``), which takes the row lock on PostgreSQL
and the write lock on SQLite before anything is read, so two requests for the
same conversation, even in different worker processes, are applied one after
the other to the same analyser state, never both to the same old state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, case, insert, select, update
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
from cosea.service.runtime import ServiceRuntime
from cosea.service.timeutil import to_utc_naive, utcnow
from cosea.types import Assessment, Message, Participant

_conv = ServiceConversation.__table__
_state = AnalyzerState.__table__
_msg = StoredMessage.__table__
_alert = ServiceAlert.__table__
LIVE_STATES = ("open", "confirmed", "escalated")


@dataclass(slots=True)
class IngestResult:
    conversation_pk: int
    assessment: Assessment | None
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    alert_id: int | None = None
    alert_state: str | None = None
    alert_raised: bool = False
    cache_entry: tuple[int, int, StreamingAnalyzer] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accepted": len(self.accepted),
            "duplicates": self.duplicates,
        }
        if self.assessment is not None:
            out["assessment"] = assessment_summary(self.assessment)
        else:
            out["assessment"] = None
        out["alert"] = (
            {"id": self.alert_id, "state": self.alert_state, "raised_now": self.alert_raised}
            if self.alert_id is not None
            else None
        )
        return out


def assessment_summary(assessment: Assessment) -> dict[str, Any]:
    data = assessment.to_dict()
    data["risk"] = round(float(data["risk"]), 6)
    return data


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


def ingest_messages(
    runtime: ServiceRuntime,
    *,
    platform: str,
    conversation_id: str,
    messages: list[Message],
    participants: list[Participant] | None = None,
    language: str | None = None,
) -> IngestResult:
    """Add messages to a conversation, continue its analysis and keep its alert current."""
    last_error: Exception | None = None
    for _attempt in range(5):
        try:
            with runtime.engine.begin() as connection:
                result = _ingest(
                    runtime, connection, platform, conversation_id, messages, participants, language
                )
        except IntegrityError as error:  # two requests created the same conversation at once
            last_error = error
            continue
        # Only a committed state may be cached: a cached analyser is trusted for its version.
        if result.cache_entry is not None:
            runtime.analyzer_cache.put(*result.cache_entry)
        return result
    raise CoseaError(f"conversation {conversation_id}: could not store messages ({last_error})")


def _ingest(
    runtime: ServiceRuntime,
    connection: Connection,
    platform: str,
    external_id: str,
    messages: list[Message],
    participants: list[Participant] | None,
    language: str | None,
) -> IngestResult:
    now = utcnow()
    found = connection.execute(
        select(_conv.c.id).where(_conv.c.platform == platform, _conv.c.external_id == external_id)
    ).first()
    if found is None:
        stored_participants = [p.to_dict() for p in participants or []]
        conversation_pk = connection.execute(
            insert(_conv)
            .values(
                platform=platform,
                external_id=external_id,
                participants=stored_participants,
                language=language,
                message_count=0,
                risk=0.0,
                cls="benign",
                created_at=now,
                updated_at=now,
            )
            .returning(_conv.c.id)
        ).scalar_one()
        connection.execute(
            insert(_state).values(
                conversation_id=conversation_pk,
                version=0,
                engine=runtime.analyzers.name,
                state=None,
                updated_at=now,
            )
        )
        alert_id = None
        message_count = 0
    else:
        locked = connection.execute(
            update(_conv)
            .where(_conv.c.id == found.id)
            .values(updated_at=now)
            .returning(
                _conv.c.id,
                _conv.c.alert_id,
                _conv.c.participants,
                _conv.c.message_count,
                _conv.c.language,
            )
        ).one()
        conversation_pk = locked.id
        alert_id = locked.alert_id
        message_count = locked.message_count
        stored_participants = locked.participants or []
        language = language or locked.language
        if participants:
            merged = _merge_participants(stored_participants, participants)
            if merged != stored_participants:
                connection.execute(
                    update(_conv).where(_conv.c.id == conversation_pk).values(participants=merged)
                )
            stored_participants = merged

    result = IngestResult(conversation_pk=conversation_pk, assessment=None)
    ids = [m.id for m in messages]
    seen: set[str] = set()
    if message_count:
        seen.update(
            connection.execute(
                select(_msg.c.external_id).where(
                    _msg.c.conversation_id == conversation_pk, _msg.c.external_id.in_(ids)
                )
            ).scalars()
        )
    fresh: list[Message] = []
    for message in messages:
        if message.id in seen:
            result.duplicates.append(message.id)
            continue
        seen.add(message.id)
        fresh.append(message)

    state = connection.execute(
        select(_state.c.version, _state.c.state, _state.c.engine).where(
            _state.c.conversation_id == conversation_pk
        )
    ).one()
    analyzer = _analyzer_for(
        runtime,
        connection,
        conversation_pk,
        state,
        external_id,
        platform,
        language,
        stored_participants,
    )
    try:
        rows = []
        assessment = None
        for offset, message in enumerate(fresh):
            assessment = analyzer.observe(message)
            marks = _evidence_on(assessment, message.id)
            rows.append(
                {
                    "conversation_id": conversation_pk,
                    "external_id": message.id,
                    "position": message_count + offset,
                    "sender": message.sender,
                    "ts": to_utc_naive(message.ts),
                    "text": message.text,
                    "attachments": message.attachments or None,
                    "techniques": marks or None,
                    "received_at": now,
                }
            )
        if assessment is None:
            assessment = _current(analyzer)
        result.assessment = assessment
        result.accepted = [m.id for m in fresh]
        if rows:
            connection.execute(insert(_msg), rows)
            new_version = state.version + 1
            connection.execute(
                update(_state)
                .where(_state.c.conversation_id == conversation_pk)
                .values(
                    version=new_version,
                    engine=runtime.analyzers.name,
                    state=runtime.analyzers.dump(analyzer),
                    updated_at=now,
                )
            )
            values: dict[str, Any] = {
                "message_count": message_count + len(rows),
                "risk": float(assessment.risk),
                "cls": str(assessment.cls),
                "stage": assessment.stage,
                "suspect": assessment.suspect,
            }
            if assessment.alert:
                alert_id = _keep_alert(
                    runtime, connection, result, alert_id, conversation_pk, platform, external_id
                )
                values["alert_id"] = alert_id
            connection.execute(update(_conv).where(_conv.c.id == conversation_pk).values(**values))
        elif alert_id is not None:
            result.alert_id = alert_id
            result.alert_state = connection.execute(
                select(_alert.c.state).where(_alert.c.id == alert_id)
            ).scalar_one_or_none()
    except BaseException:
        runtime.analyzer_cache.drop(conversation_pk)
        raise
    if rows:
        result.cache_entry = (conversation_pk, state.version + 1, analyzer)
    return result


def _current(analyzer: StreamingAnalyzer) -> Assessment | None:
    current = getattr(analyzer, "assessment", None)
    if callable(current):
        return current()
    return current


def _analyzer_for(
    runtime: ServiceRuntime,
    connection: Connection,
    conversation_pk: int,
    state: Any,
    external_id: str,
    platform: str,
    language: str | None,
    participants: list[dict[str, Any]],
) -> StreamingAnalyzer:
    cached = runtime.analyzer_cache.get(conversation_pk, state.version)
    if cached is not None:
        return cached
    if state.state is not None and state.engine == runtime.analyzers.name:
        try:
            return runtime.analyzers.restore(state.state)
        except (CoseaError, KeyError, ValueError, TypeError):
            pass  # saved by another model or version: replay below
    analyzer = runtime.analyzers.new(
        external_id, [Participant.from_dict(p) for p in participants], platform, language
    )
    if state.state is not None:
        for row in connection.execute(
            select(_msg.c.external_id, _msg.c.sender, _msg.c.ts, _msg.c.text)
            .where(_msg.c.conversation_id == conversation_pk)
            .order_by(_msg.c.position)
        ):
            analyzer.observe(
                Message(id=row.external_id, sender=row.sender, text=row.text or "", ts=row.ts)
            )
    return analyzer


def _keep_alert(
    runtime: ServiceRuntime,
    connection: Connection,
    result: IngestResult,
    alert_id: int | None,
    conversation_pk: int,
    platform: str,
    external_id: str,
) -> int:
    assessment = result.assessment
    assert assessment is not None
    now = utcnow()
    techniques = sorted({t for ids in assessment.techniques.values() for t in ids})
    risk = float(assessment.risk)
    fields = {
        # Matched media keep an alert's risk up even when the conversation alone scores lower.
        "risk": case(
            (and_(_alert.c.media_count > 0, _alert.c.risk > risk), _alert.c.risk), else_=risk
        ),
        "cls": str(assessment.cls),
        "stage": assessment.stage,
        "suspect": assessment.suspect,
        "techniques": techniques,
        "assessment": assessment_summary(assessment),
        "updated_at": now,
    }
    if alert_id is not None:
        state = connection.execute(
            update(_alert).where(_alert.c.id == alert_id).values(**fields).returning(_alert.c.state)
        ).scalar_one_or_none()
        if state is not None:
            result.alert_id, result.alert_state = alert_id, state
            return alert_id
    new_id = connection.execute(
        insert(_alert)
        .values(
            kind="conversation",
            platform=platform,
            conversation_id=conversation_pk,
            state="open",
            alert_message=assessment.alert_message,
            media_count=0,
            created_at=now,
            **{**fields, "risk": risk},
        )
        .returning(_alert.c.id)
    ).scalar_one()
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
