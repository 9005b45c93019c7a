"""grant operations: the AWS request id of a grant AWS had not finished in time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grant_operation_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("grant_pending_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("grant_pending_since")
        batch_op.drop_column("grant_operation_id")
