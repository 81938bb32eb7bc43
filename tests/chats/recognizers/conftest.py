"""Fixtures for the recognizer tests: one default registry for the session."""

from __future__ import annotations

import pytest

from cosea.chats.recognizers import RecognizerRegistry, default_registry


@pytest.fixture(scope="session")
def registry() -> RecognizerRegistry:
    return default_registry()
