"""Stakeholder playbooks for an alert: what each reader should do, and where to report.

The playbook is built from the alert's techniques, class and whether any of its media
matched a hash list (:func:`cosea.report.build_playbook`); it needs no message text, so
a role that reads alerts may read it. Each build is an access to the alert: it is
confined to an API key's platform and written to the audit log (``alert.playbook``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cosea.errors import InputError
from cosea.service import audit
from cosea.service.alerts import _load
from cosea.service.models import MediaRecord
from cosea.service.runtime import ServiceRuntime
from cosea.service.security import Principal

_media = MediaRecord.__table__

# The reviewer's own procedure first, then who the platform hands on to.
AUDIENCE_ORDER = ("platform", "law-enforcement", "parents", "social-services", "schools")
AUDIENCE_LABELS = {
    "platform": "Platform",
    "law-enforcement": "Law enforcement",
    "parents": "Parents and guardians",
    "social-services": "Social services",
    "schools": "Schools",
}


def audience_of(value: str | None) -> str:
    """The canonical audience name (aliases such as ``police`` allowed); platform by default."""
    from cosea.report.playbook import audience_name

    if not value:
        return "platform"
    try:
        return audience_name(value)
    except InputError:
        raise InputError(
            "audience", f"unknown audience {value!r}; use {', '.join(AUDIENCE_ORDER)}"
        ) from None


def country_of(value: str | None) -> str | None:
    """An ISO country code with listed reporting bodies (or ``INT``); None for the policy's."""
    from cosea.report.hotlines import countries

    if not value or not value.strip():
        return None
    code = value.strip().upper()
    if code != "INT" and code not in countries():
        raise InputError(
            "country",
            f"no reporting bodies listed for {code!r}; use one of {', '.join(countries())} or INT",
        )
    return code


def _media_matched(connection: Any, row: Any) -> bool:
    clause = _media.c.alert_id == row.id
    if row.conversation_id is not None:
        clause = clause | (_media.c.conversation_id == row.conversation_id)
    # Only whether a list matched is read: no file names, hashes or pictures.
    return any(matches for (matches,) in connection.execute(select(_media.c.matches).where(clause)))


def alert_playbook(
    runtime: ServiceRuntime,
    principal: Principal,
    alert_id: int,
    audience: str | None = None,
    country: str | None = None,
    *,
    via: str = "api",
) -> dict[str, Any]:
    """The playbook of one alert for one audience, with what it was built from."""
    from cosea.report.naming import matrix
    from cosea.report.playbook import build_playbook

    name = audience_of(audience)
    code = country_of(country)
    with runtime.engine.begin() as connection:
        row = _load(connection, principal, alert_id)
        media_matched = _media_matched(connection, row)
        known = matrix().techniques
        techniques = [t for t in dict.fromkeys(row.techniques or []) if t in known]
        unknown = [t for t in dict.fromkeys(row.techniques or []) if t not in known]
        playbook = build_playbook(techniques, name, code, cls=row.cls, media_matched=media_matched)
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="alert.playbook",
            target_type="alert",
            target_id=alert_id,
            details={"via": via, "audience": name, "country": playbook.country},
        )
    result = playbook.to_dict()
    # The library's note names the command-line flag; here the choice is the country field.
    result["notes"] = [note.replace(" (--country)", "") for note in result["notes"]]
    if unknown:
        result["notes"].append(f"Not in the matrix, so not covered here: {', '.join(unknown)}.")
    return {
        "alert_id": alert_id,
        "audience": name,
        "audiences": [{"id": a, "label": AUDIENCE_LABELS[a]} for a in AUDIENCE_ORDER],
        "country": playbook.country,
        "basis": {"techniques": techniques, "class": row.cls, "media_matched": media_matched},
        "playbook": result,
    }
