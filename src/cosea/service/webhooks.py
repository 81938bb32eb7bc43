"""Webhooks: signed event deliveries with retries and a delivery log.

Events are queued as rows of ``service_webhook_deliveries`` in the same
transaction that raised the alert or recorded the decision, so an event is sent
if and only if what it reports was stored. A dispatcher thread in each worker
claims due deliveries (the claim is a conditional UPDATE, so two workers never
send the same one), POSTs them and, on failure, schedules the next attempt with
exponential backoff until ``webhook_max_attempts``.

Each request carries ``X-Cosea-Signature: t=<unix time>,v1=<hex>``, where the
hex is HMAC-SHA256 with the webhook's secret over ``"<t>." + body``; receivers
check it with :func:`verify_signature`. Identifiers of people and conversations
in payloads are pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection, and_, insert, or_, select, update

from cosea.errors import CoseaError
from cosea.service.models import Webhook, WebhookDelivery
from cosea.service.timeutil import iso, utcnow

if TYPE_CHECKING:
    from cosea.service.runtime import ServiceRuntime

log = logging.getLogger("cosea.service.webhooks")
EVENTS = ("alert.raised", "decision.made")
SIGNATURE_HEADER = "X-Cosea-Signature"
_hooks = Webhook.__table__
_deliveries = WebhookDelivery.__table__


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> bool:
    """Receiver side: True when ``header`` signs ``body`` with ``secret`` and is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(expected, parts.get("v1", ""))


def check_url(url: str, *, allow_private: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise CoseaError(f"webhook URL {url!r}: must be an http or https URL with a host")
    if not allow_private:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, None)}
        except socket.gaierror as error:
            raise CoseaError(f"webhook URL {url!r}: host does not resolve ({error})") from None
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved:
                raise CoseaError(
                    f"webhook URL {url!r}: resolves to a private address ({ip}); "
                    "set COSEA_SERVICE_WEBHOOK_ALLOW_PRIVATE=true to allow it"
                )
    return url


def register(
    connection: Connection,
    *,
    url: str,
    events: list[str],
    platform: str | None,
    created_by: str,
    allow_private: bool,
) -> tuple[int, str]:
    """Register a webhook; returns its id and its signing secret (shown once)."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise CoseaError(f"webhook events must be among {', '.join(EVENTS)}; got {events}")
    check_url(url, allow_private=allow_private)
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook_id = connection.execute(
        insert(_hooks)
        .values(
            url=url,
            events=sorted(set(events)),
            secret=secret,
            platform=platform,
            active=True,
            created_at=utcnow(),
            created_by=created_by,
        )
        .returning(_hooks.c.id)
    ).scalar_one()
    return hook_id, secret


def describe(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": list(row.events),
        "platform": row.platform,
        "active": row.active,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
    }


def describe_delivery(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "webhook_id": row.webhook_id,
        "event": row.event,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "created_at": iso(row.created_at),
        "delivered_at": iso(row.delivered_at),
    }


def enqueue(
    connection: Connection,
    runtime: ServiceRuntime,
    event: str,
    platform: str | None,
    data: dict[str, Any],
) -> int:
    """Queue ``event`` for every active webhook subscribed to it (the platform's and global ones)."""
    hooks = connection.execute(
        select(_hooks.c.id, _hooks.c.events).where(
            _hooks.c.active.is_(True),
            or_(_hooks.c.platform.is_(None), _hooks.c.platform == platform),
        )
    ).all()
    now = utcnow()
    rows = []
    for hook in hooks:
        if event not in (hook.events or ()):
            continue
        body = {
            "id": uuid.uuid4().hex,
            "event": event,
            "created_at": iso(now),
            "data": data,
        }
        rows.append(
            {
                "webhook_id": hook.id,
                "event": event,
                "payload": json.dumps(body, separators=(",", ":"), sort_keys=True),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    if rows:
        connection.execute(insert(_deliveries), rows)
        if runtime.dispatcher is not None:
            runtime.dispatcher.wake()
    return len(rows)


class Dispatcher:
    """Sends due deliveries; run as a daemon thread, or call :meth:`dispatch_due` directly."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.config = runtime.config
        self._event = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = httpx.Client(timeout=self.config.webhook_timeout_seconds)

    def wake(self) -> None:
        self._event.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cosea-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._event.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatch_due()
            except Exception:  # a database hiccup must not end the dispatcher
                log.exception("webhook dispatch failed")
            self._event.wait(self.config.webhook_poll_seconds)
            self._event.clear()

    def _claim(self, limit: int) -> list[Any]:
        now = utcnow()
        token = uuid.uuid4().hex
        due = and_(
            _deliveries.c.status == "pending",
            _deliveries.c.next_attempt_at <= now,
            or_(_deliveries.c.claimed_until.is_(None), _deliveries.c.claimed_until < now),
        )
        candidates = (
            select(_deliveries.c.id)
            .where(due)
            .order_by(_deliveries.c.next_attempt_at)
            .limit(limit)
            .scalar_subquery()
        )
        lease = now + timedelta(seconds=self.config.webhook_timeout_seconds * 3 + 10)
        with self.runtime.engine.begin() as connection:
            # ``due`` is repeated on the outer UPDATE so a row another worker claimed
            # meanwhile no longer qualifies when this UPDATE reaches it.
            connection.execute(
                update(_deliveries)
                .where(_deliveries.c.id.in_(candidates), due)
                .values(claimed_until=lease, claim_token=token)
            )
        with self.runtime.engine.connect() as connection:
            return connection.execute(
                select(_deliveries, _hooks.c.url, _hooks.c.secret, _hooks.c.active)
                .join(_hooks, _hooks.c.id == _deliveries.c.webhook_id)
                .where(_deliveries.c.claim_token == token)
            ).all()

    def dispatch_due(self, limit: int = 50) -> int:
        """Send every claimed due delivery once; returns how many were attempted."""
        claimed = self._claim(limit)
        for row in claimed:
            self._send(row)
        return len(claimed)

    def _send(self, row: Any) -> None:
        body = row.payload.encode("utf-8")
        timestamp = int(time.time())
        status_code: int | None = None
        error: str | None = None
        if not row.active:
            error = "webhook deactivated"
        else:
            try:
                check_url(row.url, allow_private=self.config.webhook_allow_private)
                response = self._client.post(
                    row.url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "User-Agent": "cosea-webhooks/1",
                        "X-Cosea-Event": row.event,
                        "X-Cosea-Delivery": str(row.id),
                        SIGNATURE_HEADER: sign(row.secret, timestamp, body),
                    },
                )
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"receiver answered HTTP {status_code}"
            except (httpx.HTTPError, CoseaError) as failure:
                error = f"{type(failure).__name__}: {failure}"
        attempts = row.attempts + 1
        now = utcnow()
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status": status_code,
            "last_error": error,
            "claimed_until": None,
            "claim_token": None,
        }
        if error is None:
            values.update(status="delivered", delivered_at=now)
        elif attempts >= self.config.webhook_max_attempts or not row.active:
            values.update(status="failed")
        else:
            delay = self.config.webhook_backoff_seconds * (2 ** (attempts - 1))
            values.update(next_attempt_at=now + timedelta(seconds=delay))
        with self.runtime.engine.begin() as connection:
            connection.execute(
                update(_deliveries).where(_deliveries.c.id == row.id).values(**values)
            )
