"""Looking at one file of a case: always metadata first, always recorded in custody.

``view_file`` returns the file's recorded facts (never its content) and, only when
asked, writes a blurred greyscale thumbnail to a path the examiner chose. Either way
the access is appended to the chain of custody before anything is returned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cosea.errors import InputError
from cosea.triage import custody
from cosea.triage.case import Case

_HIDDEN = {"exif", "vpdq"}


def file_facts(case: Case, file_id: int) -> dict[str, Any]:
    row = dict(case.file(file_id))
    facts = {k: v for k, v in row.items() if k not in _HIDDEN and v is not None}
    if row.get("exif"):
        facts["exif"] = json.loads(row["exif"])
    facts["matches"] = [
        dict(r)
        for r in case.conn.execute(
            "SELECT list_name, category, signal, distance FROM matches WHERE file_id = ?",
            (file_id,),
        )
    ]
    facts["errors"] = [
        dict(r)
        for r in case.conn.execute("SELECT kind, reason FROM errors WHERE path = ?", (row["path"],))
    ]
    facts["chats"] = [
        {k: r[k] for k in ("conversation_id", "risk", "class", "stage", "alert", "alert_message")}
        for r in case.conn.execute("SELECT * FROM chat_assessments WHERE file_id = ?", (file_id,))
    ]
    if row.get("cluster_id"):
        facts["cluster_members"] = [
            r[0]
            for r in case.conn.execute(
                "SELECT id FROM files WHERE cluster_id = ? ORDER BY id", (row["cluster_id"],)
            )
        ]
    return facts


def view_file(
    case: Case,
    file_id: int,
    examiner: str | None = None,
    thumbnail: Path | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The file's facts; with ``thumbnail``, also a blurred greyscale PNG written there."""
    with custody.recorded_access(case, "a view of a file"):
        facts = file_facts(case, file_id)
        written = None
        if thumbnail is not None:
            if facts.get("type_group") != "image":
                raise InputError(str(file_id), "only pictures have thumbnails")
            from cosea.triage.evidence import read_logical
            from cosea.triage.reports.thumbnails import blurred_pair

            data = read_logical(facts["path"], expected_sha256=facts.get("sha256"))
            blurred, _revealed = blurred_pair(data, facts["path"])
            thumbnail.parent.mkdir(parents=True, exist_ok=True)
            blurred.save(thumbnail, format="PNG")
            written = str(thumbnail.resolve())
        custody.append(
            case,
            "file-viewed",
            {
                "file_id": file_id,
                "path": facts["path"],
                "sha256": facts.get("sha256"),
                "shown": "metadata and a blurred greyscale thumbnail" if written else "metadata",
                "thumbnail": written,
                "reason": reason,
            },
            examiner,
        )
    if written:
        facts["thumbnail"] = written
    return facts
