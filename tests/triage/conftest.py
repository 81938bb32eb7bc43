"""Fixtures for triage tests (helpers live in triage_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from triage_helpers import jpeg, write, zip_bytes


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    return tmp_path / "cases"


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    """A small mixed folder: pictures with EXIF, a near-duplicate, a zip, a text file."""
    root = tmp_path / "evidence"
    write(root / "a.jpg", jpeg(1, model="FO-1", taken="2024:03:01 10:00:00", gps=(47.5, -37.5)))
    write(root / "b.jpg", jpeg(2, model="FO-2", taken="2024:03:02 11:00:00"))
    write(root / "sub" / "a-small.jpg", jpeg(1, scale=0.5, quality=60))
    write(root / "notes.txt", "plain notes\n")
    write(root / "pics.zip", zip_bytes([("in/c.jpg", jpeg(3)), ("in/readme.txt", b"hello")]))
    return root
