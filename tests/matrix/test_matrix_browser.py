"""The HTML matrix in a real headless Chromium: every cell visible, hover and click work,
no script errors, and a screenshot for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosea.matrix import Matrix, render_html

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium not installed at /usr/bin/chromium (scripts/install-system-deps.sh)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _open(browser, tmp_path: Path, page_html: str):
    path = tmp_path / "matrix.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    return page, errors, requests


def test_every_technique_cell_is_visible_and_details_open(
    browser, tmp_path: Path, matrix: Matrix
) -> None:
    counts = {"T0101": 9, "T0103": 6, "T0401": 8, "T0403": 7, "T0601": 8, "T0701": 4, "T0702": 3}
    page, errors, requests = _open(
        browser, tmp_path, render_html(matrix, counts, title="COSEA matrix")
    )
    try:
        for technique_id in matrix.techniques:
            assert page.locator(f"#cell-{technique_id}").is_visible(), technique_id
        assert page.locator(".tactic-head").count() == len(matrix.tactics)

        page.hover("#cell-T0401")
        tooltip = page.locator("#tooltip")
        assert tooltip.is_visible()
        assert "Secrecy request" in tooltip.inner_text()

        ARTIFACTS.mkdir(exist_ok=True)
        page.mouse.move(0, 0)
        page.screenshot(path=str(ARTIFACTS / "matrix.png"), full_page=True)

        page.click("#cell-T0702")
        panel = page.locator("#panel")
        assert panel.is_visible()
        text = panel.inner_text()
        assert "Financial demand" in text and "INDICATORS" in text.upper() and "M0503" in text
        assert page.evaluate("location.hash") == "#T0702"
        page.screenshot(path=str(ARTIFACTS / "matrix-details.png"))

        page.keyboard.press("Escape")
        assert not panel.is_visible()

        page.select_option("#stakeholder", "banks-financial")
        assert "dim" in (page.get_attribute("#cell-T0101", "class") or "")
        assert "dim" not in (page.get_attribute("#cell-T0702", "class") or "")
        page.select_option("#stakeholder", "")
        page.fill("#search", "gift")
        assert "dim" not in (page.get_attribute("#cell-T0302", "class") or "")
        assert "dim" in (page.get_attribute("#cell-T0801", "class") or "")

        assert errors == []
        assert all(url.startswith("file://") for url in requests), requests
    finally:
        page.close()


def test_permalink_opens_a_tactic(browser, tmp_path: Path, matrix: Matrix) -> None:
    path = tmp_path / "matrix.html"
    path.write_text(render_html(matrix), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(path.as_uri() + "#TA07")
        panel = page.locator("#panel")
        assert panel.is_visible()
        assert "Kopecký" in panel.inner_text()
    finally:
        page.close()
