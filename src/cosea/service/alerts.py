"""Alerts: the queue, one alert with its conversation and media, decisions, holds, export.

Every function takes the :class:`Principal` asking, confines API keys to their
platform, pseudonymises identifiers for analysts, and writes the read or the
decision to the audit log in the same transaction as the work itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from cosea.errors import CoseaError, NotFound
from cosea.service import audit, webhooks
from cosea.service.models import (
    Decision,
    MediaRecord,
    ServiceAlert,
    ServiceConversation,
    StoredMessage,
)
from cosea.service.runtime import ServiceRuntime
from cosea.service.security import Principal
from cosea.service.timeutil import iso, utcnow

_alert = ServiceAlert.__table__
_conv = ServiceConversation.__table__
_msg = StoredMessage.__table__
_decision = Decision.__table__
_media = MediaRecord.__table__

SORT_FIELDS = {"risk": _alert.c.risk, "age": _alert.c.created_at, "updated": _alert.c.updated_at}
# Which decision moves an alert from which state, and where to.
TRANSITIONS = {
    "confirm": ({"open", "escalated"}, "confirmed"),
    "dismiss": ({"open", "escalated"}, "dismissed"),
    "escalate": ({"open", "confirmed"}, "escalated"),
}


class Conflict(CoseaError):
    """The request does not fit the alert's current state."""


@dataclass(slots=True)
class AlertQuery:
    state: list[str] | None = None
    cls: list[str] | None = None
    platform: str | None = None
    min_risk: float | None = None
    max_risk: float | None = None
    sort: str = "-risk,age"
    offset: int = 0
    limit: int = 50


def _order(sort: str) -> list[Any]:
    clauses = []
    for part in (p.strip() for p in sort.split(",") if p.strip()):
        descending = part.startswith("-")
        name = part.lstrip("-+")
        if name not in SORT_FIELDS:
            raise CoseaError(
                f"sort: unknown field {name!r}; use {', '.join(SORT_FIELDS)} with an optional '-'"
            )
        column = SORT_FIELDS[name]
        clauses.append(column.desc() if descending else column.asc())
    clauses.append(_alert.c.id.asc())
    return clauses


def _scope(query: Any, principal: Principal) -> Any:
    if principal.kind == "apikey":
        return query.where(_alert.c.platform == principal.platform)
    return query


def summary(runtime: ServiceRuntime, principal: Principal, row: Any) -> dict[str, Any]:
    conversation = getattr(row, "conv_external_id", None)
    suspect = row.suspect
    # Platforms see their own identifiers; analysts, who need patterns, not people, pseudonyms.
    if principal.sees_pseudonyms_only:
        conversation = runtime.pseudonymize.conversation(row.platform, conversation)
        suspect = runtime.pseudonymize.participant(row.platform, suspect)
    return {
        "id": row.id,
        "kind": row.kind,
        "platform": row.platform,
        "conversation": conversation,
        "state": row.state,
        "risk": round(float(row.risk), 4),
        "class": row.cls,
        "stage": row.stage,
        "suspect": suspect,
        "alert_message": row.alert_message,
        "techniques": list(row.techniques or []),
        "media_count": row.media_count,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "decided_at": iso(row.decided_at),
    }


def list_alerts(
    runtime: ServiceRuntime, principal: Principal, query: AlertQuery, *, audit_read: bool = True
) -> dict[str, Any]:
    base = select(_alert, _conv.c.external_id.label("conv_external_id")).outerjoin(
        _conv, _conv.c.id == _alert.c.conversation_id
    )
    count = select(func.count()).select_from(_alert)
    filters = []
    if query.state:
        filters.append(_alert.c.state.in_(query.state))
    if query.cls:
        filters.append(_alert.c.cls.in_(query.cls))
    if query.platform:
        filters.append(_alert.c.platform == query.platform)
    if query.min_risk is not None:
        filters.append(_alert.c.risk >= query.min_risk)
    if query.max_risk is not None:
        filters.append(_alert.c.risk <= query.max_risk)
    if principal.kind == "apikey":
        filters.append(_alert.c.platform == principal.platform)
    base = base.where(*filters).order_by(*_order(query.sort))
    base = base.offset(query.offset).limit(query.limit)
    with runtime.engine.begin() as connection:
        total = connection.execute(count.where(*filters)).scalar_one()
        rows = connection.execute(base).all()
        items = [summary(runtime, principal, row) for row in rows]
        if audit_read:
            audit.append(
                connection,
                actor=principal.actor,
                actor_role=principal.role,
                action="alert.list",
                target_type="alert",
                details={"ids": [item["id"] for item in items], "total": total},
            )
    return {"total": total, "offset": query.offset, "limit": query.limit, "items": items}


