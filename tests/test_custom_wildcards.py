"""Broad wildcards in a custom set's inline policy: matched through the n-gram index
exactly as trying every name would, refused on the form (inline, naming the limit) when
they would take too long to check, and never skipped by the guardrails."""

from __future__ import annotations

import json
import random
import string
from datetime import timedelta

import pytest

from bot import ids
from tests.bot_harness import Bot
from tests.test_custom_flow import S3_FORM, open_custom_form
from tests.test_custom_flow import bot as bot  # the bot over HTTP, custom sets on
from workflows.custom_sets import FIELD_INLINE, CustomSpec, approver_warnings, validate_custom_spec
from workflows.custom_sets.actions import _expand, _service_actions, wildcard_regex
from workflows.custom_sets.inline_warnings import MAX_HINTS
from workflows.custom_sets.matcher import MAX_WILDCARD_COST
from workflows.errors import InvalidRequest

_L = string.ascii_lowercase


def policy(*actions: str) -> str:
    statements = [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def refusal(text: str) -> str:
    with pytest.raises(InvalidRequest) as caught:
        validate_custom_spec("x", "1", [], text, allowed_managed=[])
    return caught.value.errors[FIELD_INLINE]


def two_letter_wildcards(service: str, count: int) -> list[str]:
    return [f"{service}:*{_L[i % 26]}*{_L[(i // 26) % 26]}*" for i in range(count)]


def brute_force(action: str) -> list[str]:
    """What trying every name of the service with the regular expression gives."""
    service, _, name = action.partition(":")
    regex = wildcard_regex(name)
    actions = _service_actions(service)
    return [f"{service}:{actions[n][0]}" for n in sorted(actions) if regex.fullmatch(n)]


def test_the_index_finds_exactly_what_trying_every_name_finds() -> None:
    rng = random.Random(16)
    pieces = ["", "a", "de", "scr", "instance", "ib", "s", "e", "q", "get", "ta"]
    patterns = ["*", "?*", "*?", "describe*", "*instance*", "*s", "d*e*", "*ab*", "*e?e*"]
    for _ in range(300):
        parts = [rng.choice(pieces) for _ in range(rng.randint(1, 4))]
        patterns.append("".join(p + rng.choice(["*", "?", "*?", ""]) for p in parts))
    for service in ("ec2", "iam", "s3"):
        for pattern in patterns:
            for typed in (pattern, pattern.upper()):
                action = f"{service}:{typed}"
                assert [full for full, _ in _expand(action)] == brute_force(action), action


def test_wildcards_too_broad_to_check_are_refused_inline_naming_the_limit() -> None:
    message = refusal(policy(*two_letter_wildcards("ec2", 242)))
    assert message.startswith("The wildcards in this policy are too broad to check: jitbot ")
    assert f"compares at most {MAX_WILDCARD_COST:,} per policy" in message
    assert "Start wildcards with more of the action name (ec2:Describe* rather than ec2:*e*)" in (
        message
    )


def test_a_denied_action_is_found_among_as_many_broad_wildcards_as_the_form_takes() -> None:
    wildcards = [f"iam:List*{_L[i % 26]}*{_L[(i // 26) % 26]}*" for i in range(200)]
    accepted = []
    for action in wildcards:  # as many as stay under the limit
        try:
            validate_custom_spec("x", "1", [], policy(*accepted, action), allowed_managed=[])
        except InvalidRequest:
            break
        accepted.append(action)
    assert len(accepted) > 40
    # the last one allows iam:CreateRole (a denied action), behind all the others
    message = refusal(policy(*accepted[:-1], "iam:*c*r*e*a*t*e*r*o*l*e*"))
    assert message.startswith("Statement[0] allows iam:Create")
    assert "custom_permission_sets.deny_actions: iam:Create*" in message


def test_whole_services_and_named_actions_cost_nothing_against_the_limit() -> None:
    names = [f"ec2:{n}" for n, _level in list(_service_actions("ec2").values())[:100]]
    text = policy("ec2:*", "s3:*", "lambda:*", "ec2:Describe*", *names)
    validate_custom_spec("x", "1", [], text, allowed_managed=[])  # accepted


def test_the_approver_is_told_to_check_by_hand_a_policy_too_broad_to_check() -> None:
    spec = CustomSpec("JIT-x", timedelta(hours=1), (), policy(*two_letter_wildcards("ec2", 242)))
    [warning] = approver_warnings(spec)
    assert warning.severity == "high"
    assert warning.text.startswith("The inline policy's wildcards are too broad for jitbot")
    assert warning.text.endswith("check it by hand before approving.")


def test_only_the_first_unknown_actions_get_a_did_you_mean() -> None:
    typos = [f"ec2:Describ{c}Instances" for c in "abcdfghijklmnop"[: MAX_HINTS + 2]]
    spec = CustomSpec("JIT-x", timedelta(hours=1), (), policy(*typos))
    [unknown] = [w for w in approver_warnings(spec) if w.text.startswith("Unknown actions")]
    assert unknown.text.count("(did you mean ec2:DescribeInstances?)") == MAX_HINTS
    assert unknown.text.endswith(f"{typos[-2]}, {typos[-1]}.")


def test_over_http_the_requester_sees_the_limit_under_the_inline_policy(bot: Bot) -> None:
    alice = bot.user("alice")
    view = open_custom_form(bot, alice)
    values = {**S3_FORM, ids.ACTION_CUSTOM_INLINE: policy(*two_letter_wildcards("ec2", 200))}
    refused = alice.submit(view, values).json()
    assert refused["response_action"] == "errors"
    shown = refused["errors"][ids.BLOCK_CUSTOM_INLINE]
    assert shown.startswith("The wildcards in this policy are too broad to check")
    assert f"at most {MAX_WILDCARD_COST:,} per policy" in shown
    assert bot.requests(alice.user_id) == []
