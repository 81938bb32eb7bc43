"""Context recognizers: ages, age gaps and inconsistencies, new accounts, persona photos.

They look at who says what about ages ("im 14", "tengo 13 años", "in 8th grade",
a bare "12" right after "how old r u"), at profile metadata (declared age,
account creation date) and at message timing, and emit
:class:`~cosea.types.ContextSignal` for the analyser. Age recognizers share one
per-conversation record under ``context.scratch["ages"]`` so the gap and
inconsistency recognizers see what the disclosure recognizer found; all state
is bounded (a few numbers per participant).

Signal kinds: ``declared_age``, ``self_disclosed_age``, ``attributed_age``,
``age_gap``, ``age_inconsistency`` (plus a T0201 hit on the contradicting
message), ``new_account``, ``night_time``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache

from cosea.chats.recognizers.base import (
    NormalizedText,
    PatternHit,
    Recognizer,
    RecognizerContext,
    Triggers,
)
from cosea.types import ContextSignal, Message, Participant, TechniqueHit, parse_timestamp

ADULT_AGE = 18
_NUMBER_WORDS = {
    # en
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    # es
    "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciseis": 16, "diecisiete": 17, "dieciocho": 18,
    # de
    "zehn": 10, "elf": 11, "zwolf": 12, "zwoelf": 12, "dreizehn": 13, "vierzehn": 14,
    "funfzehn": 15, "fuenfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18,
    # fr
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16, "dix-sept": 17, "dix sept": 17, "dix-huit": 18,
    # pt
    "dez": 10, "doze": 12, "treze": 13, "catorze": 14, "dezesseis": 16,
    "dezasseis": 16, "dezessete": 17, "dezassete": 17, "dezoito": 18,
}  # fmt: skip
_AGE_WORD = "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True))
_AGE = rf"(\d{{1,2}}|{_AGE_WORD})"
_NOT_A_QUANTITY = (
    r"(?!\s*(?:min|mins|minutes?|hours?|hrs?|h\b|km|miles|%|pm|am\b|dollars|bucks|euros?|"
    r"pounds?|reais|\$|€|£|times|more|cm|kg|lbs|ft|m\b|k\b|x\b|st\b|nd\b|rd\b|th\b|of\b|"
    r"followers|friends|people|days?|weeks?|months?|min\b|minutos|minuten|stunden|horas|"
    r"heures|euro))"
)

# First-person age statements, by language (on folded text, apostrophes removed).
_SELF_AGE = re.compile(
    "|".join(
        [
            # en: "im 14", "i'm 13 years old", "i am only 12", "im turning 13", "age 14"
            rf"\b(?:im|i am|i m|iam)\s+(?:only\s+|just\s+|nearly\s+|almost\s+|turning\s+|like\s+|actually\s+)?{_AGE}\b{_NOT_A_QUANTITY}",
            rf"\b(?:my age is|age is|i turned|i just turned|i turn)\s+{_AGE}\b{_NOT_A_QUANTITY}",
            rf"\b{_AGE}\s*(?:years? old|yrs? old|y/?o|yo)\b",
            # es: "tengo 13 años", "tengo 13", "cumplo 14"
            rf"\b(?:tengo|tenia|cumplo|cumpli)\s+(?:solo\s+|ya\s+|casi\s+)?{_AGE}\b(?:\s*anos)?{_NOT_A_QUANTITY}",
            # de: "ich bin 14", "bin 13 jahre alt", "ich werde 14"
            rf"\b(?:ich bin|bin|ich werde|werde)\s+(?:erst\s+|schon\s+|fast\s+|gerade\s+)?{_AGE}\b(?:\s*jahre?(?:\s+alt)?)?{_NOT_A_QUANTITY}",
            rf"\b{_AGE}\s*jahre?\s+alt\b",
            # fr: "j'ai 13 ans", "jai 13 ans"
            rf"\b(?:jai|j ai|g|j\s?ai)\s+(?:que\s+|seulement\s+|presque\s+|bientot\s+)?{_AGE}\s*ans\b",
            # pt: "tenho 13 anos", "tenho 13", "faco 14"
            rf"\b(?:tenho|tinha|faco|fiz)\s+(?:so\s+|apenas\s+|quase\s+)?{_AGE}\b(?:\s*anos)?{_NOT_A_QUANTITY}",
        ]
    )
)
# "13 años", "14 ans", "13 anos": the age with its unit but no verb (often an answer).
_BARE_AGE_WITH_UNIT = re.compile(rf"^\W*{_AGE}\s*(?:anos|ans|jahre|years|yrs|yo|y/o)\b")
# School year, first person: "in 8th grade", "im in year 9", "estoy en 2 de eso",
# "ich bin in der 8. klasse", "je suis en 4e", "to no 8 ano".
_SCHOOL_YEAR = [
    (re.compile(r"\b(?:im|i am|i m)\s+in\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+grade\b"), 5),
    (re.compile(r"\b(?:im|i am|i m)\s+in\s+grade\s+(\d{1,2})\b"), 5),
    (re.compile(r"\b(?:im|i am|i m)\s+in\s+(?:year|yr)\s+(\d{1,2})\b"), 4),
    (re.compile(r"^\W*(?:in\s+)?(?:year|yr)\s+(\d{1,2})\b(?!\s*(?:old|olds))"), 4),
    (re.compile(r"^\W*(?:in\s+)?(\d{1,2})(?:st|nd|rd|th)\s+grade\b"), 5),
    (re.compile(r"\b(?:estoy|voy)\s+en\s+(\d)(?:o|º)?\s*(?:de\s+)?(?:la\s+)?eso\b"), 11),
    (re.compile(r"\b(?:estoy|voy)\s+en\s+(\d)(?:o|º)?\s*(?:de\s+)?(?:primaria)\b"), 5),
    (
        re.compile(
            r"\b(?:ich bin|bin|ich geh|gehe)\s+in\s+(?:die|der)\s+(\d{1,2})\.?\s*(?:klasse)\b"
        ),
        5,
    ),
    (re.compile(r"\b(?:to|estou|tou|eu to)\s+no\s+(\d)(?:o|º)?\s*ano\b"), 5),
]
_FRENCH_COLLEGE = re.compile(r"\b(?:je suis|jsuis|chuis|suis)\s+en\s+([3-6])\s*(?:e|eme)\b")
_FRENCH_LYCEE = re.compile(r"\b(?:je suis|jsuis|chuis|suis)\s+en\s+(seconde|premiere|terminale)\b")
_FRENCH_LYCEE_AGE = {"seconde": 15, "premiere": 16, "terminale": 17}
# "ur 26", "you're only 15", "tienes 30 años": an age said about the other person.
_ATTRIBUTED_AGE = re.compile(
    rf"\b(?:your|youre|you are|ur|u r|you r|tienes|tu tienes|du bist|bist du|tu as|t as|tas|"
    rf"voce tem|vc tem|tu tens)\s+(?:like\s+|only\s+|literally\s+|actually\s+)?{_AGE}\b"
    rf"(?:\s*(?:anos|jahre|ans|years old))?{_NOT_A_QUANTITY}(?!\s*(?:and|y|et|e)\s+(?:im|i am))"
)
# One of these words starts every attribution above: without one the search is skipped.
_ATTRIBUTION_LEADS = frozenset(
    "your youre you ur u tienes tu du bist t tas voce vc".split()  # noqa: SIM905
)
_AGE_QUESTION = re.compile(
    r"how old|\bage\?|\basl\b|what year (?:are|r) (?:you|u)|what grade|"
    r"cuantos anos|que edad|tu edad|wie alt|quel age|t as quel age|tas quel age|"
    r"quantos anos|qual (?:a )?(?:sua )?idade|que idade"
)
_REPLY_AGE = re.compile(
    rf"^\W*(?:almost\s+|nearly\s+|casi\s+|fast\s+|presque\s+|quase\s+)?{_AGE}\b{_NOT_A_QUANTITY}"
)
_AGE_GATE = re.compile(rf"\d|\b(?:{_AGE_WORD})\b|premiere|seconde|terminale")
_HAS_DIGIT = re.compile(r"\d")
_NUMBER_WORD_SET = frozenset(
    {part for word in _NUMBER_WORDS for part in re.split(r"[- ]", word)}
    | {"premiere", "seconde", "terminale"}
)
# words without which no age question regex can match (a cheap gate before it)
_AGE_QUESTION_WORDS = frozenset(
    ["old", "age", "asl", "year", "grade", "anos", "edad", "alt", "age", "idade", "ans"]
)


# Messages that can tell an age: a number (digits or words) or an age question.
_DISCLOSURE_TRIGGERS = Triggers(words=_NUMBER_WORD_SET | _AGE_QUESTION_WORDS, digit=True)
# A new sender brings a profile age. The age record changes only on these messages,
# so the gap and inconsistency recognizers, which act on a change, need no others.
_AGE_RECORD_TRIGGERS = _DISCLOSURE_TRIGGERS | Triggers(new_sender=True)


# Words without which no self-age or school-year statement above can match (a cheap
# gate before those regexes): their verbs, units and school words, per language.
_DISCLOSURE_LEADS = frozenset(
    """im iam am m age turned turn years year yrs yr yo y tengo tenia cumplo cumpli bin
    werde jahre jahr jai j g tenho tinha faco fiz grade eso primaria klasse ano suis jsuis
    chuis seconde premiere terminale""".split()  # noqa: SIM905
)
# A word that is a number glued to a unit or ending: "14yo", "13yrs", "8th", "14jahre"
# (a word as ``NormalizedText.words`` splits them: runs of [a-z0-9_]).
_GLUED_UNIT = re.compile(r"(?<![a-z0-9_])\d+[a-z]")


def _age_value(token: str) -> int | None:
    token = token.strip()
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


@dataclass
class _AgeRecord:
    """What one conversation has revealed about ages (bounded: a few entries each)."""

    declared: dict[str, int] = field(default_factory=dict)
    disclosed: dict[str, list[int]] = field(default_factory=dict)
    attributed: dict[str, list[int]] = field(default_factory=dict)
    changed: bool = False
    gaps_reported: set[tuple[str, str]] = field(default_factory=set)
    inconsistencies_reported: set[tuple[str, str]] = field(default_factory=set)
    age_question_by: str | None = None
    age_question_index: int = -10

    def remember(self, table: dict[str, list[int]], participant: str, age: int) -> None:
        ages = table.setdefault(participant, [])
        if age not in ages:
            ages.append(age)
            del ages[:-4]
            self.changed = True

    def best_age(self, participant: str) -> int | None:
        disclosed = self.disclosed.get(participant)
        if disclosed:
            return disclosed[-1]
        return self.declared.get(participant)


def _ages(context: RecognizerContext) -> _AgeRecord:
    record = context.scratch.get("ages")
    if record is None:
        record = context.scratch["ages"] = _AgeRecord()
    return record


def _seen(context: RecognizerContext, name: str) -> set[str]:
    """The participants a once-per-participant recognizer has already looked at."""
    state = context.state_for(name)
    seen = state.get("seen")
    if seen is None:
        seen = state["seen"] = set()
    return seen


def _plausible(age: int) -> bool:
    return 5 <= age <= 80


class DeclaredAgeRecognizer(Recognizer):
    """Profile ages (``declared_age``), once per participant, as each is first seen."""

    name = "declared_age"
    triggers = Triggers(new_sender=True)

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[ContextSignal]:
        seen = _seen(context, self.name)
        if message.sender in seen and context.message_index:
            return ()
        record = _ages(context)
        findings = []
        for participant in context.participants.values():
            if participant.id in seen:
                continue
            seen.add(participant.id)
            if participant.declared_age is None:
                continue
            record.declared[participant.id] = participant.declared_age
            record.changed = True
            findings.append(
                ContextSignal(
                    kind="declared_age",
                    participant=participant.id,
                    value=participant.declared_age,
                    weight=0.3,
                    description=f"profile of {participant.id} says age {participant.declared_age}",
                )
            )
        seen.add(message.sender)
        return findings


@dataclass(frozen=True, slots=True)
class _AgeCues:
    """What a text alone says about ages, whoever sends it and whenever: worked out
    once per text (``NormalizedText.derived``), the sender and the conversation's
    state are applied per message."""

    asked: bool  # an age question
    gate: bool  # a number, or a number word, that could be an age
    # longer than 12 characters, no lead word and no glued unit: a number in it can
    # only be an age as the answer to an age question ("til 6", "question 4")
    no_statement: bool
    attribution: bool  # a word that starts "ur 13", "tienes 12"...
    short: bool  # at most 12 characters: a bare "13 yo" counts even unasked
    reply_length: bool  # at most 24 characters: short enough to be a bare answer


def _age_cues(text: NormalizedText) -> _AgeCues | None:
    words = text.words
    has_number = text.has_digit or not _NUMBER_WORD_SET.isdisjoint(words)
    asks = not _AGE_QUESTION_WORDS.isdisjoint(words)
    if not (has_number or asks):
        return None
    folded = text.plain
    return _shared_cues(
        asks and _AGE_QUESTION.search(folded) is not None,
        # a digit matches the gate at once: only number words need the search
        has_number and (text.has_digit or _AGE_GATE.search(folded) is not None),
        len(folded) > 12
        and _DISCLOSURE_LEADS.isdisjoint(words)
        and _GLUED_UNIT.search(folded) is None,
        not _ATTRIBUTION_LEADS.isdisjoint(words),
        len(folded) <= 12,
        len(folded) <= 24,
    )


@cache
def _shared_cues(
    asked: bool, gate: bool, no_statement: bool, attribution: bool, short: bool, reply_length: bool
) -> _AgeCues:
    """One object per combination (at most 64): each remembered text keeps its cues,
    and one object per text would be that many more for the garbage collector."""
    return _AgeCues(asked, gate, no_statement, attribution, short, reply_length)


def _stated_age(text: NormalizedText) -> tuple[int | None, str] | None:
    """An age stated in the words themselves: "im 13", a school year; None if none."""
    folded = text.plain
    match = _SELF_AGE.search(folded)
    if match:
        token = next(g for g in match.groups() if g)
        return _age_value(token), "in their words"
    for pattern, offset in _SCHOOL_YEAR:
        school = pattern.search(folded)
        if school:
            return int(school.group(1)) + offset, "from their school year"
    french = _FRENCH_COLLEGE.search(folded)
    if french:
        return 17 - int(french.group(1)), "from their school year"
    lycee = _FRENCH_LYCEE.search(folded)
    if lycee:
        return _FRENCH_LYCEE_AGE[lycee.group(1)], "from their school year"
    return None


def _age_with_unit(text: NormalizedText) -> tuple[int | None, str] | None:
    unit = _BARE_AGE_WITH_UNIT.search(text.plain)
    return (_age_value(unit.group(1)), "answer with unit") if unit else None


def _bare_age(text: NormalizedText) -> tuple[int | None, str] | None:
    bare = _REPLY_AGE.search(text.plain)
    return (_age_value(bare.group(1)), "answer to an age question") if bare else None


def _attributed_age(text: NormalizedText) -> int | None:
    match = _ATTRIBUTED_AGE.search(text.plain)
    if not match:
        return None
    age = _age_value(next(g for g in match.groups() if g))
    if age is None or not 8 <= age <= 80:
        return None
    return age


class SelfDisclosedAgeRecognizer(Recognizer):
    """Ages people state about themselves (five languages, school years, bare replies)."""

    name = "self_disclosed_age"
    triggers = _DISCLOSURE_TRIGGERS

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[ContextSignal]:
        cues: _AgeCues | None = text.derived("age.cues", _age_cues)
        if cues is None:
            return ()
        record = _ages(context)
        findings: list[ContextSignal] = []
        if cues.gate:
            age, how = self._disclosed(text, cues, record, message, context)
            if age is not None and _plausible(age):
                record.remember(record.disclosed, message.sender, age)
                findings.append(
                    ContextSignal(
                        kind="self_disclosed_age",
                        participant=message.sender,
                        value=age,
                        weight=0.6,
                        description=f"{message.sender} says they are {age} ({how})",
                    )
                )
            attributed = self._attributed(text, message, context) if cues.attribution else None
            if attributed is not None:
                other, other_age = attributed
                record.remember(record.attributed, other, other_age)
                findings.append(
                    ContextSignal(
                        kind="attributed_age",
                        participant=other,
                        value=other_age,
                        weight=0.5,
                        description=f"{message.sender} says {other} is {other_age}",
                    )
                )
        if cues.asked:
            record.age_question_by = message.sender
            record.age_question_index = context.message_index
        return findings

    @staticmethod
    def _disclosed(
        text: NormalizedText,
        cues: _AgeCues,
        record: _AgeRecord,
        message: Message,
        context: RecognizerContext,
    ) -> tuple[int | None, str]:
        replied = (
            record.age_question_by is not None
            and record.age_question_by != message.sender
            and context.message_index - record.age_question_index <= 3
        )
        if cues.no_statement and not replied:
            return None, ""  # "til 6", "question 4", not an answer to an age question
        stated = text.derived("age.stated", _stated_age)
        if stated is not None:
            return stated
        if replied or cues.short:
            unit = text.derived("age.unit", _age_with_unit)
            if unit is not None:
                return unit
        if replied and cues.reply_length:
            bare = text.derived("age.bare", _bare_age)
            if bare is not None:
                return bare
        return None, ""

    @staticmethod
    def _attributed(
        text: NormalizedText, message: Message, context: RecognizerContext
    ) -> tuple[str, int] | None:
        others = [p for p in context.participants if p != message.sender]
        if len(others) != 1:
            return None  # in a group it is unclear who "you" is
        age = text.derived("age.attributed", _attributed_age)
        return None if age is None else (others[0], age)


class AgeGapRecognizer(Recognizer):
    """An adult and a minor in the same conversation, from declared or disclosed ages."""

    name = "age_gap"
    triggers = _AGE_RECORD_TRIGGERS

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[ContextSignal]:
        record = context.scratch.get("ages")
        if record is None or not record.changed:
            return ()
        findings = []
        ages = {
            p: a
            # in the order first seen, not a set's: a set of strings iterates in an order
            # that changes with the process's hash seed, and so would the findings
            for p in dict.fromkeys([*record.declared, *record.disclosed, *record.attributed])
            if (a := self._age(record, p)) is not None
        }
        for older, older_age in ages.items():
            for younger, younger_age in ages.items():
                if older == younger or (older, younger) in record.gaps_reported:
                    continue
                adult_and_minor = older_age >= ADULT_AGE > younger_age
                wide_gap = younger_age < ADULT_AGE and older_age - younger_age >= 4
                if not (adult_and_minor or wide_gap):
                    continue
                record.gaps_reported.add((older, younger))
                findings.append(
                    ContextSignal(
                        kind="age_gap",
                        participant=older,
                        value={
                            "older": older,
                            "older_age": older_age,
                            "younger": younger,
                            "younger_age": younger_age,
                            "gap": older_age - younger_age,
                            "adult_and_minor": adult_and_minor,
                        },
                        weight=0.8 if adult_and_minor else 0.4,
                        description=(
                            f"{older} ({older_age}) and {younger} ({younger_age}): "
                            + ("adult and minor" if adult_and_minor else "wide age gap")
                        ),
                    )
                )
        return findings

    @staticmethod
    def _age(record: _AgeRecord, participant: str) -> int | None:
        # Said by someone else ("ur 26") outranks what the person claims.
        attributed = record.attributed.get(participant)
        if attributed:
            return max(attributed)
        return record.best_age(participant)


class AgeInconsistencyRecognizer(Recognizer):
    """A participant's ages disagree: with each other, with the profile, or with others' words.

    The contradiction is a sign of peer impersonation, so when the person
    contradicts themselves a T0201 hit is also emitted on their message.
    """

    name = "age_inconsistency"
    technique_ids = ("T0201",)
    triggers = _AGE_RECORD_TRIGGERS

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[ContextSignal | TechniqueHit]:
        record = context.scratch.get("ages")
        if record is None or not record.changed:
            return ()
        record.changed = False  # the last age recognizer in the chain resets the flag
        findings: list[ContextSignal | TechniqueHit] = []
        participants = dict.fromkeys([*record.disclosed, *record.attributed])  # ordered
        for participant in participants:
            claims = list(record.disclosed.get(participant, ()))
            declared = record.declared.get(participant)
            attributed = record.attributed.get(participant, [])
            conflict = self._conflict(claims, declared, attributed)
            if conflict is None:
                continue
            key = (participant, conflict)
            if key in record.inconsistencies_reported:
                continue
            record.inconsistencies_reported.add(key)
            findings.append(
                ContextSignal(
                    kind="age_inconsistency",
                    participant=participant,
                    value={"claimed": claims, "declared": declared, "attributed": attributed},
                    weight=0.7,
                    description=f"ages for {participant} disagree: {conflict}",
                    technique_id="T0201",
                )
            )
            if participant == message.sender:
                findings.append(
                    PatternHit(
                        message_id=message.id,
                        technique_id="T0201",
                        start=0,
                        end=len(message.text),
                        confidence=0.6,
                        recognizer=self.name,
                        speaker=message.sender,
                        matched_text=None,
                        side="adult-side",
                        pattern=f"age_inconsistency:{conflict}",
                    )
                )
        return findings

    @staticmethod
    def _conflict(claims: list[int], declared: int | None, attributed: list[int]) -> str | None:
        if len(claims) >= 2 and max(claims) - min(claims) >= 2:
            return f"said {min(claims)} and {max(claims)}"
        if declared is not None and claims and abs(claims[-1] - declared) >= 2:
            return f"profile {declared}, said {claims[-1]}"
        known = [*claims, *([declared] if declared is not None else [])]
        if attributed and known and max(attributed) - min(known) >= 3:
            return f"others say {max(attributed)}, claims {min(known)}"
        return None


def account_age_days(participant: Participant, when: datetime | None) -> int | None:
    """Whole days from the participant's account creation to ``when`` (None if unknown)."""
    created = participant.account_created
    if when is None or not created:
        return None
    created_at = _creation_time(created)
    if created_at is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - created_at).days


