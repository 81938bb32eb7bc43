"""Fixtures of the analyser tests (helpers live in ``analysis_helpers``)."""

from __future__ import annotations

import pytest
from analysis_helpers import BENIGN, GROOMING, hand_model, keyword_registry, make_conversation

from cosea.chats.model import RiskModel
from cosea.chats.recognizers.base import RecognizerRegistry
from cosea.types import Conversation


@pytest.fixture
def registry() -> RecognizerRegistry:
    return keyword_registry()


@pytest.fixture
def model() -> RiskModel:
    return hand_model()


@pytest.fixture
def grooming() -> Conversation:
    return make_conversation("t-grooming", GROOMING)


@pytest.fixture
def benign() -> Conversation:
    return make_conversation("t-benign", BENIGN)
