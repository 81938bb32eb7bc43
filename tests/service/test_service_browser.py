"""End to end in headless Chromium: ``cosea serve --demo`` as a new user would start it,
then log in, open an alert, reveal a thumbnail, decide; plus the matrix, settings,
audit and administration pages. A screenshot of each page is kept under
``test-artifacts/console/``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from postgres_server import free_port
from service_testkit import need

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "console"
CHROMIUM = Path(os.environ.get("COSEA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def demo_server(database_url, cosea_home, tmp_path):
    """``cosea serve --demo`` in a subprocess on a free loopback port; yields (url, logins)."""
    port = free_port()
    env = dict(os.environ, COSEA_HOME=str(cosea_home), PYTHONUNBUFFERED="1", COLUMNS="200")
    if database_url.startswith("postgresql"):
        env["COSEA_DATABASE_URL"] = database_url
    else:
        env.pop("COSEA_DATABASE_URL", None)  # the demo picks its own SQLite database
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cosea", "serve", "--demo", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"cosea serve --demo exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"cosea serve --demo did not become ready:\n{log.read_text()}")
            time.sleep(0.3)
        output = log.read_text()
        logins = dict(re.findall(r"^\s+(\w+)\s+password\s+(\S+)", output, re.MULTILINE))
        assert {"reviewer", "auditor", "admin"} <= set(logins), output
        yield base, logins
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def browser():
    need(CHROMIUM.exists(), f"Chromium not found at {CHROMIUM}; run scripts/install-system-deps.sh")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def _login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def test_work_an_alert_in_the_console(demo_server, browser, database_url):
    base, logins = demo_server
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    shots = ARTIFACTS / backend
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((base, "data:", "blob:"))
            else outside.append(request.url)
        ),
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{base}/console/login")
    page.screenshot(path=str(shots / "01-login.png"), full_page=True)
    _login(page, base, "reviewer", logins["reviewer"])

    # The queue, highest risk first.
    assert page.url.endswith("/console/queue")
    page.screenshot(path=str(shots / "02-queue.png"), full_page=True)
    links = page.locator("a.alert-link")
    assert links.count() >= 1
    links.first.click()
    page.wait_for_load_state("networkidle")

    # The alert: timeline with highlighted evidence, stage bar, technique chips, media.
    assert re.search(r"/console/alerts/\d+$", page.url)
    assert page.locator("mark.evidence").count() >= 1
    assert page.locator(".stagebar li.reached").count() >= 1
    assert page.locator("a.chip.tech").count() >= 1
    blurred = page.locator("img.thumb.blurred")
    assert blurred.count() >= 1
    page.screenshot(path=str(shots / "03-alert.png"), full_page=True)

    # What to do: the platform's playbook first; a tab swaps in the parents' one (htmx),
    # with where to report, and the address follows so a reload keeps the choice.
    alert_url = page.url
    playbook = page.locator("#playbook")
    assert playbook.get_attribute("data-audience") == "platform"
    assert page.locator("#playbook .pb-body a[href^='https://']").count() >= 1
    page.click("#playbook-tab-parents")
    page.wait_for_selector("#playbook[data-audience='parents']")
    assert "parents" in page.locator("#playbook-title").inner_text().lower()
    assert page.locator("#playbook-tab-parents").get_attribute("aria-selected") == "true"
    assert page.url.endswith("audience=parents#playbook")
    page.select_option("#playbook-country", "GB")
    page.click("#playbook-country-submit")
    page.wait_for_selector("#playbook .pb-body[data-body='gb-iwf']")
    assert page.locator("#playbook").get_attribute("data-audience") == "parents"
    page.locator("#playbook").screenshot(path=str(shots / "03b-playbook-parents.png"))
    page.goto(alert_url)
    page.wait_for_load_state("networkidle")

    # Reveal one thumbnail: only that one changes.
    before = blurred.count()
    page.locator("button.reveal").first.click()
    page.wait_for_selector(".thumb-wrap.revealed img")
    assert page.locator("img.thumb.blurred").count() == before - 1
    page.screenshot(path=str(shots / "04-alert-revealed.png"), full_page=True)

    # A technique chip leads to the matrix entry.
    chip = page.locator("a.chip.tech").first
    technique = chip.get_attribute("href").rsplit("/", 1)[1]
    chip.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#technique-entry").is_visible()
    assert technique in page.title()
    page.screenshot(path=str(shots / "05-technique.png"), full_page=True)
    page.go_back()
    page.wait_for_load_state("networkidle")

    # Decide, with a reason.
    page.fill("#reason", "Age probing, secrecy and an image request from an adult account.")
    page.click("#decide-confirm")
    page.wait_for_load_state("networkidle")
    assert page.locator("#decision-recorded").is_visible()
    assert page.locator("#alert-state").text_content().strip() == "confirmed"
    assert "reviewer" in page.locator("#history").inner_text()
    page.screenshot(path=str(shots / "06-decided.png"), full_page=True)

    # The live heatmap of techniques across alerts.
    page.goto(f"{base}/console/matrix")
    page.wait_for_load_state("networkidle")
    assert (
        page.locator(
            ".hm-cell.level-1, .hm-cell.level-2, .hm-cell.level-3, .hm-cell.level-4, .hm-cell.level-5"
        ).count()
        >= 1
    )
    page.screenshot(path=str(shots / "07-matrix.png"), full_page=True)

    page.goto(f"{base}/console/settings")
    page.screenshot(path=str(shots / "08-settings.png"), full_page=True)
    page.click("button.link")  # log out
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/console/login")

    # The auditor sees the reviewer's work and verifies the chain.
    _login(page, base, "auditor", logins["auditor"])
    assert page.url.endswith("/console/audit")
    page.click("#verify-chain")
    page.wait_for_selector("#verify-ok")
    table = page.locator("#audit-table").inner_text()
    assert "alert.decision" in table and "media.reveal" in table and "user:reviewer" in table
    page.screenshot(path=str(shots / "09-audit.png"), full_page=True)
    page.click("button.link")
    page.wait_for_load_state("networkidle")

    _login(page, base, "admin", logins["admin"])
    assert page.url.endswith("/console/queue") is False
    page.goto(f"{base}/console/admin")
    page.screenshot(path=str(shots / "10-admin.png"), full_page=True)

    context.close()
    assert outside == [], f"the console fetched from outside: {outside}"
    assert errors == [], errors
