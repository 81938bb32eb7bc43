"""Webhooks against a real HTTP receiver on 127.0.0.1: signatures, retries with backoff,
the delivery log, pseudonymised payloads."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cosea.service.webhooks import SIGNATURE_HEADER, sign, verify_signature


class Receiver:
    """Answers the first ``failures`` requests with HTTP 500, then 200; records everything."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "at": time.monotonic()}
                )
                status = 500 if len(receiver.requests) <= receiver.failures else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def build(failures: int = 0) -> Receiver:
        made.append(Receiver(failures))
        return made[-1]

    yield build
    for item in made:
        item.close()


def _register(service, headers, url, events=("alert.raised", "decision.made")):
    response = service.client.post(
        "/v1/webhooks", json={"url": url, "events": list(events)}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def _drain(service, rounds: int = 50) -> None:
    dispatcher = service.runtime.dispatcher
    if dispatcher is None:
        from cosea.service.webhooks import Dispatcher

        dispatcher = service.runtime.dispatcher = Dispatcher(service.runtime)
    for _ in range(rounds):
        if not dispatcher.dispatch_due():
            with service.runtime.engine.connect() as connection:
                from sqlalchemy import func, select

                from cosea.service.models import WebhookDelivery

                table = WebhookDelivery.__table__
                pending = connection.execute(
                    select(func.count()).where(table.c.status == "pending")
                ).scalar_one()
            if not pending:
                return
            time.sleep(0.05)


def test_signed_alert_and_decision_events(service, receiver):
    target = receiver()
    headers = service.key(["messages:write", "alerts:read", "alerts:decide", "webhooks:manage"])
    hook = _register(service, headers, target.url)
    assert hook["secret"].startswith("whsec_")
    alert_id = service.post_conversation(headers, "private-conv-name")["alert"]["id"]
    service.client.post(
        f"/v1/alerts/{alert_id}/decision",
        json={"decision": "confirm", "reason": "clear pattern"},
        headers=headers,
    )
    _drain(service)
    assert len(target.requests) == 2
    events = []
    for request in target.requests:
        signature = request["headers"][SIGNATURE_HEADER]
        assert verify_signature(hook["secret"], signature, request["body"])
        assert not verify_signature("whsec_wrong", signature, request["body"])
        assert not verify_signature(hook["secret"], signature, request["body"] + b" ")
        events.append(json.loads(request["body"]))
    assert [e["event"] for e in events] == ["alert.raised", "decision.made"]
    raised = events[0]["data"]
    assert raised["alert_id"] == alert_id
    # Identifiers leave the service only as pseudonyms.
    assert raised["conversation"].startswith("ps_") and raised["suspect"].startswith("ps_")
    assert "private-conv-name" not in target.requests[0]["body"].decode()
    assert events[1]["data"]["decision"] == "confirm"
    assert events[1]["data"]["decided_by"].startswith("ps_")


def test_failed_deliveries_retry_with_backoff_and_are_logged(service_factory, receiver):
    service = service_factory(webhook_backoff_seconds=0.2, webhook_max_attempts=5)
    target = receiver(failures=2)
    headers = service.key(["messages:write", "webhooks:manage"])
    hook = _register(service, headers, target.url, events=["alert.raised"])
    service.post_conversation(headers)
    _drain(service, rounds=200)
    assert len(target.requests) == 3
    gaps = [b["at"] - a["at"] for a, b in zip(target.requests, target.requests[1:], strict=False)]
    assert gaps[0] >= 0.2 * 0.9 and gaps[1] >= 0.4 * 0.9, gaps  # 0.2 s, then 0.4 s
    log = service.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=headers).json()
    delivery = log["items"][0]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert delivery["last_status"] == 200


def test_deliveries_give_up_after_the_last_attempt(service_factory, receiver):
    service = service_factory(webhook_backoff_seconds=0.01, webhook_max_attempts=3)
    target = receiver(failures=100)
    headers = service.key(["messages:write", "webhooks:manage"])
    hook = _register(service, headers, target.url, events=["alert.raised"])
    service.post_conversation(headers)
    _drain(service, rounds=200)
    delivery = service.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=headers).json()[
        "items"
    ][0]
    assert delivery["status"] == "failed" and delivery["attempts"] == 3
    assert "500" in delivery["last_error"]


def test_the_dispatcher_thread_delivers_by_itself(service_factory, receiver):
    from fastapi.testclient import TestClient

    service = service_factory(run_dispatcher=True, webhook_poll_seconds=0.1)
    target = receiver()
    with TestClient(service.app, base_url="http://127.0.0.1") as client:  # runs the lifespan
        service.client = client
        headers = service.key(["messages:write", "webhooks:manage"])
        _register(service, headers, target.url, events=["alert.raised"])
        service.post_conversation(headers)
        deadline = time.monotonic() + 15
        while not target.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(target.requests) == 1


def test_webhooks_are_scoped_and_validated(service, receiver):
    target = receiver()
    mine = service.key(["webhooks:manage"], platform="plat")
    theirs = service.key(["webhooks:manage"], platform="other")
    hook = _register(service, mine, target.url)
    assert service.client.get("/v1/webhooks", headers=theirs).json()["items"] == []
    assert (
        service.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=theirs).status_code
        == 404
    )
    assert service.client.delete(f"/v1/webhooks/{hook['id']}", headers=theirs).status_code == 404
    bad = service.client.post(
        "/v1/webhooks",
        json={"url": "ftp://example.org/x", "events": ["alert.raised"]},
        headers=mine,
    )
    assert bad.status_code == 400
    unknown = service.client.post(
        "/v1/webhooks", json={"url": target.url, "events": ["alert.deleted"]}, headers=mine
    )
    assert unknown.status_code == 422
    assert service.client.delete(f"/v1/webhooks/{hook['id']}", headers=mine).status_code == 204


def test_private_targets_are_refused_unless_allowed(service_factory):
    service = service_factory(webhook_allow_private=False)
    headers = service.key(["webhooks:manage"])
    refused = service.client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["alert.raised"]},
        headers=headers,
    )
    assert refused.status_code == 400 and "private" in refused.json()["detail"]


def test_signature_format_is_stable():
    header = sign("whsec_x", 1700000000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature("whsec_x", header, b'{"a":1}', now=1700000010)
    assert not verify_signature("whsec_x", header, b'{"a":1}', now=1700009999)
