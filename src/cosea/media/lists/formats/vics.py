"""Project VIC VICS JSON (OData form), streamed.

Accepted wrappers: VICS 1.x (``"odata.metadata": ".../1.3.xml#Media"``) and 2.0
(``"@odata.context": ".../2.0.xml/US/$metadata#Cases"``). ``value`` holds either
cases, each with a ``Media`` array, or Media records directly (hash sets). From
each Media record: ``MD5``, ``SHA1``, ``AlternativeHashes`` (``HashName`` /
``HashValue``; names of cosea signals are kept, others such as PhotoDNA are
counted as unsupported and skipped), ``Category`` (a VICS code, mapped to the
list's scheme), ``Series``, ``VictimIdentified``, ``Comments``. The hashes of one
record share ``external_id`` (its MD5, else its MediaID) so exports regroup them.

Files are read with ijson, one Media record at a time, so a multi-gigabyte hash
set never sits in memory. Export writes VICS 2.0 (one case holding every Media).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosea import __version__
from cosea.errors import InputError
from cosea.media.lists.formats import (
    Item,
    Problem,
    ReadOptions,
    Record,
    Unsupported,
    WriteOptions,
    register_format,
)
from cosea.media.lists.hashes import canonical_signal, known_signals
from cosea.media.lists.schemes import get_scheme

if TYPE_CHECKING:
    from cosea.media.lists.store import HashEntry, HashListInfo

CONTEXT_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
_CONTEXT_KEYS = ("@odata.context", "odata.metadata")
_MEDIA_PREFIX = "value.item.Media.item"
_EXPORT_NAMES = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256", "pdq": "PDQ"}
# Past this size a broken file is not re-read just to name the line of the damage.
_LOCATE_ERRORS_UP_TO = 512 * 1024 * 1024


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("Name", "Title", "Value"):
            if value.get(key):
                return str(value[key])
        return json.dumps(value, sort_keys=True)
    return str(value)


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise ValueError(f"VictimIdentified: expected true or false, got {value!r}")


def _locate_json_error(path: Path) -> tuple[int | None, str]:
    if path.stat().st_size > _LOCATE_ERRORS_UP_TO:
        return None, "not valid JSON"
    try:
        with path.open(encoding="utf-8-sig") as handle:
            json.load(handle)
    except json.JSONDecodeError as error:
        return error.lineno, f"not valid JSON: {error.msg} (column {error.colno})"
    except UnicodeDecodeError as error:
        return None, f"not UTF-8 text ({error.reason})"
    return None, "not valid JSON"


class VicsFormat:
    name = "vics"
    description = "Project VIC VICS JSON, 1.x (odata.metadata) or 2.0 (@odata.context)"
    suffix = ".json"

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        import ijson

        signals = set(known_signals())
        try:
            with path.open("rb") as handle:
                yield from self._events(path, ijson.parse(handle, use_float=True), signals)
        except ijson.JSONError:
            line, problem = _locate_json_error(path)
            raise InputError(path, problem, line=line) from None

    def _events(self, path: Path, events: Iterator[tuple[str, str, Any]], signals: set[str]):  # type: ignore[no-untyped-def]
        import ijson

        context: str | None = None
        saw_value = False
        value_index = -1
        media_index = -1
        item_builder: ijson.ObjectBuilder | None = None
        item_has_media = False
        media_builder: ijson.ObjectBuilder | None = None
        first = True
        for prefix, event, value in events:
            if first:
                first = False
                if event != "start_map":
                    raise InputError(path, "not VICS JSON: expected an object at the top", line=1)
            if media_builder is not None:
                media_builder.event(event, value)
                if prefix == _MEDIA_PREFIX and event == "end_map":
                    yield from self._media(
                        media_builder.value, f"value[{value_index}].Media[{media_index}]", signals
                    )
                    media_builder = None
                continue
            if prefix == _MEDIA_PREFIX and event == "start_map":
                media_index += 1
                media_builder = ijson.ObjectBuilder()
                media_builder.event(event, value)
                continue
            if prefix in _CONTEXT_KEYS and event == "string":
                context = value
                continue
            if prefix == "value" and event == "start_array":
                saw_value = True
                continue
            if prefix == "value.item" and event == "start_map":
                value_index += 1
                media_index = -1
                item_builder = ijson.ObjectBuilder()
                item_has_media = False
            if item_builder is not None:
                if prefix == "value.item" and event == "map_key" and value == "Media":
                    item_has_media = True
                    continue
                if prefix == "value.item.Media" or prefix.startswith("value.item.Media."):
                    continue  # the Media array itself is streamed above, not kept in the case
                item_builder.event(event, value)
                if prefix == "value.item" and event == "end_map":
                    record = item_builder.value
                    item_builder = None
                    if not item_has_media:
                        yield from self._media(record, f"value[{value_index}]", signals)
        if context is None:
            raise InputError(
                path, "not VICS JSON: no 'odata.metadata' (1.x) or '@odata.context' (2.0) key"
            )
        if not saw_value:
            raise InputError(path, "not VICS JSON: no 'value' array")

    @staticmethod
    def _media(media: Any, entry: str, signals: set[str]) -> Iterator[Item]:
        if not isinstance(media, dict):
            yield Problem("expected a Media object", entry=entry)
            return
        media_id = media.get("MediaID")
        if media_id is not None:
            entry = f"{entry} MediaID {media_id}"
        try:
            victim = _flag(media.get("VictimIdentified"))
        except ValueError as error:
            yield Problem(str(error), entry=entry)
            return
        category = media.get("Category")
        md5 = _text(media.get("MD5"))
        external_id = md5.lower() if md5 else (str(media_id) if media_id is not None else None)
        shared = {
            "entry": entry,
            "category": None if category is None else str(category),
            "category_scheme": "vics" if category is not None else None,
            "series": _text(media.get("Series")),
            "notes": _text(media.get("Comments")),
            "victim_identified": victim,
            "external_id": external_id,
        }
        hashes: list[tuple[str, str]] = []
        for key, signal in (("MD5", "md5"), ("SHA1", "sha1")):
            value = _text(media.get(key))
            if value:
                hashes.append((signal, value))
        alternatives = media.get("AlternativeHashes") or []
        if not isinstance(alternatives, list):
            yield Problem("AlternativeHashes: expected a list", entry=entry)
            return
        for alternative in alternatives:
            if not isinstance(alternative, dict):
                yield Problem("AlternativeHashes: expected objects", entry=entry)
                return
            name = _text(alternative.get("HashName")) or ""
            value = _text(alternative.get("HashValue"))
            signal = canonical_signal(name)
            if not value:
                continue
            if signal not in signals:
                yield Unsupported(f"vics:{name or 'unnamed'}", entry=entry)
                continue
            if (signal, value.lower()) not in {(s, v.lower()) for s, v in hashes}:
                hashes.append((signal, value))
        if not hashes:
            yield Problem(
                "Media record without MD5, SHA1 or a supported alternative hash", entry=entry
            )
            return
        for signal, value in hashes:
            yield Record(hash=value, signal=signal, **shared)

    def write(
        self,
        entries: Iterator[HashEntry],
        path: Path,
        info: HashListInfo,
        options: WriteOptions,
    ) -> int:
        list_scheme = get_scheme(info.category_scheme)
        vics = get_scheme("vics")
        grouped: dict[str, dict[str, Any]] = {}
        count = 0
        media_id = 0

        def media_for(entry: HashEntry) -> dict[str, Any]:
            nonlocal media_id
            media_id += 1
            media: dict[str, Any] = {"MediaID": media_id}
            code = list_scheme.map_to(entry.category, vics) if entry.category else None
            if code is not None and code != "uncategorised":
                media["Category"] = int(code)
            if entry.series:
                media["Series"] = entry.series
            if entry.victim_identified is not None:
                media["VictimIdentified"] = entry.victim_identified
            if entry.notes:
                media["Comments"] = entry.notes
            return media

        def add_hash(media: dict[str, Any], entry: HashEntry) -> None:
            if entry.signal == "md5":
                media["MD5"] = entry.hash.upper()
            elif entry.signal == "sha1":
                media["SHA1"] = entry.hash.upper()
            else:
                name = _EXPORT_NAMES.get(entry.signal, entry.signal.upper())
                media.setdefault("AlternativeHashes", []).append(
                    {"HashName": name, "HashValue": entry.hash}
                )

        with path.open("w", encoding="utf-8") as handle:
            handle.write("{\n")
            handle.write(f'"@odata.context": {json.dumps(CONTEXT_20)},\n')
            case = {
                "CaseID": str(uuid.uuid4()),
                "SourceApplicationName": "cosea",
                "SourceApplicationVersion": __version__,
                "CaseNumber": info.name,
            }
            handle.write('"value": [')
            handle.write(json.dumps(case)[:-1])
            handle.write(', "Media": [\n')
            first = True

            def emit(media: dict[str, Any]) -> None:
                nonlocal first
                if not first:
                    handle.write(",\n")
                handle.write(json.dumps(media))
                first = False

            for entry in entries:
                count += 1
                if entry.external_id:
                    media = grouped.get(entry.external_id)
                    if media is None:
                        media = grouped[entry.external_id] = media_for(entry)
                    add_hash(media, entry)
                    continue
                media = media_for(entry)
                add_hash(media, entry)
                emit(media)
            for media in grouped.values():
                emit(media)
            handle.write("\n]}]\n}\n")
        return count


register_format(VicsFormat())
