from __future__ import annotations

from pathlib import Path

import pytest
from lists_helpers import md5_of, sha1_of, sha256_of, snapshot

from cosea.errors import InputError, ValidationFailed
from cosea.media.lists import ListStore, export_file, import_file
from cosea.media.lists.formats.csv import parse_column_map


def _csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_column_map_with_a_hash_column_and_fixed_signal(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    path = _csv(
        tmp_path / "partner.csv",
        "Digest,Grade,Collection,Comment\n"
        f"{sha256_of(1)},known-abuse,series-x,first\n"
        f"{sha256_of(2)},,,\n",
    )
    report = import_file(
        store,
        "a",
        path,
        "csv",
        signal="sha256",
        column_map=parse_column_map("hash=Digest,category=Grade,series=Collection,notes=Comment"),
        source="partner hotline",
    )
    assert report.added == 2
    entries = {e.hash: e for e in store.iter_entries("a")}
    first = entries[sha256_of(1)]
    assert (first.signal, first.category, first.series, first.notes, first.source) == (
        "sha256",
        "known-abuse",
        "series-x",
        "first",
        "partner hotline",
    )
    assert entries[sha256_of(2)].category == "of-concern"  # the list's default


def test_signal_columns_give_several_entries_per_row(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a", scheme="vics")
    path = _csv(
        tmp_path / "set.csv",
        f"MD5,SHA1,Cat\n{md5_of(1)},{sha1_of(1)},1\n{md5_of(2)},,2\n",
    )
    report = import_file(
        store, "a", path, "csv", column_map={"md5": "MD5", "sha-1": "SHA1", "category": "Cat"}
    )
    assert report.added == 3
    assert sorted((e.signal, e.category) for e in store.iter_entries("a")) == [
        ("md5", "1"),
        ("md5", "2"),
        ("sha1", "1"),
    ]


def test_default_columns_by_header_name(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    path = _csv(
        tmp_path / "plain.csv",
        f"signal,hash,category\nmd5,{md5_of(1)},known-benign\nsha1,{sha1_of(1)},known-abuse\n",
    )
    assert import_file(store, "a", path, "csv").added == 2


def test_bad_rows_are_named_by_line_and_roll_back(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    store.add_entries("a", [{"hash": md5_of(9)}])
    before = snapshot(store, "a")
    path = _csv(
        tmp_path / "bad.csv",
        "hash,category,victim_identified\n"
        f"{md5_of(1)},known-abuse,true\n"
        f"{md5_of(2)},grade-z,\n"
        f"{md5_of(3)},known-abuse\n"
        f"{md5_of(4)},known-abuse,maybe\n"
        ",known-abuse,\n",
    )
    with pytest.raises(ValidationFailed) as failure:
        import_file(store, "a", path, "csv")
    message = str(failure.value)
    assert "line 3: category 'grade-z' is not in scheme 'default'" in message
    assert "line 4: expected 3 columns, found 2" in message
    assert "line 5: victim_identified: expected true or false" in message
    assert "line 6: no hash on this row" in message
    assert snapshot(store, "a") == before


def test_broken_csv_and_missing_columns_are_input_errors(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    broken = _csv(tmp_path / "broken.csv", f'hash,notes\n{md5_of(1)},"never closed\n')
    with pytest.raises(InputError, match="not valid CSV") as failure:
        import_file(store, "a", broken, "csv")
    assert failure.value.line is not None
    no_column = _csv(tmp_path / "cols.csv", f"Digest\n{md5_of(1)}\n")
    with pytest.raises(InputError, match="no column 'MD5'"):
        import_file(store, "a", no_column, "csv", column_map={"md5": "MD5"})
    with pytest.raises(InputError, match="no hash column"):
        import_file(store, "a", no_column, "csv")
    with pytest.raises(InputError, match="unknown field 'colour'"):
        import_file(store, "a", no_column, "csv", column_map={"colour": "Digest"})
    with pytest.raises(InputError, match="empty file"):
        import_file(store, "a", _csv(tmp_path / "empty.csv", ""), "csv")
    with pytest.raises(InputError, match="expected FIELD=COLUMN"):
        parse_column_map("hash")
    assert store.stats("a")["total"] == 0


def test_csv_round_trip_keeps_every_field(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a", source="hotline a")
    store.add_entries(
        "a",
        [
            {
                "hash": md5_of(i),
                "signal": "md5",
                "category": "known-abuse" if i % 2 else "of-concern",
                "series": f"series-{i % 3}",
                "notes": f'note, with "quotes" {i}',
                "victim_identified": bool(i % 2),
                "external_id": f"media-{i}",
            }
            for i in range(12)
        ],
    )
    out = tmp_path / "export.csv"
    assert export_file(store, "a", out, "csv") == 12
    store.create_list("b")
    assert import_file(store, "b", out, "csv").added == 12

    def fields(name: str) -> list[tuple]:
        return sorted(
            (
                e.signal,
                e.hash,
                e.category,
                e.source,
                e.series,
                e.notes,
                e.victim_identified,
                e.external_id,
            )
            for e in store.iter_entries(name)
        )

    assert fields("b") == fields("a")
