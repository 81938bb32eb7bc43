"""Demo data for ``cosea serve --demo``: users with generated passwords, the project's own
demo conversations streamed in message by message, benign generated pictures, and a
demo hash list made from them, so a new user sees a working console at once.

Content rules: the conversations are the chats capability's demo set (short,
non-graphic warning-sign phrases only); the pictures are abstract generated
compositions, never photographs; the list holds only their hashes.
"""

from __future__ import annotations

import io
import random
from importlib import resources
from typing import Any

from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from cosea.service import accounts, media
from cosea.service.conversations import ingest_messages
from cosea.service.runtime import ServiceRuntime, get_setting, set_setting
from cosea.service.security import Principal, generate_password
from cosea.types import Conversation

DEMO_LIST = "demo-known"
DEMO_USERS = (
    ("reviewer", "reviewer"),
    ("analyst", "analyst"),
    ("auditor", "auditor"),
    ("admin", "admin"),
)


def _picture(seed: int) -> Image.Image:
    try:
        from cosea.media.demo import benign_picture

        return benign_picture(seed, (480, 360))
    except ImportError:  # pragma: no cover - the media capability ships benign_picture
        rng = random.Random(seed)
        image = Image.new("RGB", (480, 360), tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(8):
            x, y = rng.randrange(480), rng.randrange(360)
            draw.ellipse(
                (x, y, x + rng.randrange(40, 200), y + rng.randrange(40, 200)),
                fill=tuple(rng.randrange(256) for _ in range(3)),
            )
        return image


def _jpeg(image: Image.Image, quality: int = 88) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def demo_conversations() -> list[Conversation]:
    from cosea.chats.io import read_conversations

    source = resources.files("cosea.chats.data") / "demo_conversations.jsonl"
    with resources.as_file(source) as path:
        conversations = list(read_conversations([path], reader="jsonl"))
    for conversation in conversations:
        conversation.label = None  # the service never sees gold labels
    return conversations


def reset_demo_passwords(runtime: ServiceRuntime) -> dict[str, str]:
    """(Re)create the demo users with fresh generated passwords; returns username -> password."""
    logins = {}
    existing = {user["username"] for user in accounts.list_users(runtime.engine)}
    for username, role in DEMO_USERS:
        password = generate_password()
        if username in existing:
            accounts.set_password(runtime.engine, username, password, actor="system:demo")
        else:
            accounts.create_user(runtime.engine, username, password, role, actor="system:demo")
        logins[username] = password
    return logins


def load_demo(runtime: ServiceRuntime) -> dict[str, Any]:
    """Load the demo data once (idempotent) and return logins and counts."""
    logins = reset_demo_passwords(runtime)
    summary: dict[str, Any] = {"logins": logins}
    if get_setting(runtime.engine, "demo_loaded"):
        summary["loaded_now"] = False
        return summary
    key_id, api_key = accounts.create_api_key(
        runtime.engine,
        name="demo-platform",
        platform="demo",
        scopes=["messages:write", "media:match", "alerts:read", "conversations:analyze"],
        actor="system:demo",
    )
    principal = Principal(
        kind="apikey",
        id=key_id,
        name="demo-platform",
        role="platform",
        permissions=frozenset({"messages:write", "media:match"}),
        platform="demo",
    )
    conversations = demo_conversations()
    for conversation in conversations:
        for message in conversation.messages:  # one by one, as a platform streams them
            ingest_messages(
                runtime,
                platform="demo",
                conversation_id=conversation.id,
                messages=[message],
                participants=conversation.participants,
                language=conversation.language,
            )
    summary["conversations"] = len(conversations)
    summary["media"] = _demo_media(runtime, principal, conversations)
    summary["api_key"] = api_key
    summary["loaded_now"] = True
    set_setting(runtime.engine, "demo_loaded", True)
    return summary


def _demo_media(
    runtime: ServiceRuntime, principal: Principal, conversations: list[Conversation]
) -> int:
    from cosea.media.lists import ListStore

    store = ListStore(runtime.engine)
    if not store.has_list(DEMO_LIST):
        store.create_list(DEMO_LIST, "Hashes of generated demo pictures (benign)", source="demo")
    originals = {seed: _picture(4000 + seed) for seed in range(4)}
    entries = []
    for seed in (0, 1):  # two "known" pictures go on the list
        hashes = media.hash_upload(_jpeg(originals[seed]))
        for signal in ("pdq", "sha256"):
            if hashes.hashes.get(signal):
                entries.append(
                    {
                        "hash": hashes.hashes[signal],
                        "signal": signal,
                        "category": "known-abuse",
                        "series": f"demo-series-{seed + 1}",
                        "source": "demo",
                    }
                )
    store.add_entries(DEMO_LIST, entries)
    if runtime.matchers is not None:
        runtime.matchers.invalidate()
    from sqlalchemy import select

    from cosea.service.models import ServiceConversation

    table = ServiceConversation.__table__
    with runtime.engine.connect() as connection:
        alerted = list(
            connection.execute(
                select(table.c.external_id)
                .where(table.c.platform == "demo", table.c.alert_id.is_not(None))
                .order_by(table.c.risk.desc())
            ).scalars()
        )
    targets = alerted[:2] or [c.id for c in conversations[:2]] or [None]
    uploads = [
        (targets[0], originals[0]),
        (targets[0], originals[0].resize((360, 270))),
        (targets[0], ImageEnhance.Brightness(originals[0]).enhance(1.2)),
        (targets[0], originals[1]),
        (targets[-1], ImageOps.grayscale(originals[1]).convert("RGB")),
        (targets[-1], originals[2]),  # not on the list: recorded, no alert of its own
    ]
    count = 0
    for conversation_id, image in uploads:
        data = _jpeg(image)
        hashes = media.hash_upload(data)
        matches = media.find_matches(runtime, hashes, None, False)
        media.record_match(
            runtime,
            principal,
            hashes=hashes,
            matches=matches,
            data=data,
            keep=True,
            filename=f"demo-{count + 1}.jpg",
            content_type="image/jpeg",
            conversation_id=conversation_id,
            message_id=None,
        )
        count += 1
    return count