@lru_cache(maxsize=8192)
def _creation_time(created: str) -> datetime | None:
    """An account's creation time (UTC when it names no zone). Remembered: an account
    comes back in conversation after conversation, with the same string each time."""
    try:
        created_at = parse_timestamp(created if "T" in created else f"{created}T00:00:00Z")
    except ValueError:
        return None
    if created_at is not None and created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return created_at


class NewAccountRecognizer(Recognizer):
    """Accounts created shortly before they message (``new_account``), once per participant.

    Judged on the participant's first message in the conversation, by its timestamp;
    a first message without one cannot be judged.
    """

    name = "new_account"
    triggers = Triggers(new_sender=True)

    def __init__(self, max_age_days: int = 30) -> None:
        self.max_age_days = max_age_days

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[ContextSignal]:
        seen = _seen(context, self.name)
        if message.sender in seen or message.ts is None:
            return ()
        seen.add(message.sender)
        participant = context.participants.get(message.sender)
        if participant is None:
            return ()
        days = account_age_days(participant, message.ts)
        if days is None or days < 0 or days > self.max_age_days:
            return ()
        return (
            ContextSignal(
                kind="new_account",
                participant=message.sender,
                value=days,
                weight=0.5 if days <= 7 else 0.3,
                description=f"account of {message.sender} created {days} day(s) before messaging",
            ),
        )


