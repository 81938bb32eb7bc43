"""Following the offence: incremental, explainable conversation risk analysis.

>>> from cosea.chats.analysis import ConversationAnalyzer
>>> analyzer = ConversationAnalyzer(conversation=header)   # default model and recognizers
>>> for message in messages:
...     assessment = analyzer.observe(message)             # no look-ahead, O(1) per message
>>> analyzer.state_dict()                                   # JSON; resume with from_state
"""

from cosea.chats.analysis.analyzer import (
    MAX_CONTEXT,
    MAX_EVIDENCE,
    MAX_PARTICIPANTS,
    MAX_TECHNIQUE_MESSAGES,
    STATE_FORMAT,
    ConversationAnalyzer,
    analyze_conversation,
)
from cosea.chats.analysis.batch import StreamStats, analyze_stream, new_batch_context
from cosea.chats.analysis.tactics import reason_for, tactic_of, tactic_rank, technique_name
from cosea.chats.model.features import FEATURE_NAMES, FEATURES

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "MAX_CONTEXT",
    "MAX_EVIDENCE",
    "MAX_PARTICIPANTS",
    "MAX_TECHNIQUE_MESSAGES",
    "STATE_FORMAT",
    "ConversationAnalyzer",
    "StreamStats",
    "analyze_conversation",
    "analyze_stream",
    "new_batch_context",
    "reason_for",
    "tactic_of",
    "tactic_rank",
    "technique_name",
]
