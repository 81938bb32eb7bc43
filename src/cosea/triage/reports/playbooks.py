"""The case's stakeholder playbooks: what the investigator (and those they work with) should
do about what the case holds, and where to report.

Built with :func:`cosea.report.build_playbook` from the techniques the case's conversations
showed and whether any file matched a hash list; law enforcement comes first, then the
other readers in the order the playbooks define. Nothing here reads content: only
technique ids, the match count and the conversations' classes.
"""

from __future__ import annotations

import json
from typing import Any

from cosea.errors import CoseaError
from cosea.triage.case import Case

NOTHING_TO_RECOMMEND = (
    "Nothing to recommend: no conversation in this case showed a technique of the COSEA "
    "matrix and no file matched a hash list. The playbooks apply once a scan finds either."
)


def audiences() -> list[str]:
    """Law enforcement first (the examiner's reader), then the others as the playbooks list them."""
    from cosea.report.hotlines import AUDIENCES

    return ["law-enforcement", *(a for a in AUDIENCES if a != "law-enforcement")]


def _case_basis(case: Case) -> dict[str, Any]:
    techniques: dict[str, int] = {}
    alert_classes: list[tuple[float, str]] = []
    for raw, alert, risk, cls in case.conn.execute(
        "SELECT techniques, alert, risk, class FROM chat_assessments"
    ):
        for ids in json.loads(raw or "{}").values():
            for technique in ids:
                techniques[technique] = techniques.get(technique, 0) + 1
        if alert and cls:
            alert_classes.append((float(risk or 0.0), cls))
    matched_files = case.count("SELECT COUNT(DISTINCT file_id) FROM matches")
    return {
        "techniques": sorted(techniques, key=lambda t: (-techniques[t], t)),
        # Steps that depend on the class follow the most serious conversation that alerted.
        "class": max(alert_classes)[1] if alert_classes else None,
        "media_matched": matched_files > 0,
        "matched_files": matched_files,
    }


def case_playbooks(case: Case, country: str | None = None) -> dict[str, Any]:
    """The playbook section of a triage report, as plain JSON-able data.

    ``country`` chooses the reporting bodies; without it the report policy's country is
    used, else international bodies only. A playbook that cannot be built (a broken report
    policy, say) is reported as a problem: the report itself must still be written.
    """
    basis = _case_basis(case)
    section: dict[str, Any] = {
        "basis": basis,
        "audiences": [],
        "nothing_to_recommend": False,
        "message": None,
        "problem": None,
        "country": None,
    }
    if not basis["techniques"] and not basis["media_matched"]:
        section["nothing_to_recommend"] = True
        section["message"] = NOTHING_TO_RECOMMEND
        return section
    try:
        from cosea.report.naming import matrix
        from cosea.report.playbook import build_playbook

        known = matrix().techniques
        techniques = [t for t in basis["techniques"] if t in known]
        unknown = [t for t in basis["techniques"] if t not in known]
        for audience in audiences():
            playbook = build_playbook(
                techniques,
                audience,
                country,
                cls=basis["class"],
                media_matched=basis["media_matched"],
            ).to_dict()
            # The library's note names the playbook command's flag; reports take the policy's.
            playbook["notes"] = [
                note.replace("(--country)", "(set country in the report policy)")
                for note in playbook["notes"]
            ]
            if unknown:
                playbook["notes"].append(f"Not in the matrix, not covered: {', '.join(unknown)}.")
            section["audiences"].append(playbook)
    except CoseaError as error:
        section["audiences"] = []
        section["problem"] = f"The playbooks could not be built: {error}"
        return section
    section["country"] = section["audiences"][0]["country"] if section["audiences"] else None
    if not techniques:
        section["message"] = (
            "No conversation in this case showed a technique of the COSEA matrix; "
            f"{basis['matched_files']} file(s) matched a hash list, so the steps for "
            "known material apply."
        )
    return section
