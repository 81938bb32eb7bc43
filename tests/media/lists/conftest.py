"""Fixtures for the hash-list tests."""

from __future__ import annotations

import pytest

from cosea.media.lists import ListStore


@pytest.fixture
def store() -> ListStore:
    return ListStore()
