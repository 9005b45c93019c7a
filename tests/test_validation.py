"""The request form's rules, and the catalog of what can be requested."""

from __future__ import annotations

from datetime import timedelta
from textwrap import dedent

import pytest

from workflows.catalog import Catalog, CatalogAccount, build_catalog
from workflows.config import Config, parse_config
from workflows.errors import InvalidRequest
from workflows.validation import (
    FIELD_ACCOUNT,
    FIELD_DURATION,
    FIELD_JUSTIFICATION,
    FIELD_PERMISSION_SET,
    RequestForm,
    ValidForm,
    validate_form,
)

SANDBOX = "111111111111"
PROD = "222222222222"

PS_ARN = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/"
ARNS = {
    "ReadOnlyAccess": PS_ARN + "ps-1",
    "AdministratorAccess": PS_ARN + "ps-2",
    "PowerUserAccess": PS_ARN + "ps-3",
}

CONFIG_TEXT = dedent(
    f"""\
    admins: [ada@example.com]
    accounts:
      - id: "{SANDBOX}"
        owners: [oscar@example.com]
        permission_sets: [ReadOnlyAccess, AdministratorAccess]
      - id: "{PROD}"
        name: Production
        owners: [olga@example.com]
        permission_sets: [ReadOnlyAccess]
    durations: [1h, 4h, 1d, 1w]
    """
)

GOOD_JUSTIFICATION = "Investigating failed deploys in ticket OPS-123"


@pytest.fixture
def config() -> Config:
    return parse_config(CONFIG_TEXT)


@pytest.fixture
def catalog(config: Config) -> Catalog:
    catalog = build_catalog(config, ARNS, {SANDBOX: "Sandbox"})
    assert catalog.problems == ()
    return catalog


def form(**changes: str | None) -> RequestForm:
    values: dict[str, str | None] = {
        "account_id": SANDBOX,
        "permission_set": "AdministratorAccess",
        "duration": "4h",
        "justification": GOOD_JUSTIFICATION,
    }
    values.update(changes)
    return RequestForm(**values)


def errors_of(config: Config, catalog: Catalog, request_form: RequestForm) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        validate_form(config, catalog, request_form)
    return caught.value.errors


# --------------------------------------------------------------------------- valid forms


def test_valid_form_returns_what_the_grant_needs(config, catalog):
    valid = validate_form(config, catalog, form(justification=f"  {GOOD_JUSTIFICATION}\n "))
    assert isinstance(valid, ValidForm)
    assert valid.account.id == SANDBOX
    assert valid.account.label == "Sandbox (111111111111)"
    assert valid.permission_set_name == "AdministratorAccess"
    assert valid.permission_set_arn == PS_ARN + "ps-2"
    assert valid.duration == timedelta(hours=4)
    assert valid.justification == GOOD_JUSTIFICATION


@pytest.mark.parametrize(
    ("code", "expected"),
    [("1h", timedelta(hours=1)), ("1d", timedelta(days=1)), ("1w", timedelta(weeks=1))],
)
def test_every_configured_duration_is_accepted(config, catalog, code, expected):
    assert validate_form(config, catalog, form(duration=code)).duration == expected


def test_permission_set_allowed_on_the_other_account_is_accepted_there(config, catalog):
    valid = validate_form(config, catalog, form(account_id=PROD, permission_set="ReadOnlyAccess"))
    assert valid.account.label == "Production (222222222222)"
    assert valid.permission_set_arn == PS_ARN + "ps-1"


# --------------------------------------------------------------------------- justification


def test_nine_character_justification_is_refused_on_its_field(config, catalog):
    errors = errors_of(config, catalog, form(justification="123456789"))
    assert errors == {
        FIELD_JUSTIFICATION: "Justification must be at least 10 characters (you wrote 9)."
    }


def test_ten_character_justification_is_accepted(config, catalog):
    assert validate_form(config, catalog, form(justification="1234567890")).justification == (
        "1234567890"
    )


def test_whitespace_does_not_count_towards_the_minimum(config, catalog):
    errors = errors_of(config, catalog, form(justification="   123456789 \n\t "))
    assert errors[FIELD_JUSTIFICATION].endswith("(you wrote 9).")


@pytest.mark.parametrize("empty", [None, "", "          "])
def test_missing_justification_is_refused(config, catalog, empty):
    errors = errors_of(config, catalog, form(justification=empty))
    assert set(errors) == {FIELD_JUSTIFICATION}
    assert "(you wrote 0)" in errors[FIELD_JUSTIFICATION]


