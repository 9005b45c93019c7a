"""The request lifecycle table: what may happen to a request in each status."""

from __future__ import annotations

import pytest

from workflows.errors import WorkflowError
from workflows.states import (
    EMOJI,
    FINAL,
    LABELS,
    PENDING_STATUSES,
    TRANSITIONS,
    Event,
    Status,
    TransitionNotAllowed,
    allowed_events,
    next_status,
)

ALLOWED = sorted(TRANSITIONS.items(), key=lambda item: (str(item[0][0] or ""), item[0][1].value))
FORBIDDEN = [(s, e) for s in Status for e in Event if (s, e) not in TRANSITIONS]
#: the entries from a stored status (the others start a request: from None)
FROM_STATUS = [pair for pair in TRANSITIONS if pair[0] is not None]


def _pair_id(pair: tuple[Status | None, Event]) -> str:
    return f"{pair[0].value if pair[0] else 'new'}-{pair[1].value}"


# --------------------------------------------------------------------------- allowed


@pytest.mark.parametrize(("pair", "target"), ALLOWED, ids=[_pair_id(pair) for pair, _ in ALLOWED])
def test_every_allowed_transition_leads_to_its_target(pair, target):
    status, event = pair
    assert next_status(status, event) is target


@pytest.mark.parametrize(
    ("status", "event", "target"),
    [
        (Status.PENDING, Event.APPROVE, Status.APPROVED),
        (Status.PENDING, Event.REJECT, Status.REJECTED),
        (Status.PENDING, Event.TIME_OUT, Status.TIMED_OUT),
        (Status.PENDING, Event.CANCEL, Status.CANCELLED),
        (Status.APPROVED, Event.GRANTED, Status.ACTIVE),
        (Status.APPROVED, Event.GRANT_FAILED, Status.FAILED),
        (Status.ACTIVE, Event.EXPIRE, Status.EXPIRED),
        (Status.ACTIVE, Event.REVOKE, Status.REVOKED),
        (Status.ACTIVE, Event.EXTEND, Status.ACTIVE),
    ],
)
def test_lifecycle_of_the_product_docs(status, event, target):
    """Request -> Pending -> Approved -> Active -> Expired/Revoked, or Rejected/Expired."""
    assert next_status(status, event) is target


def test_table_has_exactly_the_documented_transitions():
    # 8 standard + 8 for the custom approval stages + extending an Active session
    assert len(FROM_STATUS) == 17
    assert len(TRANSITIONS) == 19  # and the two that start a request
    assert len(FORBIDDEN) == len(Status) * len(Event) - 17


@pytest.mark.parametrize(
    ("event", "target"),
    [(Event.SUBMIT, Status.PENDING), (Event.SUBMIT_CUSTOM, Status.PENDING_OWNER)],
)
def test_a_request_starts_from_no_status_by_a_submit(event, target):
    assert next_status(None, event) is target
    assert allowed_events(None) == [Event.SUBMIT, Event.SUBMIT_CUSTOM]


def test_a_stored_request_cannot_be_submitted_again():
    with pytest.raises(TransitionNotAllowed, match="^Can't submit a request that is Pending$"):
        next_status(Status.PENDING, Event.SUBMIT)


def test_a_new_request_cannot_be_approved_before_it_is_submitted():
    with pytest.raises(
        TransitionNotAllowed, match="^Can't approve a request that is not submitted yet$"
    ):
        next_status(None, Event.APPROVE)


def test_a_refusal_is_a_workflow_error_a_person_reads():
    """The edge turns every WorkflowError into its sentence (bot.listeners.common)."""
    assert issubclass(TransitionNotAllowed, WorkflowError)


@pytest.mark.parametrize(
    ("status", "event", "target"),
    [
        (Status.PENDING_OWNER, Event.APPROVE, Status.PENDING_ADMIN),
        (Status.PENDING_OWNER, Event.REJECT, Status.REJECTED),
        (Status.PENDING_ADMIN, Event.APPROVE, Status.APPROVED),
        (Status.PENDING_ADMIN, Event.REJECT, Status.REJECTED),
        (Status.PENDING_OWNER, Event.TIME_OUT, Status.TIMED_OUT),
        (Status.PENDING_ADMIN, Event.CANCEL, Status.CANCELLED),
    ],
)
def test_custom_two_level_lifecycle(status, event, target):
    """Pending Owner -> Pending Admin -> Approved, or rejected at either stage."""
    assert next_status(status, event) is target


def test_happy_path_from_request_to_expiry():
    status = Status.PENDING
    for event in (Event.APPROVE, Event.GRANTED, Event.EXPIRE):
        status = next_status(status, event)
    assert status is Status.EXPIRED
    assert status in FINAL


def test_every_status_is_reachable_from_pending():
    reached = {Status.PENDING, Status.PENDING_OWNER}
    frontier = [Status.PENDING, Status.PENDING_OWNER]
    while frontier:
        current = frontier.pop()
        for event in allowed_events(current):
            target = next_status(current, event)
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Status)


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize(("status", "event"), FORBIDDEN, ids=[_pair_id(p) for p in FORBIDDEN])
def test_every_pair_outside_the_table_is_refused_naming_the_status_label(status, event):
    with pytest.raises(TransitionNotAllowed) as caught:
        next_status(status, event)
    message = str(caught.value)
    assert message.startswith("Can't ")
    assert message.endswith(f"a request that is {LABELS[status]}")
    assert caught.value.status is status
    assert caught.value.event is event


