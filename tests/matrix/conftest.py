"""Fixtures for the matrix tests: the bundled matrix and writable copies of its data."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from cosea.matrix import Matrix, load
from cosea.matrix.loader import DEFAULT_DATA


@pytest.fixture(scope="session")
def matrix() -> Matrix:
    return load()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled data folder, as an organisation would keep one."""
    target = tmp_path / "my-matrix"
    shutil.copytree(DEFAULT_DATA, target)
    return target


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write
