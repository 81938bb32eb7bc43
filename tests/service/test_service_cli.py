"""The ``cosea service`` admin commands (``cosea.service.cli.admin_app``) and the demo loader."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from cosea.service.cli import admin_app

runner = CliRunner()


def test_users_keys_and_audit_from_the_command_line(database_url, monkeypatch):
    monkeypatch.setenv("COSEA_DATABASE_URL", database_url)
    added = runner.invoke(admin_app, ["user-add", "rev1", "--role", "reviewer"])
    assert added.exit_code == 0, added.output
    assert re.search(r"password: \S+", added.output)
    duplicate = runner.invoke(admin_app, ["user-add", "rev1", "--role", "reviewer"])
    assert duplicate.exit_code != 0
    bad_role = runner.invoke(admin_app, ["user-add", "x1", "--role", "boss"])
    assert bad_role.exit_code != 0
    listed = runner.invoke(admin_app, ["users"])
    assert "rev1" in listed.output and "reviewer" in listed.output

    key = runner.invoke(
        admin_app, ["key-create", "integration", "--platform", "plat", "--scope", "alerts:read"]
    )
    assert key.exit_code == 0, key.output
    assert re.search(r"csk_[0-9a-f]{12}_\S+", key.output)
    keys = runner.invoke(admin_app, ["keys"])
    assert "integration" in keys.output and "active" in keys.output
    revoked = runner.invoke(admin_app, ["key-revoke", "1"])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(admin_app, ["keys"]).output
    disabled = runner.invoke(admin_app, ["user-disable", "rev1"])
    assert disabled.exit_code == 0

    verified = runner.invoke(admin_app, ["audit-verify"])
    assert verified.exit_code == 0 and "intact" in verified.output


def test_demo_loads_once_and_prints_fresh_logins(database_url, monkeypatch, tmp_path):
    from service_testkit import close_service, make_service

    from cosea.service.demo import load_demo

    service = make_service(database_url, tmp_path)
    try:
        first = load_demo(service.runtime)
        assert set(first["logins"]) == {"reviewer", "analyst", "auditor", "admin"}
        assert first["loaded_now"] and first["conversations"] >= 4 and first["media"] >= 4
        second = load_demo(service.runtime)
        assert not second["loaded_now"]
        assert second["logins"]["reviewer"] != first["logins"]["reviewer"]
        client, _ = service.login("reviewer", "someone")
        queue = client.get("/console/queue").text
        assert "demo-" in queue
    finally:
        close_service(service)
