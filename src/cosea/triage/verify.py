"""``cosea triage verify``: is the evidence still what was scanned, and is the log intact?

Each source is hashed again the way the scan hashed it (a file: its SHA-256; a folder:
the manifest over every file's SHA-256, walked the same way) and compared with the
value in the custody log's last ``source-hashed`` entry for it, which the hash chain
protects. When a folder differs, the files are compared one by one with the case's
records to say which were added, removed or changed. The chain itself is checked link
by link (:func:`cosea.triage.custody.check`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosea.triage import custody
from cosea.triage.case import Case, db_text
from cosea.triage.scanner import folder_manifest, source_manifest
from cosea.triage.walk import walk_source


@dataclass
class SourceCheck:
    path: str
    kind: str
    recorded: str | None
    current: str | None
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "recorded_sha256": self.recorded,
            "current_sha256": self.current,
            "ok": self.ok,
            "differences": self.differences,
        }


@dataclass
class Verification:
    case: str
    chain: custody.ChainReport
    sources: list[SourceCheck]

    @property
    def ok(self) -> bool:
        return self.chain.intact and all(s.ok for s in self.sources)

    def problems(self) -> list[str]:
        out = list(self.chain.problems)
        for source in self.sources:
            out.extend(f"source {source.path}: {d}" for d in source.differences)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "ok": self.ok,
            "custody": {
                "entries": self.chain.entries,
                "head": self.chain.head,
                "intact": self.chain.intact,
                "problems": self.chain.problems,
            },
            "sources": [s.to_dict() for s in self.sources],
        }


def _sha256(path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb", buffering=0) as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _recorded_hashes(case: Case) -> dict[str, dict[str, Any]]:
    """The last ``source-hashed`` entry per source, from the custody log."""
    recorded: dict[str, dict[str, Any]] = {}
    for entry in custody.entries(case):
        if entry["event"] == "source-hashed" and isinstance(entry["data"], dict):
            recorded[entry["data"].get("source")] = entry["data"]
    return recorded


def _check_folder(case: Case, source: str, recorded: dict[str, Any] | None) -> SourceCheck:
    check = SourceCheck(source, "folder", recorded.get("sha256") if recorded else None, None)
    if not os.path.isdir(source):
        check.differences.append("the source folder is missing")
        return check
    walk_problems: list[str] = []
    found = list(walk_source(Path(source), lambda p, k, r: walk_problems.append(f"{p}: {r}")))
    workers = min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:  # hashlib releases the GIL on large blocks
        hashes = list(pool.map(_sha256, [f.path for f in found]))
    lines = [(f.relative, h) for f, h in zip(found, hashes, strict=True)]
    check.current = folder_manifest([(db_text(r), h) for r, h in lines])
    if recorded is None:
        check.differences.append("no source hash in the custody log (was the scan finished?)")
        return check
    # The case's file records must still give the manifest the custody log recorded;
    # they are what the per-file comparison below (and every report) relies on.
    scan_id = recorded.get("scan")
    prefix = source.rstrip("/") + "/"
    stored: dict[str, str | None] = {}
    query = "SELECT path, sha256, status FROM files WHERE source = ? AND container IS NULL"
    params: tuple[Any, ...] = (source,)
    if scan_id is not None:
        query += " AND seen_scan >= ?"
        params = (source, scan_id)
    for path, sha256, status in case.conn.execute(query, params):
        stored[path[len(prefix) :] if path.startswith(prefix) else path] = (
            sha256 if status == "ok" else None
        )
    if folder_manifest(stored.items()) != check.recorded:
        check.differences.append(
            "the case's file records no longer give the manifest the custody log recorded "
            "(the files table was edited)"
        )
    if check.current == check.recorded:
        return check
    current = {db_text(r): h for r, h in lines}
    added = sorted(set(current) - set(stored))
    removed = sorted(set(stored) - set(current))
    changed = sorted(r for r in set(current) & set(stored) if current[r] != stored[r])
    for relative in added[:50]:
        check.differences.append(f"file added since the scan: {relative}")
    for relative in removed[:50]:
        check.differences.append(f"file removed since the scan: {relative}")
    for relative in changed[:50]:
        check.differences.append(
            f"file changed since the scan: {relative} "
            f"(SHA-256 was {stored[relative] or 'unreadable'}, now {current[relative] or 'unreadable'})"
        )
    hidden = max(len(added) - 50, 0) + max(len(removed) - 50, 0) + max(len(changed) - 50, 0)
    if hidden:
        check.differences.append(f"… and {hidden} more differing file(s)")
    check.differences.append(
        f"folder manifest differs: recorded {check.recorded}, now {check.current}"
    )
    return check


def _check_file(source: str, recorded: dict[str, Any] | None) -> SourceCheck:
    check = SourceCheck(source, "file", recorded.get("sha256") if recorded else None, None)
    if not os.path.isfile(source):
        check.differences.append("the source file is missing")
        return check
    check.current = _sha256(source)
    if recorded is None:
        check.differences.append("no source hash in the custody log (was the scan finished?)")
    elif check.current != check.recorded:
        check.differences.append(
            f"file changed since the scan: SHA-256 was {check.recorded}, now {check.current}"
        )
    return check


def verify_case(case: Case, examiner: str | None = None, record: bool = True) -> Verification:
    chain = custody.check(case)
    recorded = _recorded_hashes(case)
    checks = []
    for row in case.sources():
        source, kind = row["path"], row["kind"]
        if kind == "folder":
            checks.append(_check_folder(case, source, recorded.get(source)))
        else:
            checks.append(_check_file(source, recorded.get(source)))
    # A source row removed from the case is still named by the custody log.
    listed = {row["path"] for row in case.sources()}
    for source in sorted(set(recorded) - listed):
        check = SourceCheck(source, recorded[source].get("kind", "?"), None, None)
        check.differences.append("source named in the custody log is missing from the case")
        checks.append(check)
    result = Verification(case.name, chain, checks)
    if record:
        # A read-only copy of the case can still be verified; the check is then unrecorded.
        with contextlib.suppress(sqlite3.DatabaseError):
            custody.append(
                case,
                "case-verified",
                {
                    "ok": result.ok,
                    "problems": result.problems()[:100],
                    "sources": [{"path": c.path, "sha256": c.current, "ok": c.ok} for c in checks],
                },
                examiner,
            )
    return result


__all__ = ["SourceCheck", "Verification", "source_manifest", "verify_case"]
