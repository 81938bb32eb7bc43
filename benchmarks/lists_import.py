"""Hash-list import speed: 1,000,000 entries from text and from CSV, on SQLite.

    .venv/bin/python benchmarks/lists_import.py [--entries 1000000]

Generates random sha256 hashes (no content behind them), then times
``cosea lists import`` through the library into a fresh SQLite database, beside
a baseline measured in the same run: the same rows written by bare ``sqlite3``
``executemany`` into the same table (no parsing, no checks), the floor for the
database work. Also times a re-import of the same file into the filled list
(every line a duplicate) and a failed import (one bad line at the end, rolled back).
Goal: a million entries in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import secrets
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def generate(folder: Path, count: int) -> tuple[Path, Path, list[str]]:
    hashes = [secrets.token_hex(32) for _ in range(count)]
    text = folder / "hashes.txt"
    text.write_text("# benchmark: random sha256 values\n" + "\n".join(hashes) + "\n")
    csv_path = folder / "hashes.csv"
    with csv_path.open("w") as handle:
        handle.write("SHA256,Cat,Series\n")
        for index, value in enumerate(hashes):
            handle.write(f"{value},known-abuse,series-{index % 50}\n")
    return text, csv_path, hashes


def baseline_sqlite(folder: Path, hashes: list[str]) -> float:
    """Bare sqlite3 executemany of the same rows into the same schema and indexes."""
    from sqlalchemy import create_engine

    from cosea.media.lists.models import hash_entries, hash_lists
    from cosea.storage import Base

    path = folder / "baseline.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine, tables=[hash_lists, hash_entries])
    engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "INSERT INTO hash_lists (id, name, category_scheme, kind, created_at, enabled) "
        "VALUES (1, 'baseline', 'default', 'known-material', '2024-01-01', 1)"
    )
    now = datetime.now(UTC).isoformat()
    started = time.perf_counter()
    with connection:
        connection.executemany(
            "INSERT INTO hash_entries (list_id, signal, hash, category, added_at, enabled, "
            "updated_seq) VALUES (1, 'sha256', ?, 'known-abuse', ?, 1, 1)",
            ((value, now) for value in hashes),
        )
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["COSEA_HOME"] = str(folder / "home")
        os.environ.pop("COSEA_DATABASE_URL", None)
        from cosea.errors import ValidationFailed
        from cosea.media.lists import ListStore, import_file

        print(f"generating {args.entries:,} random sha256 hashes…", flush=True)
        text, csv_path, hashes = generate(folder, args.entries)
        base = baseline_sqlite(folder, hashes)

        store = ListStore()
        store.create_list("bench-text")
        store.create_list("bench-csv")
        started = time.perf_counter()
        text_report = import_file(
            store, "bench-text", text, "text", signal="sha256", category="known-abuse"
        )
        text_time = time.perf_counter() - started
        started = time.perf_counter()
        csv_report = import_file(
            store,
            "bench-csv",
            csv_path,
            "csv",
            column_map={"sha256": "SHA256", "category": "Cat", "series": "Series"},
        )
        csv_time = time.perf_counter() - started
        started = time.perf_counter()
        again = import_file(store, "bench-text", text, "text", signal="sha256")
        again_time = time.perf_counter() - started

        with text.open("a") as handle:
            handle.write("not-a-hash\n")
        store.create_list("bench-fail")
        started = time.perf_counter()
        with contextlib.suppress(ValidationFailed):
            import_file(store, "bench-fail", text, "text", signal="sha256")
        fail_time = time.perf_counter() - started
        left_behind = store.stats("bench-fail")["total"]
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    assert text_report.added == args.entries and csv_report.added == args.entries
    assert again.already_in_list == args.entries and left_behind == 0
    rate = args.entries / text_time
    print(f"\n{'case':<44}{'seconds':>9}{'entries/s':>12}{'vs bare sqlite3':>17}")
    for label, seconds in (
        ("baseline: bare sqlite3 executemany", base),
        ("cosea import, text (1 hash a line)", text_time),
        ("cosea import, CSV with column map", csv_time),
        ("cosea re-import, every line a duplicate", again_time),
        ("cosea import failing on the last line", fail_time),
    ):
        print(f"{label:<44}{seconds:>9.2f}{args.entries / seconds:>12,.0f}{seconds / base:>16.2f}x")
    print(
        f"\nentries: {args.entries:,}; text import {rate:,.0f} entries/s; "
        f"failed import left {left_behind} entries; peak RSS {peak_mb:,.0f} MB"
    )
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}")


if __name__ == "__main__":
    main()
