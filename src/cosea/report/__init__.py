"""Reports and intelligence sharing: what happens after a reviewer confirms an alert.

Public surface::

    from cosea.report import load_item, write_evidence_package, verify_package
    item = load_item("12")                      # an alert id, or a triage case name
    write_evidence_package(item, "alert-12.zip")   # signed (Ed25519) zip with manifest
    verify_package("alert-12.zip").differences  # altered / missing / extra / bad-signature
    write_cybertip(item, "report.xml")          # CyberTipline-shaped draft + to-do list
    write_stix(item, "bundle.json", tlp="amber")  # sightings + hash indicators (STIX 2.1)
    export_signals([item], "partner.key", "signals.jsonl")   # keyed-HMAC pseudonyms
    import_signals("theirs.jsonl", "partner.key").overlaps
    build_playbook(["T0401", "T0601"], "parents", country="GB").to_markdown()

Nothing here sends anything over the network: every output is a file a person sends.
Names are resolved lazily so ``import cosea.report`` (done by the CLI) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosea._exports import lazy_getattr

if TYPE_CHECKING:
    from cosea.report.cybertip import validate_cybertip, write_cybertip
    from cosea.report.evidence import verify_package, write_evidence_package
    from cosea.report.hotlines import bodies_for, hotlines
    from cosea.report.playbook import Playbook, build_playbook
    from cosea.report.policy import ReportPolicy, load_policy
    from cosea.report.signals import export_signals, import_signals, new_signals_key
    from cosea.report.source import ReportItem, load_alert, load_case, load_item
    from cosea.report.stix import build_stix_bundle, validate_bundle, write_stix

_EXPORTS = {
    "ReportItem": "cosea.report.source",
    "load_alert": "cosea.report.source",
    "load_case": "cosea.report.source",
    "load_item": "cosea.report.source",
    "write_evidence_package": "cosea.report.evidence",
    "verify_package": "cosea.report.evidence",
    "write_cybertip": "cosea.report.cybertip",
    "validate_cybertip": "cosea.report.cybertip",
    "build_stix_bundle": "cosea.report.stix",
    "write_stix": "cosea.report.stix",
    "validate_bundle": "cosea.report.stix",
    "export_signals": "cosea.report.signals",
    "import_signals": "cosea.report.signals",
    "new_signals_key": "cosea.report.signals",
    "Playbook": "cosea.report.playbook",
    "build_playbook": "cosea.report.playbook",
    "hotlines": "cosea.report.hotlines",
    "bodies_for": "cosea.report.hotlines",
    "ReportPolicy": "cosea.report.policy",
    "load_policy": "cosea.report.policy",
}

__all__ = [
    "Playbook",
    "ReportItem",
    "ReportPolicy",
    "bodies_for",
    "build_playbook",
    "build_stix_bundle",
    "export_signals",
    "hotlines",
    "import_signals",
    "load_alert",
    "load_case",
    "load_item",
    "load_policy",
    "new_signals_key",
    "validate_bundle",
    "validate_cybertip",
    "verify_package",
    "write_cybertip",
    "write_evidence_package",
    "write_stix",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
