"""Where cosea keeps its data, and which database it uses.

``COSEA_HOME`` is the data folder (default ``~/.cosea``); ``COSEA_DATABASE_URL``
chooses the database (default: SQLite ``cosea.db`` in the data folder).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    path = Path(os.environ.get("COSEA_HOME") or Path.home() / ".cosea").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = os.environ.get("COSEA_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{home() / 'cosea.db'}"
