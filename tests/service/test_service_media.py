"""Media matching and hash lists through the API, with benign generated pictures only."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from cosea.service import media


def _picture(seed: int) -> Image.Image:
    from cosea.media.demo import benign_picture

    return benign_picture(7000 + seed, (400, 300))


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _list_with(service, headers, name: str, images: list[Image.Image]) -> None:
    created = service.client.post("/v1/lists", json={"name": name}, headers=headers)
    assert created.status_code == 201, created.text
    lines = []
    for image in images:
        hashes = media.hash_upload(_jpeg(image))
        lines.append(hashes.hashes["pdq"])
    imported = service.client.post(
        f"/v1/lists/{name}/import",
        files={"file": ("hashes.txt", io.BytesIO("\n".join(lines).encode()))},
        data={"format": "text", "signal": "pdq", "category": "known-abuse"},
        headers=headers,
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["added"] == len(images)


def test_lists_create_import_list_and_disable(service):
    headers = service.key(["lists:read", "lists:write"])
    _list_with(service, headers, "bank-a", [_picture(1), _picture(2)])
    names = [
        item["name"] for item in service.client.get("/v1/lists", headers=headers).json()["items"]
    ]
    assert "bank-a" in names
    entries = service.client.get("/v1/lists/bank-a/entries", headers=headers).json()["items"]
    assert len(entries) == 2 and all(e["signal"] == "pdq" for e in entries)
    paged = service.client.get("/v1/lists/bank-a/entries?limit=1", headers=headers).json()
    assert len(paged["items"]) == 1 and paged["next_after_id"] == paged["items"][0]["id"]
    rest = service.client.get(
        f"/v1/lists/bank-a/entries?after_id={paged['next_after_id']}", headers=headers
    ).json()
    assert len(rest["items"]) == 1
    changed = service.client.post(
        "/v1/lists/bank-a/disable", json={"entries": [entries[0]["id"]]}, headers=headers
    ).json()
    assert changed == {"changed": 1}
    enabled = service.client.get("/v1/lists/bank-a/entries", headers=headers).json()["items"]
    assert [e["id"] for e in enabled] == [entries[1]["id"]]
    info = service.client.get("/v1/lists/bank-a", headers=headers).json()
    assert info["name"] == "bank-a" and "stats" in info


def test_list_import_errors_name_the_file_and_change_nothing(service):
    headers = service.key(["lists:read", "lists:write"])
    service.client.post("/v1/lists", json={"name": "bank-b"}, headers=headers)
    bad = service.client.post(
        "/v1/lists/bank-b/import",
        files={"file": ("mine.txt", io.BytesIO(b"not-a-hash\n" + b"a" * 64 + b"\n"))},
        data={"format": "text", "signal": "sha256"},
        headers=headers,
    )
    assert bad.status_code == 422, bad.text
    problem = bad.json()
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "mine.txt" in problem["detail"]
    assert service.client.get("/v1/lists/bank-b/entries", headers=headers).json()["items"] == []
    unknown = service.client.post(
        "/v1/lists/bank-b/import",
        files={"file": ("x.txt", io.BytesIO(b"a" * 64))},
        data={"format": "nonsense"},
        headers=headers,
    )
    assert unknown.status_code in {404, 422}
    duplicate = service.client.post("/v1/lists", json={"name": "bank-b"}, headers=headers)
    assert duplicate.status_code == 400


def test_media_match_upload_hash_and_keep_policy(service):
    admin = service.key(["lists:read", "lists:write"])
    platform = service.key(["media:match", "alerts:read"])
    original = _picture(3)
    _list_with(service, admin, "bank-c", [original])

    # An edited copy (smaller, greyscale) still matches by PDQ.
    edited = ImageOps.grayscale(original.resize((300, 225))).convert("RGB")
    response = service.client.post(
        "/v1/media:match",
        files={"file": ("photo.jpg", io.BytesIO(_jpeg(edited)), "image/jpeg")},
        headers=platform,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kept"] is False, "files are not kept unless the request asks"
    assert [m["list"] for m in body["matches"]] == ["bank-c"]
    assert body["matches"][0]["signal"] == "pdq" and body["matches"][0]["distance"] <= 31
    assert body["alert"]["raised_now"] is True

    kept = service.client.post(
        "/v1/media:match",
        files={"file": ("photo.jpg", io.BytesIO(_jpeg(original)), "image/jpeg")},
        data={"keep": "true"},
        headers=platform,
    ).json()
    assert kept["kept"] is True
    assert list(service.runtime.config.media_dir.iterdir())

    unrelated = service.client.post(
        "/v1/media:match",
        json={"hashes": {"pdq": media.hash_upload(_jpeg(_picture(8))).hashes["pdq"]}},
        headers=platform,
    ).json()
    assert unrelated["matches"] == [] and unrelated["alert"] is None

    by_hash = service.client.post(
        "/v1/media:match",
        json={"hashes": {"pdq": media.hash_upload(_jpeg(original)).hashes["pdq"]}},
        headers=platform,
    ).json()
    assert by_hash["matches"] and by_hash["kept"] is False


def test_policy_can_forbid_keeping_files(service_factory):
    service = service_factory(allow_media_storage=False)
    platform = service.key(["media:match"])
    body = service.client.post(
        "/v1/media:match",
        files={"file": ("a.jpg", io.BytesIO(_jpeg(_picture(5))), "image/jpeg")},
        data={"keep": "true"},
        headers=platform,
    ).json()
    assert body["kept"] is False
    assert any("policy" in note for note in body["notes"])
    assert not list(service.runtime.config.media_dir.iterdir())


def test_bad_hashes_and_empty_requests_are_clear_problems(service):
    platform = service.key(["media:match"])
    short = service.client.post(
        "/v1/media:match", json={"hashes": {"pdq": "abc"}}, headers=platform
    )
    assert short.status_code == 422 and "64 hex" in short.json()["detail"]
    unknown = service.client.post(
        "/v1/media:match", json={"hashes": {"whirlpool": "00"}}, headers=platform
    )
    assert unknown.status_code == 422
    nothing = service.client.post("/v1/media:match", json={"hashes": {}}, headers=platform)
    assert nothing.status_code == 422
    not_json = service.client.post(
        "/v1/media:match",
        content=b"[1,2",
        headers={**platform, "content-type": "application/json"},
    )
    assert not_json.status_code == 422
    assert not_json.headers["content-type"].startswith("application/problem+json")


def test_media_joins_the_conversation_alert(service):
    admin = service.key(["lists:write"])
    platform = service.key(["messages:write", "media:match", "alerts:read"])
    original = _picture(7)
    _list_with(service, admin, "bank-d", [original])
    alert_id = service.post_conversation(platform, "with-media")["alert"]["id"]
    matched = service.client.post(
        "/v1/media:match",
        files={"file": ("p.jpg", io.BytesIO(_jpeg(original)), "image/jpeg")},
        data={"conversation_id": "with-media", "message_id": "m9", "keep": "true"},
        headers=platform,
    ).json()
    assert matched["alert"], matched
    assert matched["alert"]["id"] == alert_id and matched["alert"]["raised_now"] is False
    alert = service.client.get(f"/v1/alerts/{alert_id}?include=media", headers=platform).json()
    assert alert["media_count"] == 1
    assert alert["media"][0]["message_id"] == "m9"
    assert alert["media"][0]["cluster"].startswith("bank-d:")


def test_robust_mode_finds_mirrored_copies(service):
    admin = service.key(["lists:write"])
    platform = service.key(["media:match"])
    original = _picture(9)
    _list_with(service, admin, "bank-e", [original])
    mirrored = _jpeg(ImageOps.mirror(original))
    default = service.client.post(
        "/v1/media:match",
        files={"file": ("m.jpg", io.BytesIO(mirrored), "image/jpeg")},
        headers=platform,
    ).json()
    robust = service.client.post(
        "/v1/media:match",
        files={"file": ("m.jpg", io.BytesIO(mirrored), "image/jpeg")},
        data={"robust": "true"},
        headers=platform,
    ).json()
    assert default["matches"] == []
    assert [m["list"] for m in robust["matches"]] == ["bank-e"]
