"""Types shared across capabilities.

Conversations, technique hits, assessments and media matches travel between the
chat analyser, the media matcher, triage cases, the service and the reports, so
they are defined once here. They are plain slotted dataclasses (cheap to create
on the message-by-message hot path) with explicit ``to_dict``/``from_dict`` for
JSON, the only serialisation the project uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ConversationClass(StrEnum):
    BENIGN = "benign"
    GROOMING = "grooming"
    SEXTORTION = "sextortion"


def parse_timestamp(value: str | datetime | None) -> datetime | None:
    """ISO 8601 (with ``Z`` or an offset) to an aware datetime; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def format_timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@dataclass(slots=True)
class Participant:
    id: str
    display_name: str | None = None
    declared_age: int | None = None
    account_created: str | None = None  # ISO date as the source gave it
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.display_name is not None:
            out["display_name"] = self.display_name
        if self.declared_age is not None:
            out["declared_age"] = self.declared_age
        if self.account_created is not None:
            out["account_created"] = self.account_created
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Participant:
        known = {"id", "display_name", "declared_age", "account_created"}
        age = data.get("declared_age")
        return cls(
            id=str(data["id"]),
            display_name=data.get("display_name"),
            declared_age=int(age) if age is not None else None,
            account_created=data.get("account_created"),
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(slots=True)
class Message:
    """One chat message. ``sender`` is the participant id (``from`` in JSON)."""

    id: str
    sender: str
    text: str
    ts: datetime | None = None
    conversation_id: str | None = None
    attachments: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "ts": format_timestamp(self.ts)}
        out["from"] = self.sender
        out["text"] = self.text
        if self.attachments:
            out["attachments"] = list(self.attachments)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], conversation_id: str | None = None) -> Message:
        sender = data.get("from", data.get("sender"))
        if sender is None:
            raise KeyError("from")
        return cls(
            id=str(data["id"]),
            sender=str(sender),
            text=str(data.get("text") or ""),
            ts=parse_timestamp(data.get("ts")),
            conversation_id=conversation_id,
            attachments=list(data.get("attachments") or []),
        )


@dataclass(slots=True)
class Conversation:
    """A conversation as read from any source.

    ``label`` holds gold annotations when the source has them; predicting code
    must never read it (evaluation code alone does).
    """

    id: str
    participants: list[Participant] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    platform: str | None = None
    language: str | None = None
    source: str | None = None
    label: dict[str, Any] | None = None

    def participant(self, participant_id: str) -> Participant | None:
        for p in self.participants:
            if p.id == participant_id:
                return p
        return None

    def to_dict(self, *, with_label: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.platform is not None:
            out["platform"] = self.platform
        if self.language is not None:
            out["language"] = self.language
        out["participants"] = [p.to_dict() for p in self.participants]
        out["messages"] = [m.to_dict() for m in self.messages]
        if with_label and self.label is not None:
            out["label"] = self.label
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> Conversation:
        cid = str(data["id"])
        return cls(
            id=cid,
            participants=[Participant.from_dict(p) for p in data.get("participants") or []],
            messages=[Message.from_dict(m, cid) for m in data.get("messages") or []],
            platform=data.get("platform"),
            language=data.get("language"),
            source=source,
            label=data.get("label"),
        )


@dataclass(slots=True)
class TechniqueHit:
    """A recognizer's finding: technique ``technique_id`` on one message."""

    message_id: str
    technique_id: str
    start: int
    end: int
    confidence: float
    recognizer: str
    speaker: str | None = None
    matched_text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TechniqueHit:
        return cls(**data)


@dataclass(slots=True)
class ContextSignal:
    """A non-textual signal: declared-age gap, new account, fan-out, linked accounts."""

    kind: str
    participant: str | None
    value: Any
    weight: float
    description: str
    technique_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Evidence:
    """One reason behind a score, phrased for a reviewer."""

    message_id: str | None
    technique_id: str | None
    tactic_id: str | None
    confidence: float
    contribution: float
    reason: str
    recognizer: str | None = None
    speaker: str | None = None
    span: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.span is not None:
            out["span"] = list(self.span)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        data = dict(data)
        if data.get("span") is not None:
            data["span"] = tuple(data["span"])
        return cls(**data)


@dataclass(slots=True)
class Assessment:
    """Where a conversation stands after the messages seen so far."""

    conversation_id: str
    messages_seen: int
    risk: float
    cls: ConversationClass
    suspect: str | None
    stage: str | None  # furthest tactic reached, e.g. "TA04"
    tactics_seen: list[str]  # in the order first seen
    alert: bool
    alert_message: str | None  # message at which the alert was first raised
    evidence: list[Evidence] = field(default_factory=list)
    context: list[ContextSignal] = field(default_factory=list)
    techniques: dict[str, list[str]] = field(default_factory=dict)  # message id -> technique ids

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "messages_seen": self.messages_seen,
            "risk": self.risk,
            "class": str(self.cls),
            "suspect": self.suspect,
            "stage": self.stage,
            "tactics_seen": list(self.tactics_seen),
            "alert": self.alert,
            "alert_message": self.alert_message,
            "evidence": [e.to_dict() for e in self.evidence],
            "context": [c.to_dict() for c in self.context],
            "techniques": {k: list(v) for k, v in self.techniques.items()},
        }

    def to_prediction(self) -> dict[str, Any]:
        """The prediction line of ``shared/spec/conversation-format.md``."""
        return {
            "id": self.conversation_id,
            "class": str(self.cls),
            "risk": round(float(self.risk), 6),
            "suspect": self.suspect,
            "alert_message": self.alert_message,
            "techniques": {k: list(v) for k, v in self.techniques.items()},
            "stage": self.stage,
        }


@dataclass(slots=True)
class HashMatch:
    """A media file's hash found in a list (bank)."""

    list_name: str
    signal: str
    hash: str
    distance: int
    category: str | None = None
    entry_id: int | None = None
    source: str | None = None
    variant: str | None = None  # robust mode: which transformed variant matched

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "list": self.list_name,
            "signal": self.signal,
            "hash": self.hash,
            "distance": self.distance,
            "category": self.category,
        }
        if self.entry_id is not None:
            out["entry_id"] = self.entry_id
        if self.source is not None:
            out["source"] = self.source
        if self.variant is not None:
            out["variant"] = self.variant
        return out
