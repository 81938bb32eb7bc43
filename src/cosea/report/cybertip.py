"""CyberTipline-shaped reports: a draft a person completes, checks and sends.

``write_cybertip(item, "report.xml")`` writes the ``report`` document (the body of the
Reporting API's ``POST /submit``) and one ``fileDetails`` document per media file
(``report.file-1.xml`` …, the body of ``POST /fileinfo``), validated against the
project's XSD (``schemas/cybertip.xsd``, written from NCMEC's public documentation).

Nothing is invented. Values cosea derives (incident type, annotations, times) are
marked as suggestions to confirm; values only a person can give (the reporter's
contact, whether a file was publicly available, file annotations, IP capture events
cosea does not hold) are left out and listed: in XML comments where they belong, in a
sidecar ``report.todo.json``, and on the console. Nothing is sent anywhere.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cosea import __version__
from cosea.errors import InputError
from cosea.report.naming import tactic_name, technique_label
from cosea.report.policy import ReportPolicy, load_policy
from cosea.report.source import ItemConversation, ReportItem
from cosea.types import parse_timestamp

ENTICEMENT = "Online Enticement of Children for Sexual Act"
ABUSE_MATERIAL = "Child Pornography (possession, manufacture, and distribution)"
UNSOLICITED = "Unsolicited Obscene Material Sent to a Child"
SEXTORTION_TECHNIQUES = {"T0701", "T0702", "T0703", "T0704", "T0705"}
SOLICITATION_TECHNIQUES = {"T0601", "T0602", "T0603", "T0604"}
MEETING_TECHNIQUES = {"T0801", "T0802"}
GAMING_WORDS = ("game", "gaming", "xbox", "playstation", "console", "roblox", "minecraft")
WEB_WORDS = ("forum", "web", "board", "site")
HASH_TYPES = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256"}
MAX_CONTENT_CHARS = 8000


@dataclass(slots=True)
class Todo:
    """A field a person must fill or confirm before the report is sent."""

    document: str
    field: str
    action: str  # fill | confirm
    why: str
    suggested: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "field": self.field,
            "action": self.action,
            "why": self.why,
            "suggested": self.suggested,
        }

    def comment(self) -> str:
        verb = "TO FILL" if self.action == "fill" else "TO CONFIRM"
        text = f" {verb}: {self.field} - {self.why} "
        return text.replace("--", "- -")


@dataclass(slots=True)
class CyberTipWritten:
    path: Path
    files: list[Path]
    todo: list[Todo]
    todo_path: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": str(self.path),
            "files": [str(p) for p in self.files],
            "todo": [t.to_dict() for t in self.todo],
            "todo_file": str(self.todo_path),
        }


@cache
def schema() -> Any:
    import xmlschema

    source = resources.files("cosea.report") / "schemas" / "cybertip.xsd"
    with resources.as_file(source) as path:
        return xmlschema.XMLSchema(str(path))


def validate_cybertip(path: Path | str) -> list[str]:
    """Problems of a report or fileDetails document against the XSD (empty: valid)."""
    import xmlschema

    path = Path(path)
    try:
        return [
            f"{path.name}: {error.path or '/'}: {error.reason or error.message}"
            for error in schema().iter_errors(str(path))
        ]
    except (xmlschema.XMLSchemaException, ET.ParseError, OSError) as error:
        return [f"{path.name}: not a readable XML document ({error})"]


def _iso(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    when = parse_timestamp(value) if isinstance(value, str) else value
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(parent: ET.Element, tag: str, value: Any) -> ET.Element | None:
    if value is None or value == "":
        return None
    element = ET.SubElement(parent, tag)
    element.text = str(value).lower() if isinstance(value, bool) else str(value)
    return element


def _comment(parent: ET.Element, todo: Todo) -> None:
    parent.append(ET.Comment(todo.comment()))


class _Draft:
    def __init__(self, item: ReportItem, policy: ReportPolicy, document: str) -> None:
        self.item = item
        self.policy = policy
        self.document = document
        self.todo: list[Todo] = []
        self.pseudonymise = policy.pseudonymises("cybertip")

    def need(
        self,
        parent: ET.Element | None,
        field_name: str,
        why: str,
        *,
        action: str = "fill",
        suggested: Any = None,
        document: str | None = None,
    ) -> None:
        todo = Todo(document or self.document, field_name, action, why, suggested)
        self.todo.append(todo)
        if parent is not None:
            _comment(parent, todo)

    def ident(self, conversation: ItemConversation, value: str | None) -> str | None:
        if value is None or not self.pseudonymise:
            return value
        return self.item.pseudonymize("participant", conversation.platform, value)

    # -- report ---------------------------------------------------------------------------

    def report(self) -> ET.Element:
        item = self.item
        root = ET.Element("report")
        root.append(
            ET.Comment(
                f" Draft CyberTipline-shaped report for {item.label}, prepared by cosea "
                f"{__version__}. A person completes the fields marked TO FILL, checks those "
                "marked TO CONFIRM, validates against NCMEC's own XSD and sends it. "
            )
        )
        self.incident_summary(root)
        self.internet_details(root)
        self.reporter(root)
        self.people(root)
        _text(root, "additionalInfo", self.additional_info())
        return root

    def incident_type(self) -> tuple[str, str]:
        item = self.item
        techniques = set(item.technique_ids())
        if item.cls in {"grooming", "sextortion"} or techniques & (
            SOLICITATION_TECHNIQUES | SEXTORTION_TECHNIQUES | MEETING_TECHNIQUES
        ):
            return (
                ENTICEMENT,
                f"the conversation's class is {item.cls!r} with enticement techniques",
            )
        if any(m.matches for m in item.media):
            return ABUSE_MATERIAL, "media matched a hash list"
        if "T0503" in techniques:
            return UNSOLICITED, "technique T0503 (sending sexual material) was seen"
        return ENTICEMENT, "no stronger indication; the reviewer must choose"

    def incident_time(self) -> tuple[str, str]:
        first = None
        first_id = None
        for conversation in self.item.conversations:
            for message in conversation.messages:
                if message.techniques and message.ts:
                    when = parse_timestamp(message.ts)
                    if when is not None and (first is None or when < first):
                        first, first_id = when, message.id
        if first is not None:
            return _iso(first) or "", (
                f"Time of the first message showing a warning sign (message {first_id}); "
                f"the alert was raised at {self.item.created_at or 'an unrecorded time'}."
            )
        when = self.item.created_at or datetime.now(UTC).isoformat()
        return _iso(when) or "", "Time cosea raised the alert; no message time is recorded."

    def incident_summary(self, root: ET.Element) -> None:
        summary = ET.SubElement(root, "incidentSummary")
        incident, reason = self.incident_type()
        self.need(
            summary,
            "incidentSummary/incidentType",
            f"suggested from the assessment ({reason}); a person decides the incident type",
            action="confirm",
            suggested=incident,
        )
        _text(summary, "incidentType", incident)
        techniques = set(self.item.technique_ids())
        meeting = sorted(techniques & MEETING_TECHNIQUES)
        if meeting:
            text = (
                "A meeting with the child was being arranged: "
                + ", ".join(technique_label(t) for t in meeting)
                + "."
            )
            self.need(
                summary,
                "incidentSummary/escalateToHighPriority",
                "suggested because a meeting was being arranged; escalating asks NCMEC for "
                "urgent handling",
                action="confirm",
                suggested=text,
            )
            _text(summary, "escalateToHighPriority", text)
        annotations = []
        if self.item.cls == "sextortion" or techniques & SEXTORTION_TECHNIQUES:
            annotations.append("sextortion")
        if techniques & SOLICITATION_TECHNIQUES:
            annotations.append("csamSolicitation")
        if annotations:
            holder = ET.SubElement(summary, "reportAnnotations")
            for tag in annotations:
                ET.SubElement(holder, tag)
            self.need(
                holder,
                "incidentSummary/reportAnnotations",
                f"suggested from the techniques seen ({', '.join(annotations)}); add "
                "minorToMinorInteraction if the reported person is a minor",
                action="confirm",
                suggested=annotations,
            )
        when, description = self.incident_time()
        _text(summary, "incidentDateTime", when)
        _text(summary, "incidentDateTimeDescription", description)

    def chat_content(self, conversation: ItemConversation) -> str | None:
        suspect = conversation.suspect or self.item.suspect
        lines = []
        for message in conversation.messages:
            if not message.techniques or message.text is None:
                continue
            who = self.ident(conversation, message.sender)
            role = " (reported user)" if message.sender == suspect else ""
            names = ", ".join(technique_label(t) for t in message.techniques)
            lines.append(f"[{message.ts or 'no time'}] {who}{role}: {message.text}  <{names}>")
        text = "\n".join(lines)
        return text[:MAX_CONTENT_CHARS] if text else None

    def internet_details(self, root: ET.Element) -> None:
        for conversation in self.item.conversations:
            platform = (conversation.platform or self.item.platform or "").lower()
            details = ET.SubElement(root, "internetDetails")
            content = self.chat_content(conversation)
            info = (
                f"Conversation {conversation.id}"
                f" on {conversation.platform or self.item.platform or 'an unnamed service'}; "
                f"{len(conversation.messages)} messages; the full transcript is in the evidence "
                "package."
            )
            if any(word in platform for word in GAMING_WORDS):
                incident = ET.SubElement(details, "onlineGamingIncident")
                self.need(
                    incident,
                    "internetDetails/onlineGamingIncident/gameName",
                    f"the game played on {conversation.platform!r}; cosea does not know it",
                )
                _text(incident, "content", content)
                _text(incident, "additionalInfo", info)
            elif any(word in platform for word in WEB_WORDS):
                incident = ET.SubElement(details, "webPageIncident")
                self.need(
                    incident,
                    "internetDetails/webPageIncident/url",
                    "the address of the page where this happened; cosea does not know it",
                )
                _text(incident, "additionalInfo", f"{info} {content or ''}".strip())
            else:
                incident = ET.SubElement(details, "chatImIncident")
                _text(incident, "chatClient", conversation.platform or self.item.platform)
                _text(incident, "content", content)
                _text(incident, "additionalInfo", info)

    def reporter(self, root: ET.Element) -> None:
        given = self.policy.reporter
        reporter = ET.SubElement(root, "reporter")
        person = ET.SubElement(reporter, "reportingPerson")
        _text(person, "firstName", given.first_name)
        _text(person, "lastName", given.last_name)
        if given.phone:
            _text(person, "phone", given.phone)
        if given.email:
            _text(person, "email", given.email)
        else:
            self.need(
                person,
                "reporter/reportingPerson/email",
                "required by the API: the email of the person reporting (set reporter.email "
                "in the report policy)",
            )
        if not (given.first_name and given.last_name):
            self.need(
                person,
                "reporter/reportingPerson/firstName, lastName",
                "the name of the person reporting (report policy: reporter)",
            )
        _text(reporter, "termsOfService", given.terms_of_service)
        _text(reporter, "legalUrl", given.legal_url)

    def people(self, root: ET.Element) -> None:
        reported_done = False
        recipients: list[ET.Element] = []
        victims: list[ET.Element] = []
        for conversation, suspect in self.item.suspect_accounts():
            if reported_done:
                break
            reported = ET.Element("personOrUserReported")
            _text(reported, "espIdentifier", self.ident(conversation, str(suspect.get("id"))))
            _text(reported, "espService", conversation.platform or self.item.platform)
            screen = next(
                (suspect.get(k) for k in ("screen_name", "username", "handle") if suspect.get(k)),
                None,
            )
            if not self.pseudonymise:
                _text(reported, "screenName", screen)
                _text(reported, "displayName", suspect.get("display_name"))
            for event in suspect.get("ip_events") or []:
                capture = ET.SubElement(reported, "ipCaptureEvent")
                _text(capture, "ipAddress", event.get("ip"))
                _text(capture, "eventName", event.get("event"))
                _text(capture, "dateTime", _iso(event.get("at")))
            if not suspect.get("ip_events"):
                self.need(
                    reported,
                    "personOrUserReported/ipCaptureEvent",
                    "IP addresses of the reported user (login, registration, upload) from the "
                    "platform's logs; cosea does not hold them",
                )
            notes = []
            if suspect.get("account_created"):
                notes.append(f"account created {suspect['account_created']}")
            if suspect.get("declared_age") is not None:
                notes.append(f"declared age {suspect['declared_age']}")
            if notes:
                _text(
                    reported, "additionalInfo", "As recorded by the platform: " + "; ".join(notes)
                )
            root.append(reported)
            reported_done = True
            for participant in conversation.participants:
                pid = str(participant.get("id"))
                if pid == str(suspect.get("id")):
                    continue
                age = participant.get("declared_age")
                is_minor = age is not None and int(age) < 18
                tag = "victim" if is_minor else "intendedRecipient"
                element = ET.Element(tag)
                holder = ET.SubElement(
                    element, "victimPerson" if is_minor else "intendedRecipientPerson"
                )
                if is_minor:
                    _text(holder, "age", int(age))
                _text(element, "espIdentifier", self.ident(conversation, pid))
                _text(element, "espService", conversation.platform or self.item.platform)
                if not self.pseudonymise:
                    _text(element, "displayName", participant.get("display_name"))
                _text(
                    element,
                    "additionalInfo",
                    "Age as declared on the platform." if is_minor else "Age not known to cosea.",
                )
                (victims if is_minor else recipients).append(element)
        if not reported_done:
            self.need(
                root,
                "personOrUserReported",
                "no suspect was identified by the assessment; name the reported user if known",
            )
        for element in recipients:
            root.append(element)
        for element in victims:
            root.append(element)

    def additional_info(self) -> str:
        item = self.item
        parts = [
            f"Prepared with cosea {__version__} from {item.label}"
            + (f" (class {item.cls}" if item.cls else " (")
            + (f", risk {item.risk:.2f}" if item.risk is not None else "")
            + (f", furthest stage {item.stage} {tactic_name(item.stage) or ''}".rstrip())
            + ")."
        ]
        sightings = item.sightings()
        if sightings:
            parts.append(
                "Techniques seen (COSEA matrix): "
                + "; ".join(f"{technique_label(t)} x{s.count}" for t, s in sightings.items())
                + "."
            )
        for decision in item.decisions:
            parts.append(
                f"Decision {decision.get('action')} by {decision.get('decided_by')} at "
                f"{decision.get('decided_at')}: {decision.get('reason')}"
            )
        parts.append(
            "The system flags and explains; the reviewers named above decided. Scores are "
            "reasons for review, not findings."
        )
        return " ".join(parts)

    # -- files ----------------------------------------------------------------------------

    def file_details(self, number: int, document: str) -> ET.Element:
        medium = self.item.media[number]
        root = ET.Element("fileDetails")
        root.append(
            ET.Comment(
                f" File details for {medium.ref} of {self.item.label}: send after uploading the "
                "file to the opened report (POST /upload), then POST /fileinfo. "
            )
        )
        self.need(
            root,
            "fileDetails/reportId, fileId",
            "assigned by NCMEC when the report is opened and the file uploaded",
            document=document,
        )
        _text(root, "originalFileName", medium.filename)
        if medium.viewed_by_reviewer is not None:
            _text(root, "fileViewedByEsp", medium.viewed_by_reviewer)
            self.need(
                root,
                "fileDetails/fileViewedByEsp",
                "from cosea's audit log: "
                + (
                    "a reviewer revealed the file in the console"
                    if medium.viewed_by_reviewer
                    else "no reviewer revealed the file in the console"
                )
                + "; confirm no one viewed it elsewhere",
                action="confirm",
                suggested=medium.viewed_by_reviewer,
                document=document,
            )
        else:
            self.need(
                root,
                "fileDetails/fileViewedByEsp",
                "whether a person at your company viewed the whole file; cosea has no record",
                document=document,
            )
        self.need(
            root,
            "fileDetails/exifViewedByEsp",
            "whether a person viewed the file's EXIF data",
            document=document,
        )
        self.need(
            root,
            "fileDetails/publiclyAvailable",
            "whether the file was publicly accessible on the service",
            document=document,
        )
        self.need(
            root,
            "fileDetails/fileAnnotations, industryClassification",
            "a person's assessment of the file; cosea never classifies imagery",
            document=document,
        )
        for name, hash_type in HASH_TYPES.items():
            value = medium.hashes.get(name)
            if value:
                element = _text(root, "originalFileHash", value)
                if element is not None:
                    element.set("hashType", hash_type)
        if medium.hashes.get("pdq"):
            details = ET.SubElement(root, "details", {"type": "HASH"})
            pair = ET.SubElement(details, "nameValuePair")
            _text(pair, "name", "PDQ")
            _text(pair, "value", medium.hashes["pdq"])
        exif = {
            k: v
            for k, v in medium.details.items()
            if k in {"taken_at", "camera_make", "camera_model", "software"} and v
        }
        if exif:
            details = ET.SubElement(root, "details", {"type": "EXIF"})
            for name, value in sorted(exif.items()):
                pair = ET.SubElement(details, "nameValuePair")
                _text(pair, "name", name)
                _text(pair, "value", value)
        for match in medium.matches:
            _text(
                root,
                "additionalInfo",
                f"Matched hash list {match.get('list')!r} by {match.get('signal')} "
                f"(distance {match.get('distance')}, category {match.get('category') or '-'}).",
            )
        _text(
            root,
            "additionalInfo",
            f"cosea reference {medium.ref}"
            + (f"; received with message {medium.message_id}" if medium.message_id else "")
            + (f"; observed {medium.observed_at}" if medium.observed_at else "")
            + ".",
        )
        return root


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"


def write_cybertip(
    item: ReportItem,
    out: Path | str,
    *,
    policy: ReportPolicy | None = None,
) -> CyberTipWritten:
    """Write the draft report, one fileDetails document per file, and the to-do list."""
    policy = policy or load_policy()
    out = Path(out)
    if out.suffix.lower() != ".xml":
        raise InputError(out, "the CyberTipline report is XML: give a name ending in .xml")
    out.parent.mkdir(parents=True, exist_ok=True)
    draft = _Draft(item, policy, out.name)
    documents: list[tuple[Path, ET.Element]] = [(out, draft.report())]
    for number in range(len(item.media)):
        path = out.with_name(f"{out.stem}.file-{number + 1}.xml")
        documents.append((path, draft.file_details(number, path.name)))
    for path, root in documents:
        path.write_bytes(_serialise(root))
    problems = [p for path, _ in documents for p in validate_cybertip(path)]
    if problems:
        raise InputError(
            out, "the draft does not validate against cybertip.xsd: " + "; ".join(problems)
        )
    todo_path = out.with_name(f"{out.stem}.todo.json")
    todo_path.write_text(
        json.dumps(
            {
                "report": out.name,
                "item": item.label,
                "files": [p.name for p, _ in documents[1:]],
                "note": "Fields to fill or confirm before sending; cosea sends nothing.",
                "todo": [t.to_dict() for t in draft.todo],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    item.record(
        "cybertip",
        {"file": out.name, "files": len(documents), "todo": len(draft.todo)},
    )
    return CyberTipWritten(out, [p for p, _ in documents], draft.todo, todo_path)
