"""The service's tables (all prefixed ``service_``), declared on the shared :class:`Base`.

The schema is created by the ``service`` Alembic branch
(``storage/migrations/versions/service_0001_tables.py``); a test checks that the
migration and these declarations agree. Times are naive UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cosea.storage import Base

ROLES = ("admin", "reviewer", "analyst", "auditor")
ALERT_STATES = ("open", "confirmed", "dismissed", "escalated")
DECISIONS = ("confirm", "dismiss", "escalate")
WELLNESS_MODES = ("reveal_greyscale", "reveal_colour", "always_blurred")


class ServiceUser(Base):
    """A console user (a person): reviewer, analyst, auditor or admin."""

    __tablename__ = "service_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    wellness: Mapped[str] = mapped_column(String(24), default="reveal_greyscale")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ApiKey(Base):
    """A platform's key: only its SHA-256 is stored; scopes name the endpoints it may call."""

    __tablename__ = "service_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    rate_per_second: Mapped[float | None] = mapped_column(Float, nullable=True)
    burst: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ConsoleSession(Base):
    """A logged-in console session; the cookie holds a token whose SHA-256 is stored here."""

    __tablename__ = "service_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("service_users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class ServiceConversation(Base):
    """A conversation a platform streams in; ``platform`` + ``external_id`` name it."""

    __tablename__ = "service_conversations"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_service_conv_ext"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(200))
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every write, so optimistic writers can tell nobody wrote since they read.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    cls: Mapped[str] = mapped_column(String(16), default="benign")
    stage: Mapped[str | None] = mapped_column(String(8), nullable=True)
    suspect: Mapped[str | None] = mapped_column(String(200), nullable=True)
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the live alert
    hold_case: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AnalyzerState(Base):
    """A checkpoint of the streaming analyser for one conversation (JSON state covering the
    first ``position`` messages; the rest are replayed from ``service_messages``).
    ``version`` changes when the state changes outside the message log (a reviewer
    clearing the alert), which invalidates analysers cached by other workers."""

    __tablename__ = "service_analyzer_state"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("service_conversations.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    engine: Mapped[str] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class StoredMessage(Base):
    """A message as received; ``text`` becomes NULL when retention purges it."""

    __tablename__ = "service_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "external_id", name="uq_service_msg_ext"),
        Index("ix_service_messages_received", "received_at"),
        Index("ix_service_messages_conv_pos", "conversation_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("service_conversations.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(200))
    ts: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # UTC
    ts_offset: Mapped[int | None] = mapped_column(Integer, nullable=True)  # minutes; None: naive
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    attachments: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    techniques: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ServiceAlert(Base):
    """Something a reviewer must look at: a risky conversation or matched media."""

    __tablename__ = "service_alerts"
    __table_args__ = (
        Index("ix_service_alerts_queue", "state", "risk"),
        Index("ix_service_alerts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # conversation | media
    platform: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_conversations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="open")
    risk: Mapped[float] = mapped_column(Float)
    cls: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str | None] = mapped_column(String(8), nullable=True)
    suspect: Mapped[str | None] = mapped_column(String(200), nullable=True)
    alert_message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    techniques: Mapped[list[str]] = mapped_column(JSON)
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Decision(Base):
    """A reviewer's (or platform's) decision on an alert: who, when, what, why."""

    __tablename__ = "service_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("service_alerts.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(200))
    actor_kind: Mapped[str] = mapped_column(String(16))  # user | apikey
    decided_at: Mapped[datetime] = mapped_column(DateTime)


class MediaRecord(Base):
    """A media file a platform asked to match: its hashes, its matches, the file only if kept."""

    __tablename__ = "service_media"
    __table_args__ = (Index("ix_service_media_received", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_conversations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_alerts.id", ondelete="SET NULL"), nullable=True, index=True
    )
    message_external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    hashes: Mapped[dict[str, Any]] = mapped_column(JSON)
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    cluster: Mapped[str | None] = mapped_column(String(120), nullable=True)
    stored_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    hold_case: Mapped[str | None] = mapped_column(String(100), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit log (see :mod:`cosea.hashchain`)."""

    __tablename__ = "service_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the chain position, from 1
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's head (one row): appending locks it, so entries are strictly ordered."""

    __tablename__ = "service_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class Webhook(Base):
    """A URL that receives signed event payloads (alert.raised, decision.made)."""

    __tablename__ = "service_webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(128))
    platform: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class WebhookDelivery(Base):
    """One event to one webhook: attempts, backoff and outcome (the delivery log)."""

    __tablename__ = "service_webhook_deliveries"
    __table_args__ = (Index("ix_service_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("service_webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ServiceSetting(Base):
    """Service-wide settings and secrets (the pseudonym key), as JSON values."""

    __tablename__ = "service_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