class NightTimeRecognizer(Recognizer):
    """First late-night message of each participant (by the timestamp's own clock)."""

    name = "night_time"

    def __init__(self, start_hour: int = 23, end_hour: int = 5) -> None:
        self.start_hour = start_hour
        self.end_hour = end_hour

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[ContextSignal]:
        if message.ts is None:
            return ()
        hour = message.ts.hour
        if not (hour >= self.start_hour or hour < self.end_hour):
            return ()
        seen = _seen(context, self.name)
        if message.sender in seen:
            return ()
        seen.add(message.sender)
        return (
            ContextSignal(
                kind="night_time",
                participant=message.sender,
                value=hour,
                weight=0.1,
                description=f"{message.sender} messages late at night ({hour:02d}:00)",
            ),
        )


_MEDIA = re.compile(r"^\s*\[(?:image|photo|picture|video|media|selfie|attachment)[^\]]*\]\s*$")
_PERSONA_CLAIM = re.compile(
    r"(?:^|\b(?:im|i am|its|this is|hey its|hi its)\s+)[a-z]+(?:\s+btw)?\s*,\s*(?:1[0-9]|[5-9])\b"
    r"|\b(?:im|i am|i m)\s+(?:1[0-7])\b"
    r"|\bi go first\b|\bill send (?:one |mine )?first\b|\bi ll send (?:one |mine )?first\b"
    r"|\bsoy\s+[a-z]+\s*,\s*1\d\b|\bich bin\s+[a-z]+\s*,\s*1\d\b|\bje suis\s+[a-z]+\s*,\s*1\d\b"
    r"|\bsou (?:a |o )?[a-z]+\s*,\s*1\d\b"
)
# Every claim above has a comma ("its mia, 14"), "first", or "im"/"i am"/"i m" before
# the age: without one of them the (slow, unanchored) search cannot match.
_PERSONA_LEADS = frozenset({"im", "i", "m", "first"})


