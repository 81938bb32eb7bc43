"""Everything a triage report says, gathered once from the case as plain JSON-able data.

HTML, PDF and JSON are renderings of this one structure, so they never disagree.
No picture is read here; thumbnails are added separately and only on request.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from typing import Any

from cosea import __version__
from cosea.triage import custody
from cosea.triage.case import Case, utc_now
from cosea.triage.scanner import case_totals

MAX_ROWS = 2000  # per table in HTML/PDF; the JSON export has them all via the case itself


@cache
def _matrix() -> Any | None:
    try:
        from cosea.matrix import load

        return load()
    except Exception:  # the report must not fail because the matrix is unavailable
        return None


def technique_label(technique_id: str) -> dict[str, str | None]:
    matrix = _matrix()
    name = tactic = tactic_name = None
    if matrix is not None:
        try:
            name = matrix.technique(technique_id).name
            found = matrix.tactic_of(technique_id)
            tactic, tactic_name = found.id, found.name
        except Exception:
            pass
    return {"id": technique_id, "name": name, "tactic": tactic, "tactic_name": tactic_name}


def tactic_label(tactic_id: str | None) -> str | None:
    if not tactic_id:
        return None
    matrix = _matrix()
    if matrix is not None:
        try:
            return f"{tactic_id} {matrix.tactic(tactic_id).name}"
        except Exception:
            pass
    return tactic_id


def _rows(case: Case, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    return [dict(row) for row in case.conn.execute(sql, params)]


def _date_of(row: dict[str, Any]) -> str | None:
    for key in ("taken_at", "mtime"):
        value = row.get(key)
        if value:
            return str(value)[:10]
    return None


def collect(case: Case, *, max_rows: int = MAX_ROWS, country: str | None = None) -> dict[str, Any]:
    """The report's content; ``country`` chooses the playbooks' reporting bodies."""
    from cosea.triage.reports.playbooks import case_playbooks

    totals = case_totals(case)
    chain = custody.check(case)
    scans = []
    for row in _rows(case, "SELECT * FROM scans ORDER BY id"):
        row["settings"] = json.loads(row["settings"]) if row.get("settings") else None
        row["summary"] = json.loads(row["summary"]) if row.get("summary") else None
        scans.append(row)
    sources = _rows(case, "SELECT path, kind, sha256, manifest_files, size, hashed_at FROM sources")
    by_group = dict(
        case.conn.execute(
            "SELECT COALESCE(type_group, 'other'), COUNT(*) FROM files GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    )
    by_type = dict(
        case.conn.execute(
            "SELECT COALESCE(detected_type, 'unknown'), COUNT(*) FROM files "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 40"
        ).fetchall()
    )
    by_category = [
        {"list": r[0], "category": r[1] or "-", "files": r[2], "matches": r[3]}
        for r in case.conn.execute(
            "SELECT list_name, category, COUNT(DISTINCT file_id), COUNT(*) FROM matches "
            "GROUP BY 1, 2 ORDER BY 1, 3 DESC"
        )
    ]
    matches = _rows(
        case,
        "SELECT m.file_id, f.path, f.type_group, m.list_name, m.category, m.signal, m.distance, "
        "f.cluster_id FROM matches m JOIN files f ON f.id = m.file_id "
        "ORDER BY m.list_name, m.category, m.distance, f.path LIMIT ?",
        (max_rows,),
    )
    clusters = []
    for cluster in _rows(case, "SELECT * FROM clusters ORDER BY id LIMIT ?", (max_rows,)):
        members = _rows(
            case,
            "SELECT id, path FROM files WHERE cluster_id = ? ORDER BY id LIMIT 50",
            (cluster["id"],),
        )
        matched = case.count(
            "SELECT COUNT(DISTINCT m.file_id) FROM matches m JOIN files f ON f.id = m.file_id "
            "WHERE f.cluster_id = ?",
            (cluster["id"],),
        )
        clusters.append({**cluster, "members": members, "matched_members": matched})
    dated = _rows(
        case,
        "SELECT taken_at, mtime, type_group FROM files WHERE status = 'ok' AND known = 0",
    )
    timeline = Counter(d for d in (_date_of(r) for r in dated) if d)
    taken = Counter(str(r["taken_at"])[:10] for r in dated if r.get("taken_at"))
    cameras = [
        {"make": r[0] or "-", "model": r[1] or "-", "files": r[2]}
        for r in case.conn.execute(
            "SELECT camera_make, camera_model, COUNT(*) FROM files "
            "WHERE camera_make IS NOT NULL OR camera_model IS NOT NULL "
            "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 100"
        )
    ]
    software = [
        {"software": r[0], "files": r[1]}
        for r in case.conn.execute(
            "SELECT software, COUNT(*) FROM files WHERE software IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 50"
        )
    ]
    gps = _rows(
        case,
        "SELECT id AS file_id, path, gps_lat AS lat, gps_lon AS lon, taken_at, camera_model "
        "FROM files WHERE gps_lat IS NOT NULL AND gps_lon IS NOT NULL ORDER BY taken_at, id "
        "LIMIT ?",
        (max_rows,),
    )
    errors_by_kind = dict(
        case.conn.execute("SELECT kind, COUNT(*) FROM errors GROUP BY 1 ORDER BY 2 DESC").fetchall()
    )
    errors = _rows(
        case, "SELECT path, kind, reason, at FROM errors ORDER BY kind, path LIMIT ?", (max_rows,)
    )
    mismatches = _rows(
        case,
        "SELECT id AS file_id, path, extension, detected_type, mime FROM files "
        "WHERE ext_mismatch = 1 ORDER BY path LIMIT ?",
        (max_rows,),
    )
    known_sources = dict(
        case.conn.execute(
            "SELECT known_source, COUNT(*) FROM files WHERE known = 1 GROUP BY 1"
        ).fetchall()
    )
    chats = []
    technique_counts: Counter[str] = Counter()
    for row in _rows(
        case,
        "SELECT c.*, f.path FROM chat_assessments c JOIN files f ON f.id = c.file_id "
        "ORDER BY c.alert DESC, c.risk DESC LIMIT ?",
        (max_rows,),
    ):
        techniques: dict[str, list[str]] = json.loads(row["techniques"] or "{}")
        counts: Counter[str] = Counter(t for ids in techniques.values() for t in ids)
        technique_counts.update(counts)
        evidence = json.loads(row["evidence"] or "[]")
        chats.append(
            {
                "file_id": row["file_id"],
                "path": row["path"],
                "conversation_id": row["conversation_id"],
                "reader": row["reader"],
                "risk": round(float(row["risk"] or 0.0), 3),
                "class": row["class"],
                "suspect": row["suspect"],
                "stage": tactic_label(row["stage"]),
                "alert": bool(row["alert"]),
                "alert_message": row["alert_message"],
                "messages": row["messages"],
                "tactics": [tactic_label(t) for t in json.loads(row["tactics"] or "[]")],
                "techniques": [
                    {**technique_label(t), "count": n} for t, n in sorted(counts.items())
                ],
                "reasons": _top_reasons(evidence),
            }
        )
    lists_used: dict[str, dict[str, Any]] = {}
    examiners: set[str] = set()
    entries = custody.entries(case)
    for entry in entries:
        if entry["actor"]:
            examiners.add(entry["actor"])
        if entry["event"] == "scan-started" and isinstance(entry["data"], dict):
            for used in entry["data"].get("lists") or []:
                lists_used[used["list"]] = used
    return {
        "report": {
            "generated_at": utc_now(),
            "tool": "cosea",
            "version": __version__,
        },
        "case": {
            "name": case.name,
            "path": str(case.db_path),
            "created_at": case.meta("created_at"),
            "examiners": sorted(examiners),
        },
        "scans": scans,
        "sources": sources,
        "totals": totals,
        "by_group": by_group,
        "by_type": by_type,
        "by_category": by_category,
        "lists": list(lists_used.values()),
        "known_sources": known_sources,
        "matches": matches,
        "clusters": clusters,
        "timeline": dict(sorted(timeline.items())),
        "timeline_taken": dict(sorted(taken.items())),
        "cameras": cameras,
        "software": software,
        "gps": gps,
        "errors_by_kind": errors_by_kind,
        "errors": errors,
        "mismatches": mismatches,
        "chats": chats,
        "techniques": [
            {**technique_label(t), "count": n} for t, n in technique_counts.most_common()
        ],
        "playbook": case_playbooks(case, country),
        "custody": {
            "intact": chain.intact,
            "problems": chain.problems,
            "head": chain.head,
            "entries": [
                {
                    "id": e["id"],
                    "at": e["at"],
                    "event": e["event"],
                    "actor": e["actor"],
                    "summary": summarise_entry(e),
                    "hash": e["hash"],
                }
                for e in entries
            ],
        },
    }


def _top_reasons(evidence: list[dict[str, Any]], limit: int = 5) -> list[str]:
    """The strongest distinct reasons behind a conversation's score."""
    reasons: list[str] = []
    for item in sorted(evidence, key=lambda e: -float(e.get("contribution") or 0.0)):
        reason = item.get("reason")
        if reason and reason not in reasons:
            reasons.append(reason)
        if len(reasons) == limit:
            break
    return reasons


