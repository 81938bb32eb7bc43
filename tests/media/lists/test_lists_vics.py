from __future__ import annotations

import json
from pathlib import Path

import pytest
from lists_helpers import md5_of, pdq_of, sha1_of, sha256_of, snapshot

from cosea.errors import InputError, ValidationFailed
from cosea.media.lists import ListStore, export_file, import_file

CONTEXT_1X = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"
CONTEXT_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"


def _media(index: int, **fields) -> dict:
    media = {
        "MediaID": index,
        "MD5": md5_of(index).upper(),
        "SHA1": sha1_of(index).upper(),
        "Category": 1,
        "MediaSize": 1000 + index,
        "IsPrecategorized": "true",
    }
    media.update(fields)
    return {key: value for key, value in media.items() if value is not None}


def _write(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document, indent=1))
    return path


def test_vics_1x_media_wrapper(store: ListStore, tmp_path: Path) -> None:
    store.create_list("vic", scheme="vics")
    path = _write(
        tmp_path / "vics13.json",
        {
            "odata.metadata": CONTEXT_1X,
            "value": [
                _media(1, Series="benign-series", VictimIdentified="true"),
                _media(2, Category=0, SHA1=None),
                _media(3, Category=None),
            ],
        },
    )
    report = import_file(store, "vic", path, "vics")
    assert report.added == 5
    by_hash = {e.hash: e for e in store.iter_entries("vic")}
    first = by_hash[md5_of(1)]
    assert (first.category, first.series, first.victim_identified) == ("1", "benign-series", True)
    assert by_hash[sha1_of(1)].external_id == first.external_id == md5_of(1)
    assert by_hash[md5_of(2)].category == "0"
    assert by_hash[md5_of(3)].category == "uncategorised"


def test_vics_20_cases_wrapper_with_alternative_hashes(store: ListStore, tmp_path: Path) -> None:
    store.create_list("vic", scheme="vics")
    path = _write(
        tmp_path / "vics20.json",
        {
            "@odata.context": CONTEXT_20,
            "value": [
                {
                    "CaseID": "6a9f3c1e-0000-4000-8000-000000000001",
                    "SourceApplicationName": "test",
                    "Media": [
                        _media(
                            1,
                            AlternativeHashes=[
                                {"HashName": "PhotoDNA", "HashValue": "AAAA" * 36},
                                {"HashName": "PDQ", "HashValue": pdq_of(1)},
                                {"HashName": "SHA256", "HashValue": sha256_of(1)},
                            ],
                        ),
                        _media(2, Category=2, VictimIdentified=False),
                    ],
                    "CaseNumber": "benign-test",
                },
                {"CaseID": "second", "Media": [_media(3, Category=4)]},
            ],
        },
    )
    report = import_file(store, "vic", path, "vics")
    assert report.added == 8
    assert report.unsupported == {"vics:PhotoDNA": 1}
    signals = sorted(e.signal for e in store.iter_entries("vic"))
    assert signals == ["md5", "md5", "md5", "pdq", "sha1", "sha1", "sha1", "sha256"]
    assert store.lookup("pdq", pdq_of(1))[0].external_id == md5_of(1)
    assert store.lookup("md5", md5_of(2))[0].victim_identified is False


def test_vics_20_media_hash_set_form(store: ListStore, tmp_path: Path) -> None:
    store.create_list("vic", scheme="vics")
    path = _write(
        tmp_path / "hashset.json",
        {
            "@odata.context": CONTEXT_20.replace("#Cases", "#Media"),
            "value": [_media(i) for i in range(1, 4)],
        },
    )
    assert import_file(store, "vic", path, "vics").added == 6


def test_vics_categories_map_into_the_list_scheme(store: ListStore, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "v.json",
        {
            "odata.metadata": CONTEXT_1X,
            "value": [
                _media(1, SHA1=None),
                _media(2, SHA1=None, Category=0),
                _media(3, SHA1=None, Category=3),
            ],
        },
    )
    store.create_list("neutral")
    import_file(store, "neutral", path, "vics")
    assert sorted(e.category for e in store.iter_entries("neutral")) == [
        "known-abuse",
        "known-benign",
        "of-concern",
    ]
    store.create_list("graded", scheme="caid")
    with pytest.raises(ValidationFailed, match="no equivalent in this list's scheme 'caid'"):
        import_file(store, "graded", path, "vics")
    assert store.stats("graded")["total"] == 0


