from __future__ import annotations

from pathlib import Path

import pytest
from lists_helpers import md5_of, pdq_of, sha1_of, sha256_of, snapshot

from cosea.errors import InputError, NotFound, ValidationFailed
from cosea.media.lists import ListStore, export_file, import_file


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_signal_is_inferred_from_length_and_comments_are_ignored(
    store: ListStore, tmp_path: Path
) -> None:
    store.create_list("a")
    path = _write(
        tmp_path / "hashes.txt",
        ["# hashes of benign samples", "", md5_of(1), f"{sha1_of(2).upper()}  # trailing note"],
    )
    report = import_file(store, "a", path, "text", category="known-abuse")
    assert report.added == 2 and report.skipped == 0
    assert {(e.signal, e.hash, e.category) for e in store.iter_entries("a")} == {
        ("md5", md5_of(1), "known-abuse"),
        ("sha1", sha1_of(2), "known-abuse"),
    }


def test_64_hex_digits_need_a_signal(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    path = _write(tmp_path / "pdq.txt", [pdq_of(1), pdq_of(2)])
    with pytest.raises(ValidationFailed) as failure:
        import_file(store, "a", path, "text")
    assert "line 1" in str(failure.value) and "--signal" in str(failure.value)
    report = import_file(store, "a", path, "text", signal="pdq")
    assert report.added == 2
    assert {e.signal for e in store.iter_entries("a")} == {"pdq"}


def test_malformed_lines_fail_the_whole_import_and_name_their_lines(
    store: ListStore, tmp_path: Path
) -> None:
    store.create_list("a")
    store.create_list("other")
    store.add_entries("a", [{"hash": md5_of(100), "signal": "md5"}])
    store.add_entries("other", [{"hash": md5_of(200), "signal": "md5"}])
    before, other_before = snapshot(store, "a"), snapshot(store, "other")
    seq_before = store.current_seq()
    path = _write(
        tmp_path / "bad.txt",
        [md5_of(1), "zz" + md5_of(2)[2:], md5_of(3), md5_of(4)[:-1], f"{md5_of(5)} {md5_of(6)}"],
    )
    with pytest.raises(ValidationFailed) as failure:
        import_file(store, "a", path, "text")
    message = str(failure.value)
    assert str(path) in message and "3 invalid item(s)" in message
    assert "line 2: not a hexadecimal" in message
    assert "line 4: 31 hex digits matches no signal" in message
    assert "line 5: expected one hash" in message
    assert "nothing was imported" in message
    assert snapshot(store, "a") == before
    assert snapshot(store, "other") == other_before
    assert list(store.changes_since(seq_before)) == []


def test_wrong_length_for_a_given_signal(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    path = _write(tmp_path / "h.txt", [sha256_of(1), md5_of(2)])
    with pytest.raises(ValidationFailed, match=r"line 2: sha256 hashes have 64 hex digits, got 32"):
        import_file(store, "a", path, "text", signal="sha256")


def test_skip_invalid_imports_the_valid_lines_and_reports_the_rest(
    store: ListStore, tmp_path: Path
) -> None:
    store.create_list("a")
    path = _write(tmp_path / "h.txt", [md5_of(1), "not-a-hash", md5_of(2)])
    report = import_file(store, "a", path, "text", skip_invalid=True)
    assert report.added == 2 and report.skipped == 1
    assert report.errors == ["line 2: not a hexadecimal hash: 'not-a-hash'"]


def test_duplicates_in_the_file_and_in_the_list_are_reported_by_line(
    store: ListStore, tmp_path: Path
) -> None:
    store.create_list("a")
    store.add_entries("a", [{"hash": md5_of(1), "signal": "md5", "category": "known-abuse"}])
    path = _write(tmp_path / "h.txt", [md5_of(1), md5_of(2), md5_of(2).upper(), md5_of(3)])
    report = import_file(store, "a", path, "text")
    assert report.added == 2
    assert report.duplicates_in_file == 1 and report.duplicate_lines == ["line 3"]
    assert report.already_in_list == 1 and report.already_in_list_lines == ["line 1"]
    assert report.duplicates == 2
    # The entry already there keeps its category: imports never overwrite.
    assert store.lookup("md5", md5_of(1))[0].category == "known-abuse"


def test_category_is_checked_against_the_list_scheme(store: ListStore, tmp_path: Path) -> None:
    store.create_list("graded", scheme="caid")
    path = _write(tmp_path / "h.txt", [md5_of(1)])
    with pytest.raises(InputError, match="not in the list's scheme 'caid'"):
        import_file(store, "graded", path, "text", category="known-abuse")
    report = import_file(store, "graded", path, "text", category="cat b")
    assert report.added == 1
    assert store.lookup("md5", md5_of(1))[0].category == "B"


def test_unknown_list_format_and_missing_file(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    with pytest.raises(NotFound, match="unknown list format"):
        import_file(store, "a", tmp_path / "x.txt", "yaml")
    with pytest.raises(InputError, match="no such file"):
        import_file(store, "a", tmp_path / "missing.txt", "text")
    with pytest.raises(NotFound, match="no hash list"):
        import_file(store, "nope", _write(tmp_path / "x.txt", [md5_of(1)]), "text")
    report = import_file(store, "made", tmp_path / "x.txt", "text", create=True, scheme="vics")
    assert report.added == 1 and store.get_list("made").category_scheme == "vics"
    assert store.lookup("md5", md5_of(1))[0].category == "uncategorised"


def test_not_utf8_is_an_input_error(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    path = tmp_path / "binary.txt"
    path.write_bytes(b"\xff\xfe\x00garbage\x81\n")
    with pytest.raises(InputError, match="not UTF-8"):
        import_file(store, "a", path, "text")


def test_text_round_trip_keeps_signal_via_header(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    store.add_entries(
        "a", [{"hash": pdq_of(i), "signal": "pdq", "category": "known-abuse"} for i in range(20)]
    )
    out = tmp_path / "export.txt"
    assert export_file(store, "a", out, "text") == 20
    assert "# signal: pdq" in out.read_text()
    store.create_list("b")
    report = import_file(store, "b", out, "text", category="known-abuse")
    assert report.added == 20
    assert store.list_digest("b") == store.list_digest("a")


def test_text_export_of_several_signals_needs_one_chosen(store: ListStore, tmp_path: Path) -> None:
    store.create_list("a")
    store.add_entries("a", [{"hash": md5_of(1)}, {"hash": sha1_of(1)}])
    with pytest.raises(InputError, match="several signals"):
        export_file(store, "a", tmp_path / "x.txt", "text")
    assert not (tmp_path / "x.txt").exists()
    assert export_file(store, "a", tmp_path / "x.txt", "text", signal="sha1") == 1
