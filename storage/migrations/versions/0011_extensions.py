"""extensions: an Active session's extension asked for, pending approval or decided

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extensions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("approvals", sa.JSON(), nullable=False),
        sa.Column("approvals_given", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_extensions_request_id", "extensions", ["request_id"])
    op.create_index("ix_extensions_status_deadline", "extensions", ["status", "deadline"])
    op.create_index(
        "uq_extensions_one_pending",
        "extensions",
        ["request_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("uq_extensions_one_pending", table_name="extensions")
    op.drop_index("ix_extensions_status_deadline", table_name="extensions")
    op.drop_index("ix_extensions_request_id", table_name="extensions")
    op.drop_table("extensions")
