"""``jitbot check-config``: the environment, then the config checked against AWS and Slack."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.checks_socket import socket_problems
from bot.settings import Mode, Settings

#: Where a newcomer reads what to set: README's section, named in check-config's output.
README_SECTION = 'README.md, "Running it for real" (3. Write jitbot.yml, 4. Check and run)'

#: What each variable a mode needs is, for the line naming it unset.
_MEANING = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token, xoxb-…, needed in both modes",
    "SLACK_APP_TOKEN": "the App-Level Token, xapp-…, with connections:write",
    "SLACK_SIGNING_SECRET": "the app's Signing Secret",
}
_MODE_NAME = {"socket": "Socket Mode (`jitbot serve`)", "http": "HTTP mode (`jitbot serve --http`)"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``check-config`` and its ``--http`` / ``--socket`` mode flags."""
    check = sub.add_parser("check-config", help="validate the config against AWS and Slack")
    mode = check.add_mutually_exclusive_group()
    mode.add_argument(
        "--http",
        dest="mode",
        action="store_const",
        const="http",
        help="check the variables HTTP mode (serve --http) needs",
    )
    mode.add_argument(
        "--socket",
        dest="mode",
        action="store_const",
        const="socket",
        help="check the variables Socket Mode (serve) needs",
    )
    check.set_defaults(func=cmd_check_config, mode=None)


def chosen_mode(settings: Settings, asked: Mode | None) -> Mode | None:
    """The mode to check: ``asked`` when given, else the one the set tokens tell
    (``SLACK_APP_TOKEN``: Socket Mode, ``SLACK_SIGNING_SECRET`` alone: HTTP), else None."""
    if asked is not None:
        return asked
    if settings.slack_app_token:
        return "socket"
    return "http" if settings.slack_signing_secret else None


def environment_problems(settings: Settings, mode: Mode | None) -> tuple[list[str], list[str]]:
    """``(problems, notes)`` about the environment before any file or AWS is read: one
    problem a variable ``mode`` needs that is unset (``SLACK_BOT_TOKEN`` whatever the
    mode), one for a config file that is not there naming the path looked for, and
    notes (when no mode could be told, which flag to pass)."""
    problems: list[str] = []
    notes: list[str] = []
    for name in settings.missing_for(mode or "socket"):
        if mode is None and name != "SLACK_BOT_TOKEN":
            continue  # no mode told: only the token both modes need
        needed_by = f"; {_MODE_NAME[mode]} needs it" if mode and name != "SLACK_BOT_TOKEN" else ""
        problems.append(f"{name}: not set ({_MEANING[name]}{needed_by})")
    if mode is None:
        notes.append(
            "mode: neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) "
            "is set; `check-config --http` or `--socket` checks what one of them needs"
        )
    else:
        notes.append(f"mode: {_MODE_NAME[mode]}")
    path = Path(settings.jitbot_config)
    if not path.is_file():
        problems.append(
            f"JITBOT_CONFIG: no config file at {path.absolute()} (JITBOT_CONFIG is "
            f"{str(path)!r}, relative to the current folder; write one as README shows)"
        )
    return problems, notes


def cmd_check_config(args: argparse.Namespace) -> int:
    """Print each problem of the environment, then each one :func:`bot.checks.check_everything`
    finds; exit 1 if any, else 0. With problems, the last line points at README's section."""
    from bot.checks import check_everything

    settings = Settings()
    mode = chosen_mode(settings, getattr(args, "mode", None))
    problems, notes = environment_problems(settings, mode)
    for note in notes:
        print(f"ℹ {note}")
    if not any(p.startswith("JITBOT_CONFIG:") for p in problems):
        found = check_everything(settings, info=lambda line: print(f"ℹ {line}"))
        problems += [p for p in found if p != "SLACK_BOT_TOKEN: not set"]
        if mode == "socket" and settings.slack_app_token:  # the app-level token must be accepted
            problems += socket_problems(settings)
    for problem in problems:
        print(f"✗ {problem}")
    if problems:
        print(f"{len(problems)} problem(s) found. What to set: {README_SECTION}.")
        return 1
    print("✓ config, AWS and Slack look good.")
    return 0
