"""The case's hashes and categories as VICS 2.0 JSON (Project VIC data model, US).

Griffeye Analyze, Magnet AXIOM and IPED import this to carry a triage's findings
into a full review: one Media record per distinct content (MD5), with SHA-1, SHA-256
and PDQ (``AlternativeHashes``), the paths it was found at (``MediaFiles``) and a
``Category`` where the case knows one — a list match mapped to its VICS code through
the list's category scheme (the most serious wins), or ``0`` (non-pertinent) for
known files. Files nobody has categorised carry no Category.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from cosea import __version__
from cosea.triage import custody
from cosea.triage.case import Case

CONTEXT_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
# Which VICS code wins when one content carries several (most serious first).
_PRIORITY = {"1": 0, "2": 1, "3": 2, "4": 3, "0": 4}


def _list_schemes(case: Case) -> dict[str, str]:
    schemes: dict[str, str] = {}
    for entry in custody.entries(case):
        if entry["event"] == "scan-started" and isinstance(entry["data"], dict):
            for used in entry["data"].get("lists") or []:
                schemes[used["list"]] = used.get("scheme") or "default"
    return schemes


def _vics_code(list_scheme: str | None, category: str | None) -> str | None:
    if not category:
        return None
    try:
        from cosea.media.lists.schemes import get_scheme

        vics = get_scheme("vics")
        source = get_scheme(list_scheme or "default")
        code = source.resolve(category) or category
        mapped = source.map_to(code, vics)
    except Exception:  # an unknown scheme or category: leave it uncategorised
        return None
    return mapped if mapped in _PRIORITY else None


def _better(current: str | None, candidate: str | None) -> str | None:
    if candidate is None:
        return current
    if current is None or _PRIORITY[candidate] < _PRIORITY[current]:
        return candidate
    return current


def write_vics(case: Case, out: Path) -> int:
    """Write the case as VICS 2.0 JSON; returns the number of Media records."""
    schemes = _list_schemes(case)
    categories: dict[int, str | None] = {}
    for file_id, list_name, category in case.conn.execute(
        "SELECT file_id, list_name, category FROM matches"
    ):
        categories[file_id] = _better(
            categories.get(file_id), _vics_code(schemes.get(list_name), category)
        )
    media: dict[str, dict[str, Any]] = {}
    rows = case.conn.execute(
        "SELECT id, path, name, size, md5, sha1, sha256, pdq, known, known_source, cluster_id, "
        "mtime FROM files WHERE md5 IS NOT NULL AND status = 'ok' ORDER BY id"
    )
    for row in rows:
        key = row["md5"]
        record = media.get(key)
        if record is None:
            record = {
                "MediaID": len(media) + 1,
                "MD5": row["md5"].upper(),
                "SHA1": (row["sha1"] or "").upper() or None,
                "MediaSize": row["size"],
                "AlternativeHashes": [{"HashName": "SHA256", "HashValue": row["sha256"]}],
                "MediaFiles": [],
            }
            if row["pdq"]:
                record["AlternativeHashes"].append({"HashName": "PDQ", "HashValue": row["pdq"]})
            media[key] = record
        code = categories.get(row["id"])
        if row["known"]:
            code = _better(code, "0")
        if code is not None:
            current = record.get("Category")
            best = _better(None if current is None else str(current), code)
            record["Category"] = int(best) if best is not None else None
        notes = []
        if row["known"]:
            notes.append(f"known file ({row['known_source']})")
        if row["cluster_id"]:
            notes.append(f"near-duplicate cluster {row['cluster_id']}")
        if notes:
            record["Comments"] = "; ".join(sorted(set(notes)))
        record["MediaFiles"].append(
            {"FileName": row["name"], "FilePath": row["path"], "Modified": row["mtime"]}
        )
    case_record = {
        "CaseID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cosea-case:{case.db_path.resolve()}")),
        "CaseNumber": case.name,
        "SourceApplicationName": "cosea",
        "SourceApplicationVersion": __version__,
    }
    with out.open("w", encoding="utf-8") as handle:
        handle.write("{\n")
        handle.write(f'"@odata.context": {json.dumps(CONTEXT_20)},\n')
        handle.write('"value": [')
        handle.write(json.dumps(case_record)[:-1])
        handle.write(', "Media": [\n')
        for number, record in enumerate(media.values()):
            if number:
                handle.write(",\n")
            handle.write(
                json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False)
            )
        handle.write("\n]}]\n}\n")
    return len(media)
