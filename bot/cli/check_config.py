"""``jitbot check-config``: the config checked against AWS and Slack."""

from __future__ import annotations

import argparse

from bot.checks_socket import socket_problems
from bot.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``check-config``."""
    check = sub.add_parser("check-config", help="validate the config against AWS and Slack")
    check.set_defaults(func=cmd_check_config)


def cmd_check_config(args: argparse.Namespace) -> int:
    """Print each problem :func:`bot.checks.check_everything` finds; exit 1 if any, else 0."""
    from bot.checks import check_everything

    settings = Settings()
    problems = check_everything(settings, info=lambda line: print(f"ℹ {line}"))
    if settings.slack_app_token:  # Socket Mode: the app-level token must be accepted
        problems += socket_problems(settings)
    for problem in problems:
        print(f"✗ {problem}")
    if problems:
        print(f"{len(problems)} problem(s) found.")
        return 1
    print("✓ config, AWS and Slack look good.")
    return 0
