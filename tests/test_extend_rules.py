"""``extension:`` in the config and what it resolves to: the errors a person reads, the
defaults, and which durations still fit a session's ``max_total`` from its grant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.config import ConfigError, parse_config
from workflows.domain import GrantedSession
from workflows.extensions import (
    ExtensionPolicy,
    ExtensionRule,
    extension_choices,
    resolve_policy,
)

HOUR = timedelta(hours=1)
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
ACCOUNT = 'accounts:\n  - id: "111111111111"\n    permission_sets: [ReadOnlyAccess]\n'
DURATIONS = "durations: [1h, 4h, 1d]\n"


def _rule(extension: str, max_duration: str = "4h") -> str:
    return (
        ACCOUNT
        + DURATIONS
        + f"""access_rules:
  - name: read
    accounts: ["111111111111"]
    permission_sets: [ReadOnlyAccess]
    max_duration: {max_duration}
    extension: {extension}
"""
    )


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="jitbot.yml")
    return caught.value.problems


def test_a_rules_extension_is_read_into_the_domain() -> None:
    config = parse_config(_rule("{approval: none, max_total: 8h}"))
    assert config.rules()[0].extension == ExtensionRule("none", 8 * HOUR)
    assert config.rules()[0].applied().extension == ExtensionRule("none", 8 * HOUR)
    assert config.extension.rule() == ExtensionRule("same", None)  # the top-level default


@pytest.mark.parametrize(
    ("extension", "words"),
    [
        ("{approval: always}", 'expected "none" (extended at once) or "same"'),
        ("{max_total: 30s}", "must be at least 1m"),
        ("{approval: same, max_total: 2h}", "2h is shorter than the rule's max_duration (4h)"),
        ("{approvals: none}", "approvals"),
    ],
)
def test_a_bad_extension_is_named_by_its_key_path(extension: str, words: str) -> None:
    problems = _problems(_rule(extension))
    assert len(problems) == 1, problems
    assert problems[0].startswith("access_rules[0].extension"), problems
    assert words in problems[0]


def test_the_top_level_max_total_covers_the_longest_duration() -> None:
    problems = _problems(ACCOUNT + DURATIONS + "extension: {max_total: 4h}\n")
    assert problems == [
        "extension.max_total: 4h is shorter than the longest of durations (1d): "
        "max_total counts from the grant, so it must be at least that"
    ]
    config = parse_config(ACCOUNT + DURATIONS + "extension: {approval: none, max_total: 2d}\n")
    assert config.extension.rule() == ExtensionRule("none", 2 * 24 * HOUR)


def test_max_total_defaults_to_the_rules_max_duration_then_the_longest_duration() -> None:
    durations = [HOUR, 4 * HOUR, 24 * HOUR]
    default = ExtensionRule()
    assert resolve_policy(None, default, 4 * HOUR, durations) == ExtensionPolicy("same", 4 * HOUR)
    assert resolve_policy(None, default, None, durations) == ExtensionPolicy("same", 24 * HOUR)
    loose = ExtensionRule("none", 48 * HOUR)
    assert resolve_policy(None, loose, 4 * HOUR, durations) == ExtensionPolicy("none", 4 * HOUR)
    own = ExtensionRule("none", 8 * HOUR)
    assert resolve_policy(own, default, 4 * HOUR, durations) == ExtensionPolicy("none", 8 * HOUR)
    assert resolve_policy(ExtensionRule("same"), loose, 2 * HOUR, durations).max_total == 2 * HOUR


def test_the_choices_are_the_durations_that_fit_counted_from_the_grant() -> None:
    policy = ExtensionPolicy("same", 8 * HOUR)
    durations = [timedelta(minutes=30), HOUR, 4 * HOUR, 8 * HOUR]
    session = GrantedSession(T0, T0 + HOUR)
    assert extension_choices(policy, session, durations) == [timedelta(minutes=30), HOUR, 4 * HOUR]
    extended_once = GrantedSession(T0, T0 + 5 * HOUR)
    assert extension_choices(policy, extended_once, durations) == [timedelta(minutes=30), HOUR]
    full = GrantedSession(T0, T0 + 8 * HOUR)
    assert extension_choices(policy, full, durations) == []
