"""Batch-level recognizers: what only shows across many conversations.

- **Contact fan-out (T0105)**: one account opening conversations with many young
  accounts in a short time.
- **Multiple or recycled accounts (T0203)**: new accounts whose display names are
  variants of one another ("leo_plays", "l3o.plays2"), and several new accounts
  reaching the same child or community within a short time.

:class:`BatchContext` sees each conversation once, when it starts
(``observe_conversation(header, first_ts)``), in the order a batch delivers
them: it only knows conversations seen so far (no look-ahead). Memory is
bounded: least-recently-seen accounts, names and targets are forgotten first,
and each account keeps only a short window of contacts.

Accounts are told apart by a stable key: an ``account_id``/``user_id`` a reader
put in the participant's extra fields, else the participant id, unless the id is
conversation-local (``u1``, ``p2``: as in the labelled JSON Lines format), in
which case the platform plus the display name stands in for the account.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cosea.chats.recognizers.base import PatternHit
from cosea.chats.recognizers.context import account_age_days
from cosea.types import ContextSignal, Conversation, Participant, TechniqueHit

_LOCAL_ID = re.compile(r"^(?:u|p|user|participant|speaker|s)?\d{1,3}$", re.IGNORECASE)
_LEET_DIGITS = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"})
_LEET_INSIDE = re.compile(r"(?<=[a-z])[013457]+(?=[a-z])")
_LEET_CHARS = frozenset("013457")
_NOT_LETTERS = re.compile(r"[^a-z]+")
_LETTER_RUNS = re.compile(r"(.)\1+")
_ASCII_NOT_LETTERS = "".join(chr(c) for c in range(128) if not chr(c).islower())
_GENERIC_NAMES = frozenset(
    {"unknown", "unknownnumber", "user", "anonymous", "anon", "deleteduser", "guest", "player"}
)
ADULT_AGE = 18


def account_key(participant: Participant, platform: str | None = None) -> str:
    """A key for the account behind a participant, stable across conversations."""
    extra = participant.extra
    if extra:  # most participants carry no extra fields
        for name in ("account_id", "user_id", "account", "author_id", "uid"):
            value = extra.get(name)
            if value not in (None, ""):
                return f"{platform or '-'}:id:{value}"
    if participant.display_name and _LOCAL_ID.match(participant.id):
        return f"{platform or '-'}:name:{participant.display_name.strip().casefold()}"
    return f"{platform or '-'}:id:{participant.id}"


def name_skeleton(display_name: str | None) -> str:
    """A display name reduced to its letters: case, accents, leet digits, separators gone.

    "L3o_Plays2", "leo.plays" and "leo__plays__" all become "leoplays".
    """
    if not display_name:
        return ""
    if display_name.isascii():  # no accents to strip, and casefold is lower
        text = display_name.lower()
        # Most names are letters with a number or separators around them ("leo_99"):
        # what surrounds the letters is never a leet letter, and goes anyway.
        core = text.strip(_ASCII_NOT_LETTERS)
        if core.isalpha():
            return _collapse_runs(core)
    else:
        text = unicodedata.normalize("NFKD", display_name.casefold())
        text = "".join(c for c in text if not unicodedata.combining(c))
    if not _LEET_CHARS.isdisjoint(text):  # most names have no digit between letters
        text = _LEET_INSIDE.sub(_unleet, text)
    return _collapse_runs(_NOT_LETTERS.sub("", text))


def _collapse_runs(letters: str) -> str:
    """Letter runs collapsed ("leeoo" -> "leo"); most names have none, and a search is
    cheaper than a sub."""
    if _LETTER_RUNS.search(letters) is None:
        return letters
    # a function, not the template r"\1": re parses a template string on every call
    return _LETTER_RUNS.sub(_first_group, letters)


def _unleet(match: re.Match[str]) -> str:
    return match.group().translate(_LEET_DIGITS)


def _first_group(match: re.Match[str]) -> str:
    return match.group(1)


@dataclass
class _Contacts:
    """Recent young contacts of one account: (time, target key), oldest first."""

    recent: deque[tuple[datetime, str]] = field(default_factory=lambda: deque(maxlen=256))
    reported_at: int = 0  # distinct-target count last reported, to report growth only


class BatchContext:
    """Cross-conversation state for T0105 and T0203, bounded in memory.

    ``fan_out_threshold`` distinct young accounts contacted within
    ``fan_out_window`` raise a contact fan-out signal; ``new_account_days``
    decides which accounts count as new; ``max_accounts`` bounds every table.
    """

    def __init__(
        self,
        *,
        fan_out_window: timedelta = timedelta(hours=24),
        fan_out_threshold: int = 5,
        new_account_days: int = 30,
        recycled_window: timedelta = timedelta(days=30),
        max_accounts: int = 50_000,
    ) -> None:
        self.fan_out_window = fan_out_window
        self.fan_out_threshold = fan_out_threshold
        self.new_account_days = new_account_days
        self.recycled_window = recycled_window
        self.max_accounts = max_accounts
        self._contacts: OrderedDict[str, _Contacts] = OrderedDict()
        # name skeleton -> account key -> first time seen (a plain dict: insertion order
        # is all it needs, and there is one per name)
        self._names: OrderedDict[str, dict[str, datetime | None]] = OrderedDict()
        # target key -> new accounts that reached it: account key -> time
        self._new_reaching: OrderedDict[str, OrderedDict[str, datetime]] = OrderedDict()
        self._recycled_reported: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.conversations_seen = 0

    def observe_conversation(
        self,
        header: Conversation,
        first_ts: datetime | None = None,
        *,
        initiator: str | None = None,
        first_message_id: str | None = None,
    ) -> list[ContextSignal | TechniqueHit]:
        """Signals about this conversation's participants, from the batch seen so far.

        ``initiator``: the participant who opened the conversation, when known
        (else the sender of the header's first message, else every participant
        of a one-to-one conversation is considered). ``first_message_id``: the id
        the hits are placed on, for a streamed header that carries no messages.
        """
        self.conversations_seen += 1
        when = first_ts or (header.messages[0].ts if header.messages else None)
        if initiator is None and header.messages:
            initiator = header.messages[0].sender
        first_message = first_message_id
        if first_message is None and header.messages:
            first_message = header.messages[0].id
        participants = list(header.participants)
        findings: list[ContextSignal | TechniqueHit] = []
        if when is None or not participants:
            return findings
        keys = {p.id: account_key(p, header.platform) for p in participants}
        new = {p.id: self._is_new(p, when) for p in participants}
        findings += self._fan_out(header, participants, keys, when, initiator, first_message)
        findings += self._recycled_names(header, participants, keys, new, when, first_message)
        findings += self._new_accounts_reaching(
            header, participants, keys, new, when, first_message
        )
        return findings

    def _is_new(self, participant: Participant, when: datetime) -> bool:
        age_days = account_age_days(participant, when)
        return age_days is not None and 0 <= age_days <= self.new_account_days

    # T0105 -------------------------------------------------------------------

    def _fan_out(self, header, participants, keys, when, initiator, first_message):
        if len(participants) > 3:
            return []  # group chats and streams are not one-to-one contact
        actors = [initiator] if initiator in keys else [p.id for p in participants]
        findings: list[ContextSignal | TechniqueHit] = []
        for actor in actors:
            targets = [
                p
                for p in participants
                if p.id != actor and p.declared_age is not None and p.declared_age < ADULT_AGE
            ]
            if not targets:
                continue
            contacts = self._touch(self._contacts, keys[actor], _Contacts)
            for target in targets:
                contacts.recent.append((when, keys[target.id]))
            while contacts.recent and when - contacts.recent[0][0] > self.fan_out_window:
                contacts.recent.popleft()
            distinct = len({target for _, target in contacts.recent})
            if distinct < self.fan_out_threshold or distinct <= contacts.reported_at:
                continue
            contacts.reported_at = distinct
            hours = self.fan_out_window / timedelta(hours=1)
            description = f"{actor} has contacted {distinct} young accounts within {hours:g} hours"
            findings.append(
                ContextSignal(
                    kind="contact_fan_out",
                    participant=actor,
                    value={"account": keys[actor], "young_contacts": distinct, "hours": hours},
                    weight=min(1.0, 0.5 + 0.05 * (distinct - self.fan_out_threshold)),
                    description=description,
                    technique_id="T0105",
                )
            )
            findings += self._hit(first_message, "T0105", actor, description, 0.7)
        return findings

    # T0203 -------------------------------------------------------------------

    def _recycled_names(self, header, participants, keys, new, when, first_message):
        findings: list[ContextSignal | TechniqueHit] = []
        for participant in participants:
            skeleton = name_skeleton(participant.display_name)
            if len(skeleton) < 4 or skeleton in _GENERIC_NAMES:
                continue
            key = keys[participant.id]
            seen = self._touch(self._names, skeleton, dict)
            # an old account with a common name is not a recycled one: only a new one
            # is compared with the others of its name
            others = (
                [
                    other
                    for other, first in seen.items()
                    if other != key and (first is None or when - first <= self.recycled_window)
                ]
                if new[participant.id]
                else None
            )
            if key not in seen:
                seen[key] = when
                while len(seen) > 32:
                    del seen[next(iter(seen))]
            if not others:
                continue
            if not self._first_report(key, skeleton):
                continue
            description = (
                f"{participant.id} ({participant.display_name}) is a new account named like "
                f"{len(others)} other account(s) seen recently"
            )
            findings.append(
                ContextSignal(
                    kind="recycled_account",
                    participant=participant.id,
                    value={"account": key, "similar_accounts": others[-5:], "name": skeleton},
                    weight=0.6,
                    description=description,
                    technique_id="T0203",
                )
            )
            findings += self._hit(first_message, "T0203", participant.id, description, 0.6)
        return findings

    def _new_accounts_reaching(self, header, participants, keys, new, when, first_message):
        findings: list[ContextSignal | TechniqueHit] = []
        new_accounts = [p for p in participants if new[p.id]]
        if not new_accounts:
            return findings
        for target in participants:
            if target in new_accounts:
                continue
            reached = self._touch(self._new_reaching, keys[target.id], OrderedDict)
            for account in new_accounts:
                reached[keys[account.id]] = when
                reached.move_to_end(keys[account.id])
            for old_key in [k for k, t in reached.items() if when - t > self.recycled_window]:
                del reached[old_key]
            while len(reached) > 32:
                reached.popitem(last=False)
            if len(reached) < 2:
                continue
            for account in new_accounts:
                if not self._first_report(keys[account.id], keys[target.id]):
                    continue
                description = (
                    f"{account.id} is one of {len(reached)} new accounts that reached "
                    f"{target.id} within {self.recycled_window.days} days"
                )
                findings.append(
                    ContextSignal(
                        kind="new_accounts_same_target",
                        participant=account.id,
                        value={
                            "account": keys[account.id],
                            "target": keys[target.id],
                            "new_accounts": list(reached)[-5:],
                        },
                        weight=0.5,
                        description=description,
                        technique_id="T0203",
                    )
                )
                findings += self._hit(first_message, "T0203", account.id, description, 0.5)
        return findings

    # helpers -------------------------------------------------------------------

    def _touch(self, table: OrderedDict, key, factory):
        value = table.get(key)
        if value is None:
            value = table[key] = factory()
            while len(table) > self.max_accounts:
                table.popitem(last=False)
        else:
            table.move_to_end(key)
        return value

    def _first_report(self, *key: str) -> bool:
        if key in self._recycled_reported:
            return False
        self._recycled_reported[key] = None
        while len(self._recycled_reported) > self.max_accounts:
            self._recycled_reported.popitem(last=False)
        return True

    @staticmethod
    def _hit(message_id, technique_id, participant, description, confidence):
        if message_id is None:
            return []
        return [
            PatternHit(
                message_id=message_id,
                technique_id=technique_id,
                start=0,
                end=0,
                confidence=confidence,
                recognizer="batch",
                speaker=participant,
                matched_text=None,
                side="adult-side",
                pattern=description,
            )
        ]
