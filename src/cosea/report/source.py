"""What a report is made from: one alert of the service, or one triage case, as a
:class:`ReportItem`.

Every output of this package (evidence package, CyberTipline report, STIX bundle,
signals, playbooks) reads a ``ReportItem``, never the service's tables or a case
database directly, so each output works the same for alerts and cases. Loading is
itself an access to content, so it goes through the owners' audited paths: an alert
is read with :func:`cosea.service.alerts.get_alert` (an ``alert.read`` entry in the
audit log), a case through its own database and chain of custody; every export is
recorded there too (:meth:`ReportItem.record`).
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cosea.errors import CoseaError, InputError, NotFound
from cosea.types import parse_timestamp


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cosea-report"


@dataclass(slots=True)
class Mark:
    """One reason on one message: a technique, where in the text, and why."""

    technique: str | None
    tactic: str | None = None
    span: tuple[int, int] | None = None
    reason: str | None = None
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "tactic": self.tactic,
            "span": list(self.span) if self.span else None,
            "reason": self.reason,
            "confidence": self.confidence,
        }


@dataclass(slots=True)
class ItemMessage:
    id: str
    sender: str
    ts: str | None
    text: str | None  # None: purged by retention, or the evidence could not be read
    marks: list[Mark] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    purged: bool = False

    @property
    def techniques(self) -> list[str]:
        seen: list[str] = []
        for mark in self.marks:
            if mark.technique and mark.technique not in seen:
                seen.append(mark.technique)
        return seen

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "ts": self.ts,
            "text": self.text,
            "purged": self.purged,
            "attachments": list(self.attachments),
            "techniques": self.techniques,
            "evidence": [m.to_dict() for m in self.marks],
        }


@dataclass(slots=True)
class ItemConversation:
    id: str
    platform: str | None
    participants: list[dict[str, Any]]
    messages: list[ItemMessage]
    assessment: dict[str, Any] | None
    location: str | None = None  # case: the logical path of the chat file
    note: str | None = None  # why messages are missing, when they are

    @property
    def suspect(self) -> str | None:
        return (self.assessment or {}).get("suspect")

    def participant(self, participant_id: str | None) -> dict[str, Any] | None:
        for participant in self.participants:
            if participant.get("id") == participant_id:
                return participant
        return None


@dataclass(slots=True)
class ItemMedia:
    ref: str  # "media 3" (service) or "file 17" (case)
    filename: str | None
    size: int | None
    hashes: dict[str, str]
    matches: list[dict[str, Any]]
    observed_at: str | None = None
    message_id: str | None = None
    conversation_id: str | None = None
    location: str | None = None  # case: the logical path
    content_type: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # EXIF facts, cluster, type
    viewed_by_reviewer: bool | None = None  # None: unknown
    reader: Callable[[], bytes] | None = None  # the file's bytes, when they are kept

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")

    @property
    def categories(self) -> list[str]:
        return sorted({str(m.get("category")) for m in self.matches if m.get("category")})

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "filename": self.filename,
            "size": self.size,
            "content_type": self.content_type,
            "hashes": dict(self.hashes),
            "matches": list(self.matches),
            "observed_at": self.observed_at,
            "message_id": self.message_id,
            "conversation_id": self.conversation_id,
            "location": self.location,
            "details": self.details,
            "viewed_by_reviewer": self.viewed_by_reviewer,
            "file_kept": self.reader is not None,
        }


@dataclass(slots=True)
class Sighting:
    """A technique seen in an item: how often, and when first and last."""

    technique: str
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    messages: list[str] = field(default_factory=list)

    def add(self, when: datetime | None, message_id: str | None) -> None:
        self.count += 1
        if message_id:
            self.messages.append(message_id)
        if when is not None:
            if self.first_seen is None or when < self.first_seen:
                self.first_seen = when
            if self.last_seen is None or when > self.last_seen:
                self.last_seen = when


Pseudonymize = Callable[[str, str | None, str | None], str | None]
Recorder = Callable[[str, dict[str, Any]], None]


@dataclass
class ReportItem:
    kind: str  # "alert" | "case"
    id: str
    platform: str | None
    state: str | None
    risk: float | None
    cls: str | None
    stage: str | None
    suspect: str | None
    created_at: str | None
    updated_at: str | None
    conversations: list[ItemConversation]
    media: list[ItemMedia]
    decisions: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    audit_check: dict[str, Any]
    source: dict[str, Any]
    pseudonymize: Pseudonymize
    recorder: Recorder | None = None
    techniques_listed: list[str] = field(default_factory=list)  # the alert's own list
    media_storage_allowed: bool = True

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}"

    @property
    def slug(self) -> str:
        return f"{self.kind}-{self.id}"

    def record(self, action: str, details: dict[str, Any]) -> None:
        """Write an export to the audit log (alerts) or the chain of custody (cases)."""
        if self.recorder is not None:
            self.recorder(action, details)

    def sightings(self) -> dict[str, Sighting]:
        """Each technique seen, counted once per message, with first and last time."""
        found: dict[str, Sighting] = {}
        for conversation in self.conversations:
            if conversation.messages:
                for message in conversation.messages:
                    when = parse_timestamp(message.ts) if message.ts else None
                    for technique in message.techniques:
                        found.setdefault(technique, Sighting(technique)).add(when, message.id)
                continue
            techniques = (conversation.assessment or {}).get("techniques") or {}
            for message_id, ids in techniques.items():
                for technique in ids:
                    found.setdefault(technique, Sighting(technique)).add(None, message_id)
        fallback = parse_timestamp(self.created_at) if self.created_at else None
        for technique in self.techniques_listed:
            if technique not in found:
                found.setdefault(technique, Sighting(technique)).add(fallback, None)
        for sighting in found.values():
            if sighting.first_seen is None and fallback is not None:
                sighting.first_seen = sighting.last_seen = fallback
        return dict(sorted(found.items()))

    def technique_ids(self) -> list[str]:
        return list(self.sightings())

    def suspect_accounts(self) -> list[tuple[ItemConversation, dict[str, Any]]]:
        """The suspect's participant record in each conversation (never the child's)."""
        out = []
        for conversation in self.conversations:
            suspect = conversation.suspect or self.suspect
            if suspect is None:
                continue
            participant = conversation.participant(suspect) or {"id": suspect}
            out.append((conversation, participant))
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "platform": self.platform,
            "state": self.state,
            "risk": self.risk,
            "class": self.cls,
            "stage": self.stage,
            "suspect": self.suspect,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "conversations": len(self.conversations),
            "messages": sum(len(c.messages) for c in self.conversations),
            "media": len(self.media),
            "techniques": self.technique_ids(),
            "source": self.source,
        }


# -- alerts ---------------------------------------------------------------------------------


def _service_runtime(database_url: str | None, data_dir: str | None = None) -> Any:
    from cosea.service.config import ServiceConfig
    from cosea.service.runtime import ServiceRuntime

    config = ServiceConfig.from_env()
    config.run_dispatcher = False
    if database_url:
        config.database_url = database_url
    if data_dir:
        config.data_dir = data_dir
    return ServiceRuntime(config)


def _marks_from_service(raw: list[Any]) -> list[Mark]:
    marks = []
    for item in raw or []:
        if isinstance(item, str):
            marks.append(Mark(technique=item))
            continue
        span = item.get("span")
        marks.append(
            Mark(
                technique=item.get("technique") or item.get("technique_id"),
                tactic=item.get("tactic") or item.get("tactic_id"),
                span=(int(span[0]), int(span[1])) if span else None,
                reason=item.get("reason"),
                confidence=item.get("confidence"),
            )
        )
    return marks


def load_alert(
    alert_id: int | str,
    *,
    database_url: str | None = None,
    data_dir: str | None = None,
    actor: str | None = None,
    runtime: Any = None,
) -> ReportItem:
    """An alert of the service with its conversation, media, decisions and audit trail.

    The read is made as a reviewer named ``actor`` and written to the audit log.
    """
    from sqlalchemy import select

    from cosea.service import alerts, audit
    from cosea.service.media import media_path
    from cosea.service.models import MediaRecord
    from cosea.service.runtime import user_principal

    try:
        number = int(alert_id)
    except ValueError:
        raise InputError(None, f"{alert_id!r} is not an alert id (a number)") from None
    runtime = runtime or _service_runtime(database_url, data_dir)
    principal = user_principal(0, actor or default_actor(), "reviewer")
    data = alerts.get_alert(
        runtime, principal, number, include_messages=True, include_media=True, via="report"
    )
    platform = data.get("platform")
    assessment = data.get("assessment") or None
    messages = [
        ItemMessage(
            id=str(m["id"]),
            sender=str(m["from"]),
            ts=m.get("ts"),
            text=m.get("text"),
            marks=_marks_from_service(m.get("techniques") or []),
            purged=bool(m.get("purged")),
        )
        for m in data.get("messages", [])
    ]
    conversations = []
    if data.get("conversation") is not None:
        conversations.append(
            ItemConversation(
                id=str(data["conversation"]),
                platform=platform,
                participants=list(data.get("participants") or []),
                messages=messages,
                assessment=assessment,
                note=None if messages else "no message text is stored for this alert",
            )
        )
    media_rows = data.get("media", [])
    media_ids = [m["id"] for m in media_rows]
    table = MediaRecord.__table__
    with runtime.engine.connect() as connection:
        stored = {
            row.id: row
            for row in connection.execute(select(table).where(table.c.id.in_(media_ids)))
        }
        revealed = {
            entry["target_id"]
            for media_id in media_ids
            for entry in audit.browse(
                connection, action="media.reveal", target_type="media", target_id=str(media_id)
            )
        }
        trail = audit.browse(connection, target_type="alert", target_id=str(number), limit=10_000)
        for media_id in media_ids:
            trail += audit.browse(
                connection, target_type="media", target_id=str(media_id), limit=10_000
            )
        check = audit.verify(connection)
    trail.sort(key=lambda entry: entry["id"])

    def reader_for(media_id: int, stored_path: str) -> Callable[[], bytes]:
        def read() -> bytes:
            data = media_path(runtime, stored_path).read_bytes()
            with runtime.engine.begin() as connection:
                audit.append(
                    connection,
                    actor=principal.actor,
                    actor_role=principal.role,
                    action="media.export",
                    target_type="media",
                    target_id=media_id,
                    details={"alert_id": number, "bytes": len(data)},
                )
            return data

        return read

    media = []
    for row in media_rows:
        record = stored.get(row["id"])
        hashes = {
            k: str(v)
            for k, v in (row.get("hashes") or {}).items()
            if k in {"md5", "sha1", "sha256", "pdq"} and v
        }
        media.append(
            ItemMedia(
                ref=f"media {row['id']}",
                filename=row.get("filename"),
                size=getattr(record, "size", None),
                hashes=hashes,
                matches=list(row.get("matches") or []),
                observed_at=row.get("received_at"),
                message_id=row.get("message_id"),
                conversation_id=str(data["conversation"]) if data.get("conversation") else None,
                content_type=getattr(record, "content_type", None),
                details={"cluster": row.get("cluster")} if row.get("cluster") else {},
                viewed_by_reviewer=str(row["id"]) in revealed,
                reader=reader_for(row["id"], record.stored_path)
                if record is not None and record.stored_path
                else None,
            )
        )

    def recorder(action: str, details: dict[str, Any]) -> None:
        with runtime.engine.begin() as connection:
            audit.append(
                connection,
                actor=principal.actor,
                actor_role=principal.role,
                action=f"report.{action}",
                target_type="alert",
                target_id=number,
                details=details,
            )

    pseudonymizer = runtime.pseudonymize
    url = runtime.engine.url
    return ReportItem(
        kind="alert",
        id=str(number),
        platform=platform,
        state=data.get("state"),
        risk=data.get("risk"),
        cls=data.get("class"),
        stage=data.get("stage"),
        suspect=data.get("suspect"),
        created_at=data.get("created_at"),
        updated_at=data.get("updated_at"),
        conversations=conversations,
        media=media,
        decisions=list(data.get("decisions") or []),
        audit=trail,
        audit_check={
            "log": "service audit log",
            "intact": check.ok,
            "entries": check.entries,
            "problems": [str(p.problem) for p in check.problems][:20],
        },
        source={
            "service_database": url.render_as_string(hide_password=True),
            "alert_kind": data.get("kind"),
            "analyzer": runtime.analyzers.name,
        },
        pseudonymize=lambda kind, plat, value: pseudonymizer(kind, plat, value),
        recorder=recorder,
        techniques_listed=list(data.get("techniques") or []),
        media_storage_allowed=runtime.media_storage_allowed(),
    )


# -- cases ----------------------------------------------------------------------------------


def _read_chat(location: str, sha256: str | None, reader_name: str | None) -> list[Any]:
    """Conversations of a chat file in the evidence, read again and checked against its hash."""
    from cosea.chats import io as chat_io
    from cosea.triage.evidence import read_logical

    data = read_logical(location, sha256)
    name = location.rsplit("/", 1)[-1]
    if not reader_name:
        raise CoseaError(f"{name}: the case does not say which chat reader read it")
    reader = chat_io.get_reader(reader_name)
    # Readers take a path; an anonymous memory file keeps evidence off the disk.
    descriptor = os.memfd_create("cosea-report-chat", 0)
    try:
        with os.fdopen(os.dup(descriptor), "wb") as handle:
            handle.write(data)
        conversations = list(reader.read(Path(f"/proc/self/fd/{descriptor}")))
    finally:
        os.close(descriptor)
    # Readers name a conversation after its file; triage named it after the member's stem.
    for conversation in conversations:
        if conversation.id in {str(descriptor), f"/proc/self/fd/{descriptor}"}:
            conversation.id = Path(name).stem
    return conversations


def _marks_from_evidence(
    evidence: list[dict[str, Any]], techniques: dict[str, list[str]]
) -> dict[str, list[Mark]]:
    marks: dict[str, list[Mark]] = {}
    for item in evidence:
        message_id = item.get("message_id")
        if not message_id:
            continue
        span = item.get("span")
        marks.setdefault(message_id, []).append(
            Mark(
                technique=item.get("technique_id"),
                tactic=item.get("tactic_id"),
                span=(int(span[0]), int(span[1])) if span else None,
                reason=item.get("reason"),
                confidence=item.get("confidence"),
            )
        )
    for message_id, ids in techniques.items():
        present = {m.technique for m in marks.get(message_id, [])}
        for technique in ids:
            if technique not in present:
                marks.setdefault(message_id, []).append(Mark(technique=technique))
    return marks


def load_case(
    name_or_path: str | Path,
    *,
    cases_dir: Path | str | None = None,
    actor: str | None = None,
    alerts_only: bool = True,
) -> ReportItem:
    """A triage case: its flagged conversations, matched files and chain of custody."""
    from cosea.report.keys import pseudonym_secret
    from cosea.service.pseudonyms import Pseudonymizer
    from cosea.triage import custody
    from cosea.triage.case import Case

    actor = actor or default_actor()
    case = Case.open(name_or_path, cases_dir)
    try:
        name = case.name
        db_path = case.db_path
        where = "WHERE c.alert = 1" if alerts_only else ""
        rows = [
            dict(row)
            for row in case.conn.execute(
                "SELECT c.*, f.path, f.sha256 AS file_sha256, f.mtime, f.source "
                f"FROM chat_assessments c JOIN files f ON f.id = c.file_id {where} "
                "ORDER BY c.risk DESC, c.id"
            )
        ]
        files = [
            dict(row)
            for row in case.conn.execute(
                "SELECT * FROM files WHERE id IN (SELECT DISTINCT file_id FROM matches) ORDER BY id"
            )
        ]
        matches: dict[int, list[dict[str, Any]]] = {}
        for row in case.conn.execute(
            "SELECT file_id, list_name, signal, hash, distance, category FROM matches "
            "ORDER BY file_id, distance"
        ):
            matches.setdefault(row["file_id"], []).append(
                {
                    "list": row["list_name"],
                    "signal": row["signal"],
                    "hash": row["hash"],
                    "distance": row["distance"],
                    "category": row["category"],
                }
            )
        trail = custody.entries(case)
        chain = custody.check(case)
        created = case.meta("created_at")
        scans = [dict(r) for r in case.conn.execute("SELECT * FROM scans ORDER BY id")]
    finally:
        case.close()

    conversations = []
    for row in rows:
        evidence = json.loads(row["evidence"] or "[]")
        techniques = json.loads(row["techniques"] or "{}")
        assessment = {
            "conversation_id": row["conversation_id"],
            "messages_seen": row["messages"],
            "risk": row["risk"],
            "class": row["class"],
            "suspect": row["suspect"],
            "stage": row["stage"],
            "tactics_seen": json.loads(row["tactics"] or "[]"),
            "alert": bool(row["alert"]),
            "alert_message": row["alert_message"],
            "evidence": evidence,
            "techniques": techniques,
        }
        marks = _marks_from_evidence(evidence, techniques)
        messages: list[ItemMessage] = []
        participants: list[dict[str, Any]] = []
        platform = None
        note = None
        try:
            found = _read_chat(row["path"], row["file_sha256"], row["reader"])
            for conversation in found:
                # The file is the one scanned (its SHA-256 was checked), so a file holding
                # a single conversation is that conversation whatever its reader calls it.
                if conversation.id != row["conversation_id"] and len(found) > 1:
                    continue
                platform = conversation.platform
                participants = [p.to_dict() for p in conversation.participants]
                messages = [
                    ItemMessage(
                        id=m.id,
                        sender=m.sender,
                        ts=m.ts.isoformat().replace("+00:00", "Z") if m.ts else None,
                        text=m.text,
                        marks=marks.get(m.id, []),
                        attachments=list(m.attachments),
                    )
                    for m in conversation.messages
                ]
        except (CoseaError, OSError, KeyError, ValueError) as error:
            note = f"messages not included: the chat file could not be read again ({error})"
        if not messages and note is None:
            note = "messages not included: the conversation was not found in the chat file again"
        if not participants and row["suspect"]:
            participants = [{"id": row["suspect"]}]
        conversations.append(
            ItemConversation(
                id=str(row["conversation_id"]),
                platform=platform,
                participants=participants,
                messages=messages,
                assessment=assessment,
                location=row["path"],
                note=note,
            )
        )

    media = []
    for row in files:
        hashes = {k: row[k] for k in ("md5", "sha1", "sha256", "pdq") if row.get(k)}
        details: dict[str, Any] = {
            k: row[k]
            for k in (
                "detected_type",
                "mime",
                "taken_at",
                "camera_make",
                "camera_model",
                "software",
            )
            if row.get(k)
        }
        if row.get("cluster_id"):
            details["cluster"] = row["cluster_id"]
        if row.get("gps_lat") is not None:
            details["gps"] = [row["gps_lat"], row["gps_lon"]]

        def reader(location: str = row["path"], sha: str | None = row["sha256"]) -> bytes:
            from cosea.triage.evidence import read_logical

            return read_logical(location, sha)

        media.append(
            ItemMedia(
                ref=f"file {row['id']}",
                filename=row["original_name"] or row["name"],
                size=row["size"],
                hashes=hashes,
                matches=matches.get(row["id"], []),
                observed_at=row.get("mtime"),
                location=row["path"],
                content_type=row.get("mime"),
                details=details,
                viewed_by_reviewer=None,
                reader=reader,
            )
        )

    def recorder(action: str, details: dict[str, Any]) -> None:
        with Case.open(db_path) as opened:
            custody.append(opened, "report-exported", {"report": action, **details}, actor=actor)

    pseudonymizer = Pseudonymizer(pseudonym_secret())
    suspects = [c.suspect for c in conversations if c.suspect]
    top = conversations[0].assessment if conversations else {}
    return ReportItem(
        kind="case",
        id=name,
        platform=next((c.platform for c in conversations if c.platform), None),
        state="open",
        risk=max((c.assessment or {}).get("risk") or 0.0 for c in conversations)
        if conversations
        else None,
        cls=(top or {}).get("class"),
        stage=(top or {}).get("stage"),
        suspect=suspects[0] if suspects else None,
        created_at=created,
        updated_at=scans[-1]["ended_at"] if scans else None,
        conversations=conversations,
        media=media,
        decisions=[],
        audit=trail,
        audit_check={
            "log": "chain of custody",
            "intact": chain.intact,
            "entries": chain.entries,
            "head": chain.head,
            "problems": list(chain.problems)[:20],
        },
        source={"case_database": str(db_path), "custody_head": chain.head},
        pseudonymize=lambda kind, plat, value: pseudonymizer(kind, plat, value),
        recorder=recorder,
    )


# -- either ---------------------------------------------------------------------------------


def load_item(
    target: str,
    *,
    database_url: str | None = None,
    data_dir: str | None = None,
    cases_dir: Path | str | None = None,
    actor: str | None = None,
) -> ReportItem:
    """``ALERT`` (a number) or ``CASE`` (a case name, folder or case.db)."""
    text = str(target).strip()
    if text.lower().startswith("alert:"):
        return load_alert(
            text.split(":", 1)[1], database_url=database_url, data_dir=data_dir, actor=actor
        )
    if text.lower().startswith("case:"):
        return load_case(text.split(":", 1)[1], cases_dir=cases_dir, actor=actor)
    if text.isdigit():
        return load_alert(int(text), database_url=database_url, data_dir=data_dir, actor=actor)
    try:
        return load_case(text, cases_dir=cases_dir, actor=actor)
    except NotFound:
        raise NotFound(
            f"{text!r} is neither an alert id (a number) nor a triage case "
            "(a case name, its folder or its case.db)"
        ) from None
