"""Shared report fixtures: a service database with the demo alerts, and a triage demo case.

Both are built once per session through the owners' real code paths (the service's
ingest, media matching and decisions; a triage scan of the benign demo folder), in
their own folders; each test still gets its own COSEA_HOME (keys, policy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def demo_service(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from cosea.report.demo import demo_runtime, seed_demo_alerts

    folder = tmp_path_factory.mktemp("report-service")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSEA_HOME", str(folder / "home"))
        runtime = demo_runtime(folder / "service")
        alerts = seed_demo_alerts(runtime)
    return {
        "runtime": runtime,
        "alerts": alerts,
        "database_url": runtime.config.database_url,
        "data_dir": runtime.config.data_dir,
    }


@pytest.fixture()
def sextortion_item(demo_service: dict[str, Any]) -> Any:
    """The demo sextortion alert: 9 messages, two pictures (one matched a list), escalated."""
    from cosea.report.source import load_alert

    return load_alert(
        demo_service["alerts"]["demo-en-02"], runtime=demo_service["runtime"], actor="tester"
    )


@pytest.fixture()
def grooming_item(demo_service: dict[str, Any]) -> Any:
    from cosea.report.source import load_alert

    return load_alert(
        demo_service["alerts"]["demo-en-01"], runtime=demo_service["runtime"], actor="tester"
    )


@pytest.fixture(scope="session")
def demo_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cases folder holding the triage demo case ``demo``."""
    from rich.console import Console

    from cosea.triage.demo import run_demo

    folder = tmp_path_factory.mktemp("report-triage")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSEA_HOME", str(folder / "home"))
        run_demo(folder, Console(quiet=True))
    return folder / "triage-cases"


@pytest.fixture()
def set_policy(cosea_home: Path) -> Any:
    """Write this test's report policy (``COSEA_HOME/report-policy.yaml``)."""

    def write(text: str) -> Path:
        path = cosea_home / "report-policy.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
