"""Helpers the listeners share: telling a person something where they are."""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from workflows.domain import AccessRequest, Person
from workflows.errors import InvalidRequest, NotAuthorized, WorkflowError
from workflows.validation import check_reason

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("jitbot.listeners")


def tell(client: WebClient, user_id: str, text: str, channel: str | None = None) -> None:
    """An ephemeral message to ``user_id`` in ``channel``; their DM with the bot when the
    bot can't post there (or no channel is known)."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
            return
        except SlackApiError as exc:
            log.info(
                "ephemeral in %s failed (%s); sending a DM", channel, exc.response.get("error")
            )
    dm = client.conversations_open(users=user_id)["channel"]["id"]
    client.chat_postMessage(channel=dm, text=text)


def channel_of(body: dict[str, Any]) -> str | None:
    """The conversation a click came from (None for App Home and modals)."""
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def parse_request_id(value: object) -> int | None:
    """A request id from a button value or metadata; None when it is not one."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    return int(text)


def run_for_request(
    rt: Runtime,
    user_id: str,
    raw_id: object,
    client: WebClient,
    act: Callable[[int, Person], object],
    channel: str | None = None,
    source: str = "That button",
    refusal: str | None = None,
) -> None:
    """The shape of every button or form that names a request: the request id from the
    payload is only a hint (``act`` re-checks authority from the database), the person
    comes from Slack, and a refusal is told where the person is."""
    request_id = parse_request_id(raw_id)
    try:
        if request_id is None:
            raise NotAuthorized(refusal or f"{source} doesn't name a request; nothing changed.")
        act(request_id, rt.directory.person(user_id))
    except WorkflowError as exc:
        tell(client, user_id, f":warning: {exc}", channel)


def on_button(
    rt: Runtime,
    body: dict[str, Any],
    client: WebClient,
    act: Callable[[int, Person], object],
    refusal: str | None = None,
) -> None:
    """:func:`run_for_request` for a clicked button (its value names the request);
    ``refusal`` replaces the sentence for a value that names no request."""
    run_for_request(
        rt,
        body["user"]["id"],
        body["actions"][0].get("value"),
        client,
        act,
        channel_of(body),
        refusal=refusal,
    )


def on_form(
    rt: Runtime,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    act: Callable[[int, Person], object],
) -> None:
    """:func:`run_for_request` for a submitted modal (its metadata names the request)."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    raw_id = metadata.get("request_id") if isinstance(metadata, dict) else None
    run_for_request(rt, body["user"]["id"], raw_id, client, act, source="That form")


def load_request(rt: Runtime, request_id: int) -> AccessRequest:
    """The stored request, or :class:`NotAuthorized` (an unknown id changes nothing)."""
    request = rt.store.get(request_id)
    if request is None:
        raise NotAuthorized("That button doesn't name a request; nothing changed.")
    return request


#: Seconds a Slack request waits for its listener's ack (Slack allows 3).
ACK_WAIT = 2.5


def guarded(pool: Executor) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a listener in ``pool`` and answer Slack as soon as it calls ``ack()``; keep an
    unexpected error inside it (logged, and the person told).

    The app runs with ``process_before_response=True``, so Bolt answers Slack when the
    wrapped function returns: it returns right after the listener's ``ack()`` (an
    event, not a poll: Bolt's own runner checks every 10 ms), while the work after the
    ack (AWS, the database) goes on in ``pool``. A listener without ``ack`` (an event)
    is answered at once. Bolt reads the wrapped function's parameters (it unwraps), so
    keyword injection is unchanged. No error may escape after the ack: Bolt would turn
    the answer into an error.
    """

    def decorate(listener: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(listener)
        def wrapper(**kwargs: Any) -> Any:
            ack = kwargs.get("ack")
            acked = threading.Event()
            if ack is not None:

                def acking(*args: Any, **options: Any) -> Any:
                    try:
                        return ack(*args, **options)
                    finally:
                        acked.set()

                kwargs["ack"] = acking

            def work() -> None:
                try:
                    _run_guarded(listener, kwargs)
                finally:
                    acked.set()

            pool.submit(work)
            if ack is not None and not acked.wait(ACK_WAIT):
                log.error("listener %s did not ack within %ss", listener.__name__, ACK_WAIT)
            return None

        return wrapper

    return decorate


def _run_guarded(listener: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    try:
        listener(**kwargs)
    except Exception:
        log.exception("listener %s failed", listener.__name__)
        body = kwargs.get("body") or {}
        client = kwargs.get("client")
        user_id = (body.get("user") or {}).get("id") or body.get("user_id")
        if client is not None and user_id:
            try:
                tell(
                    client,
                    user_id,
                    ":warning: Something went wrong on jitbot's side and it has been "
                    "logged. The request's thread shows where it stands; try again in "
                    "a minute.",
                )
            except Exception:
                log.exception("could not tell %s about the failure", user_id)


def state_value(view: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The submitted value of one input (a select's option value or a text input)."""
    element = view.get("state", {}).get("values", {}).get(block_id, {}).get(action_id) or {}
    option = element.get("selected_option")
    if option:
        return option.get("value")
    return element.get("value")


def state_values(view: dict[str, Any], block_id: str, action_id: str) -> tuple[str, ...]:
    """The values chosen in a multi-select input."""
    element = view.get("state", {}).get("values", {}).get(block_id, {}).get(action_id) or {}
    return tuple(str(o.get("value")) for o in element.get("selected_options") or [])


def checked_reason(ack: Ack, view: dict[str, Any], block_id: str, action_id: str) -> str | None:
    """The reason typed in a reject or revoke modal, acked; or, when it breaks
    :func:`workflows.validation.check_reason`, the modal is answered with the error
    inline and None is returned (nothing is to be done)."""
    reason = state_value(view, block_id, action_id)
    try:
        check_reason(reason)
    except InvalidRequest as exc:
        ack(response_action="errors", errors={block_id: exc.errors["reason"]})
        return None
    ack()
    return reason or ""


def on_reason_form(
    rt: Runtime,
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    block_id: str,
    action_id: str,
    act: Callable[[int, Person, str], object],
) -> None:
    """A submitted reject or revoke modal: the reason checked (an inline error when it
    is too long), then ``act(request_id, person, reason)`` as :func:`on_form` does."""
    reason = checked_reason(ack, view, block_id, action_id)
    if reason is not None:
        on_form(rt, body, view, client, lambda rid, actor: act(rid, actor, reason))
