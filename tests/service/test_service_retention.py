"""Retention: old message text and media go, unless an alert or a case holds them."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from service_testkit import BENIGN_MESSAGES
from sqlalchemy import select
from typer.testing import CliRunner

from cosea.service.cli import admin_app
from cosea.service.models import MediaRecord, ServiceConversation, StoredMessage
from cosea.service.retention import purge
from cosea.service.timeutil import utcnow


def _texts(service, conversation: str) -> list[str | None]:
    messages = StoredMessage.__table__
    conversations = ServiceConversation.__table__
    with service.runtime.engine.connect() as connection:
        return list(
            connection.execute(
                select(messages.c.text)
                .join(conversations, conversations.c.id == messages.c.conversation_id)
                .where(conversations.c.external_id == conversation)
                .order_by(messages.c.position)
            ).scalars()
        )


def _picture() -> bytes:
    image = Image.new("RGB", (64, 64), (40, 90, 160))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_purge_removes_old_content_unless_held(service):
    writer = service.key(["messages:write", "media:match", "alerts:read", "alerts:decide"])
    held_by_alert = service.post_conversation(writer, "risky")["alert"]["id"]
    dismissed = service.post_conversation(writer, "dismissed")["alert"]["id"]
    held_by_case = service.post_conversation(writer, "case")["alert"]["id"]
    service.post_conversation(writer, "calm", BENIGN_MESSAGES, participants=[])
    kept_file = service.client.post(
        "/v1/media:match",
        files={"file": ("a.png", io.BytesIO(_picture()), "image/png")},
        data={"keep": "true"},
        headers=writer,
    ).json()
    assert kept_file["kept"]
    service.client.post(
        f"/v1/alerts/{dismissed}/decision",
        json={"decision": "dismiss", "reason": "benign after review"},
        headers=writer,
    )
    service.client.post(
        f"/v1/alerts/{held_by_case}/decision",
        json={"decision": "dismiss", "reason": "but a case needs it"},
        headers=writer,
    )
    reviewer, csrf = service.login("reviewer")
    hold = reviewer.post(
        f"/v1/alerts/{held_by_case}/hold",
        json={"case": "CASE-2026-001"},
        headers={"X-CSRF-Token": csrf},
    )
    assert hold.status_code == 200

    nothing_yet = purge(service.runtime, older_than_days=30)
    assert nothing_yet.messages == 0 and nothing_yet.media_files == 0

    later = utcnow() + timedelta(days=31)
    preview = purge(service.runtime, now=later, dry_run=True)
    assert preview.messages > 0 and _texts(service, "calm")[0] is not None

    report = purge(service.runtime, now=later)
    assert report.messages == len(BENIGN_MESSAGES) + len(_texts(service, "dismissed"))
    assert report.media_files == 1
    assert all(text is None for text in _texts(service, "calm"))
    assert all(text is None for text in _texts(service, "dismissed"))
    assert all(text is not None for text in _texts(service, "risky"))  # open alert holds it
    assert all(text is not None for text in _texts(service, "case"))  # the case holds it
    assert not list(service.runtime.config.media_dir.iterdir())
    media = MediaRecord.__table__
    with service.runtime.engine.connect() as connection:
        row = connection.execute(select(media)).one()
    assert row.stored_path is None and row.purged_at is not None and row.sha256

    # The purged conversation still shows its timeline, without the text.
    detail = service.client.get(
        f"/v1/alerts/{dismissed}?include=messages",
        headers=service.key(["alerts:read", "messages:read"]),
    ).json()
    assert all(m["purged"] and m["text"] is None for m in detail["messages"])
    assert held_by_alert


def test_purge_command(service, monkeypatch):
    monkeypatch.setenv(
        "COSEA_DATABASE_URL", str(service.runtime.engine.url.render_as_string(False))
    )
    writer = service.key(["messages:write"])
    service.post_conversation(writer, "calm", BENIGN_MESSAGES, participants=[])
    runner = CliRunner()
    result = runner.invoke(admin_app, ["purge", "--older-than", "0", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would purge: 3 message texts" in result.output
    result = runner.invoke(admin_app, ["purge", "--older-than", "0"])
    assert "purged: 3 message texts" in result.output
    assert all(text is None for text in _texts(service, "calm"))
