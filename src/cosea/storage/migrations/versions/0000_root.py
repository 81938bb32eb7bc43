"""The common root every capability's migration branch starts from.

Revision ID: root0000
Revises:
"""

from __future__ import annotations

revision = "root0000"
down_revision = None
branch_labels = ("root",)
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
