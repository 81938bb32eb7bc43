"""Console pages through the ASGI app: evidence, media wellness, heatmap, admin, settings."""

from __future__ import annotations

import io
import re

from PIL import Image

from cosea.service import media


def _image_bytes(seed: int) -> bytes:
    from cosea.media.demo import benign_picture

    out = io.BytesIO()
    benign_picture(8100 + seed, (320, 240)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def _alert_with_media(service) -> int:
    platform = service.key(["messages:write", "media:match", "lists:write"])
    alert_id = service.post_conversation(platform, "console-conv")["alert"]["id"]
    service.client.post("/v1/lists", json={"name": "console-list"}, headers=platform)
    data = _image_bytes(1)
    service.client.post(
        "/v1/lists/console-list/import",
        files={"file": ("h.txt", io.BytesIO(media.hash_upload(data).hashes["sha256"].encode()))},
        data={"format": "text", "signal": "sha256", "category": "known-abuse"},
        headers=platform,
    )
    matched = service.client.post(
        "/v1/media:match",
        files={"file": ("p.jpg", io.BytesIO(data), "image/jpeg")},
        data={"conversation_id": "console-conv", "keep": "true"},
        headers=platform,
    ).json()
    assert matched["matches"], matched
    return alert_id


def test_alert_page_shows_evidence_stage_and_blurred_media(service):
    alert_id = _alert_with_media(service)
    client, csrf = service.login("reviewer")
    page = client.get(f"/console/alerts/{alert_id}").text
    assert '<mark class="evidence"' in page
    assert 'class="stagebar"' in page and "reached" in page
    assert 'href="/console/matrix/T' in page
    assert 'img class="thumb blurred"' in page
    media_id = re.search(r"/console/media/(\d+)/thumb", page).group(1)
    thumb = client.get(f"/console/media/{media_id}/thumb")
    assert thumb.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(thumb.content)) as picture:
        assert picture.mode == "L"  # greyscale
        assert max(picture.size) <= 240
    revealed = client.post(f"/console/media/{media_id}/reveal", headers={"X-CSRF-Token": csrf})
    assert revealed.status_code == 200 and "data:image/png;base64," in revealed.text
    forged = client.post(f"/console/media/{media_id}/reveal", headers={"X-CSRF-Token": "nope"})
    assert forged.status_code == 403


def test_wellness_setting_keeps_media_blurred(service):
    alert_id = _alert_with_media(service)
    client, csrf = service.login("reviewer", "careful")
    saved = client.post(
        "/console/settings",
        data={"wellness": "always_blurred", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get(f"/console/alerts/{alert_id}").text
    assert "Kept blurred (your setting)" in page and 'class="reveal"' not in page
    media_id = re.search(r"/console/media/(\d+)/thumb", page).group(1)
    refused = client.post(f"/console/media/{media_id}/reveal", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    colour, csrf2 = service.login("reviewer", "colourful")
    colour.post("/console/settings", data={"wellness": "reveal_colour", "csrf_token": csrf2})
    shown = colour.post(f"/console/media/{media_id}/reveal", headers={"X-CSRF-Token": csrf2})
    assert "revealed colour" in shown.text
    analyst, _ = service.login("analyst")
    assert analyst.get(f"/console/media/{media_id}/thumb").status_code == 403


def test_heatmap_counts_techniques_across_alerts(service):
    writer = service.key(["messages:write"])
    service.post_conversation(writer, "a")
    service.post_conversation(writer, "b")
    client, _ = service.login("analyst")
    fragment = client.get("/console/matrix/heatmap").text
    counts = [int(n) for n in re.findall(r'<span class="hm-count">(\d+)</span>', fragment)]
    assert counts and max(counts) == 2
    page = client.get("/console/matrix").text
    assert 'hx-trigger="every 15s"' in page
    entry = client.get("/console/matrix/T0401")
    assert entry.status_code == 200 and "Mitigations" in entry.text
    assert client.get("/console/matrix/T9999").status_code == 404


def test_admin_creates_users_and_keys_in_the_console(service):
    client, csrf = service.login("admin")
    created = client.post(
        "/console/admin/users",
        data={"username": "newbie", "password": "a-long-password-1", "role": "analyst"},
        headers={"X-CSRF-Token": csrf},
        follow_redirects=False,
    )
    assert created.status_code == 303 and "created" in created.headers["location"]
    page = client.post(
        "/console/admin/keys",
        data={"name": "int", "platform": "plat", "scopes": ["alerts:read"], "csrf_token": csrf},
    )
    key = re.search(r'<code class="secret" id="new-key">([^<]+)</code>', page.text).group(1)
    assert (
        service.client.get("/v1/alerts", headers={"Authorization": f"Bearer {key}"}).status_code
        == 200
    )
    listing = client.get("/console/admin").text
    assert "newbie" in listing and key not in listing


def test_security_headers_on_console_pages(service):
    client, _ = service.login("reviewer")
    response = client.get("/console/queue")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "cdn" not in response.text.lower() and "https://" not in response.text
