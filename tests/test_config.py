from datetime import timedelta
from textwrap import dedent

import pytest
from pydantic import ValidationError

from workflows.config import (
    AccountConfig,
    Config,
    ConfigError,
    IdentityCenterConfig,
    load_config,
    parse_config,
)

FULL_EXAMPLE = dedent(
    """\
    slash_command: /jit            # must start with "/"
    identity_center:
      instance_arn: arn:aws:sso:::instance/ssoins-0123456789abcdef
      identity_store_id: d-0123456789
      portal_url: https://d-0123456789.awsapps.com/start
    admins: [ada@example.com]
    sso_admins: [sam@example.com]
    accounts:
      - id: "111111111111"
        name: Sandbox
        owners: [oscar@example.com, olga@example.com]
        permission_sets: [ReadOnlyAccess, AdministratorAccess]
    durations: [1h, 2h, 4h, 8h, 12h, 1d, 2d, 3d, 1w, 2w, 1mo]
    approval_timeout: 24h
    allow_self_approval: false
    sweep_interval: 5s
    """
)

MINIMAL = 'accounts:\n  - id: "111111111111"\n'

TWO_ACCOUNTS = dedent(
    """\
    admins: [Ada@Example.com]
    sso_admins: [sam@example.com, ada@example.com]
    accounts:
      - id: "111111111111"
        owners: [oscar@example.com, OLGA@example.com]
      - id: "222222222222"
        name: Prod
        owners: [olga@example.com]
    """
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="jitbot.yml")
    return caught.value.problems


def only_problem(text: str) -> str:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def with_account(**lines: str) -> str:
    """MINIMAL with extra ``key: value`` lines in the first account."""
    extra = "".join(f"    {key}: {value}\n" for key, value in lines.items())
    return MINIMAL + extra


# --------------------------------------------------------------------------- valid files


def test_full_example_parses():
    config = parse_config(FULL_EXAMPLE)

    assert config.slash_command == "/jit"
    assert config.identity_center == IdentityCenterConfig(
        instance_arn="arn:aws:sso:::instance/ssoins-0123456789abcdef",
        identity_store_id="d-0123456789",
        portal_url="https://d-0123456789.awsapps.com/start",
    )
    assert config.admins == ["ada@example.com"]
    assert config.sso_admins == ["sam@example.com"]
    assert config.accounts == [
        AccountConfig(
            id="111111111111",
            name="Sandbox",
            owners=["oscar@example.com", "olga@example.com"],
            permission_sets=["ReadOnlyAccess", "AdministratorAccess"],
        )
    ]
    assert config.durations[0] == timedelta(hours=1)
    assert config.durations[-1] == timedelta(days=30)
    assert len(config.durations) == 11
    assert config.approval_timeout == timedelta(hours=24)
    assert config.allow_self_approval is False
    assert config.sweep_interval == timedelta(seconds=5)


def test_defaults_when_only_accounts_given():
    config = parse_config(MINIMAL)

    assert config.slash_command == "/jit"
    assert config.identity_center is None
    assert config.admins == []
    assert config.sso_admins == []
    assert config.accounts[0].name is None
    assert config.accounts[0].owners == []
    assert config.accounts[0].permission_sets == []
    assert config.durations == [
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=4),
        timedelta(hours=8),
        timedelta(hours=12),
        timedelta(days=1),
        timedelta(days=2),
        timedelta(days=3),
        timedelta(weeks=1),
        timedelta(weeks=2),
        timedelta(days=30),
    ]
    assert config.approval_timeout == timedelta(hours=24)
    assert config.allow_self_approval is False
    assert config.sweep_interval == timedelta(seconds=5)


def test_durations_keep_the_order_given():
    config = parse_config(MINIMAL + "durations: [1d, 30m, 4H]\n")
    assert config.durations == [timedelta(days=1), timedelta(minutes=30), timedelta(hours=4)]


def test_identity_center_without_portal_url():
    config = parse_config(
        MINIMAL
        + "identity_center:\n"
        + "  instance_arn: arn:aws:sso:::instance/ssoins-0123456789abcdef\n"
        + "  identity_store_id: d-0123456789\n"
    )
    assert config.identity_center is not None
    assert config.identity_center.portal_url is None


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_instance_arn_partitions(partition):
    config = parse_config(
        MINIMAL
        + "identity_center:\n"
        + f"  instance_arn: arn:{partition}:sso:::instance/ssoins-0123456789abcdef\n"
        + "  identity_store_id: d-0123456789\n"
    )
    assert config.identity_center.instance_arn.startswith(f"arn:{partition}:")


