"""Observed technique counts for heatmaps and Navigator scores.

Accepted files:

* JSON object ``{"T0401": 12, "T0601": 3}``;
* CSV with a ``technique,count`` header (or two columns without one);
* JSON Lines of conversations or predictions (the project's conversation format):
  each line's ``techniques`` (predictions) or ``label.techniques`` (labelled sets),
  ``{"m5": ["T0101"], ...}``, counts each technique once per conversation.

Unknown technique ids are reported with the file and line, so a typo does not
silently drop a count.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from cosea.errors import InputError, ValidationFailed
from cosea.matrix.models import TECHNIQUE_ID


def _count(value: Any, source: Path, line: int | None, technique: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError(
            source, f"count for {technique} must be a number >= 0, not {value!r}", line=line
        )
    if isinstance(value, float) and not value.is_integer():
        raise InputError(source, f"count for {technique} must be a whole number", line=line)
    return int(value)


def _from_jsonl(path: Path, text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(path, f"not valid JSON: {error.msg}", line=number) from None
        if not isinstance(record, dict):
            raise InputError(path, "expected one JSON object per line", line=number)
        by_message = record.get("techniques")
        if by_message is None and isinstance(record.get("label"), dict):
            by_message = record["label"].get("techniques")
        if not by_message:
            continue
        if not isinstance(by_message, dict):
            raise InputError(
                path, "'techniques' must map message ids to lists of technique ids", line=number
            )
        seen: set[str] = set()
        for ids in by_message.values():
            seen.update(ids if isinstance(ids, list) else [ids])
        for technique in seen:
            counts[technique] = counts.get(technique, 0) + 1
    return counts


def _from_csv(path: Path, text: str) -> tuple[dict[str, int], dict[str, int]]:
    counts: dict[str, int] = {}
    lines: dict[str, int] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise InputError(path, "expected two columns: technique,count", line=number)
        technique, value = row[0].strip(), row[1].strip()
        if number == 1 and not TECHNIQUE_ID.match(technique.upper()):
            continue  # a header row such as "technique,count"
        try:
            amount = float(value)
        except ValueError:
            raise InputError(path, f"count {value!r} is not a number", line=number) from None
        technique = technique.upper()
        counts[technique] = counts.get(technique, 0) + _count(amount, path, number, technique)
        lines.setdefault(technique, number)
    return counts, lines


def read_counts(path: Path | str, matrix: Any | None = None) -> dict[str, int]:
    """Technique counts from a JSON, CSV or JSON Lines file.

    With a ``matrix``, ids it does not know are errors naming file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "no such counts file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read the counts file: {error}") from None
    lines: dict[str, int] = {}
    stripped = text.lstrip()
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        counts = _from_jsonl(path, text)
    elif suffix == ".json" or stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            if stripped.startswith("{") and "\n{" in stripped:
                counts = _from_jsonl(path, text)  # JSON Lines saved as .json
            else:
                raise InputError(path, f"not valid JSON: {error.msg}", line=error.lineno) from None
        else:
            if not isinstance(data, dict):
                raise InputError(path, 'expected a JSON object {"T0401": 3, ...}')
            counts = {}
            for key, value in data.items():
                technique = str(key).upper()
                counts[technique] = _count(value, path, None, technique)
    else:
        counts, lines = _from_csv(path, text)

    problems = []
    for technique in counts:
        if not TECHNIQUE_ID.match(technique):
            where = f"{path}:{lines[technique]}" if technique in lines else str(path)
            problems.append(f"{where}: {technique!r} is not a technique id (e.g. T0401)")
        elif matrix is not None and technique not in matrix.techniques:
            where = f"{path}:{lines[technique]}" if technique in lines else str(path)
            problems.append(f"{where}: technique {technique} is not in the {matrix.name}")
    if problems:
        raise ValidationFailed(path, problems)
    return counts
