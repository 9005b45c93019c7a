"""Reading jitbot.yml: safe YAML without duplicate keys, then :class:`Config`, every
problem reported in one :class:`ConfigError`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workflows.config.fields import _kind
from workflows.config.model import Config
from workflows.config.problems import ConfigError, _problems


class _YamlInt(int):
    """An int read from YAML that remembers how it was written (``source``)."""

    source: str


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys and keeps the text of integers."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; SafeLoader reports it itself
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f'duplicate key "{key}"', key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    number = _YamlInt(loader.construct_yaml_int(node))
    number.source = str(node.value).replace("_", "")
    return number


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _yaml_problem(source: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    text = f"{problem} ({context})" if context else problem
    if mark is None:
        return f"{source}: {text}"
    return f"{source} line {mark.line + 1}, column {mark.column + 1}: {text}"


def parse_config(text: str, source: str = "<config>") -> Config:
    """Read a configuration from YAML text.

    ``source`` names the text in YAML syntax errors (``"<source> line 4, column 3: …"``).

    Raises:
        ConfigError: listing every problem, each prefixed by its key path.
    """
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(source, exc)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: expected settings as key: value lines, got {_kind(data)}"])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None


def load_config(path: str | Path) -> Config:
    """Read and check the configuration file at ``path`` (UTF-8 YAML).

    Raises:
        ConfigError: e.g. ``["jitbot.yml: file not found"]``, or every problem found in
            the file as :func:`parse_config` reports them.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, not a file"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    return parse_config(text, source=str(path))