def test_emails_are_lower_cased():
    config = parse_config(TWO_ACCOUNTS)
    assert config.admins == ["ada@example.com"]
    assert config.accounts[0].owners == ["oscar@example.com", "olga@example.com"]


def test_other_settings_are_read():
    config = parse_config(
        MINIMAL
        + "slash_command: /access\n"
        + "approval_timeout: 2h\n"
        + "allow_self_approval: true\n"
        + "sweep_interval: 1m\n"
    )
    assert config.slash_command == "/access"
    assert config.approval_timeout == timedelta(hours=2)
    assert config.allow_self_approval is True
    assert config.sweep_interval == timedelta(minutes=1)


@pytest.mark.parametrize("interval", ["1s", "5m"])
def test_sweep_interval_bounds_are_inclusive(interval):
    assert parse_config(MINIMAL + f"sweep_interval: {interval}\n").sweep_interval


def test_config_is_frozen():
    config = parse_config(MINIMAL)
    with pytest.raises(ValidationError):
        config.allow_self_approval = True  # type: ignore[misc]


def test_config_can_be_built_in_code_with_timedeltas():
    config = Config(
        accounts=[AccountConfig(id="111111111111")],
        durations=[timedelta(hours=1), "2h"],
        approval_timeout=timedelta(hours=3),
    )
    assert config.durations == [timedelta(hours=1), timedelta(hours=2)]
    assert config.approval_timeout == timedelta(hours=3)


# --------------------------------------------------------------------------- helpers


def test_account_lookup():
    config = parse_config(TWO_ACCOUNTS)
    assert config.account("222222222222").name == "Prod"
    assert config.account("333333333333") is None


def test_owners_of():
    config = parse_config(TWO_ACCOUNTS)
    assert config.owners_of("111111111111") == ["oscar@example.com", "olga@example.com"]
    assert config.owners_of("222222222222") == ["olga@example.com"]
    assert config.owners_of("333333333333") == []


def test_people_are_every_entry_by_key_path_emails_lower_cased_ids_as_written():
    config = parse_config(
        TWO_ACCOUNTS.replace("sso_admins: [", "sso_admins: [U0SAM1234, ").replace(
            "admins: [", "admins: [W0GRID42, ", 1
        )
    )
    people = config.people()
    assert ("admins[0]", "W0GRID42") in people and ("sso_admins[0]", "U0SAM1234") in people
    assert ("accounts[1].owners[0]", "olga@example.com") in people
    assert all(e == e.lower() for _, e in people if "@" in e)


def test_identity_rebind_defaults_to_alert_and_takes_follow():
    assert parse_config(MINIMAL).identity.rebind == "alert"
    config = parse_config(MINIMAL + "identity:\n  rebind: follow\n  resolve_interval: 10m\n")
    assert config.identity.rebind == "follow"
    assert config.identity.resolve_interval.total_seconds() == 600


def test_identity_rebind_refuses_anything_else():
    problem = only_problem(MINIMAL + "identity:\n  rebind: ignore\n")
    assert problem.startswith("identity.rebind: ")


# --------------------------------------------------------------------------- errors


def test_config_error_is_a_value_error_listing_problems_by_line():
    error = ConfigError(["a: one", "b: two"])
    assert isinstance(error, ValueError)
    assert error.problems == ["a: one", "b: two"]
    assert str(error) == "a: one\nb: two"


def test_bad_owner_email_names_its_path():
    text = MINIMAL + '  - id: "222222222222"\n    owners: ["bob at example", oscar@example.com]\n'
    assert only_problem(text) == (
        "accounts[1].owners[0]: not an email address or a Slack user id (U0123ABCD)"
    )


def test_bad_admin_email():
    assert only_problem(MINIMAL + "admins: [ada]\n") == (
        "admins[0]: not an email address or a Slack user id (U0123ABCD)"
    )


def test_a_lower_case_or_short_user_id_is_not_a_person():
    for bad in ("u0123abcd", "U1", "B0123ABCD", "U0123ABCD<@U1>"):
        assert only_problem(MINIMAL + f'admins: ["{bad}"]\n').startswith("admins[0]: not an")


def test_unknown_duration_unit():
    problem = only_problem(MINIMAL + "durations: [1h, 2h, 4h, 3x]\n")
    assert problem == 'durations[3]: unknown unit "x" (use s, m, h, d, w, mo)'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.5h", 'durations[0]: whole numbers only: "1.5h"'),
        ("0h", 'durations[0]: must be more than zero: "0h"'),
        ("-2h", 'durations[0]: must be more than zero: "-2h"'),
        ("5", 'durations[0]: needs a unit: write e.g. "5h"'),
        ("'5'", 'durations[0]: missing unit in "5"'),
    ],
)
def test_bad_durations(value, message):
    assert only_problem(MINIMAL + f"durations: [{value}]\n").startswith(message)


