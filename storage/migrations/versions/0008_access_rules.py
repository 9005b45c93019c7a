"""access rules: a request's rule, approvals needed and given, ticket; several
approvals per stage (one per reviewer), with the reviewer's Identity Center user

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_name", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("approvals_needed", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("approvals_given", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("ticket", sa.String(length=64), nullable=True))
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewer_principal", sa.String(length=64), nullable=True))
        batch_op.drop_constraint("uq_reviews_request_stage", type_="unique")
        batch_op.create_unique_constraint(
            "uq_reviews_request_stage_reviewer", ["request_id", "stage", "reviewer_slack_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_constraint("uq_reviews_request_stage_reviewer", type_="unique")
        batch_op.create_unique_constraint("uq_reviews_request_stage", ["request_id", "stage"])
        batch_op.drop_column("reviewer_principal")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("ticket")
        batch_op.drop_column("approvals_given")
        batch_op.drop_column("approvals_needed")
        batch_op.drop_column("rule_name")
