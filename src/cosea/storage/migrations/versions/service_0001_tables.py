"""Service tables: conversations, messages, analyser state, alerts, decisions, users,
API keys, sessions, webhooks and deliveries, the audit log, media records, settings.

Revision ID: service0001
Revises: root0000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service0001"
down_revision = "root0000"
branch_labels = ("service",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("wellness", sa.String(24), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "service_api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("rate_per_second", sa.Float(), nullable=True),
        sa.Column("burst", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "service_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("service_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_service_sessions_expires_at", "service_sessions", ["expires_at"])
    op.create_table(
        "service_conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("cls", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(8), nullable=True),
        sa.Column("suspect", sa.String(200), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("hold_case", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("platform", "external_id", name="uq_service_conv_ext"),
    )
    op.create_table(
        "service_analyzer_state",
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("service_conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "service_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("service_conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.Column("techniques", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("purged_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("conversation_id", "external_id", name="uq_service_msg_ext"),
    )
    op.create_index("ix_service_messages_received", "service_messages", ["received_at"])
    op.create_table(
        "service_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("service_conversations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("cls", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(8), nullable=True),
        sa.Column("suspect", sa.String(200), nullable=True),
        sa.Column("alert_message", sa.String(200), nullable=True),
        sa.Column("techniques", sa.JSON(), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_service_alerts_platform", "service_alerts", ["platform"])
    op.create_index("ix_service_alerts_conversation_id", "service_alerts", ["conversation_id"])
    op.create_index("ix_service_alerts_cls", "service_alerts", ["cls"])
    op.create_index("ix_service_alerts_queue", "service_alerts", ["state", "risk"])
    op.create_index("ix_service_alerts_created", "service_alerts", ["created_at"])
    op.create_table(
        "service_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "alert_id",
            sa.Integer(),
            sa.ForeignKey("service_alerts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_service_decisions_alert_id", "service_decisions", ["alert_id"])
    op.create_table(
        "service_media",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("service_conversations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "alert_id",
            sa.Integer(),
            sa.ForeignKey("service_alerts.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("message_external_id", sa.String(200), nullable=True),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("hashes", sa.JSON(), nullable=False),
        sa.Column("matches", sa.JSON(), nullable=False),
        sa.Column("cluster", sa.String(120), nullable=True),
        sa.Column("stored_path", sa.String(500), nullable=True),
        sa.Column("hold_case", sa.String(100), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("purged_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_service_media_conversation_id", "service_media", ["conversation_id"])
    op.create_index("ix_service_media_alert_id", "service_media", ["alert_id"])
    op.create_index("ix_service_media_sha256", "service_media", ["sha256"])
    op.create_index("ix_service_media_received", "service_media", ["received_at"])
    op.create_table(
        "service_audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=True),
        sa.Column("target_id", sa.String(200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_service_audit_log_at", "service_audit_log", ["at"])
    op.create_index("ix_service_audit_log_actor", "service_audit_log", ["actor"])
    op.create_index("ix_service_audit_log_action", "service_audit_log", ["action"])
    op.create_table(
        "service_audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "service_webhooks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("platform", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
    )
    op.create_table(
        "service_webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "webhook_id",
            sa.Integer(),
            sa.ForeignKey("service_webhooks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
    )
    op.create_index(
        "ix_service_webhook_deliveries_webhook_id", "service_webhook_deliveries", ["webhook_id"]
    )
    op.create_index(
        "ix_service_deliveries_due", "service_webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_table(
        "service_settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=True),
    )
    # The audit chain's head exists from the start, so appending never has to create it.
    op.execute(
        "INSERT INTO service_audit_head (id, seq, last_hash) VALUES (1, 0, '" + "0" * 64 + "')"
    )
    _make_audit_log_append_only()


def _make_audit_log_append_only() -> None:
    """The database itself refuses UPDATE and DELETE on the audit log."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION service_audit_log_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'service_audit_log is append-only'; END; "
            "$$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER service_audit_log_no_change BEFORE UPDATE OR DELETE "
            "ON service_audit_log FOR EACH ROW EXECUTE FUNCTION service_audit_log_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER service_audit_log_no_{event.lower()} BEFORE {event} "
                "ON service_audit_log BEGIN "
                "SELECT RAISE(ABORT, 'service_audit_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS service_audit_log_no_change ON service_audit_log")
        op.execute("DROP FUNCTION IF EXISTS service_audit_log_append_only()")
    for table in (
        "service_settings",
        "service_webhook_deliveries",
        "service_webhooks",
        "service_audit_head",
        "service_audit_log",
        "service_media",
        "service_decisions",
        "service_alerts",
        "service_messages",
        "service_analyzer_state",
        "service_conversations",
        "service_sessions",
        "service_api_keys",
        "service_users",
    ):
        op.drop_table(table)
