"""NSRL RDSv3: the tests build a small database with the same FILE and DISTINCT_HASH views."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lists_helpers import md5_of, sha1_of, sha256_of, snapshot

from cosea.errors import InputError, ValidationFailed
from cosea.media.lists import ListStore, export_file, import_file


def rdsv3(
    path: Path, files: list[tuple], *, views: tuple[str, ...] = ("FILE", "DISTINCT_HASH")
) -> Path:
    """An RDSv3-shaped database: a FILE table behind the two views NIST's RDSv3 offers."""
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE VERSION (version TEXT, build_set TEXT);
        CREATE TABLE PKG (package_id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE FILE_TABLE (
            sha256 TEXT, sha1 TEXT, md5 TEXT, crc32 TEXT,
            file_name TEXT, file_size INTEGER, package_id INTEGER
        );
        INSERT INTO VERSION VALUES ('2024.03.1', 'modern minimal (test)');
        INSERT INTO PKG VALUES (1, 'Benign Office Suite'), (2, 'Benign Game');
        """
    )
    if "FILE" in views:
        connection.execute(
            "CREATE VIEW FILE AS SELECT sha256, sha1, md5, crc32, file_name, file_size, "
            "package_id FROM FILE_TABLE"
        )
    if "DISTINCT_HASH" in views:
        connection.execute(
            "CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5 FROM FILE_TABLE"
        )
    connection.executemany("INSERT INTO FILE_TABLE VALUES (?, ?, ?, ?, ?, ?, ?)", files)
    connection.commit()
    connection.close()
    return path


def _file(index: int, package: int = 1) -> tuple:
    return (
        sha256_of(index).upper(),
        sha1_of(index).upper(),
        md5_of(index).upper(),
        "00000000",
        f"file{index}.dll",
        1000 + index,
        package,
    )


def test_distinct_hash_view_is_the_default(store: ListStore, tmp_path: Path) -> None:
    db = rdsv3(tmp_path / "rds.db", [_file(1), _file(2), _file(1, package=2)])
    store.create_list("nsrl", kind="known-files")
    report = import_file(store, "nsrl", db, "nsrl")
    assert report.added == 2 and report.duplicates == 0
    entries = list(store.iter_entries("nsrl"))
    assert {e.signal for e in entries} == {"sha256"}
    assert {e.category for e in entries} == {"known-benign"}  # a filter list's default
    assert {e.hash for e in entries} == {sha256_of(1), sha256_of(2)}


def test_file_view_with_several_signals_reports_duplicates(
    store: ListStore, tmp_path: Path
) -> None:
    db = rdsv3(tmp_path / "rds.db", [_file(1), _file(2), _file(1, package=2)])
    report = import_file(
        store,
        "nsrl",
        db,
        "nsrl",
        signal="md5,sha1,sha256",
        options={"view": "FILE"},
        create=True,
        source="NIST NSRL RDS 2024.03.1",
    )
    assert store.get_list("nsrl").kind == "known-files"
    assert report.added == 6
    assert report.duplicates_in_file == 3 and report.duplicate_lines[0] == "FILE row 3"
    entry = store.lookup("sha1", sha1_of(2))[0]
    assert entry.notes == "file2.dll (1002 bytes, package 1)"
    assert entry.source == "NIST NSRL RDS 2024.03.1"
    assert entry.external_id == sha256_of(2)


def test_rows_without_the_chosen_hash_fail_and_roll_back(store: ListStore, tmp_path: Path) -> None:
    files = [
        _file(1),
        (None, sha1_of(2), md5_of(2), None, "x", 1, 1),
        ("XYZ", None, None, None, "y", 1, 1),
    ]
    db = rdsv3(tmp_path / "rds.db", files, views=("FILE",))
    store.create_list("nsrl", kind="known-files")
    store.add_entries("nsrl", [{"hash": sha256_of(40), "signal": "sha256"}])
    before = snapshot(store, "nsrl")
    with pytest.raises(ValidationFailed) as failure:
        import_file(store, "nsrl", db, "nsrl")
    message = str(failure.value)
    assert "FILE row 2: no sha256 hash" in message
    assert "FILE row 3: sha256 hashes have 64 hex digits, got 3" in message
    assert snapshot(store, "nsrl") == before


def test_not_an_nsrl_database(store: ListStore, tmp_path: Path) -> None:
    store.create_list("nsrl", kind="known-files")
    text = tmp_path / "not.db"
    text.write_text("this is not SQLite\n" * 100)
    with pytest.raises(InputError, match="not an SQLite database"):
        import_file(store, "nsrl", text, "nsrl")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE something (x)").connection.commit()
    with pytest.raises(InputError, match="no FILE or DISTINCT_HASH view"):
        import_file(store, "nsrl", other, "nsrl")
    only_file = rdsv3(tmp_path / "file-only.db", [_file(1)], views=("FILE",))
    with pytest.raises(InputError, match="no DISTINCT_HASH view"):
        import_file(store, "nsrl", only_file, "nsrl", options={"view": "distinct_hash"})
    with pytest.raises(InputError, match="--signal 'pdq' is not one"):
        import_file(store, "nsrl", only_file, "nsrl", signal="pdq")
    broken = rdsv3(tmp_path / "broken.db", [_file(1)], views=())
    connection = sqlite3.connect(broken)
    connection.execute("CREATE VIEW FILE AS SELECT sha256, missing_column FROM FILE_TABLE")
    connection.commit()
    connection.close()
    with pytest.raises(InputError, match="cannot read view FILE"):
        import_file(store, "nsrl", broken, "nsrl")
    assert store.stats("nsrl")["total"] == 0


def test_nsrl_export_round_trip(store: ListStore, tmp_path: Path) -> None:
    db = rdsv3(tmp_path / "rds.db", [_file(i) for i in range(10)])
    import_file(
        store, "nsrl", db, "nsrl", signal="sha256,sha1,md5", options={"view": "FILE"}, create=True
    )
    out = tmp_path / "export.db"
    assert export_file(store, "nsrl", out, "nsrl") == 30
    for view in ("FILE", "DISTINCT_HASH"):
        name = f"again-{view}"
        report = import_file(
            store, name, out, "nsrl", signal="sha256,sha1,md5", options={"view": view}, create=True
        )
        assert report.added == 30
        assert store.list_digest(name) == store.list_digest("nsrl")
    assert (
        store.lookup("md5", md5_of(3), lists=["again-FILE"])[0].notes
        == "file3.dll (1003 bytes, package 1)"
    )