def _load(connection: Connection, principal: Principal, alert_id: int) -> Any:
    row = connection.execute(
        _scope(
            select(_alert, _conv.c.external_id.label("conv_external_id"))
            .outerjoin(_conv, _conv.c.id == _alert.c.conversation_id)
            .where(_alert.c.id == alert_id),
            principal,
        )
    ).first()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    return row


def get_alert(
    runtime: ServiceRuntime,
    principal: Principal,
    alert_id: int,
    *,
    include_messages: bool = False,
    include_media: bool = False,
    via: str = "api",
) -> dict[str, Any]:
    """One alert with its assessment and decisions; message text and media only when asked
    (and permitted). Each part read is audited."""
    if include_messages and not principal.can("messages:read"):
        raise PermissionError("messages:read")
    with runtime.engine.begin() as connection:
        row = _load(connection, principal, alert_id)
        out = summary(runtime, principal, row)
        assessment = dict(row.assessment or {})
        if principal.sees_pseudonyms_only:
            assessment = _pseudonymise_assessment(runtime, row.platform, assessment)
        out["assessment"] = assessment
        out["decisions"] = [
            {
                "action": d.action,
                "reason": d.reason,
                "decided_by": d.decided_by,
                "actor_kind": d.actor_kind,
                "decided_at": iso(d.decided_at),
            }
            for d in connection.execute(
                select(_decision).where(_decision.c.alert_id == alert_id).order_by(_decision.c.id)
            )
        ]
        read = ["alert"]
        if row.conversation_id is not None:
            conversation = connection.execute(
                select(_conv).where(_conv.c.id == row.conversation_id)
            ).first()
            if conversation is not None:
                participants = list(conversation.participants or [])
                if principal.sees_pseudonyms_only:
                    participants = [
                        {
                            **{k: v for k, v in p.items() if k not in {"display_name"}},
                            "id": runtime.pseudonymize.participant(row.platform, p.get("id")),
                        }
                        for p in participants
                    ]
                out["participants"] = participants
                out["message_count"] = conversation.message_count
                out["hold_case"] = conversation.hold_case
        if include_messages and row.conversation_id is not None:
            out["messages"] = [
                {
                    "id": m.external_id,
                    "position": m.position,
                    "from": m.sender,
                    "ts": iso(m.ts),
                    "text": m.text,
                    "purged": m.purged_at is not None,
                    "techniques": m.techniques or [],
                }
                for m in connection.execute(
                    select(_msg)
                    .where(_msg.c.conversation_id == row.conversation_id)
                    .order_by(_msg.c.position)
                )
            ]
            read.append("messages")
        if include_media:
            out["media"] = media_for_alert(connection, row)
            read.append("media")
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="alert.read",
            target_type="alert",
            target_id=alert_id,
            details={
                "via": via,
                "parts": read,
                "messages": len(out.get("messages", [])),
            },
        )
    return out


def _pseudonymise_assessment(
    runtime: ServiceRuntime, platform: str, assessment: dict[str, Any]
) -> dict[str, Any]:
    ps = runtime.pseudonymize.participant
    assessment["suspect"] = ps(platform, assessment.get("suspect"))
    for item in assessment.get("evidence", []):
        if item.get("speaker"):
            item["speaker"] = ps(platform, item["speaker"])
    for item in assessment.get("context", []):
        if item.get("participant"):
            item["participant"] = ps(platform, item["participant"])
    return assessment


def media_for_alert(connection: Connection, row: Any) -> list[dict[str, Any]]:
    clause = _media.c.alert_id == row.id
    if row.conversation_id is not None:
        clause = clause | (_media.c.conversation_id == row.conversation_id)
    return [
        {
            "id": m.id,
            "filename": m.filename,
            "sha256": m.sha256,
            "hashes": m.hashes,
            "matches": m.matches,
            "cluster": m.cluster,
            "kept": m.stored_path is not None,
            "message_id": m.message_external_id,
            "received_at": iso(m.received_at),
        }
        for m in connection.execute(select(_media).where(clause).order_by(_media.c.id))
    ]


