"""The Bolt app: built from a :class:`bot.runtime.Runtime`, listeners registered by surface."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.webhook import WebhookClient

from bot import gate, guards
from bot.listeners import actions, app_home, commands, identity, options, views
from bot.listeners import extend as extend_listeners

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("jitbot.bolt")


def build_app(rt: Runtime) -> App:
    """A Bolt app on ``rt.client``. In HTTP mode every request is verified with
    ``SLACK_SIGNING_SECRET`` by :func:`bot.http.make_wsgi_app` before Bolt sees it (a bad
    or old signature is a 401 there), and Bolt checks it again (tens of microseconds),
    so the app stays safe behind any other adapter; Socket Mode needs no signing
    secret."""
    settings = rt.settings
    with _no_token_default_warning():
        app = App(
            client=rt.client,
            signing_secret=settings.slack_signing_secret,
            request_verification_enabled=bool(settings.slack_signing_secret),
            # Bolt answers when a listener returns; with bot.listeners.common.guarded a
            # listener acks in the request's thread and leaves its work to a pool
            # (rt.modals for opening modals, rt.listeners for the rest)
            process_before_response=True,
            # a request no listener matches reaches on_error below (not a 404 for Slack)
            raise_error_for_unhandled_request=True,
        )

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            # a button of an older release, say: answer it, and say why nothing happens
            log.warning("no listener for a %s request; answered 200", body.get("type"))
            _tell_unknown(body)
            return BoltResponse(status=200, body="")
        log.exception(
            "unhandled error in listener (payload type %s)", body.get("type"), exc_info=error
        )
        return None

    # first: payloads the listeners would choke on, and redeliveries (both modes)
    guards.register(app, rt.store.remember_delivery, rt.clock)
    gate.register(app, rt.gate)  # then who may use the bot at all, before every listener
    for surface in (commands, views, actions, options, app_home, identity):
        surface.register(app, rt)
    extend_listeners.register(app, rt)  # Extend, its modal, the approvers' buttons
    return app


class _DropTokenDefaultWarning(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused." (see
    :func:`_no_token_default_warning`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


@contextlib.contextmanager
def _no_token_default_warning() -> Iterator[None]:
    """While the App is built, drop Bolt's warning that ``token`` is unused.

    Why Bolt logs it: ``App()`` defaults ``token`` to ``$SLACK_BOT_TOKEN`` itself
    (``token = token or os.environ.get("SLACK_BOT_TOKEN")``, slack_bolt/app/app.py) and
    warns whenever a ``client`` is given too, even though jitbot passes no token and
    ``rt.client`` carries that very token (built from the same variable, with jitbot's
    ``SLACK_API_URL`` and retry handlers, which ``token=`` cannot give). No argument
    turns the environment default off, so the one message is filtered on Bolt's
    framework logger (``slack_bolt.App``), only during construction."""
    logger = logging.getLogger("slack_bolt.App")
    drop = _DropTokenDefaultWarning()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


UNKNOWN_ACTION = (
    ":warning: jitbot doesn't know this button (is the message from an older version?). "
    "Open jitbot's App Home for your requests and approvals."
)


def _tell_unknown(body: dict[str, Any]) -> None:
    """Tell the person who clicked something jitbot has no listener for, by the
    interaction's ``response_url`` when it has one (an ephemeral message)."""
    response_url = body.get("response_url")  # from a signed body: Slack's own
    if not isinstance(response_url, str) or not response_url:
        return
    try:
        WebhookClient(response_url, timeout=5).send(
            text=UNKNOWN_ACTION, response_type="ephemeral", replace_original=False
        )
    except Exception:  # telling is a courtesy; the click is answered either way
        log.warning("could not tell the person about an unknown action", exc_info=True)
