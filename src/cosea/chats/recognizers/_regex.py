"""Regex building blocks shared by normalisation and the pattern recognizers."""

from __future__ import annotations

import re
from collections.abc import Iterable

WORD_END = "\0"
_NOT_WORD_AFTER = r"(?![\w$@])"


def trie_pattern(words: Iterable[str], *, word_end: str = "") -> str:
    """One regex alternation for many literal words, factored as a trie.

    Python's ``re`` tries the branches of ``a|b|c`` one by one at every
    position; sharing prefixes ("age", "agent", "alone" -> ``a(?:ge(?:nt)?|lone)``)
    makes a scan over hundreds of keywords cost a few comparisons per word.
    Longer continuations come first, so the longest keyword wins. ``word_end``
    is appended where a keyword ends (e.g. a boundary assertion). A word whose
    last character is :data:`WORD_END` only matches as a whole word.
    """
    trie: dict[str, dict] = {}
    for word in words:
        if not word:
            continue
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [
            re.escape(char) + build(child)
            for char, child in sorted(node.items())
            if char and char != WORD_END
        ]
        if WORD_END in node:
            branches.append(_NOT_WORD_AFTER + word_end)
        ends_here = "" in node
        if not branches:
            return word_end
        grouped = branches[0] if len(branches) == 1 and len(node) == 1 else None
        if grouped is None or ends_here:
            grouped = f"(?:{'|'.join(branches)})"
        if ends_here:
            return f"(?:{grouped}|{word_end})" if word_end else f"{grouped}?"
        return grouped

    return build(trie) if trie else "(?!)"
