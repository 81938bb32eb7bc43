"""Cross-platform signals: find the same offender on each other's services without
exchanging identities.

Partners agree on a secret key (``cosea report signals keygen``) and exchange it out of
band. A signal is one suspect account: keyed HMAC-SHA256 pseudonyms of its identifiers
(account id, screen name, display name, email, phone: each normalised, so ``@Rex`` and
``rex`` agree), the hashes of files that matched a list, the COSEA technique ids seen,
the class and the time range. Only the suspect's identifiers are ever exported, never
the child's, and no message text.

On import the same key turns the local accounts (the service's conversations, and any
triage cases named) into pseudonyms, and every incoming pseudonym or file hash found
locally is reported as an overlap, with how strong that kind of identifier is. The
header carries a key id (an HMAC of a fixed string), so signals made with another key
are refused instead of silently matching nothing.

File format: JSON Lines; line 1 is the header
``{"type": "header", "format": "cosea-signals", "version": 1, "key_id": …}``, each
further line one ``{"type": "signal", …}``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cosea import __version__
from cosea.errors import InputError
from cosea.report.source import ReportItem

FORMAT = "cosea-signals"
VERSION = 1
PREFIX = "hs1_"
# How much a match on each kind of identifier says about being the same person.
STRENGTH = {
    "email": "strong",
    "phone": "strong",
    "account_id": "strong",
    "screen_name": "medium",
    "display_name": "weak",
}
SCREEN_NAME_KEYS = ("screen_name", "username", "handle")
_SPACES = re.compile(r"\s+")


def new_signals_key(path: Path | str) -> Path:
    """Write a new random 256-bit key (hex) with mode 0600; refuses to overwrite one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(path, "a key file already exists here; not overwriting it") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def load_signals_key(path: Path | str) -> bytes:
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read the key file ({error})") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InputError(
            path, "the key file must hold the key in hex (make one with keygen)"
        ) from None
    if len(key) < 16:
        raise InputError(path, "the key is too short: at least 128 bits (32 hex digits)")
    return key


def key_id(key: bytes) -> str:
    """Names the key without revealing it, so partners can see they hold the same one."""
    return hmac.new(key, b"cosea-signals key id", hashlib.sha256).hexdigest()[:16]


def normalise(kind: str, value: str) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        return ("+" if text.startswith("+") else "") + digits
    if kind == "screen_name":
        return text.lstrip("@")
    return _SPACES.sub(" ", text)


def pseudonym(key: bytes, kind: str, value: str, platform: str | None = None) -> str:
    """The keyed pseudonym of one identifier; account ids are scoped to their platform."""
    scope = (platform or "").casefold() if kind == "account_id" else ""
    message = "\x1f".join((kind, scope, normalise(kind, value))).encode("utf-8")
    return PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


