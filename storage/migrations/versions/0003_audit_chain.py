"""audit hash chain

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 14:30:00

Adds ``prev_hash`` and ``hash`` to ``audit_events`` and the one-row ``audit_head``, and
links the events already there into the chain (the append-only triggers are dropped for
that and made again by :func:`storage.db.upgrade` right after).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from storage.auditchain import GENESIS, event_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    rows = bind.execute(
        sa.text("SELECT id, at, request_id, actor, action, detail FROM audit_events ORDER BY id")
    )
    events = sa.table("audit_events", sa.column("id"), sa.column("prev_hash"), sa.column("hash"))
    last_id, prev = 0, GENESIS
    for row in rows.mappings().all():
        detail = row["detail"]
        if isinstance(detail, str):  # SQLite hands JSON back as text
            detail = json.loads(detail)
        digest = event_hash(
            prev, row["id"], row["at"], row["request_id"], row["actor"], row["action"], detail
        )
        bind.execute(
            events.update().where(events.c.id == row["id"]).values(prev_hash=prev, hash=digest)
        )
        last_id, prev = row["id"], digest
    bind.execute(
        sa.text("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, :i, :h)"),
        {"i": last_id, "h": prev},
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