def summarise_entry(entry: dict[str, Any]) -> str:
    """One readable line per custody entry."""
    data = entry["data"] if isinstance(entry["data"], dict) else {}
    event = entry["event"]
    if event == "scan-started":
        sources = ", ".join(s.get("path", "?") for s in data.get("sources") or [])
        lists = ", ".join(f"{x['list']} ({x['digest'][:12]}…)" for x in data.get("lists") or [])
        text = f"scan {data.get('scan')} by cosea {data.get('version')} of {sources}"
        if lists:
            text += f"; lists {lists}"
        if data.get("known_files"):
            known = data["known_files"]
            text += f"; known files {known.get('path') or known.get('list')}"
        if data.get("resumes"):
            text += f"; resumes scan(s) {data['resumes']}"
        return text
    if event == "source-hashed":
        return f"{data.get('kind')} {data.get('source')}: SHA-256 {data.get('sha256')} ({data.get('files')} file(s))"
    if event == "scan-ended":
        run = data.get("run") or {}
        return (
            f"scan {data.get('scan')} ended: {run.get('stored')} stored, {run.get('skipped')} "
            f"unchanged, {run.get('errors')} error(s)"
        )
    if event == "report-exported":
        return f"{data.get('format')} report {data.get('path')} (SHA-256 {str(data.get('sha256'))[:16]}…)"
    if event == "file-viewed":
        return f"file {data.get('file_id')} viewed: {data.get('path')}"
    if event == "case-verified":
        return "verified: " + (
            "all sources and the log intact" if data.get("ok") else "DIFFERENCES"
        )
    if event == "case-created":
        return f"case {data.get('case')} created"
    return json.dumps(data, sort_keys=True)[:200]


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
