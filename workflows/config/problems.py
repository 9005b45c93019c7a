"""The :class:`ConfigError` and how pydantic's errors become its one-line problems, each
named by key path the way a person writes it (``accounts[1].owners[0]: ...``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from workflows.config.accounts import AccountConfig, IdentityCenterConfig
from workflows.config.fields import _CTX_SUBPATH, _kind
from workflows.config.model import Config
from workflows.config.reconcile import ReconcileConfig


class ConfigError(ValueError):
    """The configuration could not be used.

    ``problems`` lists every problem found, each one line fit to show a person,
    e.g. ``accounts[0].id: must be 12 digits, quoted ("012345678901")``;
    ``str()`` joins them with newlines.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)


# Models below each path (ints stand for "any list index"), for "did you mean" hints.
_MODELS_AT: dict[tuple[Any, ...], type[BaseModel]] = {
    (): Config,
    ("identity_center",): IdentityCenterConfig,
    ("accounts", int): AccountConfig,
    ("reconcile",): ReconcileConfig,
}


def _format_path(loc: Sequence[str | int]) -> str:
    """``("accounts", 1, "owners", 0)`` -> ``accounts[1].owners[0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _unknown_key_message(loc: Sequence[str | int]) -> str:
    shape = tuple(int if isinstance(p, int) else p for p in loc[:-1])
    model = _MODELS_AT.get(shape)
    if model is not None and isinstance(loc[-1], str):
        close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.6)
        if close:
            return f'unknown key (did you mean "{close[0]}"?)'
    return "unknown key"


def _plain_message(error: dict[str, Any]) -> str:
    kind: str = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind.startswith("jitbot_"):
        return error["msg"]
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return _unknown_key_message(error["loc"])
    if kind == "string_type":
        return f"expected text, got {_kind(value)}"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return f"expected a list (e.g. [a, b]), got {_kind(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected keys and values (key: value), got {_kind(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_kind(value)}"
    if kind == "string_pattern_mismatch":
        return f"does not match the pattern {ctx.get('pattern')}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    return str(error["msg"])


def _problems(exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        path = _format_path(error["loc"]) + ((error.get("ctx") or {}).get(_CTX_SUBPATH) or "")
        message = _plain_message(error)
        problem = f"{path}: {message}" if path else message
        if problem not in problems:
            problems.append(problem)
    return problems
