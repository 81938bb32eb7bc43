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


def timed(action):  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds of this process, result): the machine may be shared."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def baseline_sqlite(folder: Path, hashes: list[str]) -> tuple[float, float]:
    """Bare sqlite3 executemany of the same rows, in file order, into the same schema."""
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

    def insert() -> None:
        with connection:
            connection.executemany(
                "INSERT INTO hash_entries (list_id, signal, hash, category, added_at, enabled, "
                "updated_seq) VALUES (1, 'sha256', ?, 'known-abuse', ?, 1, 1)",
                ((value, now) for value in hashes),
            )

    wall, cpu, _ = timed(insert)
    connection.close()
    return wall, cpu


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
        results: list[tuple[str, float, float]] = [("baseline: bare sqlite3 executemany", *base)]
        wall, cpu, text_report = timed(
            lambda: import_file(
                store, "bench-text", text, "text", signal="sha256", category="known-abuse"
            )
        )
        results.append(("cosea import, text (1 hash a line)", wall, cpu))
        wall, cpu, csv_report = timed(
            lambda: import_file(
                store,
                "bench-csv",
                csv_path,
                "csv",
                column_map={"sha256": "SHA256", "category": "Cat", "series": "Series"},
            )
        )
        results.append(("cosea import, CSV with column map", wall, cpu))
        wall, cpu, again = timed(
            lambda: import_file(store, "bench-text", text, "text", signal="sha256")
        )
        results.append(("cosea re-import, every line a duplicate", wall, cpu))

        with text.open("a") as handle:
            handle.write("not-a-hash\n")
        store.create_list("bench-fail")

        def failing() -> None:
            with contextlib.suppress(ValidationFailed):
                import_file(store, "bench-fail", text, "text", signal="sha256")

        wall, cpu, _ = timed(failing)
        results.append(("cosea import failing on the last line", wall, cpu))
        left_behind = store.stats("bench-fail")["total"]
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    assert text_report.added == args.entries and csv_report.added == args.entries
    assert again.already_in_list == args.entries and left_behind == 0
    base_wall, base_cpu = base
    print(
        f"\n{'case':<42}{'wall s':>8}{'CPU s':>8}{'entries/s':>11}{'wall vs base':>14}{'CPU vs base':>13}"
    )
    for label, wall, cpu in results:
        print(
            f"{label:<42}{wall:>8.2f}{cpu:>8.2f}{args.entries / wall:>11,.0f}"
            f"{wall / base_wall:>13.2f}x{cpu / base_cpu:>12.2f}x"
        )
    print(
        f"\nentries: {args.entries:,}; failed import left {left_behind} entries; "
        f"peak RSS {peak_mb:,.0f} MB; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs (wall time suffers on a shared machine, CPU time less)"
    )
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}")


if __name__ == "__main__":
    main()
