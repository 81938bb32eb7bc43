"""Scale-out: distributed runs and their idempotently written results.

Revision ID: scale0001
Revises: root0000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "scale0001"
down_revision = "root0000"
branch_labels = ("scale",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scale_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scheduler", sa.String(300)),
        sa.Column("workers", sa.Integer),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "scale_results",
        sa.Column(
            "run_id",
            sa.String(64),
            sa.ForeignKey("scale_runs.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_scale_results_flagged", "scale_results", ["run_id", "flagged"])


def downgrade() -> None:
    op.drop_index("ix_scale_results_flagged", table_name="scale_results")
    op.drop_table("scale_results")
    op.drop_table("scale_runs")
