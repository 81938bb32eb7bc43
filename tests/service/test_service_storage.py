"""Storage on SQLite and PostgreSQL: the migration matches the models, the audit chain is
append-only and detects tampering, and concurrent writers never lose or reorder work."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

import cosea.service.models  # noqa: F401 - declares the tables on Base
from cosea.service import audit
from cosea.service.models import AnalyzerState, AuditEntry, ServiceConversation
from cosea.storage import Base


def test_migration_matches_the_models(service):
    with service.runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [d for d in compare_metadata(context, Base.metadata) if "service_" in str(d)]
    assert differences == []


def _append(service, count: int, actor: str = "user:test") -> None:
    for number in range(count):
        with service.runtime.engine.begin() as connection:
            audit.append(
                connection,
                actor=actor,
                actor_role="reviewer",
                action="alert.read",
                target_type="alert",
                target_id=number,
                details={"n": number, "note": "é ✓"},
            )


def test_audit_log_is_append_only(service):
    _append(service, 3)
    log = AuditEntry.__table__
    for statement in (
        update(log).where(log.c.id == 2).values(actor="user:someone-else"),
        delete(log).where(log.c.id == 2),
    ):
        with pytest.raises(DBAPIError), service.runtime.engine.begin() as connection:
            connection.execute(statement)
    with service.runtime.engine.connect() as connection:
        assert audit.verify(connection).ok


def _drop_guards(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP TRIGGER service_audit_log_no_change ON service_audit_log"))
    else:
        connection.execute(text("DROP TRIGGER service_audit_log_no_update"))
        connection.execute(text("DROP TRIGGER service_audit_log_no_delete"))


@pytest.mark.parametrize("tampering", ["edit", "remove-middle", "remove-last"])
def test_audit_verification_finds_tampering(service, tampering):
    _append(service, 5)
    log = AuditEntry.__table__
    with service.runtime.engine.begin() as connection:
        # Someone with direct database access first removes the guards.
        _drop_guards(connection)
        if tampering == "edit":
            connection.execute(update(log).where(log.c.id == 3).values(actor="user:mallory"))
        elif tampering == "remove-middle":
            connection.execute(delete(log).where(log.c.id == 3))
        else:
            connection.execute(delete(log).where(log.c.id == 5))
    with service.runtime.engine.connect() as connection:
        result = audit.verify(connection)
    assert not result.ok
    positions = {problem.entry_id for problem in result.problems}
    if tampering == "edit":
        assert 3 in positions
    elif tampering == "remove-middle":
        assert 4 in positions
    else:
        assert any("removed" in problem.problem for problem in result.problems)


def test_concurrent_audit_appends_stay_one_chain(service):
    threads = [threading.Thread(target=_append, args=(service, 10, f"user:t{n}")) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with service.runtime.engine.connect() as connection:
        result = audit.verify(connection)
        ids = list(connection.execute(select(AuditEntry.__table__.c.id)).scalars())
    assert result.ok, result.problems
    own = [i for i in ids if i]
    assert len(own) == result.entries and sorted(own) == list(range(1, result.entries + 1))


def test_concurrent_messages_to_one_conversation_are_all_applied(service_factory):
    # Two apps on one database stand in for two worker processes.
    workers = [service_factory(), service_factory()]
    headers = workers[0].key(["messages:write"])
    errors: list[str] = []

    def send(worker, thread_number: int) -> None:
        for index in range(8):
            response = worker.client.post(
                "/v1/conversations/busy/messages",
                json={"id": f"t{thread_number}-m{index}", "from": "u1", "text": "hello there"},
                headers=headers,
            )
            if response.status_code != 200:
                errors.append(response.text)

    threads = [threading.Thread(target=send, args=(workers[n % 2], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    conversations = ServiceConversation.__table__
    states = AnalyzerState.__table__
    with workers[0].runtime.engine.connect() as connection:
        count = connection.execute(
            select(conversations.c.message_count).where(conversations.c.external_id == "busy")
        ).scalar_one()
        checkpoint = connection.execute(select(states.c.position)).scalar_one()
    assert count == 32
    assert 0 < checkpoint <= 32  # a checkpoint was written; later messages replay from it
    final = (
        workers[1]
        .client.post(
            "/v1/conversations/busy/messages",
            json={"id": "last", "from": "u1", "text": "bye"},
            headers=headers,
        )
        .json()
    )
    assert final["assessment"]["messages_seen"] == 33


def test_a_dismissal_in_one_worker_reaches_the_analyser_cached_in_another(service_factory):
    first, second = service_factory(), service_factory()
    platform = first.key(["messages:write", "alerts:read", "alerts:decide"])
    raised = first.post_conversation(platform, "shared")
    assert raised["assessment"]["alert"] is True  # the first worker now caches this analyser
    dismissed = second.client.post(
        f"/v1/alerts/{raised['alert']['id']}/decision",
        json={"decision": "dismiss", "reason": "checked with the family"},
        headers=platform,
    )
    assert dismissed.status_code == 200
    after = first.client.post(
        "/v1/conversations/shared/messages",
        json={"id": "later", "from": "u1", "text": "ok bye"},
        headers=platform,
    ).json()
    assert after["assessment"]["alert"] is False
    assert after["alert"] is None
