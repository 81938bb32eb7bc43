from __future__ import annotations

import pytest
import sqlalchemy as sa
from lists_helpers import md5_of, pdq_of, sha1_of, sha256_of

from cosea.errors import CoseaError, InputError, NotFound
from cosea.media.lists import ListStore
from cosea.storage import connect


def _fill(store: ListStore, name: str, count: int = 5, **extra) -> None:
    store.add_entries(
        name,
        [
            {"hash": md5_of(i), "signal": "md5", "category": "known-abuse", **extra}
            for i in range(count)
        ],
    )


def test_migration_creates_the_media_branch_tables() -> None:
    engine = connect()
    with engine.connect() as connection:
        heads = set(
            connection.execute(sa.text("select version_num from alembic_version")).scalars()
        )
        tables = set(sa.inspect(connection).get_table_names())
    assert "media0001" in heads
    assert {"hash_lists", "hash_entries", "hash_list_counter", "hash_list_deletions"} <= tables


def test_create_get_list_and_delete(store: ListStore) -> None:
    info = store.create_list("hotline-a", description="benign test list", scheme="vics")
    assert info.category_scheme == "vics" and info.kind == "known-material" and info.enabled
    assert store.get_list("hotline-a") == info
    store.create_list("nsrl", kind="known-files")
    assert [i.name for i in store.lists()] == ["hotline-a", "nsrl"]
    with pytest.raises(CoseaError, match="already exists"):
        store.create_list("hotline-a")
    with pytest.raises(NotFound, match="unknown category scheme"):
        store.create_list("x", scheme="nope")
    with pytest.raises(InputError, match="unknown list kind"):
        store.create_list("x", kind="whatever")
    _fill(store, "hotline-a", category="1")
    assert store.delete_list("hotline-a") == 5
    with pytest.raises(NotFound):
        store.get_list("hotline-a")
    assert [i.name for i in store.lists()] == ["nsrl"]


def test_lookup_is_exact_and_respects_enabled_flags(store: ListStore) -> None:
    store.create_list("a")
    store.create_list("b")
    _fill(store, "a")
    store.add_entries("b", [{"hash": md5_of(1), "signal": "md5"}])
    found = store.lookup("md5", md5_of(1).upper())
    assert [(e.list_name, e.category) for e in found] == [("a", "known-abuse"), ("b", "of-concern")]
    assert [e.list_name for e in store.lookup("md5", md5_of(1), lists=["b"])] == ["b"]
    assert store.lookup("sha1", md5_of(1)) == []
    assert store.lookup("md5", md5_of(99)) == []
    store.disable_list("a")
    assert [e.list_name for e in store.lookup("md5", md5_of(1))] == ["b"]
    assert len(store.lookup("md5", md5_of(1), enabled_only=False)) == 2


def test_disable_enable_bump_the_sequence_and_feed_changes(store: ListStore) -> None:
    store.create_list("a")
    _fill(store, "a")
    seq_after_import = store.current_seq()
    assert {e.updated_seq for e in store.iter_entries("a")} == {seq_after_import}
    assert list(store.changes_since(seq_after_import)) == []

    assert store.disable_entries("a", [md5_of(1), md5_of(2)]) == 2
    assert store.disable_entries("a", [md5_of(1)]) == 0  # already disabled: no change
    changes = list(store.changes_since(seq_after_import))
    assert sorted(e.hash for e in changes) == sorted([md5_of(1), md5_of(2)])
    assert all(not e.enabled and e.updated_seq > seq_after_import for e in changes)
    assert len(list(store.iter_entries("a"))) == 3
    assert len(list(store.iter_entries("a", enabled_only=False))) == 5

    seq = store.current_seq()
    entry_id = next(e.id for e in store.iter_entries("a", enabled_only=False) if not e.enabled)
    assert store.enable_entries("a", [entry_id]) == 1
    assert [(e.id, e.enabled) for e in store.changes_since(seq)] == [(entry_id, True)]

    seq = store.current_seq()
    assert store.disable_list("a") == 5
    changes = list(store.changes_since(seq))
    assert len(changes) == 5 and not any(e.enabled for e in changes)
    seq = store.current_seq()
    store.enable_list("a")
    assert sum(e.enabled for e in store.changes_since(seq)) == 4  # one entry is still disabled


