"""Export formats for the matrix, registered by name.

Each exporter turns a :class:`~cosea.matrix.Matrix` (and optional technique
counts) into text. Built-in formats: ``stix``, ``navigator``, ``csv``,
``markdown``, ``html``. Other packages can add formats with
:func:`register_exporter`, or through the ``cosea.matrix.exporters`` entry-point
group (each entry point names a module that registers on import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from cosea.errors import CoseaError

if TYPE_CHECKING:
    from cosea.matrix.matrix import Matrix

ExportFunction = Callable[..., str]

_BUILT_IN = ("stix", "navigator", "tabular", "markdown", "html")


@dataclass(frozen=True, slots=True)
class Exporter:
    """A registered export format."""

    name: str
    function: ExportFunction
    suffix: str
    media_type: str
    description: str


_REGISTRY: dict[str, Exporter] = {}
_loaded = False


def register_exporter(
    name: str, *, suffix: str, media_type: str, description: str
) -> Callable[[ExportFunction], ExportFunction]:
    """Decorator: ``fn(matrix, counts=None, **options) -> str`` becomes format ``name``."""

    def decorate(function: ExportFunction) -> ExportFunction:
        _REGISTRY[name] = Exporter(name, function, suffix, media_type, description)
        return function

    return decorate


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for module in _BUILT_IN:
        import_module(f"cosea.matrix.export.{module}")
    for entry_point in entry_points(group="cosea.matrix.exporters"):
        entry_point.load()
    _loaded = True


def exporters() -> dict[str, Exporter]:
    """Every registered format by name."""
    _load_all()
    return dict(_REGISTRY)


def export_matrix(
    matrix: Matrix, format: str, counts: dict[str, int] | None = None, **options: Any
) -> str:
    """The matrix in ``format`` as text (counts become scores or a heatmap where supported)."""
    found = exporters().get(format)
    if found is None:
        known = ", ".join(sorted(_REGISTRY))
        raise CoseaError(f"unknown export format {format!r} (known: {known})")
    return found.function(matrix, counts=counts, **options)
