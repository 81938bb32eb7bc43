"""Conversations: read chat exports, recognise techniques, follow the offence, warn early.

Public surface::

    from cosea.chats import ConversationAnalyzer, analyze_conversation, analyze_stream
    analyzer = ConversationAnalyzer(conversation=header)   # default model and recognizers
    assessment = analyzer.observe(message)                  # message by message, no look-ahead
    analyzer.clear_alert("reviewer")                        # hysteresis: stays cleared until stronger
    state = analyzer.state_dict()                           # JSON; ConversationAnalyzer.from_state(state)
    for assessment in analyze_stream(stream_messages(paths)):   # many conversations, bounded
        print(assessment.to_prediction())
    model = fit_model(labelled_conversations)               # scikit-learn; saved as JSON
    report = evaluate(load_gold(paths), predictions)        # PAN12 F0.5, delay, eSPD, techniques

Names are resolved lazily so that ``import cosea.chats`` (done by the CLI on every
start) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosea._exports import lazy_getattr

if TYPE_CHECKING:
    from cosea.chats.analysis import (
        ConversationAnalyzer,
        StreamStats,
        analyze_conversation,
        analyze_stream,
    )
    from cosea.chats.evaluation import cross_validate, evaluate, load_gold, load_predictions
    from cosea.chats.explain import build_timeline, render_timeline
    from cosea.chats.model import RiskModel, default_model, load_model
    from cosea.chats.model.training import fit_model

_EXPORTS = {
    "ConversationAnalyzer": "cosea.chats.analysis",
    "StreamStats": "cosea.chats.analysis",
    "analyze_conversation": "cosea.chats.analysis",
    "analyze_stream": "cosea.chats.analysis",
    "RiskModel": "cosea.chats.model",
    "default_model": "cosea.chats.model",
    "load_model": "cosea.chats.model",
    "fit_model": "cosea.chats.model.training",
    "evaluate": "cosea.chats.evaluation",
    "cross_validate": "cosea.chats.evaluation",
    "load_gold": "cosea.chats.evaluation",
    "load_predictions": "cosea.chats.evaluation",
    "build_timeline": "cosea.chats.explain",
    "render_timeline": "cosea.chats.explain",
}

__all__ = [
    "ConversationAnalyzer",
    "RiskModel",
    "StreamStats",
    "analyze_conversation",
    "analyze_stream",
    "build_timeline",
    "cross_validate",
    "default_model",
    "evaluate",
    "fit_model",
    "load_gold",
    "load_model",
    "load_predictions",
    "render_timeline",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
