"""One settings policy: frozen dataclasses built from schema-validated config values.

The config schema is the only source of defaults: Snakemake's `validate` fills them into the
config before any rule runs. A rule passes the values its job reads as ONE plain param
(`settings`, a dict of builtins made by the stage's `*_params` function), so that a config
edit re-runs exactly the jobs that read the edited key. The job builds its frozen dataclass
with `build`: an unknown key or a missing one is a ConfigError naming it, so no setting can
fall back silently to a value of the code's own. Dataclass defaults exist only for library
users and tests; `tests/test_settings.py` checks that each one equals the schema's.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from mfas_core.config import ConfigError

T = TypeVar("T")


def _is_tuple(tp: Any) -> bool:
    return typing.get_origin(tp) is tuple or tp is tuple


def _dataclass_in(tp: Any) -> type | None:
    """The dataclass type of a field annotated `X` or `X | None`, else None."""
    if dataclasses.is_dataclass(tp):
        return tp
    for arg in typing.get_args(tp):
        if dataclasses.is_dataclass(arg):
            return arg
    return None


def build(cls: type[T], values: Mapping[str, Any], section: str) -> T:
    """`cls` from plain values: every field required, no unknown key (ConfigError names it).

    Lists become tuples where the field is a tuple; a dict for a dataclass-typed field is
    built recursively (its errors name `section.field`)."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{section}: settings must be a mapping, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ConfigError(f"{section}: unknown setting(s) {unknown}")
    missing = [n for n in names if n not in values]
    if missing:
        raise ConfigError(f"{section}: missing setting(s) {missing}")
    kw = {}
    for name in names:
        value, tp = values[name], hints[name]
        sub = _dataclass_in(tp)
        if sub is not None and isinstance(value, Mapping):
            value = build(sub, value, f"{section}.{name}")
        elif _is_tuple(tp) and isinstance(value, list | tuple):
            value = tuple(value)
        kw[name] = value
    return cls(**kw)


def pick(section: Mapping[str, Any], keys: typing.Iterable[str], where: str) -> dict:
    """The given keys of a validated config section, as a plain dict (missing: ConfigError)."""
    out = {}
    for key in keys:
        if key not in section:
            raise ConfigError(f"config: {where}.{key} is missing (was the config validated?)")
        out[key] = section[key]
    return out


def field_names(cls: type) -> list[str]:
    """Names of a settings dataclass's fields, in order."""
    return [f.name for f in dataclasses.fields(cls)]


def schema_defaults(section: str, schema: dict | None = None) -> dict:
    """The schema's defaults of a top-level config section (what `validate` fills in)."""
    from mfas_core.config import load_schema

    props = (schema or load_schema())["properties"][section]["properties"]
    return {k: copy.deepcopy(v["default"]) for k, v in props.items() if "default" in v}
