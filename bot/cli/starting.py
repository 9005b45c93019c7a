"""What the one-shot commands (``reconcile``, ``explain``) do first: load the config
and build the runtime, or say in one line why not."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from bot.settings import Settings
from workflows.config import ConfigError, load_config

if TYPE_CHECKING:
    from bot.runtime import Runtime


def start_runtime(command: str) -> Runtime | int:
    """The runtime built on the config of ``JITBOT_CONFIG``, or the exit status after one
    line on stderr: 2 for an invalid config (its problems follow), 1 when AWS IAM
    Identity Center cannot be reached. ``command`` names the command in that line."""
    from bot.runtime import build_runtime
    from workflows.assignments import AwsError

    settings = Settings()
    try:
        config = load_config(settings.jitbot_config)
    except ConfigError as exc:
        print(f"{settings.jitbot_config}: invalid config:\n{exc}", file=sys.stderr)
        return 2
    try:
        return build_runtime(settings, config)
    except AwsError as exc:
        print(f"jitbot {command}: AWS IAM Identity Center not reachable: {exc}", file=sys.stderr)
        return 1