@pytest.mark.parametrize(
    ("status", "event", "message"),
    [
        (Status.TIMED_OUT, Event.APPROVE, "Can't approve a request that is Expired"),
        (Status.EXPIRED, Event.APPROVE, "Can't approve a request that is Expired"),
        (Status.REJECTED, Event.APPROVE, "Can't approve a request that is Rejected"),
        (Status.APPROVED, Event.REJECT, "Can't reject a request that is Approved"),
        (Status.ACTIVE, Event.APPROVE, "Can't approve a request that is Active"),
        (Status.PENDING, Event.REVOKE, "Can't revoke a request that is Pending"),
        (Status.REVOKED, Event.REVOKE, "Can't revoke a request that is Revoked"),
        (Status.ACTIVE, Event.CANCEL, "Can't cancel a request that is Active"),
        (Status.CANCELLED, Event.APPROVE, "Can't approve a request that is Cancelled"),
        (Status.FAILED, Event.REVOKE, "Can't revoke a request that is Failed"),
        (Status.PENDING, Event.EXPIRE, "Can't expire a request that is Pending"),
        (Status.ACTIVE, Event.TIME_OUT, "Can't time out a request that is Active"),
    ],
)
def test_refusal_reads_as_a_sentence(status, event, message):
    with pytest.raises(TransitionNotAllowed, match=f"^{message}$"):
        next_status(status, event)


def test_a_decision_cannot_be_made_twice():
    decided = next_status(Status.PENDING, Event.APPROVE)
    with pytest.raises(TransitionNotAllowed):
        next_status(decided, Event.APPROVE)
    with pytest.raises(TransitionNotAllowed):
        next_status(decided, Event.REJECT)


# --------------------------------------------------------------------------- allowed_events


@pytest.mark.parametrize(
    ("status", "events"),
    [
        (Status.PENDING, [Event.APPROVE, Event.REJECT, Event.TIME_OUT, Event.CANCEL]),
        (Status.APPROVED, [Event.GRANTED, Event.GRANT_FAILED]),
        (Status.ACTIVE, [Event.EXPIRE, Event.REVOKE, Event.EXTEND]),
    ],
)
def test_allowed_events_in_table_order(status, events):
    assert allowed_events(status) == events


@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.value)
def test_allowed_events_are_exactly_those_that_do_not_raise(status):
    accepted = []
    for event in Event:
        try:
            next_status(status, event)
        except TransitionNotAllowed:
            continue
        accepted.append(event)
    assert set(allowed_events(status)) == set(accepted)


def test_only_a_pending_request_can_be_approved_or_rejected():
    for status in Status:
        events = allowed_events(status)
        assert (Event.APPROVE in events) == (status in PENDING_STATUSES)
        assert (Event.REJECT in events) == (status in PENDING_STATUSES)


# --------------------------------------------------------------------------- final statuses


def test_final_statuses():
    final = set(FINAL)
    assert final == {
        Status.EXPIRED,
        Status.REVOKED,
        Status.REJECTED,
        Status.TIMED_OUT,
        Status.CANCELLED,
        Status.FAILED,
    }


@pytest.mark.parametrize("status", sorted(FINAL), ids=lambda s: s.value)
def test_final_statuses_have_no_events(status):
    assert allowed_events(status) == []
    for event in Event:
        with pytest.raises(TransitionNotAllowed):
            next_status(status, event)


@pytest.mark.parametrize("status", [Status.PENDING, Status.APPROVED, Status.ACTIVE])
def test_open_statuses_are_not_final(status):
    assert status not in FINAL
    assert allowed_events(status)


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (Status.PENDING, "Pending"),
        (Status.APPROVED, "Approved"),
        (Status.ACTIVE, "Active"),
        (Status.EXPIRED, "Expired"),
        (Status.REVOKED, "Revoked"),
        (Status.REJECTED, "Rejected"),
        (Status.TIMED_OUT, "Expired"),
        (Status.CANCELLED, "Cancelled"),
        (Status.FAILED, "Failed"),
    ],
)
def test_labels_follow_the_product_docs(status, label):
    assert LABELS[status] == label


def test_a_timed_out_request_looks_like_an_expired_one():
    """The quick start: "Requests expire" when nobody approves in time."""
    assert LABELS[Status.TIMED_OUT] == LABELS[Status.EXPIRED]
    assert EMOJI[Status.TIMED_OUT] == EMOJI[Status.EXPIRED]


def test_every_status_has_a_label_and_an_emoji():
    assert set(LABELS) == set(Status)
    assert set(EMOJI) == set(Status)
    assert all(EMOJI[s].startswith(":") and EMOJI[s].endswith(":") for s in Status)


def test_stored_status_values_read_back():
    """Statuses are stored by value; the values must map back to the same member."""
    for status in Status:
        assert Status(status.value) is status
    assert Status("timed_out") is Status.TIMED_OUT
