"""``check-config``'s look at the access rules: every Identity Center group, Slack user
group and OU a rule names exists, and each rule names at least as many approvers as the
approvals it asks for."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient

from bot.directory import SlackDirectory
from bot.usergroups import SlackUserGroups, UserGroupsUnavailable
from workflows.access_rules import OU_ID
from workflows.aws import AwsError, IdentityCenter
from workflows.config import Config
from workflows.people import Roster
from workflows.policy import Rules
from workflows.rulebook import RuleLookups, approver_ids


def rule_problems(config: Config, aws: IdentityCenter | None, client: WebClient) -> list[str]:
    """One line per problem, named by key path; ``aws`` None: AWS was not reachable, so
    groups and OUs are not checked."""
    problems: list[str] = []
    usergroups = SlackUserGroups(client)
    for r, rule in enumerate(config.access_rules):
        for a, entry in enumerate(rule.accounts):
            if aws is not None and OU_ID.fullmatch(entry):
                problems += _checked(
                    f"access_rules[{r}].accounts[{a}]",
                    lambda e=entry: None if aws.ou_exists(e) else f"no OU {e} in the organization",
                )
        for key in ("requesters", "approvers"):
            for i, ref in enumerate(getattr(rule, key) or []):
                path = f"access_rules[{r}].{key}[{i}]"
                if ref.kind == "group" and aws is not None:
                    problems += _checked(
                        path,
                        lambda v=ref.value: (
                            None
                            if aws.find_group_id(v)
                            else f"no Identity Center group named {v!r}"
                        ),
                    )
                elif ref.kind == "usergroup":
                    problems += _checked(
                        path,
                        lambda v=ref.value: (
                            None if usergroups.find(v) else f"no enabled Slack user group {v!r}"
                        ),
                    )
    if aws is not None:
        problems += _too_few_approvers(config, aws, client, usergroups)
    return problems


def _checked(path: str, check: Callable[[], str | None]) -> list[str]:
    try:
        problem = check()
    except (AwsError, UserGroupsUnavailable) as exc:
        return [f"{path}: {exc}"]
    return [f"{path}: {problem}"] if problem else []


def _too_few_approvers(
    config: Config, aws: IdentityCenter, client: WebClient, usergroups: SlackUserGroups
) -> list[str]:
    """Each rule whose approvers, as resolved now on its first account, are fewer than
    its ``approvals``: its requests could never be approved."""
    directory = SlackDirectory(client)
    roster = Roster.direct(
        {e: i for _p, e in config.people() if "@" in e and (i := directory.slack_id_for(e))}
    )
    lookups = RuleLookups(
        group_members=lambda g: tuple(
            i for m in aws.group_member_emails(g) if (i := directory.slack_id_for(m))
        ),
        usergroup_members=usergroups.members,
    )
    problems = []
    for r, rule in enumerate(config.rules()):
        account = next((a.id for a in config.accounts if a.id in rule.accounts), None)
        if account is None or rule.auto_approve:
            continue
        try:
            found = approver_ids(rule.applied(), Rules(config, roster), lookups, account)
        except (AwsError, UserGroupsUnavailable) as exc:
            problems.append(f"access_rules[{r}]: {exc}")
            continue
        if len(found) < rule.approvals:
            problems.append(
                f"access_rules[{r}]: approvals: {rule.approvals}, but its approvers name "
                f"{len(found)} Slack user(s) on {account}"
            )
    return problems
