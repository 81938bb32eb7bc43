"""Fixtures shared by the whole suite.

The development data lives in ``../shared`` beside the repository and is read in
place, never copied. Every test gets its own cosea home folder and database.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COSEA_SHARED", REPO.parent / "shared"))
DEV_CONVERSATIONS = SHARED / "data" / "conversations"


@pytest.fixture(autouse=True)
def cosea_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cosea-home"
    home.mkdir()
    monkeypatch.setenv("COSEA_HOME", str(home))
    monkeypatch.delenv("COSEA_DATABASE_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def dev_conversation_files(shared_dir: Path) -> list[Path]:
    files = sorted((shared_dir / "data" / "conversations").glob("*.jsonl"))
    assert files, "no development conversations under ../shared/data/conversations"
    return files
