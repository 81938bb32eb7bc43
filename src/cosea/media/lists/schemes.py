"""Category schemes: configuration files, not code.

A scheme is a YAML file (see ``categories/*.yaml``): its categories, each with a
code, a label, a neutral description, aliases accepted on import, and where the
category goes in other schemes (``maps_to``). cosea ships ``default``, ``vics``
and ``caid``; more can be dropped into ``$COSEA_HOME/categories/``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator

from cosea import settings
from cosea.errors import InputError, NotFound


class Category(BaseModel):
    code: str
    label: str
    description: str
    aliases: list[str] = Field(default_factory=list)
    maps_to: dict[str, str] = Field(default_factory=dict)


class CategoryScheme(BaseModel):
    name: str
    title: str
    description: str
    default_category: str
    known_good_category: str
    categories: list[Category]
    _lookup: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _defaults_are_categories(self) -> CategoryScheme:
        codes = {c.code for c in self.categories}
        for field in ("default_category", "known_good_category"):
            if getattr(self, field) not in codes:
                raise ValueError(f"{field} {getattr(self, field)!r} is not one of {sorted(codes)}")
        for category in self.categories:
            for key in (category.code, *category.aliases):
                self._lookup.setdefault(key.casefold(), category.code)
        return self

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.categories]

    def category(self, code: str) -> Category:
        for category in self.categories:
            if category.code == code:
                return category
        raise NotFound(f"category {code!r} is not in scheme {self.name!r}")

    def resolve(self, raw: object) -> str | None:
        """The code ``raw`` names in this scheme (code or alias, any case), or None."""
        text = "" if raw is None else str(raw).strip()
        return self._lookup.get(text.casefold())

    def map_to(self, code: str, target: CategoryScheme) -> str | None:
        """The category ``code`` becomes in ``target``, or None where no mapping is sensible."""
        if target.name == self.name:
            return code
        return self.category(code).maps_to.get(target.name)


def _scheme_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    bundled = resources.files("cosea.media.lists") / "categories"
    for entry in bundled.iterdir():
        if entry.name.endswith(".yaml"):
            files[entry.name.removesuffix(".yaml")] = Path(str(entry))
    user_dir = settings.home() / "categories"
    if user_dir.is_dir():
        for path in sorted(user_dir.glob("*.yaml")):
            files[path.stem] = path
    return files


@cache
def _load(path: Path) -> CategoryScheme:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        scheme = CategoryScheme.model_validate(data)
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        raise InputError(
            path, f"not valid YAML: {error}", line=line + 1 if line else None
        ) from None
    except ValidationError as error:
        raise InputError(path, f"not a category scheme: {error}") from None
    if scheme.name != path.stem:
        raise InputError(path, f"scheme name {scheme.name!r} differs from the file name")
    return scheme


def scheme_names() -> list[str]:
    return sorted(_scheme_files())


def get_scheme(name: str) -> CategoryScheme:
    files = _scheme_files()
    if name not in files:
        raise NotFound(f"unknown category scheme {name!r}; known: {', '.join(sorted(files))}")
    return _load(files[name])
