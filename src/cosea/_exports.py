"""Lazy public names for the capability packages (PEP 562 module ``__getattr__``).

Each capability lists its public names and the module that defines each; the
module is imported on first use, so ``import cosea.chats`` (and ``cosea --help``)
stays fast and a capability's heavy dependencies load only when needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_getattr(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``exports[name]`` on use."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value  # later look-ups skip this function
        return value

    return __getattr__
