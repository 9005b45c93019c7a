"""``/jit``: open the request modal within the trigger_id's 3 seconds."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.listeners.common import Work, guarded, submit
from bot.render.escape import esc
from bot.render.modals import NO_ACCOUNTS_TEXT, message_modal, request_modal
from workflows.errors import WorkflowError
from workflows.services.principal import no_user_text

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("jitbot.listeners")


def open_request_modal(
    rt: Runtime,
    client: WebClient,
    trigger_id: str,
    user_id: str,
    channel_id: str | None,
    query: str = "",
) -> None:
    """Open the request form (or say why nothing can be requested), then leave it to
    ``rt.listeners`` to check that the person has an Identity Center user and, if not,
    to turn the modal into the explanation (:func:`check_requester`).

    Run in ``rt.modals``: the form opens within the trigger_id's 3 seconds even while
    every worker of ``rt.listeners`` waits on AWS, and the check, which may call
    identitystore ``GetUserId`` and so wait on the rate limit, never holds a modal back.

    ``query`` (the text after ``/jit``) preselects the account it names, by id or name,
    when exactly one matches."""
    if not rt.catalog.accounts:
        client.views_open(
            trigger_id=trigger_id, view=message_modal("No accounts available", NO_ACCOUNTS_TEXT)
        )
        return
    metadata = json.dumps({"channel_id": channel_id}) if channel_id else ""
    found = rt.catalog.find(query)
    choice = rt.services.form_choice(user_id, found.id if found else None, None, False)
    opened = client.views_open(
        trigger_id=trigger_id,
        view=request_modal(
            rt.catalog,
            choice.durations,
            account=choice.account,
            private_metadata=metadata,
            custom=rt.config.custom_permission_sets,
            ticket=choice.ticket,
        ),
    )
    submit(rt.listeners, check_requester, rt, client, user_id, opened["view"])


def check_requester(rt: Runtime, client: WebClient, user_id: str, view: dict[str, Any]) -> None:
    """Turn the open request ``view`` into the explanation when the person's Slack email
    matches no Identity Center user (or the lookup fails with a reason to show). An
    unexpected error is logged and the form left open: submitting it checks again."""
    problem = None
    try:
        found = rt.services.lookup(rt.directory.person(user_id))
        if found.principal_id is None:
            problem = esc(no_user_text(found, "so you can't request access yet"))
    except WorkflowError as exc:
        problem = esc(exc)  # the modal's text is mrkdwn; the sentence may quote people
    except Exception:
        log.exception("could not check the Identity Center user of %s", user_id)
        return
    if problem:
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=message_modal("Can't request access", problem),
        )


def register(app: App, rt: Runtime) -> None:
    @app.command(rt.config.slash_command)
    @guarded(rt.modals)
    def on_jit(ack: Ack, body: dict[str, Any], client: WebClient) -> Work:
        ack()
        return lambda: open_request_modal(
            rt,
            client,
            body["trigger_id"],
            body["user_id"],
            body.get("channel_id"),
            body.get("text", ""),
        )
