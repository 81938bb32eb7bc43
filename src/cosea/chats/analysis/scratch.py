"""JSON for the recognizers' per-conversation scratch state (never pickle).

Recognizers keep small per-conversation records in ``RecognizerContext.scratch``:
plain values, but also sets, tuples, datetimes and dataclass records. To save an
analyser's state as JSON those are written as tagged objects
(``{"__set__": [...]}``, ``{"__dataclass__": "module:Class", "fields": {...}}``)
and rebuilt on load. Only dataclasses defined inside the ``cosea`` package are
rebuilt, so a state file can never name an arbitrary class to instantiate.
"""

from __future__ import annotations

import dataclasses
import importlib
from datetime import date, datetime
from typing import Any

from cosea.errors import InputError

_TAGS = (
    "__set__",
    "__frozenset__",
    "__tuple__",
    "__dict__",
    "__dataclass__",
    "__datetime__",
    "__date__",
)


def encode(value: Any, where: str = "scratch") -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list):
        return [encode(v, where) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, where) for v in value]}
    if isinstance(value, set | frozenset):
        tag = "__frozenset__" if isinstance(value, frozenset) else "__set__"
        return {tag: [encode(v, where) for v in sorted(value, key=repr)]}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, dict):
        if all(isinstance(k, str) and k not in _TAGS for k in value):
            return {k: encode(v, f"{where}.{k}") for k, v in value.items()}
        return {"__dict__": [[encode(k, where), encode(v, where)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {
            "__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
            "fields": {
                f.name: encode(getattr(value, f.name), f"{where}.{f.name}")
                for f in dataclasses.fields(value)
            },
        }
    raise TypeError(
        f"recognizer state {where} holds a {type(value).__name__}, which has no JSON form"
    )


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__set__" in value:
        return {_hashable(decode(v)) for v in value["__set__"]}
    if "__frozenset__" in value:
        return frozenset(_hashable(decode(v)) for v in value["__frozenset__"])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__date__" in value:
        return date.fromisoformat(value["__date__"])
    if "__dict__" in value:
        return {_hashable(decode(k)): decode(v) for k, v in value["__dict__"]}
    if "__dataclass__" in value:
        return _rebuild(value["__dataclass__"], value.get("fields") or {})
    return {k: decode(v) for k, v in value.items()}


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def _rebuild(name: str, fields: dict[str, Any]) -> Any:
    module_name, _, qualname = name.partition(":")
    if not (module_name == "cosea" or module_name.startswith("cosea.")) or not qualname:
        raise InputError("analyzer state", f"refusing to rebuild {name!r}: not a cosea record")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        raise InputError("analyzer state", f"recognizer record {name!r} no longer exists") from None
    if not (isinstance(target, type) and dataclasses.is_dataclass(target)):
        raise InputError("analyzer state", f"{name!r} is not a dataclass record")
    record = target.__new__(target)
    known = {f.name for f in dataclasses.fields(target)}
    for field_name, field_value in fields.items():
        if field_name in known:
            object.__setattr__(record, field_name, decode(field_value))
    for field in dataclasses.fields(target):
        if field.name not in fields:  # a field added since the state was saved
            if field.default is not dataclasses.MISSING:
                object.__setattr__(record, field.name, field.default)
            elif field.default_factory is not dataclasses.MISSING:
                object.__setattr__(record, field.name, field.default_factory())
    return record
