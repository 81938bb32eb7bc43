"""The incremental conversation analyser: one message in, one assessment out.

``ConversationAnalyzer.observe(message)`` runs the recognizers on one message,
updates bounded per-participant counters (evidence per tactic, first-seen tactic
order, decayed recency, known ages, context signals) and scores the
conversation so far with the risk model. Nothing ever looks past the current
message, so the assessment after message *k* is the same whether or not later
messages exist, and ``alert_message`` is the first message at which the
streaming analysis raised the alert.

Bounded state: per participant at most :data:`MAX_EVIDENCE` evidence items and
:data:`MAX_TECHNIQUE_MESSAGES` reported messages are kept (the strongest / the
first), at most :data:`MAX_PARTICIPANTS` participants are followed individually
and :data:`MAX_CONTEXT` context signals are kept. Assessments share lists and
dicts with the analyser copy-on-write: the analyser replaces, never mutates, a
list it has handed out, so an earlier assessment never changes afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cosea.chats.analysis import scratch
from cosea.chats.analysis.pipeline import Normalizer, resolve
from cosea.chats.analysis.tactics import reason_for, tactic_of, tactic_rank
from cosea.chats.model import RiskModel, resolve_model
from cosea.chats.model.features import (
    ADULT_AGE,
    COERCION_TACTIC,
    SEVERE_FROM_RANK,
    feature_vector,
    longest_increasing_run,
)
from cosea.chats.recognizers.base import NOTHING_FOUND, RecognizerContext, RecognizerRegistry
from cosea.errors import InputError
from cosea.types import (
    Assessment,
    ContextSignal,
    Conversation,
    ConversationClass,
    Evidence,
    Message,
    Participant,
    TechniqueHit,
)

STATE_FORMAT = "cosea.chats.analyzer-state/1"
MAX_EVIDENCE = 32
MAX_TECHNIQUE_MESSAGES = 256
MAX_PARTICIPANTS = 512
MAX_CONTEXT = 32
MAX_SIGNAL_KEYS = 1024
#: Signal kinds about the target's words: evidence against the other participants.
TARGET_KINDS = frozenset({"target_cue"})
#: How much a participant's own age claims shift suspicion towards or away from them.
ADULT_FACTOR = 1.25
MINOR_FACTOR = 0.8
AGE_KINDS = frozenset({"age", "self_disclosed_age", "declared_age", "attributed_age", "stated_age"})


@dataclass(slots=True)
class _Person:
    """What the analyser keeps about one participant: counters, never the text."""

    id: str
    evidence: float = 0.0
    recent: float = 0.0  # decayed evidence as of message index ``recent_at``
    recent_at: int = 0
    messages: int = 0
    tactic_max: dict[str, float] = field(default_factory=dict)
    tactic_count: dict[str, int] = field(default_factory=dict)
    tactics_seen: list[str] = field(default_factory=list)  # first-seen order, all hits
    progression: int = 0
    reported_tactics: list[str] = field(default_factory=list)  # first-seen, reported hits
    reported_rank: int = 0
    techniques: dict[str, list[str]] = field(default_factory=dict)  # copy-on-write
    evidence_items: list[Evidence] = field(default_factory=list)  # copy-on-write, capped
    context_weight: float = 0.0
    target_cues: float = 0.0
    declared_age: int | None = None
    disclosed_age: int | None = None

    @property
    def age(self) -> int | None:
        return self.disclosed_age if self.disclosed_age is not None else self.declared_age

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "evidence": self.evidence,
            "recent": self.recent,
            "recent_at": self.recent_at,
            "messages": self.messages,
            "tactic_max": dict(self.tactic_max),
            "tactic_count": dict(self.tactic_count),
            "tactics_seen": list(self.tactics_seen),
            "progression": self.progression,
            "reported_tactics": list(self.reported_tactics),
            "reported_rank": self.reported_rank,
            "techniques": {k: list(v) for k, v in self.techniques.items()},
            "evidence_items": [e.to_dict() for e in self.evidence_items],
            "context_weight": self.context_weight,
            "target_cues": self.target_cues,
            "declared_age": self.declared_age,
            "disclosed_age": self.disclosed_age,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Person:
        data = dict(data)
        data["evidence_items"] = [Evidence.from_dict(e) for e in data.get("evidence_items", [])]
        return cls(**data)


def _signal_key(signal: ContextSignal) -> tuple[str, str | None, str, str | None]:
    return (signal.kind, signal.participant, repr(signal.value), signal.technique_id)


def _age_value(signal: ContextSignal) -> int | None:
    if signal.participant is None or signal.kind not in AGE_KINDS:
        return None
    value = signal.value
    if isinstance(value, dict):
        value = value.get("age")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and 3 <= value <= 120:
        return int(value)
    return None


class ConversationAnalyzer:
    """Follows one conversation message by message (see the module docstring)."""

    def __init__(
        self,
        model: RiskModel | str | None = None,
        registry: RecognizerRegistry | None = None,
        *,
        conversation: Conversation | None = None,
        conversation_id: str | None = None,
        participants: Iterable[Participant] | None = None,
        platform: str | None = None,
        language: str | None = None,
        normalizer: Normalizer | None = None,
    ) -> None:
        self.model = resolve_model(model)
        self.registry, self.normalize = resolve(registry, normalizer)
        if conversation is not None:
            conversation_id = conversation_id or conversation.id
            participants = participants if participants is not None else conversation.participants
            platform = platform or conversation.platform
            language = language or conversation.language
        # A streamed header's participant list grows as new authors speak: keep the
        # list itself to look newcomers up in (see _meet).
        self._header_participants = participants if isinstance(participants, list) else None
        people = list(participants or [])
        self.conversation_id = conversation_id or "conversation"
        self.participants = people
        self.context = RecognizerContext(
            conversation_id=self.conversation_id,
            platform=platform,
            language=language,
            participants={p.id: p for p in people},
            message_index=0,
        )
        self._decay = 0.5 ** (1.0 / self.model.recency_half_life)
        self._people: dict[str, _Person] = {}
        for participant in people:
            person = self._person(participant.id)
            if person is not None:
                person.declared_age = participant.declared_age
        self.messages_seen = 0
        self.total_evidence = 0.0
        self.conversation_context = 0.0
        self._context: list[ContextSignal] = []
        self._context_keys: set[tuple[str, str | None, str, str | None]] = set()
        self.suspect: str | None = None
        self._risk = 0.0
        # Between findings only recency moves the risk, and it can only lower it unless
        # the model weighs recency negatively; then the risk is recomputed lazily.
        self._stale = False
        self._decay_may_raise = self.model.risk.weight_of("recent") < 0
        self.alert = False
        self.alert_message: str | None = None
        self.clearances: list[dict[str, Any]] = []
        self.last_message_id: str | None = None
        self._vector: list[float] | None = None
        self._dirty = False  # nothing seen yet; the risk below is the model's prior
        self._assessment: Assessment | None = None
        self._empty_techniques: dict[str, list[str]] = {}
        self._empty_evidence: list[Evidence] = []
        #: The sender's findings on the last message (one per technique); for training and
        #: the explain timeline. Metadata techniques carry an empty span.
        self.last_hits: list[TechniqueHit] = []
        self._recompute()  # the model's risk before any message

    # -- participants ------------------------------------------------------------
    def _meet(self, participant_id: str) -> None:
        """A sender not in the header seen at the start: take their profile from the
        (growing) header list when it has one, so recognizers see declared ages."""
        found = None
        for participant in self._header_participants or ():
            if participant.id == participant_id:
                found = participant
                break
        if found is None:
            found = Participant(participant_id)
        self.context.participants[participant_id] = found  # as large as the header's list
        if len(self.participants) < MAX_PARTICIPANTS:
            self.participants.append(found)
        person = self._person(participant_id)
        if person is not None and person.declared_age is None and found.declared_age is not None:
            person.declared_age = found.declared_age
            self._dirty = True

    def _person(self, participant_id: str) -> _Person | None:
        person = self._people.get(participant_id)
        if person is None:
            if len(self._people) >= MAX_PARTICIPANTS:
                return None
            person = _Person(participant_id)
            self._people[participant_id] = person
        return person

    # -- context -----------------------------------------------------------------
    def add_context(self, findings: Iterable[ContextSignal | TechniqueHit]) -> bool:
        """Add findings from outside the conversation's messages, e.g. the batch context's
        fan-out (T0105) or recycled-account (T0203) signals and hits; True when anything
        was new."""
        added = False
        findings = list(findings)
        as_hits = set()
        for finding in findings:
            if isinstance(finding, TechniqueHit):
                person = self._person(finding.speaker) if finding.speaker else None
                if person is not None:
                    self._add_hit(
                        person,
                        finding.technique_id,
                        finding.confidence,
                        finding.message_id,
                        finding,
                    )
                    as_hits.add((finding.speaker, finding.technique_id))
                    added = True
        for finding in findings:
            if isinstance(finding, ContextSignal):
                # a signal that came with its hit is context only: count the evidence once
                counted = (finding.participant, finding.technique_id) in as_hits
                added |= self._add_signal(finding, None, None, as_evidence=not counted)
        if added:
            self._dirty = True
            self._refresh(message_id=None, findings=[])
        return added

    def _add_signal(
        self,
        signal: ContextSignal,
        message_id: str | None,
        sender: str | None,
        as_evidence: bool = True,
    ) -> bool:
        key = _signal_key(signal)
        if key in self._context_keys:
            return False
        if len(self._context_keys) < MAX_SIGNAL_KEYS:
            self._context_keys.add(key)
        if len(self._context) < MAX_CONTEXT:
            self._context = [*self._context, signal]
        person = self._person(signal.participant) if signal.participant else None
        age = _age_value(signal)
        if age is not None and person is not None:
            person.disclosed_age = age
        weight = max(0.0, float(signal.weight or 0.0))
        if signal.kind in AGE_KINDS:
            return True  # information (who is a minor), not suspicion by itself
        if signal.kind in TARGET_KINDS:
            # What the target says ("please dont post it") raises the risk of the
            # conversation and points away from the speaker, not at them.
            self.conversation_context += weight
            if person is not None:
                person.target_cues += weight
            return True
        if person is not None:
            person.context_weight += weight
        else:
            self.conversation_context += weight
        if signal.technique_id and person is not None and as_evidence:
            # Metadata techniques (fan-out, recycled accounts, age inconsistency)
            # count as evidence of that participant; on a message when it is theirs.
            on_message = message_id if signal.participant == sender else None
            if on_message is not None:
                self.last_hits.append(
                    TechniqueHit(on_message, signal.technique_id, 0, 0, weight or 0.5, "context")
                )
            self._add_hit(person, signal.technique_id, weight or 0.5, on_message)
        return True

    # -- evidence ----------------------------------------------------------------
    def _add_hit(
        self,
        person: _Person,
        technique_id: str,
        confidence: float,
        message_id: str | None,
        hit: TechniqueHit | None = None,
    ) -> Evidence | None:
        """Count one finding; returns its evidence item when it was kept."""
        confidence = max(0.0, min(1.0, float(confidence)))
        tactic = tactic_of(technique_id)
        rank = tactic_rank(tactic)
        person.evidence += confidence
        self.total_evidence += confidence
        now = self.messages_seen
        person.recent = person.recent * self._decay ** (now - person.recent_at) + confidence
        person.recent_at = now
        if tactic not in person.tactic_max:
            person.tactic_max[tactic] = confidence
            person.tactic_count[tactic] = 1
            person.tactics_seen.append(tactic)
            person.progression = longest_increasing_run(
                [tactic_rank(t) for t in person.tactics_seen]
            )
        else:
            person.tactic_max[tactic] = max(person.tactic_max[tactic], confidence)
            person.tactic_count[tactic] += 1
        reported = confidence >= self.model.technique_threshold
        if reported:
            if tactic not in person.reported_tactics:
                person.reported_tactics = [*person.reported_tactics, tactic]
            person.reported_rank = max(person.reported_rank, rank)
            if message_id is not None:
                known = person.techniques.get(message_id)
                if known is None and len(person.techniques) < MAX_TECHNIQUE_MESSAGES:
                    person.techniques = {**person.techniques, message_id: [technique_id]}
                elif known is not None and technique_id not in known:
                    person.techniques = {**person.techniques, message_id: [*known, technique_id]}
        evidence = Evidence(
            message_id=message_id,
            technique_id=technique_id,
            tactic_id=tactic,
            confidence=round(confidence, 4),
            contribution=0.0,
            reason=reason_for(person.id, technique_id),
            recognizer=hit.recognizer if hit is not None else "context",
            speaker=person.id,
            span=(hit.start, hit.end) if hit is not None else None,
        )
        self._dirty = True
        items = person.evidence_items
        if len(items) < MAX_EVIDENCE:
            person.evidence_items = [*items, evidence]
            return evidence
        weakest = min(range(len(items)), key=lambda i: items[i].confidence)
        if items[weakest].confidence < evidence.confidence:
            person.evidence_items = [*items[:weakest], *items[weakest + 1 :], evidence]
            return evidence
        return None

    # -- the main step -----------------------------------------------------------
    def observe(self, message: Message) -> Assessment:
        """Analyse the next message; returns where the conversation stands now."""
        self.step(message)
        return self.assessment

    def step(self, message: Message) -> None:
        """Like :meth:`observe` without building the assessment (the batch driver's path:
        it needs only the final one; alert and alert message are tracked either way)."""
        context = self.context
        context.message_index = self.messages_seen
        sender_id = message.sender
        if sender_id not in context.participants:
            self._meet(sender_id)
        recognition = self.registry.recognize(message, self.normalize(message.text or ""), context)
        if recognition is NOTHING_FOUND:  # most messages
            self.messages_seen += 1
            self.last_message_id = message.id
            sender = self._people.get(sender_id) or self._person(sender_id)
            if sender is not None:
                sender.messages += 1
            if self.last_hits:
                self.last_hits = []
            if not self._dirty and (self.suspect is None or not self._decay_may_raise):
                # What _refresh would do, without the call: with no finding only recency
                # moves the risk, and then it can only lower it, so nothing can be raised
                # unless the stale value is at the threshold already.
                if self.suspect is not None:
                    self._stale = True
                self._assessment = None
                if self.alert or self._risk < self.model.alert_threshold:
                    return
            self._refresh(message.id, (), None)
            return
        hits, signals = recognition.hits, recognition.signals
        before = self.risk if hits else None
        self.messages_seen += 1
        self.last_message_id = message.id
        sender = self._person(sender_id)
        if sender is not None:
            sender.messages += 1
        findings: list[tuple[_Person, Evidence]] = []
        self.last_hits = []
        if hits and sender is not None:
            best: dict[str, TechniqueHit] = {}
            for hit in hits:
                seen = best.get(hit.technique_id)
                if seen is None or hit.confidence > seen.confidence:
                    best[hit.technique_id] = hit
            for hit in best.values():
                self.last_hits.append(hit)
                kept = self._add_hit(sender, hit.technique_id, hit.confidence, message.id, hit)
                if kept is not None:
                    findings.append((sender, kept))
        for signal in signals:
            # a signal that came with its own hit on this message is context only
            counted = signal.participant == message.sender and any(
                h.technique_id == signal.technique_id for h in self.last_hits
            )
            if self._add_signal(signal, message.id, message.sender, as_evidence=not counted):
                self._dirty = True
        self._refresh(message.id, findings, before)

    def _choose_suspect(self) -> str | None:
        # Plain loops, no generator expressions: this runs on every message with a
        # finding, and those expressions cost more than the arithmetic.
        people = self._people
        any_score = any_minor = any_adult = False
        for person in people.values():
            if person.evidence > 0 or person.context_weight > 0:
                any_score = True
            age = person.disclosed_age if person.disclosed_age is not None else person.declared_age
            if age is not None:
                if age < ADULT_AGE:
                    any_minor = True
                else:
                    any_adult = True
        if not any_score:
            return None  # no score above 0 below (ages alone, e.g. profiles): no suspect
        best_id, best_score = None, 0.0
        for pid, person in people.items():
            score = (person.evidence + 0.5 * person.context_weight) / (1.0 + person.target_cues)
            if score <= 0:
                continue
            age = person.age
            if age is not None and age >= ADULT_AGE and any_minor:
                score *= ADULT_FACTOR
            elif age is not None and age < ADULT_AGE and any_adult:
                score *= MINOR_FACTOR
            if score > best_score:
                best_id, best_score = pid, score
        return best_id

    def features(self) -> list[float]:
        """The risk model's input for the conversation so far (see ``features.FEATURES``)."""
        suspect_id = self.suspect
        suspect = self._people.get(suspect_id) if suspect_id else None
        minor_present = False
        youngest_other: int | None = None
        adults_only = bool(self._people)
        for pid, person in self._people.items():
            age = person.disclosed_age if person.disclosed_age is not None else person.declared_age
            if age is None:
                adults_only = False
                continue
            if age < ADULT_AGE:
                adults_only = False
            if pid != suspect_id:
                minor_present |= age < ADULT_AGE
                if youngest_other is None or age < youngest_other:
                    youngest_other = age
        if suspect is None:
            return feature_vector(
                evidence=0.0,
                max_confidence=0.0,
                distinct_tactics=0,
                progression=0,
                furthest_rank=0,
                severe=0.0,
                coercion=0.0,
                suspect_share=0.0,
                recent=0.0,
                minor_present=minor_present,
                adults_only=adults_only,
                age_gap_years=None,
                context=self.conversation_context,
            )
        tactic_max = suspect.tactic_max
        # the strongest hit, the strongest late-stage hit and the furthest stage, in one
        # pass (the first maximum wins ties, as max() does)
        max_confidence: float | None = None
        severe: float | None = None
        furthest_rank = 0
        for tactic, confidence in tactic_max.items():
            rank = tactic_rank(tactic)
            if max_confidence is None or confidence > max_confidence:
                max_confidence = confidence
            if rank >= SEVERE_FROM_RANK and (severe is None or confidence > severe):
                severe = confidence
            if rank > furthest_rank:
                furthest_rank = rank
        recent = suspect.recent * self._decay ** (self.messages_seen - suspect.recent_at)
        gap = None
        if suspect.age is not None and youngest_other is not None:
            gap = float(suspect.age - youngest_other)
        return feature_vector(
            evidence=suspect.evidence,
            max_confidence=0.0 if max_confidence is None else max_confidence,
            distinct_tactics=len(tactic_max),
            progression=suspect.progression,
            furthest_rank=furthest_rank,
            severe=0.0 if severe is None else severe,
            coercion=tactic_max.get(COERCION_TACTIC, 0.0),
            suspect_share=suspect.evidence / self.total_evidence if self.total_evidence else 0.0,
            recent=recent,
            minor_present=minor_present,
            adults_only=adults_only,
            age_gap_years=gap,
            context=suspect.context_weight + self.conversation_context,
            tactic_max=tactic_max,
            coercion_hits=suspect.tactic_count.get(COERCION_TACTIC, 0),
        )

    @property
    def risk(self) -> float:
        """Calibrated risk of the conversation so far."""
        if self._stale:
            self._recompute()
        return self._risk

    def _recompute(self) -> None:
        if self.suspect is None:
            # No evidence yet (every conversation starts so, and most stay so): the
            # features are the model's prior for who is a minor or an adult and the
            # conversation-wide context, the same for many conversations.
            # one plain loop: this runs a few times per conversation, and two generator
            # expressions cost more than the rest of it
            minor_present = False
            adults_only = bool(self._people)
            for person in self._people.values():
                age = person.disclosed_age
                if age is None:
                    age = person.declared_age
                if age is None:
                    adults_only = False
                elif age < ADULT_AGE:
                    minor_present = True
                    adults_only = False
            model = self.model
            key = (
                id(model.risk),
                id(model.calibration),
                minor_present,
                adults_only,
                self.conversation_context,
            )
            known = model.prior_cache.get(key)
            if known is None:
                vector = self.features()
                known = (vector, model.probability(vector))
                if len(model.prior_cache) < 4096:
                    model.prior_cache[key] = known
            self._vector, self._risk = known
        else:
            self._vector = self.features()
            self._risk = self.model.probability(self._vector)
        self._stale = False

    def _refresh(
        self,
        message_id: str | None,
        findings: Sequence[tuple[_Person, Evidence]],
        before: float | None = None,
    ) -> None:
        if self._dirty:
            self.suspect = self._choose_suspect()
            self._dirty = False
            self._recompute()
        elif self.suspect is not None:
            if self._decay_may_raise:
                self._recompute()
            else:
                self._stale = True
        threshold = self.model.alert_threshold
        if findings and before is not None:
            self._attribute(findings, self.risk - before)
        # the cheap stale value first: a decayed risk is never above it
        raise_now = not self.alert and self._risk >= threshold and self.risk >= threshold
        if raise_now and self._may_raise():
            self.alert = True
            if self.alert_message is None:
                self.alert_message = message_id or self.last_message_id
        self._assessment = None

    def _attribute(self, findings: list[tuple[_Person, Evidence]], delta: float) -> None:
        """Share the risk change of this message among its findings, by confidence."""
        total = sum(e.confidence for _, e in findings) or 1.0
        for person, evidence in findings:
            share = round(delta * evidence.confidence / total, 4)
            items = person.evidence_items
            for i in range(len(items) - 1, -1, -1):
                if items[i] is evidence:
                    # the constructor directly: dataclasses.replace inspects the fields
                    # on every call, and this runs for every finding
                    replaced = Evidence(
                        evidence.message_id,
                        evidence.technique_id,
                        evidence.tactic_id,
                        evidence.confidence,
                        share,
                        evidence.reason,
                        evidence.recognizer,
                        evidence.speaker,
                        evidence.span,
                    )
                    person.evidence_items = [*items[:i], replaced, *items[i + 1 :]]
                    break

    def _may_raise(self) -> bool:
        suspect = self._people.get(self.suspect) if self.suspect else None
        if suspect is None or not suspect.tactic_max:
            # Ages and account facts alone (an adult talking with a child: a sibling, a
            # coach, a tutor) never raise an alert; a technique must have been seen.
            return False
        if not self.clearances:
            return True
        last = self.clearances[-1]
        stronger = self.risk >= last["risk"] + self.model.rearm_margin
        further = suspect.reported_rank > last["stage_rank"]
        return stronger or further

    # -- reading the state ---------------------------------------------------------
    @property
    def assessment(self) -> Assessment:
        if self._assessment is None:
            self._assessment = self._build_assessment()
        return self._assessment

    def _build_assessment(self) -> Assessment:
        model = self.model
        risk = self.risk  # brings a lazily decayed risk (and its vector) up to date
        vector = self._vector if self._vector is not None else self.features()
        suspect = self._people.get(self.suspect) if self.suspect else None
        # Like the alert (see _may_raise): no technique seen, no risky class.
        seen_technique = suspect is not None and bool(suspect.tactic_max)
        risky = self.alert or (risk >= model.alert_threshold and seen_technique)
        if risky and suspect is not None:
            cls = model.risky_class(vector)
            techniques = suspect.techniques
            tactics = suspect.reported_tactics
            stage_rank = suspect.reported_rank
            stage = next((t for t in tactics if tactic_rank(t) == stage_rank), None)
        else:
            cls = ConversationClass.GROOMING if risky else ConversationClass.BENIGN
            techniques, tactics, stage = self._empty_techniques, [], None
        return Assessment(
            conversation_id=self.conversation_id,
            messages_seen=self.messages_seen,
            risk=risk,
            cls=cls,
            suspect=self.suspect if risky else None,
            stage=stage,
            tactics_seen=tactics,
            alert=self.alert,
            alert_message=self.alert_message,
            evidence=suspect.evidence_items if suspect is not None else self._empty_evidence,
            context=self._context,
            techniques=techniques,
        )

    @property
    def watch_suspect(self) -> str | None:
        """Who the evidence points at so far, even below the alert threshold."""
        return self.suspect

    def clear_alert(self, reviewer: str, note: str | None = None) -> Assessment:
        """A reviewer clears the alert; it re-raises only on clearly stronger evidence
        (risk up by the model's re-arming margin, or a further kill-chain stage)."""
        if not reviewer:
            raise ValueError("clearing an alert needs the reviewer's name")
        suspect = self._people.get(self.suspect) if self.suspect else None
        self.clearances.append(
            {
                "reviewer": reviewer,
                "note": note,
                "at_message": self.last_message_id,
                "messages_seen": self.messages_seen,
                "risk": self.risk,
                "stage_rank": suspect.reported_rank if suspect is not None else 0,
            }
        )
        del self.clearances[:-8]  # keep the recent history bounded
        self.alert = False
        self._assessment = None
        return self.assessment

    # -- persistence -------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-safe state from which :meth:`from_state` continues identically."""
        return {
            "format": STATE_FORMAT,
            "model_id": self.model.model_id,
            "conversation": {
                "id": self.conversation_id,
                "platform": self.context.platform,
                "language": self.context.language,
                "participants": [p.to_dict() for p in self.participants],
            },
            "messages_seen": self.messages_seen,
            "last_message_id": self.last_message_id,
            "total_evidence": self.total_evidence,
            "conversation_context": self.conversation_context,
            "people": [p.to_dict() for p in self._people.values()],
            "context": [s.to_dict() for s in self._context],
            "signal_keys": [list(k) for k in self._context_keys],
            "scratch": scratch.encode(self.context.scratch),
            "suspect": self.suspect,
            "risk": self.risk,
            "alert": self.alert,
            "alert_message": self.alert_message,
            "clearances": [dict(c) for c in self.clearances],
        }

    @classmethod
    def from_state(
        cls,
        state: dict[str, Any],
        model: RiskModel | str | None = None,
        registry: RecognizerRegistry | None = None,
        *,
        normalizer: Normalizer | None = None,
        strict_model: bool = True,
    ) -> ConversationAnalyzer:
        """Continue an analysis saved with :meth:`state_dict` (same model unless told)."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise InputError("analyzer state", f"not an analyzer state (want {STATE_FORMAT})")
        header = state["conversation"]
        analyzer = cls(
            model,
            registry,
            conversation_id=header["id"],
            participants=[Participant.from_dict(p) for p in header.get("participants", [])],
            platform=header.get("platform"),
            language=header.get("language"),
            normalizer=normalizer,
        )
        if strict_model and state.get("model_id") != analyzer.model.model_id:
            raise InputError(
                "analyzer state",
                f"saved with model {state.get('model_id')}, resumed with "
                f"{analyzer.model.model_id}; pass strict_model=False to continue anyway",
            )
        analyzer.messages_seen = int(state["messages_seen"])
        analyzer.context.message_index = analyzer.messages_seen
        analyzer.last_message_id = state.get("last_message_id")
        analyzer.total_evidence = float(state["total_evidence"])
        analyzer.conversation_context = float(state.get("conversation_context", 0.0))
        analyzer._people = {p["id"]: _Person.from_dict(p) for p in state["people"]}
        analyzer._context = [ContextSignal(**s) for s in state.get("context", [])]
        analyzer._context_keys = {tuple(k) for k in state.get("signal_keys", [])} or {
            _signal_key(s) for s in analyzer._context
        }
        analyzer.context.scratch = scratch.decode(state.get("scratch") or {})
        analyzer.suspect = state.get("suspect")
        analyzer.alert = bool(state["alert"])
        analyzer.alert_message = state.get("alert_message")
        analyzer.clearances = [dict(c) for c in state.get("clearances", [])]
        analyzer._dirty = False
        analyzer._recompute()
        return analyzer


def analyze_conversation(
    conversation: Conversation,
    model: RiskModel | str | None = None,
    registry: RecognizerRegistry | None = None,
    *,
    context: Iterable[ContextSignal] = (),
    normalizer: Normalizer | None = None,
) -> Assessment:
    """Analyse a whole conversation message by message; the last assessment.

    The label, if any, is never read.
    """
    analyzer = ConversationAnalyzer(
        model, registry, conversation=conversation, normalizer=normalizer
    )
    analyzer.add_context(context)
    for message in conversation.messages:
        analyzer.step(message)
    return analyzer.assessment
