"""Triage: scan seized media into a case with chain of custody, verify it, report on it.

Public surface::

    from cosea.triage import Case, ScanOptions, scan, verify_case, export_report
    summary = scan(ScanOptions(case="op-1", sources=[Path("/evidence")], lists=["bank"]))
    with Case.open("op-1") as case:
        verify_case(case).ok                       # sources and custody log unchanged?
        export_report(case, "html", Path("report.html"), thumbnails=True)

Names are resolved lazily so that ``import cosea.triage`` (done by the CLI on every
start) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosea._exports import lazy_getattr

if TYPE_CHECKING:
    from cosea.triage.analyze import AnalysisSettings
    from cosea.triage.archives import Limits
    from cosea.triage.case import Case
    from cosea.triage.demo import run_demo
    from cosea.triage.reports import export_report
    from cosea.triage.scanner import ScanOptions, ScanSummary, scan
    from cosea.triage.verify import Verification, verify_case
    from cosea.triage.viewing import view_file

_EXPORTS = {
    "AnalysisSettings": "cosea.triage.analyze",
    "Limits": "cosea.triage.archives",
    "Case": "cosea.triage.case",
    "run_demo": "cosea.triage.demo",
    "export_report": "cosea.triage.reports",
    "ScanOptions": "cosea.triage.scanner",
    "ScanSummary": "cosea.triage.scanner",
    "scan": "cosea.triage.scanner",
    "Verification": "cosea.triage.verify",
    "verify_case": "cosea.triage.verify",
    "view_file": "cosea.triage.viewing",
}

__all__ = [
    "AnalysisSettings",
    "Case",
    "Limits",
    "ScanOptions",
    "ScanSummary",
    "Verification",
    "export_report",
    "run_demo",
    "scan",
    "verify_case",
    "view_file",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