def test_justification_of_2000_characters_is_accepted_and_2001_refused(config, catalog):
    assert len(validate_form(config, catalog, form(justification="x" * 2000)).justification) == 2000
    errors = errors_of(config, catalog, form(justification="x" * 2001))
    assert errors == {FIELD_JUSTIFICATION: "Justification must be at most 2000 characters."}


# --------------------------------------------------------------------------- account


@pytest.mark.parametrize("account_id", ["999999999999", "", None, "Sandbox", "11111111111"])
def test_account_not_in_the_catalog_is_refused(config, catalog, account_id):
    errors = errors_of(config, catalog, form(account_id=account_id))
    assert errors == {FIELD_ACCOUNT: "Choose an AWS account from the list."}


def test_configured_account_left_out_of_the_catalog_is_refused(config):
    """An account whose permission sets did not resolve is not offered, so not accepted."""
    missing = build_catalog(config, {"AdministratorAccess": ARNS["AdministratorAccess"]}, {})
    errors = errors_of(config, missing, form(account_id=PROD, permission_set="ReadOnlyAccess"))
    assert errors == {FIELD_ACCOUNT: "Choose an AWS account from the list."}


def test_permission_set_that_did_not_resolve_is_refused(config):
    catalog = build_catalog(config, {"ReadOnlyAccess": ARNS["ReadOnlyAccess"]}, {})
    assert validate_form(config, catalog, form(permission_set="ReadOnlyAccess"))
    errors = errors_of(config, catalog, form(permission_set="AdministratorAccess"))
    assert set(errors) == {FIELD_PERMISSION_SET}


# --------------------------------------------------------------------------- permission set


def test_permission_set_not_allowed_on_this_account_is_refused(config, catalog):
    errors = errors_of(config, catalog, form(account_id=PROD, permission_set="AdministratorAccess"))
    assert errors == {
        FIELD_PERMISSION_SET: "Choose a permission set allowed on Production (222222222222)."
    }


@pytest.mark.parametrize("name", ["PowerUserAccess", "readonlyaccess", "", None])
def test_permission_set_not_configured_for_the_account_is_refused(config, catalog, name):
    """PowerUserAccess exists in Identity Center but is not configured on Sandbox."""
    errors = errors_of(config, catalog, form(permission_set=name))
    assert set(errors) == {FIELD_PERMISSION_SET}
    assert "Sandbox (111111111111)" in errors[FIELD_PERMISSION_SET]


# --------------------------------------------------------------------------- duration


@pytest.mark.parametrize("code", ["3h", "2w", "1mo", "30m"])
def test_duration_not_in_the_config_is_refused(config, catalog, code):
    errors = errors_of(config, catalog, form(duration=code))
    assert errors == {FIELD_DURATION: "Choose a duration from the list."}


@pytest.mark.parametrize("code", ["forever", "", None, "4", "1.5h", "-4h", "0h", "4x"])
def test_garbage_duration_is_refused_without_crashing(config, catalog, code):
    errors = errors_of(config, catalog, form(duration=code))
    assert errors == {FIELD_DURATION: "Choose a duration from the list."}


def test_default_durations_apply_when_config_lists_none(catalog):
    defaults = parse_config(
        f'accounts:\n  - id: "{SANDBOX}"\n    permission_sets: [ReadOnlyAccess]\n'
    )
    assert validate_form(defaults, catalog, form(duration="1mo")).duration == timedelta(days=30)
    assert FIELD_DURATION in errors_of(defaults, catalog, form(duration="3h"))


# --------------------------------------------------------------------------- forged / many


def test_forged_values_are_all_refused(config, catalog):
    forged = RequestForm(
        account_id="123456789012",
        permission_set="AdministratorAccess",
        duration="100w",
        justification="x" * 5000,
    )
    errors = errors_of(config, catalog, forged)
    assert set(errors) == {FIELD_ACCOUNT, FIELD_DURATION, FIELD_JUSTIFICATION}


def test_every_error_is_reported_at_once(config, catalog):
    bad = RequestForm(
        account_id=PROD, permission_set="AdministratorAccess", duration="3h", justification="short"
    )
    with pytest.raises(InvalidRequest) as caught:
        validate_form(config, catalog, bad)
    errors = caught.value.errors
    assert errors == {
        FIELD_PERMISSION_SET: "Choose a permission set allowed on Production (222222222222).",
        FIELD_DURATION: "Choose a duration from the list.",
        FIELD_JUSTIFICATION: "Justification must be at least 10 characters (you wrote 5).",
    }
    for message in errors.values():
        assert message in str(caught.value)


