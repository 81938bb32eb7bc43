"""``cosea matrix`` commands, run through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stix2
from typer.testing import CliRunner

from cosea.cli import app as cosea_app
from cosea.matrix.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "160"})


def test_mounted_under_cosea() -> None:
    result = runner.invoke(cosea_app, ["matrix", "--help"])
    assert result.exit_code == 0
    for command in ("list", "show", "search", "export", "validate"):
        assert command in result.output


def test_list_techniques_by_tactic() -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    assert "T0101" in result.output and "T1003" in result.output
    assert result.output.index("TA01 Reconnaissance") < result.output.index("TA10 Monetisation")


def test_list_one_tactic_and_other_kinds() -> None:
    result = run("list", "--tactic", "TA04")
    assert result.exit_code == 0
    assert "T0403" in result.output and "T0101" not in result.output
    tactics = run("list", "tactics")
    assert tactics.exit_code == 0 and "Isolation and secrecy" in tactics.output
    mitigations = run("list", "mitigations", "--stakeholder", "banks-financial")
    assert (
        mitigations.exit_code == 0
        and "M0504" in mitigations.output
        and "M0101" not in mitigations.output
    )
    stakeholders = run("list", "stakeholders")
    assert "schools-educators" in stakeholders.output


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("T0401", ["Secrecy request", "Indicators", "dont tell your parents", "M0104"]),
        ("ta07", ["Coercion and extortion", "Kopecký", "T0701"]),
        ("M0111", ["Sextortion response flow", "T0702"]),
        ("banks-financial", ["Banks and financial institutions", "Strategic initiatives", "M0504"]),
    ],
)
def test_show_any_entry(identifier: str, expected: list[str]) -> None:
    result = run("show", identifier)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output


def test_show_technique_for_one_stakeholder() -> None:
    result = run("show", "T0702", "--stakeholder", "banks-financial")
    assert result.exit_code == 0
    assert "M0503" in result.output and "M0111" not in result.output


def test_show_unknown_id_exits_2_with_a_message() -> None:
    result = run("show", "T9999")
    assert result.exit_code == 2
    assert "T9999" in result.output and "Traceback" not in result.output


def test_search() -> None:
    result = run("search", "are", "you", "alone")
    assert result.exit_code == 0
    rows = [line for line in result.output.splitlines() if line.startswith("│ ") and "T0" in line]
    assert "T0103" in rows[0]
    assert run("search", "zzzqqq").exit_code == 1


@pytest.mark.parametrize("format", ["stix", "navigator", "csv", "markdown", "html"])
def test_export_to_stdout(format: str) -> None:
    result = run("export", "--format", format)
    assert result.exit_code == 0, result.output
    assert "T0401" in result.output
    if format in ("stix", "navigator"):
        json.loads(result.output)


def test_export_to_file_with_counts(tmp_path: Path) -> None:
    counts = tmp_path / "counts.json"
    counts.write_text('{"T0401": 4, "T0701": 2}', encoding="utf-8")
    out = tmp_path / "out" / "layer.json"
    result = run("export", "-f", "navigator", "--counts", str(counts), "--out", str(out))
    assert result.exit_code == 0, result.output
    layer = json.loads(out.read_text(encoding="utf-8"))
    scores = {t["techniqueID"]: t.get("score") for t in layer["techniques"]}
    assert scores["T0401"] == 4 and scores["T0101"] == 0
    html = tmp_path / "heat.html"
    assert (
        run(
            "export", "-f", "html", "-c", str(counts), "-o", str(html), "--title", "Case 7"
        ).exit_code
        == 0
    )
    assert "<title>Case 7</title>" in html.read_text(encoding="utf-8")
    stix_file = tmp_path / "bundle.json"
    assert run("export", "-f", "stix", "-o", str(stix_file)).exit_code == 0
    stix2.parse(stix_file.read_text(encoding="utf-8"), allow_custom=True)


def test_export_rejects_bad_counts_and_formats(tmp_path: Path) -> None:
    counts = tmp_path / "counts.json"
    counts.write_text('{"T0499": 4}', encoding="utf-8")
    result = run("export", "-f", "html", "--counts", str(counts))
    assert result.exit_code == 2 and "T0499" in result.output
    result = run("export", "-f", "pdf")
    assert result.exit_code == 2 and "unknown export format" in result.output


def test_validate_good_and_bad(data_copy: Path) -> None:
    good = run("validate", str(data_copy))
    assert good.exit_code == 0, good.output
    assert "valid" in good.output and "34 techniques" in good.output
    techniques = data_copy / "techniques.yaml"
    techniques.write_text(
        techniques.read_text(encoding="utf-8").replace(
            "    tactic: TA08\n", "    tactic: TA88\n", 1
        ),
        encoding="utf-8",
    )
    bad = run("validate", str(data_copy))
    assert bad.exit_code == 1
    assert "problem(s)" in bad.output
    assert "techniques.yaml:" in bad.output and "[technique T0801]" in bad.output
    assert "tactic TA88 does not exist" in bad.output


def test_commands_use_a_user_matrix_from_data_option(data_copy: Path) -> None:
    techniques = data_copy / "techniques.yaml"
    techniques.write_text(
        techniques.read_text(encoding="utf-8").replace("name: Age probing", "name: Age questions"),
        encoding="utf-8",
    )
    result = run("show", "T0101", "--data", str(data_copy))
    assert result.exit_code == 0 and "Age questions" in result.output
    broken = data_copy / "tactics.yaml"
    broken.write_text("schema_version: 1\ntactics: [\n", encoding="utf-8")
    result = run("list", "--data", str(data_copy))
    assert result.exit_code == 2 and "YAML syntax error" in result.output
