"""The streaming conversation analyser as the service uses it.

The service keeps one analyser state (JSON) per conversation in the database and
continues it with each request, so the assessment after message *k* is the same
whether the messages arrive in one request, one by one, or across restarts.

:class:`AnalyzerEngine` wraps :class:`cosea.chats.analysis.ConversationAnalyzer`
(with its default model loaded once per process). When the chats analyser or its
model cannot be loaded, a small keyword analyser with the same interface stands
in, so the service still starts; ``/readyz`` reports which engine runs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from cosea.errors import CoseaError
from cosea.types import (
    Assessment,
    ContextSignal,
    Conversation,
    ConversationClass,
    Evidence,
    Message,
    Participant,
)

log = logging.getLogger("cosea.service")


class StreamingAnalyzer(Protocol):
    def observe(self, message: Message) -> Assessment: ...

    def state_dict(self) -> dict[str, Any]: ...

    def clear_alert(self, reviewer: str, note: str | None = None) -> Assessment: ...


@dataclass(slots=True)
class EngineInfo:
    name: str
    model_id: str | None
    problem: str | None = None


class AnalyzerEngine:
    """Creates, restores and replays analysers with one shared model."""

    def __init__(self, model: Any = None, *, allow_fallback: bool = True) -> None:
        self._chats: Any = None
        self._model: Any = None
        problem = None
        try:
            from cosea.chats.analysis.analyzer import ConversationAnalyzer
            from cosea.chats.model import resolve_model

            self._model = resolve_model(model)
            self._chats = ConversationAnalyzer
        except (ImportError, CoseaError, OSError, ValueError) as error:
            if not allow_fallback:
                raise
            problem = f"chats analyser unavailable ({error}); using the keyword fallback"
            log.warning(problem)
        if self._chats is not None:
            model_id = getattr(self._model, "model_id", None)
            self.info = EngineInfo("chats", model_id)
        else:
            self.info = EngineInfo("keyword-fallback", KeywordAnalyzer.MODEL_ID, problem)

    @property
    def name(self) -> str:
        return self.info.name

    def new(
        self,
        conversation_id: str,
        participants: Iterable[Participant],
        platform: str | None,
        language: str | None = None,
    ) -> StreamingAnalyzer:
        if self._chats is not None:
            return self._chats(
                self._model,
                conversation_id=conversation_id,
                participants=list(participants),
                platform=platform,
                language=language,
            )
        return KeywordAnalyzer(conversation_id, list(participants), platform, language)

    def restore(self, state_json: str) -> StreamingAnalyzer:
        """Continue from a saved state; raises CoseaError when it was saved by another engine."""
        state = json.loads(state_json)
        if self._chats is not None:
            return self._chats.from_state(state, self._model)
        return KeywordAnalyzer.from_state(state)

    @staticmethod
    def dump(analyzer: StreamingAnalyzer) -> str:
        return json.dumps(analyzer.state_dict(), separators=(",", ":"))

    def analyze(self, conversation: Conversation) -> Assessment | None:
        """Stream a whole conversation through a fresh analyser; the last assessment."""
        analyzer = self.new(
            conversation.id, conversation.participants, conversation.platform, conversation.language
        )
        assessment = None
        for message in conversation.messages:
            assessment = analyzer.observe(message)
        return assessment


# --- the stand-in used only when the chats analyser cannot load -------------------

_FALLBACK_PATTERNS: dict[str, tuple[str, str]] = {
    # technique: (tactic, regular expression over lower-cased text)
    "T0101": ("TA01", r"\bhow old (are|r) (you|u)\b|\bwhat grade\b"),
    "T0103": ("TA01", r"\b(are|r) (you|u) alone\b|\bparents? check\b"),
    "T0301": ("TA03", r"\bmature for (your|ur) age\b"),
    "T0302": ("TA03", r"\bgift ?card\b|\bfree skins?\b"),
    "T0401": ("TA04", r"\b(dont|don't|do not) tell\b|\bour (little )?secret\b"),
    "T0403": ("TA04", r"\b(add|message|text) me on\b|\bswitch to\b"),
    "T0601": ("TA06", r"\b(send|show) me (a |an )?(private |pic|photo|picture)"),
    "T0701": ("TA07", r"\b(send|show) (it|them|this) to (your|ur) (parents|school|friends)\b"),
    "T0702": ("TA07", r"\bpay me\b|\bsend (me )?money\b"),
    "T0704": ("TA07", r"\byou have \d+ (minutes|hours)\b"),
    "T0801": ("TA08", r"\bmeet (up|in person)\b"),
    "T0901": ("TA09", r"\bdelete (this|the|our) (chat|messages?)\b"),
}
_COMPILED = {tid: (tactic, re.compile(rx)) for tid, (tactic, rx) in _FALLBACK_PATTERNS.items()}


class KeywordAnalyzer:
    """A minimal streaming analyser: one regular expression per technique, summed evidence."""

    MODEL_ID = "keyword-fallback/1"
    THRESHOLD = 0.6

    def __init__(
        self,
        conversation_id: str,
        participants: list[Participant],
        platform: str | None,
        language: str | None = None,
    ) -> None:
        self.conversation_id = conversation_id
        self.participants = participants
        self.platform = platform
        self.language = language
        self.messages_seen = 0
        self.score: dict[str, float] = {}
        self.tactics: list[str] = []
        self.techniques: dict[str, list[str]] = {}
        self.evidence: list[Evidence] = []
        self.alert = False
        self.alert_message: str | None = None

    def observe(self, message: Message) -> Assessment:
        self.messages_seen += 1
        text = message.text.lower()
        for technique, (tactic, pattern) in _COMPILED.items():
            found = pattern.search(text)
            if not found:
                continue
            self.score[message.sender] = self.score.get(message.sender, 0.0) + 0.25
            self.techniques.setdefault(message.id, []).append(technique)
            if tactic not in self.tactics:
                self.tactics.append(tactic)
            if len(self.evidence) < 32:
                self.evidence.append(
                    Evidence(
                        message_id=message.id,
                        technique_id=technique,
                        tactic_id=tactic,
                        confidence=0.7,
                        contribution=0.25,
                        reason=f"{technique} phrase from {message.sender}",
                        recognizer="keyword-fallback",
                        speaker=message.sender,
                        span=found.span(),
                    )
                )
        if not self.alert and self.risk >= self.THRESHOLD:
            self.alert = True
            self.alert_message = message.id
        return self.assessment()

    @property
    def risk(self) -> float:
        return min(1.0, max(self.score.values(), default=0.0))

    def assessment(self) -> Assessment:
        suspect = max(self.score, key=self.score.__getitem__) if self.score else None
        if "TA07" in self.tactics:
            cls = ConversationClass.SEXTORTION
        elif self.risk >= self.THRESHOLD:
            cls = ConversationClass.GROOMING
        else:
            cls = ConversationClass.BENIGN
        stage = max(self.tactics, default=None)
        return Assessment(
            conversation_id=self.conversation_id,
            messages_seen=self.messages_seen,
            risk=self.risk,
            cls=cls,
            suspect=suspect,
            stage=stage,
            tactics_seen=list(self.tactics),
            alert=self.alert,
            alert_message=self.alert_message,
            evidence=list(self.evidence),
            context=[],
            techniques={k: list(v) for k, v in self.techniques.items()},
        )

    def clear_alert(self, reviewer: str, note: str | None = None) -> Assessment:
        self.alert = False
        self.score = {}
        return self.assessment()

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": self.MODEL_ID,
            "conversation": {
                "id": self.conversation_id,
                "participants": [p.to_dict() for p in self.participants],
                "platform": self.platform,
                "language": self.language,
            },
            "messages_seen": self.messages_seen,
            "score": self.score,
            "tactics": self.tactics,
            "techniques": self.techniques,
            "evidence": [e.to_dict() for e in self.evidence],
            "alert": self.alert,
            "alert_message": self.alert_message,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> KeywordAnalyzer:
        if state.get("format") != cls.MODEL_ID:
            raise CoseaError("analyzer state was saved by another engine")
        header = state["conversation"]
        analyzer = cls(
            header["id"],
            [Participant.from_dict(p) for p in header.get("participants", [])],
            header.get("platform"),
            header.get("language"),
        )
        analyzer.messages_seen = state["messages_seen"]
        analyzer.score = dict(state["score"])
        analyzer.tactics = list(state["tactics"])
        analyzer.techniques = {k: list(v) for k, v in state["techniques"].items()}
        analyzer.evidence = [Evidence.from_dict(e) for e in state["evidence"]]
        analyzer.alert = state["alert"]
        analyzer.alert_message = state["alert_message"]
        return analyzer


def context_to_dict(signal: ContextSignal) -> dict[str, Any]:
    return signal.to_dict()
