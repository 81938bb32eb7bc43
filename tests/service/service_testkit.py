"""Helpers shared by the service tests (imported by name; pytest's conftest is not a module
to import from)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

RISKY_MESSAGES = [
    ("u2", "gg nice round"),
    ("u1", "ty"),
    ("u2", "how old r u btw"),
    ("u1", "12"),
    ("u2", "ur really mature for ur age"),
    ("u2", "are you alone right now?"),
    ("u2", "dont tell your parents about me, this is our secret"),
    ("u2", "add me on another app, this chat is laggy"),
    ("u2", "send me a private pic so i know its really you"),
    ("u2", "if you dont send it i will send our chat to your school"),
    ("u2", "you have 10 minutes"),
]
PARTICIPANTS = [
    {"id": "u1", "display_name": "tiny_tornado", "declared_age": 12},
    {"id": "u2", "display_name": "coach_rex", "account_created": "2026-02-27"},
]
BENIGN_MESSAGES = [
    ("a", "are we still on for practice tomorrow"),
    ("b", "yes coach said 5pm"),
    ("a", "cool see you there"),
]


@dataclass
class Service:
    """A service app on one database, with helpers to make keys and log people in."""

    app: Any
    runtime: Any
    client: Any
    users: dict[str, str] = field(default_factory=dict)

    def key(
        self, scopes: list[str] | None = None, platform: str = "plat", **options: Any
    ) -> dict[str, str]:
        from cosea.service import accounts
        from cosea.service.security import SCOPES

        _key_id, secret = accounts.create_api_key(
            self.runtime.engine,
            name=f"key-{len(scopes or [])}-{platform}",
            platform=platform,
            scopes=scopes or list(SCOPES),
            **options,
        )
        return {"Authorization": f"Bearer {secret}"}

    def user(self, role: str, username: str | None = None) -> tuple[str, str]:
        from cosea.service import accounts

        username = username or f"{role}1"
        password = f"pw-{username}-correct-horse"
        if username not in self.users:
            accounts.create_user(self.runtime.engine, username, password, role)
            self.users[username] = password
        return username, self.users[username]

    def login(self, role: str, username: str | None = None) -> tuple[Any, str]:
        """A fresh client logged in to the console as a new user of ``role``; returns it and
        its CSRF token."""
        import re

        from fastapi.testclient import TestClient

        username, password = self.user(role, username)
        client = TestClient(self.app, base_url="http://127.0.0.1")
        page = client.get("/console/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/console/login",
            data={"username": username, "password": password, "login_csrf": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        settings = client.get("/console/settings")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', settings.text).group(1)
        return client, csrf

    def post_conversation(
        self,
        headers: dict[str, str],
        conversation_id: str = "conv-1",
        messages: list[tuple[str, str]] | None = None,
        participants: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        body = {
            "messages": [
                {
                    "id": f"m{i + 1}",
                    "from": sender,
                    "text": text,
                    "ts": f"2026-03-02T17:{i:02d}:00Z",
                }
                for i, (sender, text) in enumerate(messages or RISKY_MESSAGES)
            ],
            "participants": participants if participants is not None else PARTICIPANTS,
        }
        response = self.client.post(
            f"/v1/conversations/{conversation_id}/messages", json=body, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


def make_service(database_url: str, tmp_path: Path, **config: Any) -> Service:
    from fastapi.testclient import TestClient

    from cosea.service.app import create_app
    from cosea.service.config import ServiceConfig

    options = {
        "database_url": database_url,
        "data_dir": str(tmp_path / "service-data"),
        "run_dispatcher": False,
        "webhook_allow_private": True,
        "webhook_backoff_seconds": 0.05,
        "webhook_timeout_seconds": 3.0,
    }
    options.update(config)
    app = create_app(ServiceConfig(**options))
    client = TestClient(app, base_url="http://127.0.0.1")
    return Service(app=app, runtime=app.state.runtime, client=client)


def close_service(service: Service) -> None:
    service.client.close()
    service.runtime.writer.stop()
    service.runtime.readers.close()
    if service.runtime.dispatcher is not None:
        service.runtime.dispatcher.stop()
        service.runtime.dispatcher = None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def need(condition: bool, reason: str) -> None:
    """Skip with a reason when a system part is missing, except under CI=true: fail.

    Here and not in conftest.py: a test module that imported it from ``conftest``
    got whichever conftest module another test folder had loaded first."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true requires it)")
    pytest.skip(reason)
