"""A small keyword pipeline and a hand-set model, so analyser tests do not depend on
the recognizers' or the shipped model's exact numbers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from cosea.chats.model import Calibration, LinearPart, RiskModel
from cosea.chats.recognizers.base import (
    NormalizedText,
    Recognizer,
    RecognizerContext,
    RecognizerRegistry,
)
from cosea.types import ContextSignal, Conversation, Message, Participant, TechniqueHit

PATTERNS = {
    "T0101": r"how old",
    "T0103": r"\balone\b",
    "T0301": r"so cute|mature for",
    "T0401": r"dont tell|keep (it|this) (secret|between us)",
    "T0403": r"\bdiscord\b",
    "T0601": r"send (me )?a (private )?pic",
    "T0701": r"or everyone sees",
    "T0702": r"pay me",
}


class KeywordRecognizer(Recognizer):
    name = "test-keywords"
    technique_ids = tuple(PATTERNS)

    def __init__(self) -> None:
        self.compiled = {t: re.compile(p) for t, p in PATTERNS.items()}

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[TechniqueHit | ContextSignal]:
        seen = context.state_for(self.name)
        seen["messages"] = seen.get("messages", 0) + 1
        for technique, pattern in self.compiled.items():
            match = pattern.search(text.text)
            if match:
                yield TechniqueHit(
                    message.id,
                    technique,
                    match.start(),
                    match.end(),
                    0.8,
                    self.name,
                    speaker=message.sender,
                )
        age = re.search(r"\bim (\d{1,2})\b", text.text)
        if age:
            yield ContextSignal(
                "self_disclosed_age",
                message.sender,
                int(age.group(1)),
                0.2,
                f"{message.sender} says they are {age.group(1)}",
            )


def keyword_registry() -> RecognizerRegistry:
    return RecognizerRegistry([KeywordRecognizer()])


def lower(text: str) -> NormalizedText:
    return NormalizedText(text, text.lower(), [*range(len(text)), len(text)])


def hand_model() -> RiskModel:
    names = ["evidence", "distinct_tactics", "severe", "coercion", "minor_present"]
    return RiskModel(
        risk=LinearPart(names, [1.5, 0.8, 2.0, 1.0, 0.5], -4.0, [0.0] * 5, [1.0] * 5),
        calibration=Calibration("sigmoid", 1.0, 0.0),
        sextortion=LinearPart(["coercion"], [10.0], -3.0, [0.0], [1.0]),
        alert_threshold=0.6,
        rearm_margin=0.1,
        technique_threshold=0.5,
        recency_half_life=8.0,
        metadata={"purpose": "tests"},
    )


def make_conversation(cid: str, lines: list[tuple[str, str]], ages=(None, None)) -> Conversation:
    participants = [
        Participant("u1", "kid", declared_age=ages[0]),
        Participant("u2", "stranger", declared_age=ages[1]),
    ]
    messages = [
        Message(f"m{i}", sender, text, conversation_id=cid)
        for i, (sender, text) in enumerate(lines, start=1)
    ]
    return Conversation(cid, participants, messages, platform="game_chat", language="en")


GROOMING = [
    ("u2", "gg nice game"),
    ("u1", "ty"),
    ("u2", "how old r u"),
    ("u1", "im 12"),
    ("u2", "ur so cute"),
    ("u2", "u alone rn?"),
    ("u1", "ya"),
    ("u2", "add me on discord, dont tell ur mum"),
    ("u2", "send me a private pic"),
    ("u1", "no"),
    ("u2", "pay me or everyone sees"),
    ("u1", "pls"),
]

BENIGN = [
    ("u1", "are u coming to practice"),
    ("u2", "yes, mum drives me"),
    ("u1", "cool see u there"),
]