def test_duplicate_durations_point_at_the_repeat():
    problem = only_problem(MINIMAL + "durations: [1h, 2h, 60m]\n")
    assert problem == "durations[2]: 1h is listed twice (also durations[0])"


def test_empty_durations():
    assert only_problem(MINIMAL + "durations: []\n").startswith(
        "durations: at least one duration is required"
    )


def test_bad_approval_timeout():
    assert only_problem(MINIMAL + "approval_timeout: soon\n").startswith(
        'approval_timeout: not a duration: "soon"'
    )


@pytest.mark.parametrize("interval", ["500ms", "0s"])
def test_sweep_interval_must_parse(interval):
    assert only_problem(MINIMAL + f"sweep_interval: {interval}\n").startswith("sweep_interval: ")


@pytest.mark.parametrize("interval", ["6m", "1h"])
def test_sweep_interval_out_of_range(interval):
    problem = only_problem(MINIMAL + f"sweep_interval: {interval}\n")
    assert problem == f"sweep_interval: must be between 1s and 5m, got {interval}"


def test_unquoted_account_id_gets_a_hint_to_quote_it():
    problem = only_problem("accounts:\n  - id: 111111111111\n")
    assert problem == 'accounts[0].id: must be 12 digits, quoted ("111111111111")'


def test_unquoted_account_id_with_leading_zero_keeps_its_digits_in_the_hint():
    # YAML 1.1 reads 012345670123 as an octal number; the hint shows it as written.
    problem = only_problem("accounts:\n  - id: 012345670123\n")
    assert problem == 'accounts[0].id: must be 12 digits, quoted ("012345670123")'


def test_short_account_id_as_a_number_is_hinted_with_zeros_restored():
    problem = only_problem("accounts:\n  - id: 12345678901\n")
    assert problem == 'accounts[0].id: must be 12 digits, quoted ("012345678901")'


@pytest.mark.parametrize("account_id", ['"12345"', '"1111-2222-3333"', '"11111111111a"'])
def test_account_id_must_be_12_digits(account_id):
    problem = only_problem(f"accounts:\n  - id: {account_id}\n")
    assert problem.startswith("accounts[0].id: must be 12 digits")


def test_missing_account_id():
    assert only_problem("accounts:\n  - name: Sandbox\n") == "accounts[0].id: required, but missing"


def test_duplicate_account_ids():
    text = MINIMAL + '  - id: "222222222222"\n  - id: "111111111111"\n'
    assert (
        only_problem(text)
        == 'accounts[2].id: duplicate account id "111111111111" (also accounts[0])'
    )


def test_accounts_are_required():
    assert only_problem("admins: [ada@example.com]\n") == "accounts: required, but missing"


def test_at_least_one_account():
    assert only_problem("accounts: []\n").startswith("accounts: at least one account is required")


def test_empty_file_needs_accounts():
    assert only_problem("") == "accounts: required, but missing"


def test_unknown_key_in_account():
    assert only_problem(with_account(colour="red")) == "accounts[0].colour: unknown key"


def test_unknown_key_suggests_a_close_match():
    assert only_problem(with_account(permision_sets="[ReadOnlyAccess]")) == (
        'accounts[0].permision_sets: unknown key (did you mean "permission_sets"?)'
    )
    assert only_problem(MINIMAL + "admin: [ada@example.com]\n") == (
        'admin: unknown key (did you mean "admins"?)'
    )


def test_bad_permission_set_name():
    problem = only_problem(with_account(permission_sets='["Read Only"]'))
    assert problem.startswith(
        'accounts[0].permission_sets[0]: not a permission set name: "Read Only"'
    )


def test_permission_set_name_too_long():
    problem = only_problem(with_account(permission_sets=f"[{'A' * 33}]"))
    assert problem.startswith("accounts[0].permission_sets[0]: not a permission set name")


def test_portal_url_must_be_http():
    text = (
        MINIMAL
        + "identity_center:\n"
        + "  instance_arn: arn:aws:sso:::instance/ssoins-0123456789abcdef\n"
        + "  identity_store_id: d-0123456789\n"
        + "  portal_url: ftp://d-0123456789.awsapps.com/start\n"
    )
    assert only_problem(text).startswith("identity_center.portal_url: must be an http(s) URL")


