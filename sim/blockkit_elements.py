"""Block Kit checks of elements and composition objects (text objects, confirm dialogs,
options), with the character and item limits Slack enforces.

:class:`ProblemCollector` gathers problems as Slack reports them in
``response_metadata.messages``; :class:`ElementChecks` adds the element rules
(https://docs.slack.dev/reference/block-kit/block-elements,
https://docs.slack.dev/reference/block-kit/composition-objects).
"""

from __future__ import annotations

from typing import Any

from sim.blockkit_types import ELEMENT_TYPES, TEXT_INPUTS


class ProblemCollector:
    """Collects Block Kit problems as Slack-style ``[ERROR] ... [json-pointer:...]`` lines."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, path: str, msg: str) -> None:
        self.problems.append(f"[ERROR] {msg} [json-pointer:{path}]")

    def string(self, value: Any, path: str, limit: int, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.add(path, "is required")
            return
        if not isinstance(value, str):
            self.add(path, "must be a string")
        elif len(value) > limit:
            self.add(path, f"must be at most {limit} characters (got {len(value)})")

    def text(
        self, obj: Any, path: str, limit: int, *, plain: bool = False, required: bool = True
    ) -> None:
        if obj is None:
            if required:
                self.add(path, "is required")
            return
        if not isinstance(obj, dict):
            self.add(path, "must be a text object")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.add(f"{path}/type", "must be plain_text or mrkdwn")
            return
        if plain and kind != "plain_text":
            self.add(f"{path}/type", "must be plain_text")
        text = obj.get("text")
        if not isinstance(text, str):
            self.add(f"{path}/text", "must be a string")
        elif not text:
            self.add(f"{path}/text", "must be more than 0 characters")
        elif len(text) > limit:
            self.add(f"{path}/text", f"must be at most {limit} characters (got {len(text)})")


class ElementChecks(ProblemCollector):
    """Checks of one interactive element and of the options and confirm dialogs in it."""

    def element(self, el: Any, path: str, allowed: set[str]) -> None:
        if not isinstance(el, dict):
            self.add(path, "must be an object")
            return
        kind = el.get("type")
        if kind not in ELEMENT_TYPES:
            self.add(f"{path}/type", f"unknown element type {kind!r}")
            return
        if kind not in allowed:
            self.add(f"{path}/type", f"{kind} is not allowed here")
        self.string(el.get("action_id"), f"{path}/action_id", 255)
        self.text(el.get("placeholder"), f"{path}/placeholder", 150, plain=True, required=False)
        if el.get("confirm") is not None:
            self.confirm(el["confirm"], f"{path}/confirm")
        if kind == "button":
            self.text(el.get("text"), f"{path}/text", 75, plain=True)
            self.string(el.get("value"), f"{path}/value", 2000)
            self.string(el.get("url"), f"{path}/url", 3000)
            if el.get("style") not in (None, "primary", "danger"):
                self.add(f"{path}/style", "must be primary or danger")
        elif kind in ("static_select", "multi_static_select"):
            self.options(el, path, 100, groups_ok=True)
        elif kind == "overflow":
            self.options(el, path, 5)
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(el, path, 10, mrkdwn_ok=True)
        elif kind in TEXT_INPUTS:
            max_length = el.get("max_length")
            if isinstance(max_length, int) and max_length > 3000:
                self.add(f"{path}/max_length", "must be at most 3000")
            initial = el.get("initial_value")
            if (
                isinstance(initial, str)
                and isinstance(max_length, int)
                and len(initial) > max_length
            ):
                self.add(f"{path}/initial_value", "must not be longer than max_length")
        elif kind == "image":
            if el.get("image_url") is None and el.get("slack_file") is None:
                self.add(path, "must provide image_url or slack_file")
            self.string(el.get("image_url"), f"{path}/image_url", 3000)
            self.string(el.get("alt_text"), f"{path}/alt_text", 2000, required=True)

    def confirm(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            self.add(path, "must be an object")
            return
        self.text(obj.get("title"), f"{path}/title", 100, plain=True)
        self.text(obj.get("text"), f"{path}/text", 300)
        self.text(obj.get("confirm"), f"{path}/confirm", 30, plain=True)
        self.text(obj.get("deny"), f"{path}/deny", 30, plain=True)

    def option(self, opt: Any, path: str, *, mrkdwn_ok: bool) -> None:
        if not isinstance(opt, dict):
            self.add(path, "must be an object")
            return
        self.text(opt.get("text"), f"{path}/text", 75, plain=not mrkdwn_ok)
        self.string(opt.get("value"), f"{path}/value", 150, required=True)
        self.text(opt.get("description"), f"{path}/description", 75, required=False)
        self.string(opt.get("url"), f"{path}/url", 3000)

    def options(
        self, el: dict, path: str, limit: int, *, groups_ok: bool = False, mrkdwn_ok: bool = False
    ) -> None:
        opts, groups = el.get("options"), el.get("option_groups") if groups_ok else None
        if opts is None and groups is None:
            self.add(f"{path}/options", "is required")
            return
        every: list[Any] = []
        if opts is not None:
            if not isinstance(opts, list):
                self.add(f"{path}/options", "must be an array")
            else:
                if len(opts) > limit:
                    self.add(
                        f"{path}/options",
                        f"must provide an array of no more than {limit} items (got {len(opts)})",
                    )
                for i, opt in enumerate(opts):
                    self.option(opt, f"{path}/options/{i}", mrkdwn_ok=mrkdwn_ok)
                every.extend(opts)
        if groups is not None:
            if not isinstance(groups, list):
                self.add(f"{path}/option_groups", "must be an array")
            else:
                if len(groups) > 100:
                    self.add(f"{path}/option_groups", "must provide no more than 100 items")
                for i, group in enumerate(groups):
                    gp = f"{path}/option_groups/{i}"
                    if not isinstance(group, dict):
                        self.add(gp, "must be an object")
                        continue
                    self.text(group.get("label"), f"{gp}/label", 75, plain=True)
                    gopts = group.get("options")
                    if not isinstance(gopts, list) or len(gopts) > 100:
                        self.add(f"{gp}/options", "must be an array of no more than 100 items")
                        continue
                    for j, opt in enumerate(gopts):
                        self.option(opt, f"{gp}/options/{j}", mrkdwn_ok=mrkdwn_ok)
                    every.extend(gopts)
        keys = {option_key(o) for o in every if isinstance(o, dict)}
        initial = el.get("initial_option")
        if initial is not None and option_key(initial) not in keys:
            self.add(f"{path}/initial_option", "must match one of the provided options")
        for i, opt in enumerate(el.get("initial_options") or []):
            if option_key(opt) not in keys:
                self.add(f"{path}/initial_options/{i}", "must match one of the provided options")


def option_key(opt: Any) -> tuple[Any, Any]:
    if not isinstance(opt, dict):
        return (None, None)
    text = opt.get("text")
    return (opt.get("value"), text.get("text") if isinstance(text, dict) else text)
