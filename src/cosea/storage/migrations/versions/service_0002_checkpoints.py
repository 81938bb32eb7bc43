"""Service: analyser checkpoints (state + the message position it covers), message
time zones, and a revision counter on conversations, so a conversation's analysis
continues from a checkpoint by replaying the messages after it and writers can
check that nobody changed the conversation since they read it.

Revision ID: service0002
Revises: service0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "service0002"
down_revision = "service0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_conversations") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("service_analyzer_state") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("service_messages") as batch:
        batch.add_column(sa.Column("ts_offset", sa.Integer(), nullable=True))
    op.create_index(
        "ix_service_messages_conv_pos", "service_messages", ["conversation_id", "position"]
    )
    # States saved before checkpoints covered every message of their conversation.
    op.execute(
        "UPDATE service_analyzer_state SET position = (SELECT message_count FROM "
        "service_conversations WHERE service_conversations.id = "
        "service_analyzer_state.conversation_id)"
    )


def downgrade() -> None:
    op.drop_index("ix_service_messages_conv_pos", "service_messages")
    with op.batch_alter_table("service_messages") as batch:
        batch.drop_column("ts_offset")
    with op.batch_alter_table("service_analyzer_state") as batch:
        batch.drop_column("position")
    with op.batch_alter_table("service_conversations") as batch:
        batch.drop_column("revision")