def test_identity_center_patterns():
    text = (
        MINIMAL
        + "identity_center:\n"
        + "  instance_arn: arn:aws:sso:::instance/ssoins-XYZ\n"
        + "  identity_store_id: d-123\n"
    )
    assert problems_of(text) == [
        'identity_center.instance_arn: must look like "arn:aws:sso:::instance/'
        'ssoins-0123456789abcdef", got "arn:aws:sso:::instance/ssoins-XYZ"',
        'identity_center.identity_store_id: must look like "d-0123456789", got "d-123"',
    ]


def test_identity_center_needs_both_ids():
    text = MINIMAL + "identity_center:\n  identity_store_id: d-0123456789\n"
    assert only_problem(text) == (
        "identity_center: give both instance_arn and identity_store_id, or neither "
        "(found with ListInstances)"
    )


def test_identity_center_may_give_only_the_portal_url():
    config = parse_config(
        MINIMAL + "identity_center:\n  portal_url: https://d-0123456789.awsapps.com/start\n"
    )
    assert config.identity_center is not None
    assert config.identity_center.instance_arn is None
    assert config.identity_center.portal_url == "https://d-0123456789.awsapps.com/start"


def test_slash_command_must_start_with_slash():
    assert only_problem(MINIMAL + "slash_command: jit\n").startswith(
        'slash_command: must start with "/"'
    )


def test_wrong_types_are_named_in_plain_english():
    assert only_problem(MINIMAL + "admins: ada@example.com\n") == (
        "admins: expected a list (e.g. [a, b]), got text"
    )
    assert only_problem(MINIMAL + "allow_self_approval: maybe\n") == (
        "allow_self_approval: expected true or false, got text"
    )
    assert (
        only_problem(with_account(name="[a, b]")) == "accounts[0].name: expected text, got a list"
    )
    assert only_problem(MINIMAL + "identity_center: yes\n") == (
        "identity_center: expected keys and values (key: value), got true/false"
    )


def test_every_problem_is_reported_at_once():
    text = dedent(
        """\
        slash_command: jit
        accounts:
          - id: 111111111111
            owners: [bob]
            colour: red
        durations: [1h, 3x]
        """
    )
    problems = problems_of(text)
    assert [p.split(":")[0] for p in problems] == [
        "slash_command",
        "accounts[0].id",
        "accounts[0].owners[0]",
        "accounts[0].colour",
        "durations[1]",
    ]


def test_yaml_syntax_error_has_line_and_column():
    # "name" is indented less than the account it belongs to.
    text = 'accounts:\n  - id: "111111111111"\n    owners: []\n  name: x\n'
    problem = only_problem(text)
    assert problem.startswith("jitbot.yml line 4, column 3: expected <block end>")


def test_unclosed_list_in_yaml():
    text = 'accounts:\n  - id: "111111111111"\n    owners: [a@example.com\n  name: x\n'
    assert only_problem(text).startswith("jitbot.yml line 4, column 7: expected ',' or ']'")


def test_tab_indentation_in_yaml():
    assert only_problem("accounts:\n\t- id: 1\n").startswith("jitbot.yml line 2, column 1: ")


def test_yaml_mapping_error_position():
    assert only_problem("accounts: a: b\n").startswith("jitbot.yml line 1, column 12: ")


def test_duplicate_yaml_keys_are_refused():
    problem = only_problem(MINIMAL + "durations: [1h]\ndurations: [2h]\n")
    assert problem == 'jitbot.yml line 4, column 1: duplicate key "durations"'


def test_top_level_must_be_a_mapping():
    assert only_problem("- accounts\n") == (
        "jitbot.yml: expected settings as key: value lines, got a list"
    )


def test_default_source_name():
    with pytest.raises(ConfigError) as caught:
        parse_config("a: b: c")
    assert str(caught.value).startswith("<config> line 1, column 5: ")


# --------------------------------------------------------------------------- files


def test_load_config_reads_a_file(tmp_path):
    path = tmp_path / "jitbot.yml"
    path.write_text(FULL_EXAMPLE, encoding="utf-8")
    assert load_config(path) == parse_config(FULL_EXAMPLE)
    assert load_config(str(path)).slash_command == "/jit"


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_config("jitbot.yml")
    assert caught.value.problems == ["jitbot.yml: file not found"]


def test_yaml_errors_in_a_file_name_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jitbot.yml").write_text("accounts:\n  - id: '1'\n  bad: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config("jitbot.yml")
    assert caught.value.problems[0].startswith("jitbot.yml line ")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.problems == [f"{tmp_path}: is a directory, not a file"]


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "jitbot.yml"
    path.write_bytes(b"accounts: \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [f"{path}: not UTF-8 text"]