def _persona_claim(text: NormalizedText) -> bool:
    """Whether the text claims a young identity ("its mia, 14") or offers to go first."""
    return (
        len(text.folded) < 200
        and (text.has_digit or "first" in text.words)
        and ("," in text.plain or not _PERSONA_LEADS.isdisjoint(text.words))
        and _PERSONA_CLAIM.search(text.plain) is not None
    )


class PersonaPhotoRecognizer(Recognizer):
    """A photo sent right after claiming a young identity or offering to "go first".

    Fake personas send stolen or generated pictures to back the claim (T0202);
    the picture itself is not looked at, only when and after what it arrives.
    """

    name = "persona_photo"
    technique_ids = ("T0202",)
    # a media placeholder, or a claim: an age in digits or an offer to go "first"
    triggers = Triggers(words=frozenset({"first"}), digit=True, characters=frozenset("["))

    def __init__(self, within_messages: int = 3) -> None:
        self.within_messages = within_messages

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[PatternHit]:
        state = context.state_for(self.name)
        claims: dict[str, int] | None = state.get("claims")
        if claims is None:
            claims = state["claims"] = {}
        own_count = context.messages_from(message.sender)
        if own_count is None:  # called outside a registry, which counts for us
            counts: dict[str, int] = state.setdefault("counts", {})
            own_count = counts[message.sender] = counts.get(message.sender, 0) + 1
        raw = message.text
        if "[" in raw and _MEDIA.match(text.folded):
            claimed_at = claims.get(message.sender)
            if claimed_at is not None and own_count - claimed_at <= self.within_messages:
                del claims[message.sender]  # one photo backs one claim
                return (
                    PatternHit(
                        message_id=message.id,
                        technique_id="T0202",
                        start=0,
                        end=len(raw),
                        confidence=0.5,
                        recognizer=self.name,
                        speaker=message.sender,
                        matched_text=raw,
                        side="adult-side",
                        pattern="persona_photo",
                    ),
                )
            return ()
        if text.derived("persona.claim", _persona_claim):
            claims[message.sender] = own_count
        return ()
