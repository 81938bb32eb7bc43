"""A readable, self-contained HTML transcript of an item's conversations.

Evidence is highlighted on the messages (the span a recognizer found), each mark
names its technique and tactic from the matrix, and the reasons are listed under
the message. The page has no scripts and loads nothing: it opens offline, in any
browser, years later. Text is escaped by Jinja2's autoescape; nothing from a
message can become markup.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cosea import __version__
from cosea.report.naming import tactic_name, technique_info, technique_label
from cosea.report.source import ItemMessage, ReportItem


@dataclass(slots=True)
class Segment:
    text: str
    techniques: list[str]

    @property
    def marked(self) -> bool:
        return bool(self.techniques)

    @property
    def title(self) -> str:
        return "; ".join(technique_label(t) for t in self.techniques)


def segments(message: ItemMessage) -> list[Segment]:
    """The message text cut at every evidence span, each piece with the techniques over it."""
    text = message.text or ""
    spans = []
    for mark in message.marks:
        if mark.span and mark.technique:
            start, end = max(0, mark.span[0]), min(len(text), mark.span[1])
            if start < end:
                spans.append((start, end, mark.technique))
    if not spans:
        return [Segment(text, [])]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out = []
    for start, end in itertools.pairwise(cuts):
        over = sorted({t for s, e, t in spans if s <= start and end <= e})
        out.append(Segment(text[start:end], over))
    return out


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("cosea.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_transcript(
    item: ReportItem,
    *,
    display: dict[str, str] | None = None,
    playbook_note: str | None = None,
) -> str:
    """The transcript page; ``display`` maps participant ids to what to show (pseudonyms)."""
    display = display or {}
    sightings = item.sightings()
    techniques = [
        {**technique_info(t), "count": s.count, "messages": s.messages}
        for t, s in sightings.items()
    ]
    conversations: list[dict[str, Any]] = []
    for conversation in item.conversations:
        suspect = conversation.suspect or item.suspect
        people = []
        for participant in conversation.participants:
            pid = str(participant.get("id"))
            people.append(
                {
                    "id": display.get(pid, pid),
                    "display_name": None if pid in display else participant.get("display_name"),
                    "declared_age": participant.get("declared_age"),
                    "account_created": participant.get("account_created"),
                    "role": "suspect" if pid == suspect else "participant",
                }
            )
        conversations.append(
            {
                "id": conversation.id,
                "platform": conversation.platform,
                "location": conversation.location,
                "note": conversation.note,
                "participants": people,
                "suspect": display.get(suspect or "", suspect),
                "messages": [
                    {
                        "id": m.id,
                        "sender": display.get(m.sender, m.sender),
                        "is_suspect": m.sender == suspect,
                        "ts": m.ts,
                        "purged": m.purged,
                        "missing": m.text is None,
                        "segments": segments(m),
                        "techniques": [technique_info(t) for t in m.techniques],
                        "reasons": [mark.reason for mark in m.marks if mark.reason],
                        "attachments": m.attachments,
                    }
                    for m in conversation.messages
                ],
            }
        )
    return (
        _environment()
        .get_template("transcript.html.j2")
        .render(
            item=item,
            stage_name=tactic_name(item.stage),
            techniques=techniques,
            conversations=conversations,
            media=item.media,
            decisions=item.decisions,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            version=__version__,
            playbook_note=playbook_note,
        )
    )
