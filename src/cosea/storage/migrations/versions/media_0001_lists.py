"""Media: hash lists (banks) of known material and known files.

Revision ID: media0001
Revises: root0000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "media0001"
down_revision = "root0000"
branch_labels = ("media",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hash_lists",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text),
        sa.Column("category_scheme", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "hash_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "list_id",
            sa.Integer,
            sa.ForeignKey("hash_lists.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("signal", sa.String(32), nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("category", sa.String(64)),
        sa.Column("source", sa.String(500)),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("series", sa.String(500)),
        sa.Column("notes", sa.Text),
        sa.Column("victim_identified", sa.Boolean),
        sa.Column("external_id", sa.String(200)),
        sa.Column("updated_seq", sa.Integer, nullable=False),
        # Led by (signal, hash): unique per list and the index for lookups across lists.
        sa.UniqueConstraint("signal", "hash", "list_id", name="uq_hash_entries_signal_hash_list"),
    )
    op.create_index("ix_hash_entries_list_id", "hash_entries", ["list_id"])
    op.create_index("ix_hash_entries_updated_seq", "hash_entries", ["updated_seq"])
    counter = op.create_table(
        "hash_list_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 0}])
    op.create_table(
        "hash_list_deletions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("list_name", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hash_list_deletions_seq", "hash_list_deletions", ["seq"])


def downgrade() -> None:
    op.drop_table("hash_list_deletions")
    op.drop_table("hash_list_counter")
    op.drop_index("ix_hash_entries_updated_seq", table_name="hash_entries")
    op.drop_index("ix_hash_entries_list_id", table_name="hash_entries")
    op.drop_table("hash_entries")
    op.drop_table("hash_lists")
