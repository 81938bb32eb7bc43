"""Who may do what: each role sees and does only what it may; strangers and other
roles are refused; keys are scoped, platform-bound and revocable; reads are audited."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cosea.service.models import ApiKey, ServiceUser


@pytest.fixture
def alert_id(service):
    return service.post_conversation(service.key(["messages:write"]))["alert"]["id"]


def test_unauthenticated_requests_are_refused(service, alert_id):
    anonymous = TestClient(service.app, base_url="http://127.0.0.1")
    for method, path in [
        ("GET", "/v1/alerts"),
        ("GET", f"/v1/alerts/{alert_id}"),
        ("POST", "/v1/conversations/c/messages"),
        ("POST", "/v1/media:match"),
        ("GET", "/v1/audit"),
        ("GET", "/v1/admin/users"),
        ("GET", "/v1/lists"),
    ]:
        response = anonymous.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "www-authenticate" in response.headers
    page = anonymous.get(f"/console/alerts/{alert_id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    thumb = anonymous.get("/console/media/1/thumb", follow_redirects=False)
    assert thumb.status_code == 303
    wrong = anonymous.get("/v1/alerts", headers={"Authorization": "Bearer csk_000000000000_nope"})
    assert wrong.status_code == 401
    garbage = anonymous.get("/v1/alerts", headers={"X-API-Key": "hello"})
    assert garbage.status_code == 401


def test_key_scopes_are_enforced(service, alert_id):
    writer = service.key(["messages:write"])
    reader = service.key(["alerts:read"])
    assert service.client.get("/v1/alerts", headers=writer).status_code == 403
    refused = service.client.post(
        "/v1/conversations/c/messages", json={"id": "m1", "from": "a"}, headers=reader
    )
    assert refused.status_code == 403
    assert "messages:write" in refused.json()["detail"]
    no_text = service.client.get(f"/v1/alerts/{alert_id}?include=messages", headers=reader)
    assert no_text.status_code == 403
    decide = service.client.post(
        f"/v1/alerts/{alert_id}/decision",
        json={"decision": "confirm", "reason": "x"},
        headers=reader,
    )
    assert decide.status_code == 403


def test_keys_see_only_their_platform(service, alert_id):
    other = service.key(["alerts:read", "alerts:decide", "messages:read"], platform="elsewhere")
    assert service.client.get("/v1/alerts", headers=other).json()["total"] == 0
    assert service.client.get(f"/v1/alerts/{alert_id}", headers=other).status_code == 404
    decided = service.client.post(
        f"/v1/alerts/{alert_id}/decision",
        json={"decision": "dismiss", "reason": "not ours"},
        headers=other,
    )
    assert decided.status_code == 404


def test_revoked_key_is_refused_at_once(service):
    admin_client, csrf = service.login("admin")
    created = admin_client.post(
        "/v1/admin/keys",
        json={"name": "int", "platform": "plat", "scopes": ["alerts:read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201
    key = created.json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    assert service.client.get("/v1/alerts", headers=headers).status_code == 200
    revoked = admin_client.delete(
        f"/v1/admin/keys/{created.json()['id']}", headers={"X-CSRF-Token": csrf}
    )
    assert revoked.status_code == 204
    assert service.client.get("/v1/alerts", headers=headers).status_code == 401


def test_secrets_are_stored_hashed(service):
    headers = service.key(["alerts:read"])
    secret = headers["Authorization"].split(" ", 1)[1]
    username, password = service.user("reviewer")
    with service.runtime.engine.connect() as connection:
        stored_keys = [row.key_hash for row in connection.execute(select(ApiKey.__table__))]
        stored_user = connection.execute(
            select(ServiceUser.__table__).where(ServiceUser.__table__.c.username == username)
        ).one()
    assert all(secret not in value and len(value) == 64 for value in stored_keys)
    assert stored_user.password_hash.startswith("$argon2id$")
    assert password not in stored_user.password_hash


# role -> (method, path, body, expected status) over the API with a console session
ROLE_EXPECTATIONS = {
    "reviewer": {
        "list": 200,
        "read_text": 200,
        "decide": 200,
        "audit": 403,
        "admin": 403,
        "lists_write": 403,
        "stats": 200,
    },
    "analyst": {
        "list": 200,
        "read_text": 403,
        "decide": 403,
        "audit": 403,
        "admin": 403,
        "lists_write": 403,
        "stats": 200,
    },
    "auditor": {
        "list": 403,
        "read_text": 403,
        "decide": 403,
        "audit": 200,
        "admin": 403,
        "lists_write": 403,
        "stats": 403,
    },
    "admin": {
        "list": 403,
        "read_text": 403,
        "decide": 403,
        "audit": 403,
        "admin": 200,
        "lists_write": 201,
        "stats": 200,
    },
}


@pytest.mark.parametrize("role", sorted(ROLE_EXPECTATIONS))
def test_each_role_does_only_what_it_may(service, alert_id, role):
    client, csrf = service.login(role)
    csrf_header = {"X-CSRF-Token": csrf}
    expected = ROLE_EXPECTATIONS[role]
    got = {
        "list": client.get("/v1/alerts").status_code,
        "read_text": client.get(f"/v1/alerts/{alert_id}?include=messages").status_code,
        "decide": client.post(
            f"/v1/alerts/{alert_id}/decision",
            json={"decision": "escalate", "reason": "needs a second look"},
            headers=csrf_header,
        ).status_code,
        "audit": client.get("/v1/audit").status_code,
        "admin": client.get("/v1/admin/users").status_code,
        "lists_write": client.post(
            "/v1/lists", json={"name": f"list-{role}"}, headers=csrf_header
        ).status_code,
        "stats": client.get("/v1/stats/techniques").status_code,
    }
    assert got == expected


@pytest.mark.parametrize(
    ("role", "page", "allowed"),
    [
        ("reviewer", "/console/queue", True),
        ("reviewer", "/console/audit", False),
        ("reviewer", "/console/admin", False),
        ("analyst", "/console/queue", True),
        ("analyst", "/console/audit", False),
        ("auditor", "/console/queue", False),
        ("auditor", "/console/audit", True),
        ("admin", "/console/admin", True),
        ("admin", "/console/queue", False),
    ],
)
def test_console_pages_follow_roles(service, role, page, allowed):
    client, _csrf = service.login(role)
    response = client.get(page)
    assert response.status_code == (200 if allowed else 403), response.text[:300]
    if not allowed:
        assert "Not permitted" in response.text


def test_analyst_sees_pseudonyms_and_no_text(service, alert_id):
    client, _csrf = service.login("analyst")
    listing = client.get("/v1/alerts").json()["items"][0]
    assert listing["suspect"].startswith("ps_") and listing["conversation"].startswith("ps_")
    detail = client.get(f"/v1/alerts/{alert_id}").json()
    assert "messages" not in detail
    assert detail["assessment"]["suspect"].startswith("ps_")
    assert all(p["id"].startswith("ps_") for p in detail["participants"])
    page = client.get(f"/console/alerts/{alert_id}").text
    assert "send me a private pic" not in page
    assert "does not show message text" in page


def test_cookie_requests_need_the_csrf_token(service, alert_id):
    client, csrf = service.login("reviewer")
    without = client.post(
        f"/v1/alerts/{alert_id}/decision", json={"decision": "confirm", "reason": "x"}
    )
    assert without.status_code == 403 and without.json()["type"].endswith("csrf")
    wrong = client.post(
        f"/v1/alerts/{alert_id}/decision",
        json={"decision": "confirm", "reason": "x"},
        headers={"X-CSRF-Token": "0" * 64},
    )
    assert wrong.status_code == 403
    form = client.post(
        f"/console/alerts/{alert_id}/decision",
        data={"decision": "confirm", "reason": "x", "csrf_token": "forged"},
    )
    assert form.status_code == 403
    ok = client.post(
        f"/console/alerts/{alert_id}/decision",
        data={"decision": "confirm", "reason": "clear grooming pattern", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_session_cookie_flags(service):
    username, password = service.user("reviewer")
    for base, secure in (("http://127.0.0.1", False), ("https://127.0.0.1", True)):
        client = TestClient(service.app, base_url=base)
        page = client.get("/console/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/console/login",
            data={"username": username, "password": password, "login_csrf": token},
            follow_redirects=False,
        )
        cookie = next(
            value
            for name, value in response.headers.multi_items()
            if name == "set-cookie" and value.startswith("cosea_session=")
        )
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=strict" in lowered
        assert ("secure" in lowered.split(";")[-1] or "; secure" in lowered) is secure


def test_login_refuses_bad_passwords_and_throttles(service):
    username, _password = service.user("reviewer", "throttled")
    client = TestClient(service.app, base_url="http://127.0.0.1")
    for attempt in range(6):
        page = client.get("/console/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/console/login",
            data={"username": username, "password": f"wrong-{attempt}", "login_csrf": token},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert "error=" in response.headers["location"]
    assert (
        "Too+many" in response.headers["location"] or "Too%20many" in response.headers["location"]
    )
    assert "cosea_session" not in client.cookies
    no_csrf = client.post(
        "/console/login", data={"username": username, "password": "x"}, follow_redirects=False
    )
    assert "expired" in no_csrf.headers["location"]


def test_reads_and_decisions_are_audited(service, alert_id):
    reviewer, csrf = service.login("reviewer", "rita")
    reviewer.get(f"/console/alerts/{alert_id}")
    reviewer.post(
        f"/console/alerts/{alert_id}/decision",
        data={"decision": "confirm", "reason": "pattern is clear", "csrf_token": csrf},
    )
    auditor, _ = service.login("auditor")
    entries = auditor.get("/v1/audit?actor=user:rita&limit=100").json()["items"]
    actions = [e["action"] for e in entries]
    assert "alert.read" in actions and "alert.decision" in actions and "session.login" in actions
    read = next(e for e in entries if e["action"] == "alert.read")
    assert "messages" in read["details"]["parts"] and read["target_id"] == str(alert_id)
    assert auditor.get("/v1/audit/verify").json()["ok"] is True
