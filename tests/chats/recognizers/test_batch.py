"""Batch recognizers: contact fan-out (T0105) and recycled accounts (T0203)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cosea.chats.recognizers.batch import BatchContext, account_key, name_skeleton
from cosea.types import ContextSignal, Conversation, Message, Participant

START = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def _dm(cid: str, sender: Participant, other: Participant) -> Conversation:
    return Conversation(
        cid,
        [sender, other],
        [Message("m1", sender.id, "hey", ts=START)],
        platform="game_chat",
    )


def _kinds(found) -> list[tuple[str, str | None]]:
    return [(f.kind, f.technique_id) for f in found if isinstance(f, ContextSignal)]


def test_fan_out_to_many_young_accounts() -> None:
    batch = BatchContext(fan_out_threshold=5)
    results = []
    for i in range(7):
        header = _dm(f"c{i}", Participant("u1", "nightowl"), Participant("u2", f"kid_{i}", 13))
        results.append(batch.observe_conversation(header, START + timedelta(hours=i)))
    assert all(not r for r in results[:4])  # no look-ahead: only what was seen so far
    assert ("contact_fan_out", "T0105") in _kinds(results[4])
    assert results[5] and results[6]  # reported again as it grows


def test_no_fan_out_when_spread_over_time_or_adults() -> None:
    batch = BatchContext(fan_out_threshold=3, fan_out_window=timedelta(hours=24))
    for i in range(6):
        header = _dm(f"c{i}", Participant("u1", "slowpoke"), Participant("u2", f"kid_{i}", 13))
        assert not batch.observe_conversation(header, START + timedelta(days=2 * i))
    for i in range(6):
        header = _dm(f"d{i}", Participant("u1", "chatty"), Participant("u2", f"adult_{i}", 30))
        assert not batch.observe_conversation(header, START + timedelta(minutes=i))


def test_recycled_display_names_of_new_accounts() -> None:
    batch = BatchContext()
    child = Participant("u2", "mina.builds", 13, "2024-01-01")
    names = ["leo_plays", "l3o.plays2", "LEO__PLAYS"]
    found = [
        batch.observe_conversation(
            _dm(f"c{i}", Participant("u1", name, None, "2026-02-27"), child),
            START + timedelta(days=i),
        )
        for i, name in enumerate(names)
    ]
    assert not found[0]
    assert ("recycled_account", "T0203") in _kinds(found[1])
    assert ("new_accounts_same_target", "T0203") in _kinds(found[2])


def test_old_accounts_with_common_names_are_not_recycled() -> None:
    batch = BatchContext()
    for i in range(3):
        header = _dm(
            f"c{i}", Participant("u1", "alex", None, "2020-01-01"), Participant("u2", f"k{i}")
        )
        assert "recycled_account" not in [k for k, _ in _kinds(batch.observe_conversation(header))]


def test_memory_is_bounded() -> None:
    batch = BatchContext(max_accounts=50)
    for i in range(500):
        header = _dm(
            f"c{i}",
            Participant("u1", f"user{i}", None, "2026-02-28"),
            Participant("u2", f"kid{i}", 12),
        )
        batch.observe_conversation(header, START + timedelta(minutes=i))
    assert len(batch._contacts) <= 50
    assert len(batch._names) <= 50
    assert len(batch._new_reaching) <= 50


def test_account_keys_and_name_skeletons() -> None:
    assert name_skeleton("L3o_Plays2") == name_skeleton("leo.plays") == "leoplays"
    # letters with a number or separators around them (the fast path), leet inside,
    # doubled letters, accents
    assert name_skeleton("__Leo_Plays__2009") == name_skeleton("leeo_pl4ys") == "leoplays"
    assert name_skeleton("9lives") == "lives"
    assert name_skeleton("Zoë_99") == name_skeleton("zoe") == "zoe"
    assert name_skeleton("1234") == name_skeleton("") == ""
    local = Participant("u1", "Sky")
    assert account_key(local, "game_chat") == "game_chat:name:sky"
    stable = Participant("8812734", "Sky")
    assert account_key(stable, "discord") == "discord:id:8812734"
    explicit = Participant("u1", "Sky", extra={"account_id": "acc-9"})
    assert account_key(explicit) == "-:id:acc-9"
