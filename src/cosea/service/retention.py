"""Retention: message text and kept media older than the configured period are purged,
unless an alert or a case holds them.

An alert holds its conversation's messages and media while it is open, confirmed
or escalated; a dismissed alert holds nothing. A case reference (``hold_case``,
set through ``POST /v1/alerts/{id}/hold``) holds them regardless. Purging keeps
the rows (ids, hashes, matches, timestamps, techniques) and removes the content:
message text becomes NULL and kept files are deleted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update

from cosea.service import audit
from cosea.service.models import (
    AnalyzerState,
    ConsoleSession,
    MediaRecord,
    ServiceAlert,
    ServiceConversation,
    StoredMessage,
)
from cosea.service.timeutil import iso, utcnow

_msg = StoredMessage.__table__
_conv = ServiceConversation.__table__
_alert = ServiceAlert.__table__
_media = MediaRecord.__table__
_sessions = ConsoleSession.__table__
_state = AnalyzerState.__table__
HOLDING_STATES = ("open", "confirmed", "escalated")


@dataclass(slots=True)
class PurgeReport:
    cutoff: datetime
    messages: int
    media_files: int
    sessions: int
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": iso(self.cutoff),
            "messages_purged": self.messages,
            "media_files_purged": self.media_files,
            "expired_sessions_removed": self.sessions,
            "dry_run": self.dry_run,
        }


def _conversation_held(conversation_column: Any) -> Any:
    alert_holds = exists().where(
        _alert.c.conversation_id == conversation_column, _alert.c.state.in_(HOLDING_STATES)
    )
    case_holds = exists().where(_conv.c.id == conversation_column, _conv.c.hold_case.is_not(None))
    return or_(alert_holds, case_holds)


def _checkpoint_now(runtime: Any, connection: Any, conversation_pk: int) -> None:
    from cosea.service.conversations import _LOCK_BY_ID, load_analyzer, save_checkpoint

    locked = connection.execute(_LOCK_BY_ID, {"p_id": conversation_pk, "p_now": utcnow()}).one()
    participants = locked.participants
    if isinstance(participants, str):
        import json

        participants = json.loads(participants)
    analyzer, version, _position = load_analyzer(
        runtime,
        connection,
        conversation_pk,
        locked.message_count,
        (locked.external_id, locked.platform, participants or [], locked.language),
    )
    save_checkpoint(
        runtime,
        connection,
        conversation_pk,
        analyzer,
        version=version,
        position=locked.message_count,
    )
    runtime.analyzer_cache.drop(conversation_pk)


def purge(
    runtime: Any,
    *,
    older_than_days: float | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    actor: str = "system:retention",
) -> PurgeReport:
    """Purge content older than the retention period; returns what was (or would be) purged."""
    now = now or utcnow()
    days = runtime.retention_days() if older_than_days is None else older_than_days
    cutoff = now - timedelta(days=days)
    message_filter = and_(
        _msg.c.received_at < cutoff,
        _msg.c.text.is_not(None),
        ~_conversation_held(_msg.c.conversation_id),
    )
    # Messages after the analyser's checkpoint are replayed to continue the analysis, so
    # their conversations get a fresh checkpoint before any of that text goes.
    after_checkpoint = exists().where(
        _state.c.conversation_id == _msg.c.conversation_id,
        _msg.c.position >= _state.c.position,
    )
    media_filter = and_(
        _media.c.received_at < cutoff,
        _media.c.stored_path.is_not(None),
        _media.c.hold_case.is_(None),
        ~exists().where(_alert.c.id == _media.c.alert_id, _alert.c.state.in_(HOLDING_STATES)),
        or_(_media.c.conversation_id.is_(None), ~_conversation_held(_media.c.conversation_id)),
    )
    with runtime.engine.begin() as connection:
        message_ids = connection.execute(select(_msg.c.id).where(message_filter)).scalars().all()
        media_rows = connection.execute(
            select(_media.c.id, _media.c.stored_path).where(media_filter)
        ).all()
        expired = (
            connection.execute(select(_sessions.c.id).where(_sessions.c.expires_at < now))
            .scalars()
            .all()
        )
        report = PurgeReport(cutoff, len(message_ids), len(media_rows), len(expired), dry_run)
        if dry_run:
            return report
        needing = (
            connection.execute(
                select(_msg.c.conversation_id).where(message_filter, after_checkpoint).distinct()
            )
            .scalars()
            .all()
        )
        for conversation_pk in needing:
            _checkpoint_now(runtime, connection, conversation_pk)
        for start in range(0, len(message_ids), 900):
            chunk = message_ids[start : start + 900]
            connection.execute(
                update(_msg).where(_msg.c.id.in_(chunk)).values(text=None, purged_at=now)
            )
        for row in media_rows:
            connection.execute(
                update(_media).where(_media.c.id == row.id).values(stored_path=None, purged_at=now)
            )
        if expired:
            connection.execute(_sessions.delete().where(_sessions.c.id.in_(expired)))
        audit.append(
            connection,
            actor=actor,
            actor_role="system" if actor.startswith("system") else "admin",
            action="retention.purge",
            details=report.to_dict(),
        )
    # Files go only after the database no longer points at them.
    from cosea.service.media import media_path

    for row in media_rows:
        with contextlib.suppress(FileNotFoundError):
            media_path(runtime, row.stored_path).unlink()
    return report
