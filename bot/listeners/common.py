"""Helpers the listeners share: telling a person something where they are."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.render.escape import esc
from workflows.domain import Person
from workflows.errors import InvalidRequest, NotAuthorized, WorkflowError
from workflows.validation import check_reason

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("jitbot.listeners")


def tell(
    client: WebClient,
    user_id: str,
    text: str,
    channel: str | None = None,
    *,
    escaped: bool = False,
) -> None:
    """An ephemeral message to ``user_id`` in ``channel``; their DM with the bot when the
    bot can't post there (or no channel is known).

    ``text`` is plain text, shown as written: it often quotes what people supplied (a
    :class:`~workflows.errors.WorkflowError`'s sentence names a reviewer, an email, a
    policy's resource), and ``text`` of ``chat.postEphemeral`` and ``chat.postMessage`` is
    mrkdwn, so it is escaped here (:func:`bot.render.escape.esc`): a ``<!channel>`` or a
    ``<https://…|label>`` in it shows as typed and is never live. Emoji codes and ``*bold*``
    still work; links and mentions cannot be made through it. ``escaped``: ``text`` is
    mrkdwn already escaped where it quotes anyone (not escaped twice)."""
    if not escaped:
        text = esc(text)
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


#: What a listener leaves to do after its ack: a callable of no arguments, run in the pool.
Work = Callable[[], object]
#: a Bolt listener: Bolt passes the arguments it names (ack, body, client, ...)
Listener = Callable[..., Any]


def guarded(pool: Executor) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Answer Slack from the request's own thread, then do the listener's work in
    ``pool``; keep an unexpected error inside either part (logged, and the person told).

    The decorated listener runs in the thread that serves the HTTP request (the app has
    ``process_before_response=True``, so Bolt answers Slack when it returns). It must
    call ``ack()`` without network or database calls (a validation error is an ack with
    ``response_action="errors"``) and return the rest of its work as a :data:`Work`
    (or None when nothing is left), which is submitted to ``pool``. So the answer never
    waits for a pool worker: with every worker busy (grants waiting on Identity Center's
    rate limit, say) a click is still answered at once and its work queues. Until
    2026-11-29 the whole listener ran in the pool and the request thread waited for its
    ``ack()``; the benchmark's 20 concurrent ``/jit`` senders, whose workers were waiting
    on the AWS rate limiter, saw acks of up to a second.

    A listener without ``ack`` (an event) is answered by Bolt. A listener that raises or
    forgets to ack is acked with an empty 200 here (and the error logged), so Slack shows
    no timeout. Bolt reads the wrapped function's parameters (it unwraps), so keyword
    injection is unchanged. No error may escape: Bolt would turn the answer into one.
    """

    def decorate(listener: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(listener)
        def wrapper(**kwargs: Any) -> None:
            ack = kwargs.get("ack")
            acked = False
            if ack is not None:

                def acking(*args: Any, **options: Any) -> Any:
                    nonlocal acked
                    answer = ack(*args, **options)
                    acked = True  # an ack that raised is redone below as a plain one
                    return answer

                kwargs["ack"] = acking
            work: Work | None = None
            failed = False
            try:
                work = listener(**kwargs)
            except Exception:
                log.exception("listener %s failed before its work", listener.__name__)
                failed = True
            if ack is not None and not acked:
                if not failed:
                    log.error("listener %s returned without ack(); acked", listener.__name__)
                ack()
            if failed:
                submit(pool, _tell_failure, kwargs)
            elif work is not None:
                submit(pool, _run_guarded, listener.__name__, work, kwargs)

        return wrapper

    return decorate


def submit(pool: Executor, task: Callable[..., None], *args: Any) -> None:
    """``task(*args)`` in ``pool``; in this thread when the pool is shut down (jitbot is
    stopping and a request got in under the wire: its work is done, not dropped)."""
    try:
        pool.submit(task, *args)
    except RuntimeError:
        log.warning("the listener pool is shut down: doing the work in the request's thread")
        task(*args)


def _run_guarded(name: str, work: Work, kwargs: dict[str, Any]) -> None:
    try:
        work()
    except Exception:
        log.exception("listener %s failed", name)
        _tell_failure(kwargs)


def _tell_failure(kwargs: dict[str, Any]) -> None:
    """Tell the person whose request a listener failed on that it failed (best effort)."""
    body = kwargs.get("body") or {}
    client = kwargs.get("client")
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    if client is None or not user_id:
        return
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
) -> Work | None:
    """A submitted reject or revoke modal: the reason checked and acked (an inline error
    when it is too long: then None, nothing to do), and the work after the ack:
    ``act(request_id, person, reason)`` as :func:`on_form` does."""
    reason = checked_reason(ack, view, block_id, action_id)
    if reason is None:
        return None
    return lambda: on_form(rt, body, view, client, lambda rid, actor: act(rid, actor, reason))
