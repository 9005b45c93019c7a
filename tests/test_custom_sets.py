"""Custom permission sets: the form's rules and the approver's warnings, as read."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from workflows.custom_sets import (
    FIELD_INLINE,
    FIELD_MANAGED,
    FIELD_NAME,
    FIELD_SESSION,
    MAX_INLINE_BYTES,
    MAX_INLINE_NON_WHITESPACE,
    PREFIX,
    CustomSpec,
    StandardSetPolicies,
    Warning,
    approver_warnings,
    inline_policy_problems,
    managed_policy_arn,
    validate_custom_spec,
)
from workflows.durations import iso8601_duration
from workflows.errors import InvalidRequest

ALLOWED = ["ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "CloudWatchLogsReadOnlyAccess"]

S3_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-bucket/*"}
    ],
}
IAM_STAR = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}'
)


def valid(**changes) -> CustomSpec:
    fields = {
        "name": "s3-debug",
        "session_hours": "4",
        "managed": ["ReadOnlyAccess"],
        "inline": None,
    }
    fields.update(changes)
    kwargs = {
        k: fields.pop(k)
        for k in ("allowed_managed", "max_session", "max_managed", "deny_actions")
        if k in fields
    }
    kwargs.setdefault("allowed_managed", ALLOWED)
    # the policy's syntax alone; the hard limits are tested in test_guardrails
    kwargs.setdefault("deny_actions", ())
    return validate_custom_spec(
        fields["name"], fields["session_hours"], fields["managed"], fields["inline"], **kwargs
    )


def errors(**changes) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        valid(**changes)
    return caught.value.errors


def policy(*statements: dict, version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)}, ensure_ascii=False)


def allow(action, resource="*", **more) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


# ----------------------------------------------------------------------- a good form


def test_a_good_form_gives_the_spec():
    spec = valid(managed=[" ReadOnlyAccess ", "AmazonS3ReadOnlyAccess", "ReadOnlyAccess"])
    assert spec == CustomSpec(
        name="JIT-s3-debug",
        session_duration=timedelta(hours=4),
        managed_policies=("ReadOnlyAccess", "AmazonS3ReadOnlyAccess"),
        inline_policy=None,
    )
    assert iso8601_duration(spec.session_duration) == "PT4H"


def test_every_wrong_field_is_reported_at_once():
    found = errors(name="", session_hours="", managed=[], inline=None)
    assert found == {
        FIELD_NAME: "Enter a name for the permission set (JIT- is added in front).",
        FIELD_SESSION: "Choose a session duration.",
        FIELD_MANAGED: "Choose at least one managed policy, or write an inline policy.",
    }


# ----------------------------------------------------------------------------- name


def test_name_gets_the_prefix():
    assert valid(name="  data-fix ").name == "JIT-data-fix"


@pytest.mark.parametrize("typed", ["JIT-data-fix", "jit-data-fix", "  Jit-data-fix"])
def test_a_typed_prefix_is_not_doubled(typed):
    assert valid(name=typed).name == "JIT-data-fix"


def test_the_prefix_alone_is_no_name():
    assert errors(name="JIT-")[FIELD_NAME] == (
        "Enter a name for the permission set (JIT- is added in front)."
    )


def test_28_typed_characters_fit_and_29_do_not():
    assert valid(name="a" * 28).name == PREFIX + "a" * 28
    assert len(valid(name="a" * 28).name) == 32
    assert valid(name="JIT-" + "a" * 28).name == PREFIX + "a" * 28
    assert errors(name="a" * 29)[FIELD_NAME] == (
        "The name can be at most 28 characters (JIT- is added in front, and AWS allows 32 "
        "in all); you typed 29."
    )


def test_name_characters_follow_the_aws_pattern():
    assert valid(name="Ops_team+1=a,b.c@d-e").name == "JIT-Ops_team+1=a,b.c@d-e"
    assert errors(name="db fix/prod")[FIELD_NAME] == (
        'Use only letters, digits and + = , . @ _ - in the name (not space, "/").'
    )
    # AWS's \w is ASCII only.
    assert errors(name="café")[FIELD_NAME] == (
        'Use only letters, digits and + = , . @ _ - in the name (not "é").'
    )


def test_bad_characters_and_length_are_both_said():
    assert errors(name="a b" + "c" * 30)[FIELD_NAME] == (
        "Use only letters, digits and + = , . @ _ - in the name (not space). "
        "The name can be at most 28 characters (JIT- is added in front, and AWS allows 32 "
        "in all); you typed 33."
    )


# ------------------------------------------------------------------ session duration


@pytest.mark.parametrize(
    ("typed", "hours"), [("1", 1), ("12", 12), (" 4 ", 4), ("4h", 4), ("8 hours", 8)]
)
def test_session_is_whole_hours(typed, hours):
    assert valid(session_hours=typed).session_duration == timedelta(hours=hours)


@pytest.mark.parametrize("typed", ["0", "13", "1.5", "-2", "two", "90m"])
def test_session_outside_1_to_12_hours_is_refused(typed):
    assert errors(session_hours=typed)[FIELD_SESSION] == (
        f'Session duration must be a whole number of hours from 1 to 12 (you entered "{typed}").'
    )


def test_session_limit_from_config():
    assert valid(session_hours="8", max_session=timedelta(hours=8)).session_duration == (
        timedelta(hours=8)
    )
    assert errors(session_hours="9", max_session=timedelta(hours=8))[FIELD_SESSION] == (
        'Session duration must be a whole number of hours from 1 to 8 (you entered "9").'
    )
    # A config above AWS's 12 hours is capped at 12.
    assert errors(session_hours="13", max_session=timedelta(hours=24))[FIELD_SESSION] == (
        'Session duration must be a whole number of hours from 1 to 12 (you entered "13").'
    )


def test_configuration_mistakes_are_not_the_requesters():
    with pytest.raises(ValueError, match="max_session"):
        valid(max_session=timedelta(minutes=30))
    with pytest.raises(ValueError, match="max_managed"):
        valid(max_managed=21)


# ------------------------------------------------------------------ managed policies


def test_managed_policies_must_be_allowed():
    assert errors(managed=["ReadOnlyAccess", "AdministratorAccess"])[FIELD_MANAGED] == (
        "Not allowed here: AdministratorAccess. Choose from the list (ReadOnlyAccess, "
        "AmazonS3ReadOnlyAccess, CloudWatchLogsReadOnlyAccess)."
    )


def test_at_most_max_managed_policies():
    many = [f"Policy{i}" for i in range(11)]
    assert valid(managed=many[:10], allowed_managed=many).managed_policies == tuple(many[:10])
    assert errors(managed=many, allowed_managed=many)[FIELD_MANAGED] == (
        "Choose at most 10 managed policies (you chose 11)."
    )
    # Raised IAM quota: up to 20.
    assert len(valid(managed=many, allowed_managed=many, max_managed=20).managed_policies) == 11


def test_an_inline_policy_alone_is_enough():
    spec = valid(managed=None, inline=policy(S3_READ["Statement"][0]))
    assert spec.managed_policies == ()
    assert spec.inline_policy == policy(S3_READ["Statement"][0])


def test_inline_policy_is_stripped_and_empty_is_none():
    assert valid(inline="   \n ").inline_policy is None
    text = policy(S3_READ["Statement"][0])
    assert valid(inline=f"\n  {text}\n").inline_policy == text


# ------------------------------------------------------------------- inline policy


def inline_error(text: str) -> str:
    return errors(inline=text)[FIELD_INLINE]


def test_a_json_syntax_error_says_where():
    text = '{\n  "Version": "2012-10-17",\n  "Statement": {"Effect": "Allow" "Action": "s3:*"}\n}'
    assert inline_error(text) == "Line 3, column 35: Expecting ',' delimiter"


def test_positions_count_what_was_typed_even_after_blank_lines():
    assert inline_error('\n\n{"Version": }') == "Line 3, column 13: Expecting value"


def test_curly_quotes_are_named():
    assert inline_error('{\u201cVersion\u201d: "2012-10-17"}') == (
        "Line 1, column 2: curly quote \u201c is not allowed; use straight quotes (\" or ')"
    )


def test_characters_beyond_latin_1_are_refused():
    text = policy(allow("s3:GetObject", "arn:aws:s3:::b/\u20ac"))
    column = text.index("\u20ac") + 1
    assert inline_error(text) == (
        f'Line 1, column {column}: the character "\u20ac" (U+20AC) is not allowed in a '
        "policy (only tab, newline and Latin-1 characters are)"
    )
    # Latin-1 is fine.
    assert valid(inline=policy(allow("s3:GetObject", "arn:aws:s3:::b/caf\u00e9"))).inline_policy


def test_top_level_must_be_an_object_with_version_and_statement():
    assert inline_error("[]") == "The inline policy must be a JSON object: { ... }"
    assert inline_error("{}") == (
        'Add "Version": "2012-10-17"; Add a "Statement" with at least one statement'
    )


@pytest.mark.parametrize("version", ["2012-10-17", "2008-10-17"])
def test_both_policy_versions_are_accepted(version):
    assert valid(inline=policy(allow("s3:GetObject", "arn:aws:s3:::b/*"), version=version))


def test_other_versions_are_refused():
    assert inline_error(policy(allow("s3:GetObject"), version="2020-01-01")) == (
        'Version must be "2012-10-17" (or the older "2008-10-17"), not "2020-01-01"'
    )


def test_id_and_unknown_top_level_keys_are_refused():
    text = json.dumps(
        {"Version": "2012-10-17", "Id": "x", "Statment": [], "Statement": [allow("s3:GetObject")]}
    )
    assert inline_error(text) == (
        'Remove "Id": it is only for resource-based policies; unknown top-level key '
        '"Statment" (did you mean "Statement"? use Version, Statement)'
    )


@pytest.mark.parametrize("statement", [[], {}, "s3:GetObject"])
def test_statement_must_be_a_non_empty_object_or_list(statement):
    text = json.dumps({"Version": "2012-10-17", "Statement": statement})
    assert inline_error(text) == "Statement must be an object or a non-empty list of objects"


def test_a_single_statement_object_is_accepted():
    text = json.dumps({"Version": "2012-10-17", "Statement": allow("s3:GetObject")})
    assert valid(inline=text).inline_policy == text


def test_effect_must_be_allow_or_deny_with_the_statement_index():
    text = policy(allow("s3:GetObject"), {**allow("s3:PutObject"), "Effect": "allow"})
    assert inline_error(text) == 'Statement[1]: Effect must be "Allow" or "Deny"'
    assert valid(inline=policy({**allow("s3:PutObject"), "Effect": "Deny"}))


def test_principal_is_refused():
    text = policy({**allow("s3:GetObject"), "Principal": {"AWS": "*"}})
    assert inline_error(text) == (
        "Statement[0]: remove Principal: a permission set's policy applies to whoever uses "
        "the permission set (Principal is only for resource-based policies)"
    )
    assert "remove NotPrincipal" in inline_error(
        policy({**allow("s3:GetObject"), "NotPrincipal": "*"})
    )


def test_not_action_and_not_resource_are_accepted():
    text = policy(
        {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::b"}
    )
    assert valid(inline=text).inline_policy == text


def test_exactly_one_of_action_and_not_action():
    both = policy({**allow("s3:GetObject"), "NotAction": "s3:PutObject"})
    assert inline_error(both) == "Statement[0]: use either Action or NotAction, not both"
    neither = policy({"Effect": "Allow", "Resource": "*"})
    assert inline_error(neither) == "Statement[0]: add an Action (or NotAction)"


def test_exactly_one_of_resource_and_not_resource():
    both = policy({**allow("s3:GetObject"), "NotResource": "arn:aws:s3:::b"})
    assert inline_error(both) == "Statement[0]: use either Resource or NotResource, not both"
    neither = policy({"Effect": "Allow", "Action": "s3:GetObject"})
    assert inline_error(neither) == "Statement[0]: add an Resource (or NotResource)"


@pytest.mark.parametrize(
    "action", ["*", "s3:GetObject", "s3:Get*", "ec2:Describe?nstances", "iam:*"]
)
def test_actions_that_look_right(action):
    assert valid(inline=policy(allow(action)))


@pytest.mark.parametrize(
    "action", ["s3", "s3 GetObject", "s3:", ":GetObject", "*:*", "s3:Get Object"]
)
def test_actions_that_do_not(action):
    assert inline_error(policy(allow(action))) == (
        f'Statement[0]: "{action}" is not an action; write "service:Action" (e.g. '
        '"s3:GetObject", wildcards * and ? allowed after the colon) or "*"'
    )


@pytest.mark.parametrize("value", [[], 5, ["s3:GetObject", 5], {"s3": "GetObject"}])
def test_action_must_be_a_string_or_list_of_strings(value):
    message = inline_error(policy(allow(value)))
    if value == []:
        assert message == "Statement[0]: Action must not be empty"
    else:
        assert message == "Statement[0]: Action must be a string or a list of strings"


def test_resource_must_be_an_arn_or_star():
    assert inline_error(policy(allow("s3:GetObject", "my-bucket"))) == (
        'Statement[0]: "my-bucket" is not a resource; write an ARN '
        '(arn:partition:service:region:account:resource) or "*"'
    )


def test_unknown_statement_keys_are_refused_with_a_suggestion():
    text = policy(
        {"Effect": "Allow", "Actions": "s3:GetObject", "Action": "s3:GetObject", "Resource": "*"}
    )
    assert inline_error(text) == (
        'Statement[0]: unknown statement key "Actions" (did you mean "Action"? use Sid, '
        "Effect, Action, NotAction, Resource, NotResource, Condition)"
    )
    lower = policy(
        {"effect": "Allow", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    )
    assert 'unknown statement key "effect" (did you mean "Effect"?' in inline_error(lower)


def test_sid_is_alphanumeric_and_unique():
    assert valid(inline=policy(allow("s3:GetObject", Sid="ReadBucket1")))
    assert inline_error(policy(allow("s3:GetObject", Sid="read-bucket"))) == (
        "Statement[0]: Sid may have only letters A-Z, a-z and digits 0-9"
    )
    twice = policy(allow("s3:GetObject", Sid="Read"), allow("s3:ListBucket", Sid="Read"))
    assert inline_error(twice) == 'Statement[1]: Sid "Read" is already used by Statement[0]'


def test_condition_must_be_operators_of_objects():
    good = allow("s3:GetObject", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})
    assert valid(inline=policy(good))
    assert inline_error(policy(allow("s3:GetObject", Condition="yes"))) == (
        "Statement[0]: Condition must be an object of operators, e.g. "
        '{"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}'
    )


def test_duplicate_keys_are_refused():
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}}'
    assert inline_error(text) == 'The key "Effect" appears twice in one object; write it once'


def test_many_problems_are_cut_to_five():
    statements = [{"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}] * 7
    message = inline_error(policy(*statements))
    assert message.endswith('Statement[4]: Effect must be "Allow" or "Deny" (and 2 more problems)')


# ---------------------------------------------------------- inline policy size limits


def padded_to(size: int) -> str:
    """A valid policy of exactly ``size`` bytes, the extra made of spaces."""
    text = policy(allow("s3:GetObject", "arn:aws:s3:::b/*"))
    return text[:-1] + " " * (size - len(text)) + text[-1]


def dense_to(non_whitespace: int) -> str:
    """A valid policy with exactly ``non_whitespace`` bytes that are not whitespace."""
    text = policy(allow("s3:GetObject", "arn:aws:s3:::b/"))
    text = policy(
        allow(
            "s3:GetObject", "arn:aws:s3:::b/" + "x" * (non_whitespace - len(text.replace(" ", "")))
        )
    )
    assert len(text.replace(" ", "")) == non_whitespace
    return text


def test_inline_policy_of_32768_bytes_fits_and_32769_does_not():
    assert MAX_INLINE_BYTES == 32_768
    assert inline_policy_problems(padded_to(32_768)) == []
    assert valid(inline=padded_to(32_768)).inline_policy == padded_to(32_768)
    assert inline_error(padded_to(32_769)) == (
        "The inline policy is 32,769 bytes; a permission set's inline policy can be at most "
        "32,768 bytes"
    )


def test_inline_policy_of_10240_non_whitespace_bytes_fits_and_10241_does_not():
    assert MAX_INLINE_NON_WHITESPACE == 10_240
    assert inline_policy_problems(dense_to(10_240)) == []
    assert inline_error(dense_to(10_241)) == (
        "The inline policy has 10,241 bytes that are not whitespace; a permission set's "
        "inline policy can have at most 10,240"
    )


def test_size_is_measured_in_utf8_bytes():
    # "é" is one character but two bytes.
    text = padded_to(32_768).replace("b/*", "\u00e9/*")
    assert len(text) == 32_768
    assert inline_policy_problems(text) == [
        "The inline policy is 32,769 bytes; a permission set's inline policy can be at most "
        "32,768 bytes"
    ]


# -------------------------------------------------------------------- managed ARNs


@pytest.mark.parametrize(
    ("name", "arn"),
    [
        ("ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ("job-function/ViewOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"),
        ("/job-function/ViewOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"),
        ("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ("arn:aws-cn:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ],
)
def test_managed_policy_arn(name, arn):
    assert managed_policy_arn(name, "aws") == arn


@pytest.mark.parametrize(
    ("partition", "arn"),
    [
        ("aws-us-gov", "arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess"),
        ("aws-cn", "arn:aws-cn:iam::aws:policy/job-function/ViewOnlyAccess"),
    ],
)
def test_managed_policy_arn_is_in_the_partition_given(partition, arn):
    assert managed_policy_arn("job-function/ViewOnlyAccess", partition) == arn
    assert (
        managed_policy_arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", partition) == arn
    )


def test_managed_policy_arn_refuses_an_unknown_partition():
    with pytest.raises(ValueError, match="not an AWS partition"):
        managed_policy_arn("ReadOnlyAccess", "aws-mars")


@pytest.mark.parametrize("name", ["", "Read Only", "a//b"])
def test_managed_policy_arn_refuses_what_is_no_name(name):
    with pytest.raises(ValueError, match="not an AWS managed policy name"):
        managed_policy_arn(name, "aws")


# ------------------------------------------------------------------------ warnings


def spec_with(inline: str | dict | None = None, managed: tuple[str, ...] = ()) -> CustomSpec:
    if isinstance(inline, dict):
        inline = json.dumps(inline)
    return CustomSpec("JIT-x", timedelta(hours=1), managed, inline)


def texts(spec: CustomSpec, **kw) -> list[tuple[str, str]]:
    return [(w.severity, w.text) for w in approver_warnings(spec, **kw)]


def test_the_doc_example_iam_star_warns():
    assert texts(spec_with(IAM_STAR)) == [
        ("high", 'Statement[0] allows every iam action ("iam:*") on every resource.'),
    ]


def test_s3_get_object_on_one_bucket_does_not_warn_at_all():
    assert approver_warnings(spec_with(S3_READ)) == []


POLICY_TABLE = [
    # (statements, expected warnings)
    (
        [allow("*")],
        [
            (
                "high",
                'Statement[0] allows every AWS action ("Action": "*") on every resource: administrator access.',
            )
        ],
    ),
    (
        [allow("*", "arn:aws:s3:::b/*")],
        [("high", 'Statement[0] allows every AWS action ("Action": "*").')],
    ),
    (
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        [
            (
                "high",
                "Statement[0] allows every action except those listed under NotAction on every resource.",
            )
        ],
    ),
    (
        [allow("s3:*", "arn:aws:s3:::b/*")],
        [("medium", 'Statement[0] allows every s3 action ("s3:*").')],
    ),
    (
        [allow(["kms:*", "ec2:*"])],
        [
            ("high", 'Statement[0] allows every kms action ("kms:*") on every resource.'),
            ("medium", 'Statement[0] allows every ec2 action ("ec2:*") on every resource.'),
        ],
    ),
    (
        [allow("iam:PassRole", "arn:aws:iam::111111111111:role/app")],
        [("high", "Statement[0] allows actions that can escalate privileges: iam:PassRole.")],
    ),
    (
        [allow("iam:Put*", "arn:aws:iam::111111111111:role/app")],
        [
            (
                "high",
                "Statement[0] allows actions that can escalate privileges: iam:PutGroupPolicy, "
                "iam:PutRolePolicy, iam:PutUserPolicy.",
            )
        ],
    ),
    (
        [
            allow(
                ["iam:AttachRolePolicy", "iam:CreateAccessKey"], "arn:aws:iam::111111111111:user/*"
            )
        ],
        [
            (
                "high",
                "Statement[0] allows actions that can escalate privileges: "
                "iam:AttachRolePolicy, iam:CreateAccessKey.",
            )
        ],
    ),
    (
        [allow("sts:AssumeRole", "arn:aws:iam::111111111111:role/deploy")],
        [("high", "Statement[0] allows actions that can escalate privileges: sts:AssumeRole.")],
    ),
    (
        [
            allow("lambda:CreateFunction", "arn:aws:lambda:eu-west-1:111111111111:function:*"),
            allow("iam:PassRole", "arn:aws:iam::111111111111:role/*"),
        ],
        [
            ("high", "Statement[1] allows actions that can escalate privileges: iam:PassRole."),
            (
                "high",
                "lambda:CreateFunction together with iam:PassRole can run code as a more "
                "powerful role (privilege escalation).",
            ),
        ],
    ),
    (
        [allow(["ec2:RunInstances", "iam:Pass*"], "arn:aws:ec2:*:*:instance/*")],
        [
            ("high", "Statement[0] allows actions that can escalate privileges: iam:PassRole."),
            (
                "high",
                "ec2:RunInstances together with iam:PassRole can run code as a more powerful "
                "role (privilege escalation).",
            ),
            # an ARN of every instance in every account and region is every resource
            (
                "medium",
                "Statement[0] allows write or permissions-management actions on every "
                'resource ("Resource": "*"): ec2:RunInstances, iam:PassRole.',
            ),
        ],
    ),
    (
        [allow("s3:PutObject")],
        [
            (
                "medium",
                'Statement[0] allows write or permissions-management actions on every resource ("Resource": "*"): s3:PutObject.',
            )
        ],
    ),
    (
        [allow(["ec2:Describe*", "s3:Get*", "s3:List*", "logs:FilterLogEvents"])],
        [],
    ),
    (
        [allow(["s3:GetObjects", "s4:GetObject", "s3:Gte*", "s3:getobject"], "arn:aws:s3:::b/*")],
        [
            (
                "medium",
                "Unknown actions, possibly typos: s3:GetObjects (did you mean s3:GetObject?), "
                's4:GetObject (no service "s4"), s3:Gte* (matches no s3 action).',
            )
        ],
    ),
    (
        [{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}],
        [
            (
                "medium",
                "Statement[0] allows its actions on every resource except those under NotResource.",
            )
        ],
    ),
    (
        # Deny never widens access: no warning, whatever it names.
        [
            allow("s3:GetObject", "arn:aws:s3:::b/*"),
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
        ],
        [],
    ),
    (
        [
            {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"},
            allow("s3:GetObject", "arn:aws:s3:::b/*"),
        ],
        [],
    ),
]


@pytest.mark.parametrize(("statements", "expected"), POLICY_TABLE)
def test_warnings_on_a_table_of_policies(statements, expected):
    assert texts(spec_with(policy(*statements))) == expected


def test_warnings_are_most_severe_first():
    spec = spec_with(
        policy(allow(["s3:PutObject", "iam:PassRole"])), managed=("AmazonS3FullAccess",)
    )
    severities = [w.severity for w in approver_warnings(spec)]
    assert severities == sorted(severities, key=["high", "medium", "info"].index)
    assert severities[0] == "high"


@pytest.mark.parametrize(
    ("managed", "expected"),
    [
        (
            "AdministratorAccess",
            (
                "high",
                "The managed policy AdministratorAccess grants full access to every AWS service and resource.",
            ),
        ),
        (
            "PowerUserAccess",
            (
                "high",
                "The managed policy PowerUserAccess grants full access to every service except most of IAM and Organizations.",
            ),
        ),
        (
            "IAMFullAccess",
            (
                "high",
                "The managed policy IAMFullAccess grants full control of IAM, enough to grant itself anything.",
            ),
        ),
        (
            "AmazonS3FullAccess",
            ("medium", "The managed policy AmazonS3FullAccess grants full access to S3."),
        ),
        (
            "AmazonEC2FullAccess",
            ("medium", "The managed policy AmazonEC2FullAccess grants full access to EC2."),
        ),
        (
            "job-function/SystemAdministrator",
            (
                "medium",
                "The managed policy job-function/SystemAdministrator grants administrator-level access.",
            ),
        ),
    ],
)
def test_broad_managed_policies_warn(managed, expected):
    assert texts(spec_with(managed=(managed,))) == [expected]


@pytest.mark.parametrize(
    "managed", ["ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "job-function/ViewOnlyAccess"]
)
def test_narrow_managed_policies_do_not_warn(managed):
    assert approver_warnings(spec_with(managed=(managed,))) == []


STANDARD = {
    "ReadOnly": StandardSetPolicies(frozenset({"ReadOnlyAccess"}), has_inline=False),
    "S3Reader": StandardSetPolicies(
        frozenset({"AmazonS3ReadOnlyAccess", "ReadOnlyAccess"}), has_inline=True
    ),
    "Viewer": StandardSetPolicies(
        frozenset({"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}), has_inline=False
    ),
}


def test_a_standard_set_with_the_same_policies_is_named():
    spec = spec_with(managed=("ReadOnlyAccess",))
    assert approver_warnings(spec, standard_sets=STANDARD) == [
        Warning(
            "info",
            "The standard permission set ReadOnly has exactly these managed policies; the "
            "requester could ask for it instead.",
        )
    ]
    # Names and ARNs, with or without a path, compare alike.
    viewer = spec_with(managed=("job-function/ViewOnlyAccess",))
    assert [w.text.split(" has")[0] for w in approver_warnings(viewer, standard_sets=STANDARD)] == [
        "The standard permission set Viewer"
    ]


@pytest.mark.parametrize(
    "spec",
    [
        spec_with(managed=("ReadOnlyAccess", "AmazonS3ReadOnlyAccess")),  # S3Reader has inline
        spec_with(S3_READ, managed=("ReadOnlyAccess",)),  # the spec has inline
        spec_with(managed=("CloudWatchLogsReadOnlyAccess",)),  # no set has it
    ],
)
def test_no_standard_set_covers_these(spec):
    assert approver_warnings(spec, standard_sets=STANDARD) == []


def test_every_escalation_action_named_exists_in_the_data():
    """Guards against typos in the list itself: each name is a real AWS action."""
    from workflows.custom_sets import actions as custom_sets

    for action in custom_sets._ESCALATION_PATTERNS + custom_sets._PASSROLE_PARTNERS:
        assert custom_sets._expand(action), action


def test_an_allow_with_not_action_is_valid_but_warned_about():
    text = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert valid(inline=text).inline_policy == text


@pytest.mark.parametrize(
    "partner", ["cloudformation:CreateStack", "glue:CreateDevEndpoint", "ec2:RunInstances"]
)
def test_passrole_partners_across_statements_and_wildcards(partner):
    service, _, name = partner.partition(":")
    statements = [
        allow(f"{service}:{name[:6]}*", "arn:aws:iam::111111111111:role/x"),
        allow("iam:PassRole", "arn:aws:iam::111111111111:role/x"),
    ]
    found = texts(spec_with(policy(*statements)))
    assert (
        "high",
        f"{partner} together with iam:PassRole can run code as a more powerful role "
        "(privilege escalation).",
    ) in found


def test_whole_service_wildcards_still_pair_with_passrole():
    found = texts(spec_with(policy(allow(["iam:*", "lambda:*"]))))
    assert found[:3] == [
        ("high", 'Statement[0] allows every iam action ("iam:*") on every resource.'),
        (
            "high",
            "lambda:CreateFunction together with iam:PassRole can run code as a more powerful "
            "role (privilege escalation).",
        ),
        ("medium", 'Statement[0] allows every lambda action ("lambda:*") on every resource.'),
    ]


def test_an_unreadable_inline_policy_is_a_warning_not_a_crash():
    assert texts(spec_with("{not json")) == [
        ("high", "The inline policy could not be read; check it by hand before approving.")
    ]
