"""expiry warning: when the requester was told their session ends soon

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("expiry_warned_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("expiry_warned_at")