def test_empty_form_reports_every_field_a_person_must_fill(config, catalog):
    errors = errors_of(config, catalog, RequestForm(None, None, None, None))
    # Without an account there is no permission set list to choose from yet.
    assert set(errors) == {FIELD_ACCOUNT, FIELD_DURATION, FIELD_JUSTIFICATION}


# --------------------------------------------------------------------------- build_catalog


def test_catalog_offers_accounts_in_config_order_with_their_sets(catalog):
    assert [a.id for a in catalog.accounts] == [SANDBOX, PROD]
    sandbox = catalog.account(SANDBOX)
    assert sandbox == CatalogAccount(
        SANDBOX,
        "Sandbox",
        {"ReadOnlyAccess": PS_ARN + "ps-1", "AdministratorAccess": PS_ARN + "ps-2"},
    )
    assert list(sandbox.permission_sets) == ["ReadOnlyAccess", "AdministratorAccess"]
    assert catalog.account("999999999999") is None


def test_unknown_permission_set_name_is_a_problem_naming_its_key_path(config):
    arns = {"ReadOnlyAccess": ARNS["ReadOnlyAccess"]}
    catalog = build_catalog(config, arns, {})
    assert catalog.problems == (
        "accounts[0].permission_sets[1]: no permission set named 'AdministratorAccess' in "
        "the Identity Center instance",
    )
    sandbox = catalog.account(SANDBOX)
    assert sandbox is not None
    assert list(sandbox.permission_sets) == ["ReadOnlyAccess"]


def test_account_with_no_permission_set_left_is_not_offered(config):
    catalog = build_catalog(config, {"AdministratorAccess": ARNS["AdministratorAccess"]}, {})
    assert [a.id for a in catalog.accounts] == [SANDBOX]
    assert catalog.account(PROD) is None
    assert (
        "accounts[1].permission_sets[0]: no permission set named 'ReadOnlyAccess' in the "
        "Identity Center instance"
    ) in catalog.problems
    assert len(catalog.problems) == 2  # ReadOnlyAccess on both accounts


def test_account_configured_without_permission_sets_is_not_offered():
    cfg = parse_config(
        f'accounts:\n  - id: "{SANDBOX}"\n  - id: "{PROD}"\n    permission_sets: [ReadOnlyAccess]\n'
    )
    catalog = build_catalog(cfg, ARNS, {})
    assert [a.id for a in catalog.accounts] == [PROD]
    assert catalog.problems == ()


def test_nothing_resolves_means_nothing_to_request(config):
    catalog = build_catalog(config, {}, {})
    assert catalog.accounts == ()
    assert len(catalog.problems) == 3


def test_names_come_from_organizations_when_config_has_none(config):
    catalog = build_catalog(config, ARNS, {SANDBOX: "Sandbox (Org)", PROD: "prod-from-org"})
    assert catalog.account(SANDBOX).name == "Sandbox (Org)"


def test_config_name_wins_over_organizations(config):
    catalog = build_catalog(config, ARNS, {PROD: "prod-from-org"})
    assert catalog.account(PROD).name == "Production"
    assert catalog.account(PROD).label == "Production (222222222222)"


def test_account_id_is_the_name_when_nobody_knows_one(config):
    catalog = build_catalog(config, ARNS, {})
    sandbox = catalog.account(SANDBOX)
    assert sandbox.name == SANDBOX
    assert sandbox.label == "111111111111 (111111111111)"


def test_catalog_find_preselects_one_account_by_id_or_name():
    catalog = Catalog(
        (
            CatalogAccount("111111111111", "Sandbox", {"ReadOnlyAccess": "arn:ps-1"}),
            CatalogAccount("222222222222", "Production", {"ReadOnlyAccess": "arn:ps-1"}),
            CatalogAccount("333333333333", "Production EU", {"ReadOnlyAccess": "arn:ps-1"}),
        )
    )
    assert catalog.find("sandbox").id == "111111111111"
    assert catalog.find("222222222222").name == "Production"
    assert catalog.find("production").id == "222222222222"  # exact name wins
    assert catalog.find("eu").id == "333333333333"
    assert catalog.find("prod") is None  # ambiguous
    assert catalog.find("") is None
