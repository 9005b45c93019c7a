"""The tables of a request's later life: extensions asked for (:class:`ExtensionRow`)
and where its reminders are (:class:`ReminderRow`), on :class:`storage.models.Base`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class ExtensionRow(Base):
    """An extension of an Active session asked for (:class:`workflows.extensions.Extension`):
    ``seconds`` more, ``status`` pending | approved | rejected | timed_out, decided by
    ``deadline`` (UTC). At most one pending per request (a partial unique index)."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    seconds: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # approvals counted so far when the rule needs several: ``[slack id, principal]``
    # pairs, their count the compare-and-set counter
    approvals: Mapped[list[list[str | None]]] = mapped_column(JSON, default=list)
    approvals_given: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ix_extensions_status_deadline", "status", "deadline"),
        Index(
            "uq_extensions_one_pending",
            "request_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class ReminderRow(Base):
    """Where a pending request's reminders are (:class:`workflows.reminders.ReminderState`):
    the ``rounds`` of the schedule claimed, and when (UTC) the last reminder, the
    escalation and the requester's last nudge were. Each change is a compare-and-set, so
    two replicas send one reminder, one escalation and one nudge."""

    __tablename__ = "reminders"

    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    rounds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
