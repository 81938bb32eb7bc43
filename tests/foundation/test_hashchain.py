from cosea.hashchain import GENESIS, entry_hash, verify_chain


def _chain(records):
    previous = GENESIS
    out = []
    for i, record in enumerate(records):
        digest = entry_hash(previous, record)
        out.append((i, record, previous, digest))
        previous = digest
    return out


def test_intact_chain_verifies() -> None:
    assert verify_chain(_chain([{"a": 1}, {"b": 2}, {"c": 3}])) == []


def test_altered_entry_is_named() -> None:
    chain = _chain([{"a": 1}, {"b": 2}, {"c": 3}])
    entry_id, _record, previous, digest = chain[1]
    chain[1] = (entry_id, {"b": 999}, previous, digest)
    problems = verify_chain(chain)
    assert [p.entry_id for p in problems] == [1]
    assert "altered" in problems[0].problem


def test_removed_entry_breaks_the_next_link() -> None:
    chain = _chain([{"a": 1}, {"b": 2}, {"c": 3}])
    del chain[1]
    problems = verify_chain(chain)
    assert problems and problems[0].entry_id == 2
