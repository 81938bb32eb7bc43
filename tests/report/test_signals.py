"""Cross-platform signals: export pseudonyms of the suspect only, find overlaps at a partner."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cosea.cli import app
from cosea.errors import InputError
from cosea.report.signals import (
    export_signals,
    import_signals,
    key_id,
    load_signals_key,
    new_signals_key,
    normalise,
    pseudonym,
)
from cosea.types import Message, Participant


@pytest.fixture()
def shared_key(tmp_path: Path) -> Path:
    return new_signals_key(tmp_path / "shared.key")


@pytest.fixture()
def partner(tmp_path: Path) -> Any:
    """Another platform's installation: the same person under another id and a near-identical
    display name, a child whose name matches the demo child's, and the same picture."""
    from PIL import Image  # noqa: F401  (Pillow makes the picture below)

    from cosea.media.demo import benign_picture
    from cosea.report.demo import demo_runtime
    from cosea.service import media
    from cosea.service.conversations import ingest_messages
    from cosea.service.security import Principal

    runtime = demo_runtime(tmp_path / "partner")
    ingest_messages(
        runtime,
        platform="photo_app",
        conversation_id="p-1",
        messages=[
            Message(id="a", sender="pp-991", text="gg"),
            Message(id="b", sender="kid-7", text="gg wp"),
        ],
        participants=[
            Participant(id="pp-991", display_name="  MIA_x_17 "),
            Participant(id="kid-7", display_name="leo.skates"),
        ],
    )
    buffer = io.BytesIO()
    benign_picture(7101, (320, 240)).save(buffer, format="JPEG", quality=88)
    data = buffer.getvalue()
    hashes = media.hash_upload(data)
    uploader = Principal(
        kind="apikey",
        id=0,
        name="partner",
        role="platform",
        permissions=frozenset({"media:match"}),
        platform="photo_app",
    )
    media.record_match(
        runtime,
        uploader,
        hashes=hashes,
        matches=[],
        data=None,
        keep=False,
        filename="x.jpg",
        content_type="image/jpeg",
        conversation_id="p-1",
        message_id=None,
    )
    return runtime


def test_keys_are_private_and_never_overwritten(tmp_path: Path) -> None:
    path = new_signals_key(tmp_path / "k.key")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(load_signals_key(path)) == 32
    with pytest.raises(InputError, match="already exists"):
        new_signals_key(path)
    bad = tmp_path / "bad.key"
    bad.write_text("not hex")
    with pytest.raises(InputError, match="hex"):
        load_signals_key(bad)


def test_normalisation_makes_the_same_identifier_agree() -> None:
    key = b"k" * 32
    assert normalise("screen_name", "@Rex") == normalise("screen_name", "rex")
    assert normalise("phone", "+44 (0)20 7946-0000") == "+4402079460000"
    assert pseudonym(key, "display_name", "  MIA_x_17 ") == pseudonym(
        key, "display_name", "mia_x_17"
    )
    # account ids only agree on the same platform
    assert pseudonym(key, "account_id", "u2", "a") != pseudonym(key, "account_id", "u2", "b")


def test_export_holds_only_the_suspect_as_pseudonyms(
    sextortion_item: Any, shared_key: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signals.jsonl"
    written = export_signals([sextortion_item], shared_key, out, source="Demo Platform")
    header, *lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert header["format"] == "cosea-signals" and header["key_id"] == key_id(
        load_signals_key(shared_key)
    )
    assert written.signals == len(lines) == 1
    (signal,) = lines
    assert signal["class"] == "sextortion"
    assert "T0702" in signal["techniques"]
    kinds = {i["kind"] for i in signal["identifiers"]}
    assert kinds == {"account_id", "display_name"}
    assert all(i["value"].startswith("hs1_") for i in signal["identifiers"])
    assert len(signal["files"]) == 1  # only the file that matched a list
    text = out.read_text()
    key = load_signals_key(shared_key)
    child = pseudonym(key, "display_name", "leo.skates")
    for private in ("mia_x_17", "leo.skates", '"u2"', "pay me", child):
        assert private not in text


def test_partner_finds_the_same_offender_and_file(
    sextortion_item: Any, shared_key: Path, partner: Any, tmp_path: Path
) -> None:
    out = tmp_path / "signals.jsonl"
    export_signals([sextortion_item], shared_key, out, source="Demo Platform")
    result = import_signals(out, shared_key, database_url=partner.config.database_url)
    assert result.source == "Demo Platform" and result.signals == 1
    by_kind: dict[str, list[Any]] = {}
    for overlap in result.overlaps:
        by_kind.setdefault(overlap.kind, []).append(overlap)
    (name,) = by_kind["display_name"]
    assert name.strength == "weak"
    assert name.local["account"] == "pp-991" and name.local["platform"] == "photo_app"
    assert "account_id" not in by_kind  # another platform's id never matches
    files = by_kind["file"]
    assert len(files) == 1
    assert {part.split(":")[0] for part in files[0].matched.split(", ")} >= {"sha256", "md5"}
    assert all(o.strength == "strong" for o in files)
    # the child on the partner's service is never matched: their identifiers were not sent
    assert all(o.local.get("account") != "kid-7" for o in result.overlaps)


def test_same_installation_matches_on_account_id(
    demo_service: dict[str, Any], sextortion_item: Any, shared_key: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signals.jsonl"
    export_signals([sextortion_item], shared_key, out)
    result = import_signals(out, shared_key, database_url=demo_service["database_url"])
    ids = [o for o in result.overlaps if o.kind == "account_id"]
    assert ids and ids[0].strength == "strong"
    assert int(sextortion_item.id) in ids[0].local["alerts"]


def test_another_key_or_a_bad_line_is_refused(
    sextortion_item: Any, shared_key: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signals.jsonl"
    export_signals([sextortion_item], shared_key, out)
    other = new_signals_key(tmp_path / "other.key")
    with pytest.raises(InputError, match="made with another key") as caught:
        import_signals(out, other, use_service=False)
    assert ":1" in str(caught.value)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(out.read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(InputError, match=r"broken\.jsonl:2: not JSON"):
        import_signals(broken, shared_key, use_service=False)
    no_header = tmp_path / "plain.jsonl"
    no_header.write_text('{"type": "signal"}\n')
    with pytest.raises(InputError, match="no header line"):
        import_signals(no_header, shared_key, use_service=False)


def test_cli_keygen_export_import(
    demo_service: dict[str, Any], partner: Any, tmp_path: Path
) -> None:
    runner = CliRunner()
    key = tmp_path / "cli.key"
    made = runner.invoke(app, ["report", "signals", "keygen", "--out", str(key)])
    assert made.exit_code == 0 and "key id" in made.output
    out = tmp_path / "s.jsonl"
    exported = runner.invoke(
        app,
        [
            "report",
            "signals",
            "export",
            "--state",
            "escalated",
            "--key-file",
            str(key),
            "--out",
            str(out),
            "--source",
            "Demo",
            "--database-url",
            demo_service["database_url"],
            "--data-dir",
            demo_service["data_dir"],
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert "1 signal(s) from 1 item(s)" in exported.output
    imported = runner.invoke(
        app,
        [
            "report",
            "signals",
            "import",
            str(out),
            "--key-file",
            str(key),
            "--json",
            "--database-url",
            partner.config.database_url,
        ],
    )
    assert imported.exit_code == 0, imported.output
    data = json.loads(imported.output)
    assert {o["kind"] for o in data["overlaps"]} >= {"display_name", "file"}
