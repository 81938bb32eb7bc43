"""Media matching for the service: hash an upload (or take given hashes), match them
against the hash lists, record the result, and raise or extend an alert.

The file itself is kept only when the request asks for it and the installation's
policy allows it; otherwise only hashes and matches are stored. Thumbnails for
the console are made on request from a kept file: greyscale and blurred unless
the reviewer chose to reveal one (and their wellness setting permits it).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter, ImageOps
from sqlalchemy import Connection, case, insert, select, update
from sqlalchemy.exc import IntegrityError

from cosea.errors import CoseaError, InputError, NotFound
from cosea.service import audit, webhooks
from cosea.service.models import (
    AnalyzerState,
    MediaRecord,
    ServiceAlert,
    ServiceConversation,
)
from cosea.service.runtime import ServiceRuntime
from cosea.service.security import Principal
from cosea.service.timeutil import utcnow
from cosea.types import HashMatch

_media = MediaRecord.__table__
_alert = ServiceAlert.__table__
_conv = ServiceConversation.__table__
_state = AnalyzerState.__table__

DEFAULT_SIGNALS = ("md5", "sha1", "sha256", "pdq")
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
CATEGORY_RISK = {"known-abuse": 1.0, "of-concern": 0.8}
THUMB_SIDE = 240


@dataclass(slots=True)
class MediaHashes:
    hashes: dict[str, str]
    pdq_quality: int | None = None
    size: int | None = None
    native: Any = None  # the media capability's FileHashes
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.hashes)
        if self.pdq_quality is not None:
            out["pdq_quality"] = self.pdq_quality
        return out


@dataclass(slots=True)
class MatchOutcome:
    media_id: int
    hashes: MediaHashes
    matches: list[HashMatch]
    kept: bool
    cluster: str | None
    alert_id: int | None = None
    alert_raised: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "media_id": self.media_id,
            "hashes": self.hashes.to_dict(),
            "matches": [m.to_dict() for m in self.matches],
            "kept": self.kept,
            "cluster": self.cluster,
            "alert": {"id": self.alert_id, "raised_now": self.alert_raised}
            if self.alert_id is not None
            else None,
            "notes": self.notes,
        }


# ---- hashing ------------------------------------------------------------------------


def hash_upload(
    data: bytes, signals: tuple[str, ...] = DEFAULT_SIGNALS, *, robust: bool = False
) -> MediaHashes:
    """Hash uploaded bytes with the media capability (robust mode adds the PDQ variants)."""
    if robust:
        from cosea.media.match.matcher import hash_file_robust

        handle, path = tempfile.mkstemp(prefix="cosea-media-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            native = hash_file_robust(path, list(signals), True)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        native.path = None
    else:
        from cosea.media.hashing import hash_bytes

        native = hash_bytes(data, signals=list(signals))
    hashes = {
        name: value.lower()
        for name in ("md5", "sha1", "sha256", "pdq")
        if isinstance(value := getattr(native, name, None), str) and value
    }
    notes = list(native.notes or [])
    if native.error:
        notes.append(native.error)
    return MediaHashes(hashes, native.pdq_quality, len(data), native, notes)


def hashes_from_request(given: dict[str, str]) -> MediaHashes:
    """Hashes a platform computed itself; each checked for shape."""
    from cosea.media.hashing import FileHashes

    hashes = {}
    for name, value in given.items():
        name = name.lower().strip()
        value = (value or "").strip().lower()
        if name not in HEX_LENGTHS:
            raise InputError("request", f"unknown signal {name!r}; use {', '.join(HEX_LENGTHS)}")
        if len(value) != HEX_LENGTHS[name] or any(c not in "0123456789abcdef" for c in value):
            raise InputError(
                "request", f"{name} hash must be {HEX_LENGTHS[name]} hex digits", entry=name
            )
        hashes[name] = value
    if not hashes:
        raise InputError("request", "give a file or at least one hash")
    return MediaHashes(hashes, native=FileHashes(path=None, **hashes))


# ---- matching ----------------------------------------------------------------------


class MatcherCache:
    """Matchers by (lists, robust), refreshed when the lists' change counter moves.

    The media capability's matcher keeps each list's index on disk and catches up
    with changes, so a refresh costs only the changes since the last one.
    """

    def __init__(self, runtime: ServiceRuntime, check_seconds: float = 1.0) -> None:
        self.runtime = runtime
        self._items: dict[tuple[tuple[str, ...], bool], tuple[int, Any]] = {}
        self._lock = threading.Lock()
        self._checked = 0.0
        self._seq = -1
        self._check_seconds = check_seconds

    def store(self) -> Any:
        from cosea.media.lists import ListStore

        return ListStore(self.runtime.engine)

    def list_names(self) -> list[str]:
        return [info.name for info in self.store().lists() if info.enabled]

    def seq(self) -> int:
        now = time.monotonic()
        if now - self._checked > self._check_seconds:
            self._seq = self.store().current_seq()
            self._checked = now
        return self._seq

    def invalidate(self) -> None:
        with self._lock:
            self._items.clear()
        self._checked = 0.0

    def matcher(self, names: tuple[str, ...], robust: bool) -> Any:
        from cosea.media.match import Matcher

        seq = self.seq()
        key = (names, robust)
        with self._lock:
            cached = self._items.get(key)
        if cached is not None and cached[0] == seq:
            return cached[1]
        with self._lock:  # one build at a time: building writes the index files
            matcher = Matcher.for_lists(list(names), engine=self.runtime.engine, robust=robust)
            self._items[key] = (seq, matcher)
        return matcher


def find_matches(
    runtime: ServiceRuntime, hashes: MediaHashes, lists: list[str] | None, robust: bool
) -> list[HashMatch]:
    if runtime.matchers is None:
        runtime.matchers = MatcherCache(runtime)
    cache: MatcherCache = runtime.matchers
    names = tuple(sorted(lists)) if lists else tuple(sorted(cache.list_names()))
    if not names:
        return []
    return list(cache.matcher(names, robust).match_hashes(hashes.native))


def _cluster(matches: list[HashMatch], hashes: MediaHashes) -> str | None:
    """Media that matched the same list entry belong together in the console."""
    if matches:
        best = min(matches, key=lambda m: (m.distance, m.signal != "pdq"))
        return f"{best.list_name}:{best.signal}:{best.hash[:16]}"
    sha = hashes.hashes.get("sha256")
    return f"unmatched:{sha[:16]}" if sha else None


def _alerting(runtime: ServiceRuntime, matches: list[HashMatch]) -> list[HashMatch]:
    config = runtime.config
    out = []
    for match in matches:
        category = match.category or "uncategorised"
        if category in config.ignore_categories:
            continue
        if "*" in config.alert_categories or category in config.alert_categories:
            out.append(match)
    return out


def record_match(
    runtime: ServiceRuntime,
    principal: Principal,
    *,
    hashes: MediaHashes,
    matches: list[HashMatch],
    data: bytes | None,
    keep: bool,
    filename: str | None,
    content_type: str | None,
    conversation_id: str | None,
    message_id: str | None,
) -> MatchOutcome:
    """Store the match record (and the file when allowed) and keep the alert current."""
    platform = principal.platform or "console"
    notes: list[str] = list(hashes.notes)
    stored_path = None
    if keep and data is not None:
        if runtime.media_storage_allowed():
            stored_path = _store_file(runtime, data)
        else:
            notes.append("file not kept: the installation's policy does not allow storing media")
    cluster = _cluster(matches, hashes)
    now = utcnow()
    alerting = _alerting(runtime, matches)
    for _attempt in range(5):
        try:
            with runtime.engine.begin() as connection:
                conversation_pk = None
                live_alert = None
                if conversation_id:
                    conversation_pk, live_alert = _lock_conversation(
                        connection, runtime, platform, conversation_id
                    )
                media_id = connection.execute(
                    insert(_media)
                    .values(
                        platform=platform,
                        conversation_id=conversation_pk,
                        message_external_id=message_id,
                        filename=(filename or None) and filename[:255],
                        content_type=content_type,
                        size=hashes.size,
                        sha256=hashes.hashes.get("sha256"),
                        hashes=hashes.to_dict(),
                        matches=[m.to_dict() for m in matches],
                        cluster=cluster,
                        stored_path=stored_path,
                        received_at=now,
                    )
                    .returning(_media.c.id)
                ).scalar_one()
                outcome = MatchOutcome(media_id, hashes, matches, stored_path is not None, cluster)
                outcome.notes = notes
                if alerting:
                    _media_alert(
                        runtime,
                        connection,
                        outcome,
                        alerting,
                        platform,
                        conversation_id,
                        conversation_pk,
                        live_alert,
                    )
                return outcome
        except IntegrityError:
            continue
    raise CoseaError("could not record the media match; try again")


def _lock_conversation(
    connection: Connection, runtime: ServiceRuntime, platform: str, external_id: str
) -> tuple[int, int | None]:
    now = utcnow()
    row = connection.execute(
        update(_conv)
        .where(_conv.c.platform == platform, _conv.c.external_id == external_id)
        .values(updated_at=now, revision=_conv.c.revision + 1)
        .returning(_conv.c.id, _conv.c.alert_id)
    ).first()
    if row is not None:
        return row.id, row.alert_id
    conversation_pk = connection.execute(
        insert(_conv)
        .values(
            platform=platform,
            external_id=external_id,
            participants=[],
            message_count=0,
            revision=0,
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
    return conversation_pk, None


def _media_alert(
    runtime: ServiceRuntime,
    connection: Connection,
    outcome: MatchOutcome,
    alerting: list[HashMatch],
    platform: str,
    conversation_id: str | None,
    conversation_pk: int | None,
    live_alert: int | None,
) -> None:
    now = utcnow()
    risk = max(CATEGORY_RISK.get(m.category or "", 0.6) for m in alerting)
    if live_alert is not None:
        changed = connection.execute(
            update(_alert)
            .where(_alert.c.id == live_alert)
            .values(
                media_count=_alert.c.media_count + 1,
                risk=case((_alert.c.risk > risk, _alert.c.risk), else_=risk),
                updated_at=now,
            )
        ).rowcount
        if changed:
            connection.execute(
                update(_media).where(_media.c.id == outcome.media_id).values(alert_id=live_alert)
            )
            outcome.alert_id = live_alert
            return
    alert_id = connection.execute(
        insert(_alert)
        .values(
            kind="media",
            platform=platform,
            conversation_id=conversation_pk,
            state="open",
            risk=risk,
            cls="known-material",
            stage=None,
            suspect=None,
            alert_message=None,
            techniques=[],
            assessment=None,
            media_count=1,
            created_at=now,
            updated_at=now,
        )
        .returning(_alert.c.id)
    ).scalar_one()
    connection.execute(
        update(_media).where(_media.c.id == outcome.media_id).values(alert_id=alert_id)
    )
    if conversation_pk is not None:
        connection.execute(
            update(_conv).where(_conv.c.id == conversation_pk).values(alert_id=alert_id)
        )
    outcome.alert_id, outcome.alert_raised = alert_id, True
    webhooks.enqueue(
        connection,
        runtime,
        "alert.raised",
        platform,
        {
            "alert_id": alert_id,
            "kind": "media",
            "platform": platform,
            "conversation": runtime.pseudonymize.conversation(platform, conversation_id),
            "risk": risk,
            "class": "known-material",
            "matches": [
                {
                    "list": m.list_name,
                    "signal": m.signal,
                    "distance": m.distance,
                    "category": m.category,
                }
                for m in alerting
            ],
        },
    )


def _store_file(runtime: ServiceRuntime, data: bytes) -> str:
    name = f"{uuid.uuid4().hex}.bin"
    folder = runtime.config.media_dir
    path = folder / name
    path.write_bytes(data)
    path.chmod(0o600)
    return name


def media_path(runtime: ServiceRuntime, stored_path: str) -> Path:
    path = (runtime.config.media_dir / stored_path).resolve()
    if runtime.config.media_dir.resolve() not in path.parents:
        raise NotFound("media file outside the media folder")
    return path


# ---- thumbnails for the console -----------------------------------------------------


def thumbnail(data: bytes, *, blurred: bool, colour: bool) -> bytes:
    """A small PNG: greyscale unless ``colour``, strongly blurred when ``blurred``."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (THUMB_SIDE * 2, THUMB_SIDE * 2))
        image = ImageOps.exif_transpose(image)
        image.thumbnail((THUMB_SIDE, THUMB_SIDE))
        image = image.convert("RGB") if colour else image.convert("L")
        if blurred:
            # Shrink-then-blur: nothing recognisable survives, even if the blur were undone.
            small = image.resize((max(1, image.width // 12), max(1, image.height // 12)))
            image = small.resize(image.size, Image.Resampling.BILINEAR).filter(
                ImageFilter.GaussianBlur(6)
            )
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


def media_view(
    runtime: ServiceRuntime,
    principal: Principal,
    media_id: int,
    *,
    reveal: bool,
) -> tuple[bytes, str]:
    """The thumbnail a reviewer may see now (audited); returns PNG bytes and the mode shown."""
    if not principal.can("media:read"):
        raise PermissionError("media:read")
    wellness = principal.wellness
    if reveal and wellness == "always_blurred":
        raise PermissionError("your wellness setting keeps media blurred; change it in Settings")
    with runtime.engine.begin() as connection:
        row = connection.execute(select(_media).where(_media.c.id == media_id)).first()
        if row is None:
            raise NotFound(f"media {media_id} not found")
        if row.stored_path is None:
            raise NotFound(f"media {media_id}: the file was not kept (hashes only)")
        data = media_path(runtime, row.stored_path).read_bytes()
        mode = "blurred-greyscale"
        if reveal:
            mode = "revealed-colour" if wellness == "reveal_colour" else "revealed-greyscale"
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="media.reveal" if reveal else "media.view",
            target_type="media",
            target_id=media_id,
            details={"shown": mode, "alert_id": row.alert_id},
        )
    try:
        return (
            thumbnail(data, blurred=not reveal, colour=mode == "revealed-colour"),
            mode,
        )
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise InputError(f"media {media_id}", f"cannot be shown as a picture ({error})") from None
