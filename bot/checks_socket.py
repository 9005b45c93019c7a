"""Socket Mode's app-level token, checked with ``apps.connections.open`` (the call the
Socket Mode client makes first: https://docs.slack.dev/reference/methods/apps.connections.open),
so ``jitbot serve`` and ``jitbot check-config`` say what is wrong in one line instead of
a traceback after start-up."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.settings import Settings

#: What Socket Mode needs, said with every refusal of the token.
NEEDED = "SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope"

#: Slack's errors of ``apps.connections.open`` that mean the token itself is wrong.
TOKEN_ERRORS = frozenset({"invalid_auth", "not_allowed_token_type", "not_authed", "token_revoked"})


def app_token_problem(settings: Settings) -> str | None:
    """One line saying what is wrong with ``SLACK_APP_TOKEN`` (unset, refused by Slack,
    or Slack not answering), else None. Asks ``apps.connections.open`` at
    ``SLACK_API_URL``; the URL it issues is left unused (it expires by itself)."""
    token = settings.slack_app_token
    if not token:
        return f"SLACK_APP_TOKEN: not set ({NEEDED})"
    client = WebClient(base_url=settings.slack_api_url, timeout=10)
    try:
        client.apps_connections_open(app_token=token)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in TOKEN_ERRORS:
            return f"SLACK_APP_TOKEN: Slack refused it ({error}); {NEEDED}"
        return f"SLACK_APP_TOKEN: apps.connections.open: {error}"
    except OSError as exc:  # URLError, timeouts: Slack not reached
        return f"SLACK_APP_TOKEN: apps.connections.open: Slack not reached ({exc})"
    return None


def socket_problems(settings: Settings) -> list[str]:
    """:func:`app_token_problem` as ``check-config``'s list: ``[]`` or one line."""
    problem = app_token_problem(settings)
    return [] if problem is None else [problem]