def test_bad_media_records_are_named_and_roll_back(store: ListStore, tmp_path: Path) -> None:
    store.create_list("vic", scheme="vics")
    store.add_entries("vic", [{"hash": md5_of(50), "category": "1"}])
    before = snapshot(store, "vic")
    path = _write(
        tmp_path / "bad.json",
        {
            "@odata.context": CONTEXT_20,
            "value": [
                {
                    "CaseID": "c",
                    "Media": [
                        _media(1),
                        _media(2, Category=9),
                        _media(3, MD5="12345", SHA1=None),
                        _media(4, MD5=None, SHA1=None),
                        _media(5, VictimIdentified="perhaps"),
                    ],
                }
            ],
        },
    )
    with pytest.raises(ValidationFailed) as failure:
        import_file(store, "vic", path, "vics")
    message = str(failure.value)
    assert "value[0].Media[1] MediaID 2: category '9' is not in scheme 'vics'" in message
    assert "value[0].Media[2] MediaID 3: md5 hashes have 32 hex digits" in message
    assert "value[0].Media[3] MediaID 4: Media record without MD5" in message
    assert "value[0].Media[4] MediaID 5: VictimIdentified" in message
    assert snapshot(store, "vic") == before


def test_broken_json_names_the_line(store: ListStore, tmp_path: Path) -> None:
    store.create_list("vic", scheme="vics")
    store.add_entries("vic", [{"hash": md5_of(50), "category": "1"}])
    before = snapshot(store, "vic")
    text = json.dumps(
        {"odata.metadata": CONTEXT_1X, "value": [_media(i) for i in range(1, 30)]}, indent=1
    )
    cut = text.index('"MediaID": 20')
    path = tmp_path / "truncated.json"
    path.write_text(text[:cut] + "{{ oops\n" + text[cut:])
    with pytest.raises(InputError, match="not valid JSON") as failure:
        import_file(store, "vic", path, "vics")
    assert failure.value.line == text[:cut].count("\n") + 1
    assert snapshot(store, "vic") == before  # records before the damage were rolled back


def test_json_that_is_not_vics_is_rejected(store: ListStore, tmp_path: Path) -> None:
    store.create_list("vic", scheme="vics")
    no_context = _write(tmp_path / "plain.json", {"value": [_media(1)]})
    with pytest.raises(InputError, match=r"no 'odata\.metadata'"):
        import_file(store, "vic", no_context, "vics")
    no_value = _write(tmp_path / "novalue.json", {"@odata.context": CONTEXT_20})
    with pytest.raises(InputError, match="no 'value' array"):
        import_file(store, "vic", no_value, "vics")
    array = tmp_path / "array.json"
    array.write_text("[1, 2]")
    with pytest.raises(InputError, match="expected an object"):
        import_file(store, "vic", array, "vics")
    assert store.stats("vic")["total"] == 0


def test_vics_export_is_valid_20_json_and_round_trips(store: ListStore, tmp_path: Path) -> None:
    store.create_list("vic", scheme="vics")
    source = _write(
        tmp_path / "in.json",
        {
            "odata.metadata": CONTEXT_1X,
            "value": [
                _media(1, Series="s1", VictimIdentified=True, Comments="benign sample"),
                _media(
                    2, Category=0, AlternativeHashes=[{"HashName": "PDQ", "HashValue": pdq_of(2)}]
                ),
                _media(3, Category=None),
            ],
        },
    )
    import_file(store, "vic", source, "vics")
    store.add_entries("vic", [{"hash": sha256_of(7), "signal": "sha256", "category": "2"}])
    out = tmp_path / "out.json"
    assert export_file(store, "vic", out, "vics") == 8
    document = json.loads(out.read_text())
    assert document["@odata.context"].endswith("2.0.xml/US/$metadata#Cases")
    media = document["value"][0]["Media"]
    assert len(media) == 4
    grouped = next(m for m in media if m.get("MD5") == md5_of(1).upper())
    assert grouped["SHA1"] == sha1_of(1).upper() and grouped["Category"] == 1
    assert grouped["Series"] == "s1" and grouped["VictimIdentified"] is True
    assert next(m for m in media if m.get("MD5") == md5_of(3).upper()).get("Category") is None
    lone = next(m for m in media if "MD5" not in m)
    assert lone["AlternativeHashes"] == [{"HashName": "SHA256", "HashValue": sha256_of(7)}]

    store.create_list("again", scheme="vics")
    assert import_file(store, "again", out, "vics").added == 8
    assert store.list_digest("again") == store.list_digest("vic")

    store.create_list("neutral")
    import_file(store, "neutral", out, "vics")
    neutral_out = tmp_path / "neutral.json"
    export_file(store, "neutral", neutral_out, "vics")
    categories = {
        m.get("MD5"): m.get("Category")
        for m in json.loads(neutral_out.read_text())["value"][0]["Media"]
    }
    assert categories[md5_of(1).upper()] == 1 and categories[md5_of(2).upper()] == 0
