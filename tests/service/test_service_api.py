"""The platform API end to end through the ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json

from service_testkit import BENIGN_MESSAGES, PARTICIPANTS, RISKY_MESSAGES

from cosea.types import Conversation, Message, Participant


def _messages(pairs):
    return [
        {"id": f"m{i + 1}", "from": sender, "text": text, "ts": f"2026-03-02T17:{i:02d}:00Z"}
        for i, (sender, text) in enumerate(pairs)
    ]


def test_messages_return_assessment_and_raise_an_alert(service):
    headers = service.key(["messages:write", "alerts:read"])
    result = service.post_conversation(headers)
    assessment = result["assessment"]
    assert result["accepted"] == len(RISKY_MESSAGES)
    assert assessment["alert"] is True
    assert assessment["risk"] >= 0.5
    assert assessment["class"] in {"grooming", "sextortion"}
    assert assessment["suspect"] == "u2"
    assert assessment["stage"] is not None
    assert assessment["evidence"], "every score comes with its reasons"
    assert result["alert"]["state"] == "open" and result["alert"]["raised_now"] is True

    alerts = service.client.get("/v1/alerts", headers=headers).json()
    assert alerts["total"] == 1
    assert alerts["items"][0]["conversation"] == "conv-1"
    assert alerts["items"][0]["techniques"]


def test_benign_conversation_raises_no_alert(service):
    headers = service.key(["messages:write", "alerts:read"])
    result = service.post_conversation(headers, "calm", BENIGN_MESSAGES, participants=[])
    assert result["assessment"]["alert"] is False
    assert result["alert"] is None
    assert service.client.get("/v1/alerts", headers=headers).json()["total"] == 0


def test_single_message_body_and_duplicates_are_idempotent(service):
    headers = service.key(["messages:write"])
    url = "/v1/conversations/c9/messages"
    first = service.client.post(url, json={"id": "m1", "from": "u1", "text": "hi"}, headers=headers)
    assert first.status_code == 200
    assert first.json()["accepted"] == 1
    again = service.client.post(
        url,
        json={"messages": [{"id": "m1", "from": "u1", "text": "hi"}, {"id": "m2", "from": "u2"}]},
        headers=headers,
    )
    body = again.json()
    assert body["accepted"] == 1 and body["duplicates"] == ["m1"]
    assert body["assessment"]["messages_seen"] == 2


def _analyse_batch(runtime, pairs):
    conversation = Conversation(
        id="conv-x",
        participants=[Participant.from_dict(p) for p in PARTICIPANTS],
        messages=[Message.from_dict(m, "conv-x") for m in _messages(pairs)],
        platform="plat",
    )
    return runtime.analyzers.analyze(conversation)


def test_streaming_state_survives_calls_and_restarts(service_factory):
    first = service_factory()
    headers = first.key(["messages:write"])
    pairs = RISKY_MESSAGES
    body = _messages(pairs)
    # Three requests, the middle one to a "restarted" app on the same database.
    first.client.post(
        "/v1/conversations/conv-x/messages",
        json={"messages": body[:4], "participants": PARTICIPANTS},
        headers=headers,
    )
    second = service_factory()
    second.client.post(
        "/v1/conversations/conv-x/messages", json={"messages": body[4:8]}, headers=headers
    )
    third = service_factory()
    last = third.client.post(
        "/v1/conversations/conv-x/messages", json={"messages": body[8:]}, headers=headers
    ).json()["assessment"]
    batch = _analyse_batch(third.runtime, pairs).to_dict()
    for key in ("risk", "class", "suspect", "stage", "tactics_seen", "alert", "alert_message"):
        got, want = last[key], batch[key]
        if key == "risk":
            assert abs(got - want) < 1e-6
        else:
            assert got == want, key
    assert last["messages_seen"] == len(pairs)


def test_one_message_at_a_time_equals_one_batch(service):
    headers = service.key(["messages:write"])
    body = _messages(RISKY_MESSAGES)
    for message in body:
        last = service.client.post(
            "/v1/conversations/one-by-one/messages",
            json={"messages": [message], "participants": PARTICIPANTS},
            headers=headers,
        ).json()["assessment"]
    batch = service.client.post(
        "/v1/conversations/all-at-once/messages",
        json={"messages": body, "participants": PARTICIPANTS},
        headers=headers,
    ).json()["assessment"]
    for key in ("class", "suspect", "stage", "tactics_seen", "alert", "alert_message"):
        assert last[key] == batch[key], key
    assert abs(last["risk"] - batch["risk"]) < 1e-6


def test_validation_errors_are_problem_details(service):
    headers = service.key(["messages:write"])
    response = service.client.post(
        "/v1/conversations/c1/messages",
        json={"messages": [{"id": "m1", "text": "no sender"}]},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"].endswith("validation-error")
    assert any("from" in e["location"] for e in problem["errors"])
    assert problem["instance"] == "/v1/conversations/c1/messages"

    bad_json = service.client.post(
        "/v1/conversations/c1/messages",
        content=b"{not json",
        headers={**headers, "content-type": "application/json"},
    )
    assert bad_json.status_code == 422
    assert bad_json.headers["content-type"].startswith("application/problem+json")


def test_request_size_limit(service_factory):
    small = service_factory(max_json_bytes=2000)
    headers = small.key(["messages:write"])
    response = small.client.post(
        "/v1/conversations/c1/messages",
        json={"id": "m1", "from": "u1", "text": "x" * 5000},
        headers=headers,
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    # Chunked bodies without a length are counted as they arrive.
    chunked = small.client.post(
        "/v1/conversations/c1/messages",
        content=iter([b'{"id": "m1", "from": "u1", "text": "', b"y" * 5000, b'"}']),
        headers={**headers, "content-type": "application/json"},
    )
    assert chunked.status_code == 413


def test_rate_limit_per_key(service):
    slow = service.key(["messages:write"], rate_per_second=0.001, burst=3)
    other = service.key(["messages:write"], platform="other")
    codes = [
        service.client.post(
            "/v1/conversations/r/messages", json={"id": f"m{i}", "from": "a"}, headers=slow
        ).status_code
        for i in range(5)
    ]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
    limited = service.client.post(
        "/v1/conversations/r/messages", json={"id": "m9", "from": "a"}, headers=slow
    )
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert int(limited.headers["retry-after"]) >= 1
    # Another key has its own bucket.
    assert (
        service.client.post(
            "/v1/conversations/r/messages", json={"id": "m1", "from": "a"}, headers=other
        ).status_code
        == 200
    )


def test_analyze_uploaded_conversations_in_any_format(service):
    headers = service.key(["conversations:analyze", "alerts:read"])
    conversation = {
        "id": "upload-1",
        "platform": "game_chat",
        "participants": PARTICIPANTS,
        "messages": _messages(RISKY_MESSAGES),
    }
    response = service.client.post(
        "/v1/conversations:analyze",
        files={"file": ("chats.jsonl", io.BytesIO(json.dumps(conversation).encode()))},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["read"]["conversations"] == 1
    item = body["conversations"][0]
    assert item["id"] == "upload-1"
    assert item["prediction"]["class"] in {"grooming", "sextortion"}
    assert service.client.get("/v1/alerts", headers=headers).json()["total"] == 1

    whatsapp = (
        "02/03/2026, 17:00 - Rex: how old r u btw\n"
        "02/03/2026, 17:01 - Sam: 12\n"
        "02/03/2026, 17:02 - Rex: dont tell your parents about me\n"
    )
    response = service.client.post(
        "/v1/conversations:analyze?reader=whatsapp&store=false",
        files={"file": ("chat.txt", io.BytesIO(whatsapp.encode()))},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] is False
    assert body["conversations"][0]["assessment"]["messages_seen"] == 3


def test_analyze_names_the_upload_on_bad_input(service):
    headers = service.key(["conversations:analyze"])
    response = service.client.post(
        "/v1/conversations:analyze?reader=nonsense",
        files={"file": ("mine.jsonl", io.BytesIO(b"{}"))},
        headers=headers,
    )
    assert response.status_code == 422
    assert "nonsense" in response.json()["detail"]
    empty = service.client.post("/v1/conversations:analyze", content=b"", headers=headers)
    assert empty.status_code == 422


def test_alert_listing_filters_sorts_and_pages(service):
    writer = service.key(["messages:write"])
    reader = service.key(["alerts:read"])
    service.post_conversation(writer, "first")
    service.post_conversation(writer, "second", RISKY_MESSAGES[:9])
    service.post_conversation(writer, "third", BENIGN_MESSAGES, participants=[])
    listing = service.client.get("/v1/alerts", headers=reader).json()
    risks = [item["risk"] for item in listing["items"]]
    assert risks == sorted(risks, reverse=True)
    assert listing["total"] == 2
    page = service.client.get("/v1/alerts?limit=1&offset=1", headers=reader).json()
    assert len(page["items"]) == 1 and page["total"] == 2
    assert page["items"][0]["id"] == listing["items"][1]["id"]
    oldest = service.client.get("/v1/alerts?sort=age", headers=reader).json()["items"]
    assert [a["conversation"] for a in oldest] == ["first", "second"]
    assert service.client.get("/v1/alerts?state=dismissed", headers=reader).json()["total"] == 0
    assert service.client.get("/v1/alerts?platform=nowhere", headers=reader).json()["total"] == 0
    high = service.client.get("/v1/alerts?min_risk=0.99&max_risk=1", headers=reader).json()
    assert all(item["risk"] >= 0.99 for item in high["items"])
    cls = listing["items"][0]["class"]
    assert service.client.get(f"/v1/alerts?class={cls}", headers=reader).json()["total"] >= 1
    bad = service.client.get("/v1/alerts?sort=colour", headers=reader)
    assert bad.status_code == 400 and "sort" in bad.json()["detail"]


def test_alert_detail_and_decisions(service):
    writer = service.key(["messages:write"])
    platform = service.key(["alerts:read", "messages:read", "alerts:decide"])
    alert_id = service.post_conversation(writer)["alert"]["id"]
    detail = service.client.get(f"/v1/alerts/{alert_id}?include=messages", headers=platform)
    assert detail.status_code == 200
    body = detail.json()
    assert len(body["messages"]) == len(RISKY_MESSAGES)
    assert body["assessment"]["evidence"]
    assert any(m["techniques"] for m in body["messages"])

    missing_reason = service.client.post(
        f"/v1/alerts/{alert_id}/decision", json={"decision": "confirm"}, headers=platform
    )
    assert missing_reason.status_code == 422
    escalated = service.client.post(
        f"/v1/alerts/{alert_id}/decision",
        json={"decision": "escalate", "reason": "needs a senior look"},
        headers=platform,
    )
    assert escalated.status_code == 200
    assert escalated.json()["state"] == "escalated"
    confirmed = service.client.post(
        f"/v1/alerts/{alert_id}/decision",
        json={"decision": "confirm", "reason": "secrecy and image request from an adult"},
        headers=platform,
    ).json()
    assert confirmed["state"] == "confirmed"
    assert confirmed["decided_by"].startswith("apikey:")
    again = service.client.post(
        f"/v1/alerts/{alert_id}/decision",
        json={"decision": "dismiss", "reason": "changed my mind"},
        headers=platform,
    )
    assert again.status_code == 409
    history = service.client.get(f"/v1/alerts/{alert_id}", headers=platform).json()["decisions"]
    assert [d["action"] for d in history] == ["escalate", "confirm"]
    assert all(d["decided_at"] and d["decided_by"] for d in history)
    assert service.client.get("/v1/alerts/9999", headers=platform).status_code == 404


def test_dismissal_clears_the_alert_and_a_new_one_can_open(service):
    writer = service.key(["messages:write"])
    platform = service.key(["alerts:read", "alerts:decide"])
    first = service.post_conversation(writer, "c-d")["alert"]["id"]
    service.client.post(
        f"/v1/alerts/{first}/decision",
        json={"decision": "dismiss", "reason": "known family friend, checked"},
        headers=platform,
    )
    after = service.client.post(
        "/v1/conversations/c-d/messages",
        json={"id": "late-1", "from": "u1", "text": "ok see you"},
        headers=writer,
    ).json()
    assert after["alert"] is None or after["alert"]["id"] != first
    state = service.client.get(f"/v1/alerts/{first}", headers=platform).json()["state"]
    assert state == "dismissed"


def test_export_pseudonymises_identifiers(service):
    writer = service.key(["messages:write"])
    reader = service.key(["alerts:read"])
    service.post_conversation(writer, "secret-conv-id")
    items = service.client.get("/v1/alerts:export", headers=reader).json()["items"]
    assert items and items[0]["conversation"].startswith("ps_")
    assert items[0]["suspect"].startswith("ps_")
    assert "secret-conv-id" not in json.dumps(items)
    assert "u2" not in {items[0]["suspect"]}


def test_health_and_readiness(service):
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] and "service0002" in checks["database"]["migrations"]
    assert checks["hash_index"]["ok"]


def test_openapi_and_docs_are_served_offline(service):
    schema = service.client.get("/openapi.json").json()
    assert "/v1/conversations/{conversation_id}/messages" in schema["paths"]
    assert "/v1/media:match" in schema["paths"]
    docs = service.client.get("/docs").text
    assert "/static/swagger_ui/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    assert service.client.get("/static/swagger_ui/swagger-ui-bundle.js").status_code == 200


def test_long_conversation_across_two_workers_matches_one_pass(service_factory):
    """Past several checkpoints, messages alternating between two workers (each with its
    own cached analyser), timestamps in a non-UTC zone: the same result as one pass."""
    workers = [service_factory(), service_factory()]
    headers = workers[0].key(["messages:write"])
    pairs = (BENIGN_MESSAGES * 10 + RISKY_MESSAGES) * 2
    body = [
        {
            "id": f"m{i + 1}",
            "from": sender if sender in {"u1", "u2"} else ("u1" if i % 2 else "u2"),
            "text": text,
            "ts": f"2026-03-02T{(i // 60) % 24:02d}:{i % 60:02d}:00+02:00",
        }
        for i, (sender, text) in enumerate(pairs)
    ]
    last = None
    for index, message in enumerate(body):
        last = (
            workers[index % 2]
            .client.post(
                "/v1/conversations/long/messages",
                json={"messages": [message], "participants": PARTICIPANTS},
                headers=headers,
            )
            .json()["assessment"]
        )
    conversation = Conversation(
        id="long",
        participants=[Participant.from_dict(p) for p in PARTICIPANTS],
        messages=[Message.from_dict(m, "long") for m in body],
        platform="plat",
    )
    batch = workers[0].runtime.analyzers.analyze(conversation).to_dict()
    for key in ("class", "suspect", "stage", "tactics_seen", "alert", "alert_message", "context"):
        assert last[key] == batch[key], key
    assert abs(last["risk"] - batch["risk"]) < 1e-6
    assert last["messages_seen"] == len(body)


def test_media_before_the_first_message_keeps_the_analysis_exact(service_factory):
    first = service_factory()
    headers = first.key(["messages:write", "media:match"])
    early = first.client.post(
        "/v1/media:match",
        json={"hashes": {"sha256": "a" * 64}, "conversation_id": "early"},
        headers=headers,
    )
    assert early.status_code == 200
    body = _messages(RISKY_MESSAGES)
    first.client.post(
        "/v1/conversations/early/messages",
        json={"messages": body[:5], "participants": PARTICIPANTS},
        headers=headers,
    )
    second = service_factory()  # a restart: no cached analyser
    second.client.post(
        "/v1/conversations/early/messages", json={"messages": body[5:8]}, headers=headers
    )
    # Back to the first worker, which continues the analyser it cached.
    last = first.client.post(
        "/v1/conversations/early/messages", json={"messages": body[8:]}, headers=headers
    ).json()["assessment"]
    batch = _analyse_batch(second.runtime, RISKY_MESSAGES).to_dict()
    for key in ("class", "suspect", "stage", "tactics_seen", "alert", "alert_message", "context"):
        assert last[key] == batch[key], key
    assert abs(last["risk"] - batch["risk"]) < 1e-6