def decide(
    runtime: ServiceRuntime, principal: Principal, alert_id: int, action: str, reason: str
) -> dict[str, Any]:
    """Record a decision (who and when come from the principal and the clock)."""
    if action not in TRANSITIONS:
        raise CoseaError(f"decision must be one of {', '.join(TRANSITIONS)}")
    reason = reason.strip()
    if not reason:
        raise CoseaError("a decision needs a reason")
    allowed_from, new_state = TRANSITIONS[action]
    now = utcnow()
    with runtime.engine.begin() as connection:
        row = _load(connection, principal, alert_id)
        # Lock the alert, then re-check its state, so two reviewers cannot both decide.
        locked_state = connection.execute(
            update(_alert)
            .where(_alert.c.id == alert_id)
            .values(updated_at=now)
            .returning(_alert.c.state)
        ).scalar_one()
        if locked_state not in allowed_from:
            raise Conflict(f"alert {alert_id} is {locked_state}; it cannot be {new_state} now")
        connection.execute(
            _decision.insert().values(
                alert_id=alert_id,
                action=action,
                reason=reason,
                decided_by=principal.actor,
                actor_kind=principal.kind,
                decided_at=now,
            )
        )
        connection.execute(
            update(_alert).where(_alert.c.id == alert_id).values(state=new_state, decided_at=now)
        )
        if action == "dismiss" and row.conversation_id is not None:
            from cosea.service.conversations import clear_conversation_alert

            clear_conversation_alert(
                runtime, connection, row.conversation_id, principal.actor, reason
            )
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="alert.decision",
            target_type="alert",
            target_id=alert_id,
            details={"decision": action, "from": locked_state, "to": new_state, "reason": reason},
            at=now,
        )
        webhooks.enqueue(
            connection,
            runtime,
            "decision.made",
            row.platform,
            {
                "alert_id": alert_id,
                "platform": row.platform,
                "conversation": runtime.pseudonymize.conversation(
                    row.platform, row.conv_external_id
                ),
                "decision": action,
                "state": new_state,
                "reason": reason,
                "decided_by": runtime.pseudonymize("actor", None, principal.actor),
                "decided_at": iso(now),
            },
        )
    return {
        "alert_id": alert_id,
        "decision": action,
        "state": new_state,
        "reason": reason,
        "decided_by": principal.actor,
        "decided_at": iso(now),
    }


def hold(runtime: ServiceRuntime, principal: Principal, alert_id: int, case: str) -> dict[str, Any]:
    """Keep an alert's messages and media past retention, for a case."""
    case = case.strip()
    if not case:
        raise CoseaError("a hold needs a case reference")
    with runtime.engine.begin() as connection:
        row = _load(connection, principal, alert_id)
        if row.conversation_id is not None:
            connection.execute(
                update(_conv).where(_conv.c.id == row.conversation_id).values(hold_case=case)
            )
            connection.execute(
                update(_media)
                .where(_media.c.conversation_id == row.conversation_id)
                .values(hold_case=case)
            )
        connection.execute(
            update(_media).where(_media.c.alert_id == alert_id).values(hold_case=case)
        )
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="alert.hold",
            target_type="alert",
            target_id=alert_id,
            details={"case": case},
        )
    return {"alert_id": alert_id, "hold_case": case}


def export_alerts(runtime: ServiceRuntime, principal: Principal, query: AlertQuery) -> list[dict]:
    """Alerts for use outside the service: identifiers always pseudonymised."""
    page = list_alerts(runtime, principal, query, audit_read=False)
    out = []
    for item in page["items"]:
        platform = item["platform"]
        if not principal.sees_pseudonyms_only:  # analysts' listings are pseudonymised already
            item["conversation"] = runtime.pseudonymize.conversation(platform, item["conversation"])
            item["suspect"] = runtime.pseudonymize.participant(platform, item["suspect"])
        out.append(item)
    with runtime.engine.begin() as connection:
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="alert.export",
            target_type="alert",
            details={"ids": [item["id"] for item in out]},
        )
    return out


def technique_counts(runtime: ServiceRuntime, states: tuple[str, ...] | None = None) -> dict:
    """How many alerts show each technique (the live heatmap's counts)."""
    counts: dict[str, int] = {}
    query = select(_alert.c.techniques)
    if states:
        query = query.where(_alert.c.state.in_(states))
    with runtime.engine.connect() as connection:
        for (techniques,) in connection.execute(query):
            for technique in techniques or ():
                counts[technique] = counts.get(technique, 0) + 1
    return counts
