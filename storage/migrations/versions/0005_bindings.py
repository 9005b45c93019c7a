"""bindings: the config's people bound to Slack user ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bindings",
        sa.Column("entry", sa.String(length=320), nullable=False),
        sa.Column("slack_id", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("bound_at", sa.DateTime(), nullable=False),
        sa.Column("pending_slack_id", sa.String(length=32), nullable=True),
        sa.Column("pending_email", sa.String(length=320), nullable=True),
        sa.Column("noticed_at", sa.DateTime(), nullable=True),
        sa.Column("pending_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("entry"),
    )


def downgrade() -> None:
    op.drop_table("bindings")
