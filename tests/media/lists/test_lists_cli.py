from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lists_helpers import md5_of, pdq_of, sha1_of
from typer.testing import CliRunner

from cosea.cli import app
from cosea.errors import CoseaError, ValidationFailed
from cosea.media.lists import ListStore

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rich wraps at 80 columns without a terminal; long temporary paths would split.
    monkeypatch.setenv("COLUMNS", "300")


def cosea(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["lists", *args], input=input)


def test_create_import_show_list_export(tmp_path: Path) -> None:
    hashes = tmp_path / "bank.txt"
    hashes.write_text("\n".join(md5_of(i) for i in range(6)) + f"\n{md5_of(0)}\n")
    result = cosea("create", "bank", "--description", "benign test bank")
    assert result.exit_code == 0, result.output
    assert "Created list bank" in result.output

    result = cosea("import", "bank", str(hashes), "--format", "text", "--category", "known-abuse")
    assert result.exit_code == 0, result.output
    assert "added" in result.output and "6" in result.output
    assert "line 7" in result.output  # the duplicate

    result = cosea("show", "bank")
    assert result.exit_code == 0, result.output
    assert "md5" in result.output and "known-abuse" in result.output
    assert ListStore().list_digest("bank") in result.output.replace("\n", "")

    result = cosea("list")
    assert result.exit_code == 0 and "bank" in result.output

    out = tmp_path / "bank.csv"
    result = cosea("export", "bank", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Wrote 6 entries" in result.output
    assert out.read_text().startswith("signal,hash,category")


def test_import_formats_are_guessed_and_list_created(tmp_path: Path) -> None:
    vics = tmp_path / "set.json"
    vics.write_text(
        json.dumps(
            {
                "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
                "value": [{"MediaID": 1, "MD5": md5_of(1), "SHA1": sha1_of(1), "Category": 1}],
            }
        )
    )
    result = cosea("import", "vic", str(vics), "--create", "--scheme", "vics")
    assert result.exit_code == 0, result.output
    info = ListStore().get_list("vic")
    assert info.category_scheme == "vics" and ListStore().stats("vic")["total"] == 2


def test_bad_input_is_a_cosea_error_and_nothing_is_imported(tmp_path: Path) -> None:
    cosea("create", "bank")
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{md5_of(1)}\nnot-hex\n")
    result = cosea("import", "bank", str(bad), "--format", "text")
    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationFailed)
    assert "line 2" in str(result.exception)
    assert ListStore().stats("bank")["total"] == 0

    result = cosea("import", "bank", str(bad), "--format", "text", "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "Skipped 1 invalid" in result.output and "line 2" in result.output

    result = cosea("import", "bank", str(tmp_path / "x.json"))
    assert isinstance(result.exception, CoseaError)


def test_command_line_errors_print_file_and_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{md5_of(1)}\n{md5_of(2)[:20]}\n")
    env = {**os.environ, "COLUMNS": "250"}
    subprocess.run(
        [sys.executable, "-m", "cosea", "lists", "create", "bank"],
        env=env,
        check=True,
        capture_output=True,
    )
    completed = subprocess.run(
        [sys.executable, "-m", "cosea", "lists", "import", "bank", str(bad), "--format", "text"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert f"{bad}: 1 invalid item(s)" in completed.stderr
    assert "line 2: 20 hex digits" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_disable_enable_and_delete(tmp_path: Path) -> None:
    store = ListStore()
    store.create_list("bank")
    store.add_entries("bank", [{"hash": pdq_of(i), "signal": "pdq"} for i in range(4)])
    result = cosea("disable", "bank", "--hash", pdq_of(0), "--hash", pdq_of(1))
    assert result.exit_code == 0, result.output
    assert "Disabled 2 of 2" in result.output
    listed = tmp_path / "to-enable.txt"
    listed.write_text(f"# re-enable\n{pdq_of(0)}\n")
    assert "Enabled 1 of 1" in cosea("enable", "bank", "--file", str(listed)).output
    entry_id = store.lookup("pdq", pdq_of(2))[0].id
    assert "Disabled 1 of 1" in cosea("disable", "bank", "--hash", f"#{entry_id}").output
    assert store.stats("bank")["enabled"] == 2

    assert "Disabled list bank" in cosea("disable", "bank").output
    assert not store.get_list("bank").enabled
    assert "Enabled list bank" in cosea("enable", "bank").output

    result = cosea("delete", "bank", input="n\n")
    assert result.exit_code == 1 and store.has_list("bank")
    result = cosea("delete", "bank", input="y\n")
    assert result.exit_code == 0 and "Deleted list bank (4 entries)" in result.output
    assert not store.has_list("bank")


def test_schemes_command_shows_categories() -> None:
    result = cosea("schemes", "caid")
    assert result.exit_code == 0
    assert "Category A" in result.output and "not-indecent" in result.output