def test_changes_since_pages_in_order_and_filters_lists(store: ListStore) -> None:
    store.create_list("a")
    store.create_list("b")
    _fill(store, "a", count=25)
    _fill(store, "b", count=3)
    changes = list(store.changes_since(0, batch_size=4))
    assert len(changes) == 28
    keys = [(e.updated_seq, e.id) for e in changes]
    assert keys == sorted(keys) and len(set(keys)) == 28
    assert {e.list_name for e in store.changes_since(0, lists=["b"])} == {"b"}


def test_deleted_lists_are_reported_by_sequence(store: ListStore) -> None:
    store.create_list("a")
    _fill(store, "a")
    seq = store.current_seq()
    store.delete_list("a")
    deleted = store.deleted_since(seq)
    assert [name for name, _ in deleted] == ["a"] and deleted[0][1] > seq
    assert store.deleted_since(deleted[0][1]) == []
    assert list(store.changes_since(seq)) == []


def test_stats_count_by_signal_category_and_state(store: ListStore) -> None:
    store.create_list("a")
    store.add_entries(
        "a",
        [{"hash": md5_of(i), "signal": "md5", "category": "known-abuse"} for i in range(3)]
        + [{"hash": sha1_of(i), "signal": "sha1"} for i in range(2)]
        + [{"hash": pdq_of(1), "signal": "pdq", "category": "known-benign"}],
    )
    store.disable_entries("a", [md5_of(0)])
    stats = store.stats("a")
    assert stats["total"] == 6 and stats["enabled"] == 5 and stats["disabled"] == 1
    assert stats["by_signal"] == {
        "md5": {"enabled": 2, "disabled": 1},
        "pdq": {"enabled": 1, "disabled": 0},
        "sha1": {"enabled": 2, "disabled": 0},
    }
    assert stats["by_category"] == {"known-abuse": 2, "known-benign": 1, "of-concern": 2}
    assert store.entry_counts() == {"a": (5, 6)}


def test_list_digest_depends_on_enabled_content_not_order(store: ListStore) -> None:
    store.create_list("a")
    store.create_list("b")
    entries = [
        {"hash": sha256_of(i), "signal": "sha256", "category": "known-abuse"} for i in range(10)
    ]
    store.add_entries("a", entries)
    store.add_entries("b", list(reversed(entries[5:])))
    store.add_entries("b", entries[:5])
    assert store.list_digest("a") == store.list_digest("b")
    before = store.list_digest("a")
    store.disable_entries("a", [sha256_of(3)])
    assert store.list_digest("a") != before
    store.enable_entries("a", [sha256_of(3)])
    assert store.list_digest("a") == before


def test_add_entries_checks_hashes_and_fields(store: ListStore) -> None:
    store.create_list("a")
    with pytest.raises(CoseaError, match="entry 2"):
        store.add_entries("a", [{"hash": md5_of(1)}, {"hash": "xyz", "signal": "md5"}])
    with pytest.raises(CoseaError, match="unknown field"):
        store.add_entries("a", [{"hash": md5_of(1), "colour": "red"}])
    assert store.stats("a")["total"] == 0
    assert store.add_entries("a", [{"hash": md5_of(1)}, {"hash": md5_of(1)}]) == 1


def test_store_accepts_an_explicit_engine(tmp_path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'other.db'}")
    store = ListStore(engine)
    store.create_list("elsewhere")
    assert [i.name for i in ListStore(engine).lists()] == ["elsewhere"]
    assert ListStore().lists() == []
