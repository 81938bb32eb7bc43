"""The streaming conversation analyser as the service uses it.

:class:`AnalyzerEngine` wraps :class:`cosea.chats.analysis.ConversationAnalyzer`
with its risk model loaded once per process. The service keeps each
conversation's analyser as a checkpoint plus the message log (see
:mod:`cosea.service.conversations`), so the assessment after message *k* is the
same whether the messages arrive in one request, one by one, or across restarts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from cosea.types import Assessment, Conversation, Message, Participant


class StreamingAnalyzer(Protocol):
    def observe(self, message: Message) -> Assessment: ...

    def state_dict(self) -> dict[str, Any]: ...

    def clear_alert(self, reviewer: str, note: str | None = None) -> Assessment: ...


@dataclass(slots=True)
class EngineInfo:
    name: str
    model_id: str | None


class AnalyzerEngine:
    """Creates, restores and runs analysers with one shared model."""

    name = "chats"

    def __init__(self, model: Any = None) -> None:
        from cosea.chats.analysis.analyzer import ConversationAnalyzer
        from cosea.chats.model import resolve_model
        from cosea.chats.recognizers.base import NormalizedText

        self._analyzer = ConversationAnalyzer
        # A fresh normalised text per message: the batch tools' default normaliser
        # remembers recent texts for speed, and a long-running service must keep no
        # message text beyond what it stores under its retention rules.
        self._normalizer = NormalizedText
        self._model = resolve_model(model)
        self.info = EngineInfo(self.name, getattr(self._model, "model_id", None))
        self._warm_up()

    def _warm_up(self) -> None:
        """Run one message through, so the recognizers' one-off preparation happens at
        start-up rather than in a platform's first request."""
        analyzer = self.new("warm-up", [Participant("a"), Participant("b")], None, None)
        analyzer.observe(Message(id="1", sender="a", text="hi, how old are you? lol"))

    def new(
        self,
        conversation_id: str,
        participants: Iterable[Participant],
        platform: str | None,
        language: str | None = None,
    ) -> StreamingAnalyzer:
        return self._analyzer(
            self._model,
            conversation_id=conversation_id,
            participants=list(participants),
            platform=platform,
            language=language,
            normalizer=self._normalizer,
        )

    def restore(self, state_json: str) -> StreamingAnalyzer:
        """Continue from a saved state; CoseaError when it was saved with another model."""
        return self._analyzer.from_state(
            json.loads(state_json), self._model, normalizer=self._normalizer
        )

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