def identifiers(participant: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, raw value) of every identifier a participant record holds."""
    found: list[tuple[str, str]] = []
    if participant.get("id") is not None:
        found.append(("account_id", str(participant["id"])))
    for key in SCREEN_NAME_KEYS:
        if participant.get(key):
            found.append(("screen_name", str(participant[key])))
            break
    if participant.get("display_name"):
        found.append(("display_name", str(participant["display_name"])))
    for kind in ("email", "phone"):
        if participant.get(kind):
            found.append((kind, str(participant[kind])))
    return found


@dataclass(slots=True)
class SignalsExport:
    path: Path
    signals: int
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "signals": self.signals, "key_id": self.key_id}


def _signal(item: ReportItem, key: bytes) -> list[dict[str, Any]]:
    sightings = item.sightings()
    times = [s.first_seen for s in sightings.values() if s.first_seen] + [
        s.last_seen for s in sightings.values() if s.last_seen
    ]
    files = [
        {k: v for k, v in m.hashes.items() if k in {"md5", "sha1", "sha256", "pdq"}}
        for m in item.media
        if m.matches and m.hashes
    ]
    out = []
    for conversation, participant in item.suspect_accounts():
        platform = conversation.platform or item.platform
        idents = [
            {
                "kind": kind,
                "strength": STRENGTH[kind],
                "value": pseudonym(key, kind, value, platform),
            }
            for kind, value in identifiers(participant)
        ]
        reference = hmac.new(
            key, f"{item.kind}\x1f{item.id}\x1f{conversation.id}".encode(), hashlib.sha256
        ).hexdigest()[:24]
        out.append(
            {
                "type": "signal",
                "id": f"sig-{reference}",
                "class": item.cls,
                "risk": round(float(item.risk), 4) if item.risk is not None else None,
                "state": item.state,
                "techniques": sorted(sightings),
                "first_seen": min(times).isoformat() if times else item.created_at,
                "last_seen": max(times).isoformat() if times else item.updated_at,
                "identifiers": idents,
                "files": files,
            }
        )
    return out


def export_signals(
    items: Iterable[ReportItem],
    key_path: Path | str,
    out: Path | str,
    *,
    source: str | None = None,
) -> SignalsExport:
    """Write the suspects of ``items`` as pseudonymised signals (JSON Lines)."""
    key = load_signals_key(key_path)
    out = Path(out)
    items = list(items)
    lines = [signal for item in items for signal in _signal(item, key)]
    header = {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "key_id": key_id(key),
        "source": source,
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "generator": f"cosea {__version__}",
        "signals": len(lines),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for record in [header, *lines]:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    for item in items:
        item.record("signals", {"file": out.name, "key_id": key_id(key), "signals": len(lines)})
    return SignalsExport(out, len(lines), key_id(key))


# -- import ---------------------------------------------------------------------------------


@dataclass(slots=True)
class LocalAccount:
    where: str  # "service" or "case NAME"
    platform: str | None
    conversation: str
    account: str
    alerts: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "platform": self.platform,
            "conversation": self.conversation,
            "account": self.account,
            "alerts": list(self.alerts),
        }


@dataclass(slots=True)
class Overlap:
    signal: str
    kind: str  # an identifier kind, or "file"
    strength: str
    matched: str  # the pseudonym or the hash
    local: dict[str, Any]
    techniques: list[str]
    signal_class: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "kind": self.kind,
            "strength": self.strength,
            "matched": self.matched,
            "local": self.local,
            "techniques": self.techniques,
            "signal_class": self.signal_class,
        }


@dataclass(slots=True)
class SignalsImport:
    path: Path
    source: str | None
    signals: int
    overlaps: list[Overlap]
    local_accounts: int
    local_files: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "source": self.source,
            "signals": self.signals,
            "local_accounts": self.local_accounts,
            "local_files": self.local_files,
            "overlaps": [o.to_dict() for o in self.overlaps],
        }


def read_signals(path: Path | str, key: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and signals of a file; every problem names the line."""
    path = Path(path)
    header: dict[str, Any] | None = None
    signals: list[dict[str, Any]] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise InputError(path, f"cannot read the signals file ({error.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise InputError(path, f"not JSON ({error.msg})", line=number) from None
            if not isinstance(record, dict):
                raise InputError(path, "each line must be a JSON object", line=number)
            if header is None:
                if record.get("type") != "header" or record.get("format") != FORMAT:
                    raise InputError(path, f"not a {FORMAT} file (no header line)", line=number)
                if record.get("version") != VERSION:
                    raise InputError(
                        path, f"version {record.get('version')!r} is not supported", line=number
                    )
                if record.get("key_id") != key_id(key):
                    raise InputError(
                        path,
                        f"made with another key (key id {record.get('key_id')}, yours is "
                        f"{key_id(key)}): use the key shared with this partner",
                        line=number,
                    )
                header = record
                continue
            if record.get("type") != "signal":
                raise InputError(path, f"unknown record type {record.get('type')!r}", line=number)
            idents = record.get("identifiers")
            if not isinstance(idents, list) or not all(
                isinstance(i, dict)
                and i.get("kind") in STRENGTH
                and isinstance(i.get("value"), str)
                for i in idents
            ):
                raise InputError(path, "identifiers must be a list of {kind, value}", line=number)
            if not isinstance(record.get("files", []), list):
                raise InputError(path, "files must be a list of hashes", line=number)
            signals.append(record)
    if header is None:
        raise InputError(path, "empty signals file")
    return header, signals


def _service_accounts(database_url: str | None) -> tuple[list[tuple[dict, LocalAccount]], dict]:
    from sqlalchemy import select

    from cosea.report.source import _service_runtime
    from cosea.service.models import MediaRecord, ServiceAlert, ServiceConversation

    runtime = _service_runtime(database_url)
    conv = ServiceConversation.__table__
    alert = ServiceAlert.__table__
    media = MediaRecord.__table__
    accounts: list[tuple[dict, LocalAccount]] = []
    files: dict[str, list[dict[str, Any]]] = {}
    with runtime.engine.connect() as connection:
        alerts_of: dict[int, list[int]] = {}
        for row in connection.execute(select(alert.c.id, alert.c.conversation_id)):
            if row.conversation_id is not None:
                alerts_of.setdefault(row.conversation_id, []).append(row.id)
        for row in connection.execute(select(conv)):
            for participant in row.participants or []:
                accounts.append(
                    (
                        participant,
                        LocalAccount(
                            "service",
                            row.platform,
                            row.external_id,
                            str(participant.get("id")),
                            alerts_of.get(row.id, []),
                        ),
                    )
                )
        for row in connection.execute(select(media.c.id, media.c.alert_id, media.c.hashes)):
            for name, value in (row.hashes or {}).items():
                if name in {"md5", "sha1", "sha256", "pdq"} and isinstance(value, str):
                    files.setdefault(value.lower(), []).append(
                        {"where": "service", "media": row.id, "alert": row.alert_id}
                    )
    return accounts, {"files": files, "runtime": runtime}


def import_signals(
    path: Path | str,
    key_path: Path | str,
    *,
    database_url: str | None = None,
    cases: Iterable[ReportItem] = (),
    actor: str | None = None,
    use_service: bool = True,
) -> SignalsImport:
    """Match a partner's signals against local accounts and files; report every overlap."""
    key = load_signals_key(key_path)
    header, signals = read_signals(path, key)
    accounts: list[tuple[dict, LocalAccount]] = []
    files: dict[str, list[dict[str, Any]]] = {}
    runtime = None
    if use_service:
        accounts, extra = _service_accounts(database_url)
        files = extra["files"]
        runtime = extra["runtime"]
    for item in cases:
        for conversation in item.conversations:
            for participant in conversation.participants:
                accounts.append(
                    (
                        participant,
                        LocalAccount(
                            f"case {item.id}",
                            conversation.platform,
                            conversation.id,
                            str(participant.get("id")),
                        ),
                    )
                )
        for medium in item.media:
            for value in medium.hashes.values():
                files.setdefault(value.lower(), []).append(
                    {"where": f"case {item.id}", "file": medium.ref}
                )
    index: dict[str, list[LocalAccount]] = {}
    for participant, account in accounts:
        for kind, value in identifiers(participant):
            index.setdefault(pseudonym(key, kind, value, account.platform), []).append(account)
    overlaps: list[Overlap] = []
    for signal in signals:
        techniques = list(signal.get("techniques") or [])
        for ident in signal.get("identifiers", []):
            for account in index.get(ident["value"], []):
                overlaps.append(
                    Overlap(
                        str(signal.get("id")),
                        ident["kind"],
                        STRENGTH[ident["kind"]],
                        ident["value"],
                        account.to_dict(),
                        techniques,
                        signal.get("class"),
                    )
                )
        for hashes in signal.get("files") or []:
            if not isinstance(hashes, dict):
                continue
            # One overlap per local file, naming every hash of it that matched.
            found: dict[str, tuple[dict[str, Any], list[str]]] = {}
            for name, value in hashes.items():
                for place in files.get(str(value).lower(), []):
                    key = json.dumps(place, sort_keys=True)
                    found.setdefault(key, (place, []))[1].append(f"{name}:{value}")
            for place, matched in found.values():
                overlaps.append(
                    Overlap(
                        str(signal.get("id")),
                        "file",
                        "strong",
                        ", ".join(matched),
                        place,
                        techniques,
                        signal.get("class"),
                    )
                )
    result = SignalsImport(
        Path(path), header.get("source"), len(signals), overlaps, len(accounts), len(files)
    )
    if runtime is not None:
        from cosea.report.source import default_actor
        from cosea.service import audit

        with runtime.engine.begin() as connection, contextlib.suppress(RuntimeError):
            audit.append(
                connection,
                actor=f"user:{actor or default_actor()}",
                actor_role="reviewer",
                action="report.signals-import",
                target_type="signals",
                target_id=Path(path).name,
                details={
                    "source": header.get("source"),
                    "signals": len(signals),
                    "overlaps": len(overlaps),
                },
            )
    return result
