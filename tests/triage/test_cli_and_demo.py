"""The ``cosea triage`` commands, file views in custody, and the demo end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console
from triage_helpers import run_scan
from typer.testing import CliRunner

from cosea.cli import app
from cosea.triage import custody
from cosea.triage.case import Case
from cosea.triage.demo import demo_folder, run_demo


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, ["triage", *args])


def test_scan_report_view_show_through_the_cli(evidence: Path, cases: Path, tmp_path: Path) -> None:
    result = invoke(
        "scan",
        str(evidence),
        "--case",
        "cli",
        "--cases-dir",
        str(cases),
        "--examiner",
        "jd",
        "--workers",
        "1",
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["totals"]["files"] == 7
    out = tmp_path / "r.html"
    report = invoke(
        "report", "cli", "--cases-dir", str(cases), "--format", "html", "--out", str(out)
    )
    assert report.exit_code == 0 and out.exists()
    with Case.open("cli", cases) as case:
        file_id = case.conn.execute("SELECT id FROM files WHERE name = 'a.jpg'").fetchone()[0]
    thumbnail = tmp_path / "thumb.png"
    viewed = invoke(
        "view",
        "cli",
        str(file_id),
        "--cases-dir",
        str(cases),
        "--examiner",
        "reviewer",
        "--thumbnail",
        str(thumbnail),
        "--reason",
        "check cluster",
    )
    assert viewed.exit_code == 0, viewed.output
    facts = json.loads(viewed.output)
    assert facts["camera_model"] == "FO-1" and facts["cluster_members"]
    assert "data" not in facts  # metadata only, never the content
    picture = Image.open(thumbnail)
    assert picture.mode == "L" and max(picture.size) <= 128
    with Case.open("cli", cases) as case:
        last = custody.entries(case)[-1]
    assert last["event"] == "file-viewed" and last["actor"] == "reviewer"
    assert last["data"]["file_id"] == file_id and last["data"]["reason"] == "check cluster"
    shown = invoke("show", "cli", "--cases-dir", str(cases))
    assert shown.exit_code == 0 and "files" in shown.output


def test_cli_errors_are_clear(tmp_path: Path, cases: Path) -> None:
    def run(*args: str) -> tuple[int, str]:
        import subprocess
        import sys

        process = subprocess.run(
            [sys.executable, "-m", "cosea", "triage", *args],
            capture_output=True,
            text=True,
            env={"COSEA_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        )
        return process.returncode, process.stderr

    code, err = run("scan", str(tmp_path), "--case", "../escape", "--cases-dir", str(cases))
    assert code == 2 and "case name" in err and "Traceback" not in err
    code, err = run("scan", str(tmp_path / "missing"), "--case", "x", "--cases-dir", str(cases))
    assert code == 2 and "no such file or folder" in err
    code, err = run("verify", "nope", "--cases-dir", str(cases))
    assert code == 2 and "no case named 'nope'" in err
    code, err = run(
        "scan", str(tmp_path), "--case", "x", "--lists", "no-such-list", "--cases-dir", str(cases)
    )
    assert code == 2 and "no-such-list" in err


def test_view_of_a_missing_file_id(evidence: Path, cases: Path) -> None:
    run_scan([evidence], cases)
    result = invoke("view", "t", "999", "--cases-dir", str(cases))
    assert result.exit_code != 0


def test_demo_folder_is_benign_and_complete(tmp_path: Path) -> None:
    info = demo_folder(tmp_path / "demo")
    names = {p.relative_to(tmp_path / "demo").as_posix() for p in (tmp_path / "demo").rglob("*")}
    for expected in (
        "DCIM/IMG_0001.jpg",
        "copies/IMG_0002_small.jpg",
        "phone-backup.zip",
        "chats/WhatsApp Chat with Alex.txt",
        "chats/messages.jsonl",
        "damaged/broken.jpg",
        "documents/notes.txt",
    ):
        assert expected in names
    assert info["listed"]
    text = (tmp_path / "demo" / "chats" / "messages.jsonl").read_text()
    assert "send me a private pic" in text  # warning-sign phrases only, per the content rules


def test_run_demo(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "out", Console(file=open("/dev/null", "w")))  # noqa: SIM115
    assert result["verified"] is True
    assert result["matched_files"] >= 3
    assert result["clusters"] >= 2
    assert result["errors"] >= 1  # the damaged picture
    if result.get("chat_alerts") is not None:
        assert result["chat_alerts"] >= 1
    report = Path(result["report"]).read_text(encoding="utf-8")
    assert "Chain of custody" in report and "data:image/jpeg;base64," in report


@pytest.mark.browser
def test_thumbnails_reveal_one_at_a_time_in_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (scripts/install-system-deps.sh)")
    playwright = pytest.importorskip("playwright.sync_api")
    result = run_demo(tmp_path / "out", Console(file=open("/dev/null", "w")))  # noqa: SIM115
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(Path(result["report"]).as_uri())
        figures = page.locator(".thumb")
        assert figures.count() >= 2
        assert page.locator(".thumb.revealed").count() == 0
        figures.nth(0).click()
        first = figures.nth(0).locator("img").get_attribute("src")
        assert first == figures.nth(0).get_attribute("data-revealed")
        figures.nth(1).click()
        assert page.locator(".thumb.revealed").count() == 1
        assert figures.nth(0).locator("img").get_attribute("src") == figures.nth(0).get_attribute(
            "data-blurred"
        )
        browser.close()
    assert all(url.startswith(("file:", "data:")) for url in requests)
