"""The service's analyser engine keeps no message text in memory beyond the message.

The batch tools' default normaliser remembers recent texts (and what was found in
them) for speed; the long-running service must not, since message text is kept only
under its retention rules.
"""

from __future__ import annotations

from cosea.chats.analysis.pipeline import default_normalizer
from cosea.chats.recognizers.base import NormalizedText
from cosea.service.analysis import AnalyzerEngine
from cosea.types import Message, Participant


def test_the_service_normalises_each_message_afresh() -> None:
    engine = AnalyzerEngine()
    analyzer = engine.new("c1", [Participant("a"), Participant("b")], "game_chat")
    assert analyzer.normalize is NormalizedText
    restored = engine.restore(engine.dump(analyzer))
    assert restored.normalize is NormalizedText
    for index, text in enumerate(["are you alone", "are you alone", "ok"]):
        restored.observe(Message(id=str(index), sender="a", text=text))
    # each message gets its own normalised text: nothing is kept for the next one
    assert restored.normalize("are you alone") is not restored.normalize("are you alone")
    # unlike the batch tools' default, which hands a recent text back
    assert default_normalizer()("are you alone") is default_normalizer()("are you alone")
