"""lifts: deny statements of ended sign-ins to take out of inline policies later

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lifts",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("permission_set_arn", sa.String(length=1224), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sid"),
    )
    with op.batch_alter_table("lifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lifts_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lifts_due_at"))
    op.drop_table("lifts")
