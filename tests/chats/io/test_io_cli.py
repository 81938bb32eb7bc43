from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from chat_samples import CSV_MAP, write
from typer.testing import CliRunner

from cosea.chats.cli_io import convert_command, reader_options, readers_command
from cosea.errors import InputError

app = typer.Typer()
app.command("readers")(readers_command)
app.command("convert")(convert_command)
runner = CliRunner()


def test_readers_table_lists_every_reader() -> None:
    result = runner.invoke(app, ["readers"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("jsonl", "pan12", "whatsapp", "telegram", "discord", "csv"):
        assert name in result.output
    assert "date_order" in result.output and "tz" in result.output


def test_convert_mixed_formats_to_jsonl(
    tmp_path: Path, pan12_file: Path, whatsapp_android: Path, csv_file: Path
) -> None:
    out = tmp_path / "converted.jsonl"
    result = runner.invoke(
        app,
        [
            "convert",
            str(pan12_file),
            str(whatsapp_android),
            str(csv_file),
            "--map",
            CSV_MAP,
            "-O",
            "tz=Europe/Berlin",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["aa01", "bb02", "WhatsApp Chat with Theo", "t1", "t2"]
    whatsapp = records[2]
    assert whatsapp["messages"][0]["ts"] == "2024-01-12T18:02:00+01:00"
    assert "read 5 conversation(s), 14 message(s) from 3 file(s)" in result.output


def test_convert_to_stdout_skips_bad_records_and_says_so(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rows.csv",
        "conversation,from,text\nc1,u1,hi\n,u2,no conversation\nc1,u2,hello\n",
    )
    result = runner.invoke(app, ["convert", str(path)])
    assert result.exit_code == 0
    assert f"skipped: {path}:3: empty 'conversation' column" in result.output
    assert '"text": "hello"' in result.output


def test_labels_only_when_asked(tmp_path: Path, jsonl_file: Path) -> None:
    out = tmp_path / "out.jsonl"
    runner.invoke(app, ["convert", str(jsonl_file), "-o", str(out)])
    assert "label" not in out.read_text()
    runner.invoke(app, ["convert", str(jsonl_file), "-o", str(out), "--with-labels"])
    assert '"label"' in out.read_text()


def test_strict_stops_and_keeps_an_earlier_output(tmp_path: Path, jsonl_file: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("earlier result\n")
    bad = write(tmp_path / "bad.jsonl", jsonl_file.read_text() + "not json\n")
    result = runner.invoke(app, ["convert", str(bad), "--strict", "-o", str(out)])
    assert isinstance(result.exception, InputError)
    assert result.exception.line == 3
    assert out.read_text() == "earlier result\n"
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_reader_options() -> None:
    options = reader_options("csv", CSV_MAP, ["tz=UTC", "grouped=true"])
    assert options["mapping"]["conversation"] == "thread_id"
    assert options["grouped"] == "true"  # parsed by the reader
    assert reader_options(None, CSV_MAP)["mapping"]["text"] == "body"
    assert reader_options("whatsapp", None, ["date_order=mdy"]) == {"date_order": "mdy"}
    with pytest.raises(InputError, match="only the csv reader"):
        reader_options("whatsapp", CSV_MAP)
    with pytest.raises(InputError, match="not KEY=VALUE"):
        reader_options("csv", None, ["grouped"])
    with pytest.raises(InputError, match="takes no option 'date_order'"):
        reader_options("csv", None, ["date_order=mdy"])
    with pytest.raises(InputError, match="date_order"):
        reader_options("whatsapp", None, ["date_order=dym"])
    with pytest.raises(InputError, match="unknown field"):
        reader_options("csv", "conversation=a,from=b,text=c,mood=d")


def test_nothing_read_is_a_failure(csv_file: Path) -> None:
    result = runner.invoke(
        app, ["convert", str(csv_file), "--map", "conversation=thread,from=sender,text=body"]
    )
    assert result.exit_code == 1
    assert "'thread' (for conversation)" in result.output
