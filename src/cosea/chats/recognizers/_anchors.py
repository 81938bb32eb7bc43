"""Which literal words must appear in any match of a regex ("anchors").

The pattern recognizers run hundreds of regexes; running all of them on every
message would be far too slow. Instead each pattern's anchors are derived from
its parsed form: a small set of words or word prefixes, one of which starts a
word in every text the pattern matches. One trie-shaped scan for all anchors
then tells which patterns can possibly match, and only those run.

An anchor ending in ``WORD_END`` must be a whole word ("do" but not "dog");
others are prefixes ("secret" also covers "secretly"). The derivation is
conservative (a prefix of a required prefix is still required), so the
prefilter never hides a match; a pattern with no usable anchor always runs,
and the tests flag it.
"""

from __future__ import annotations

from dataclasses import dataclass
from re import _constants as C
from re import _parser as sre_parse

WORD_END = "\0"
_MAX_STRINGS = 256
_MAX_LENGTH = 20
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_DIGITS = "0123456789"
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)

# Rough frequency (messages per thousand containing the word) of words common in
# chat, in the five languages. Anchor sets are chosen to minimise the summed
# frequency, i.e. how often the prefilter lets a message through.
_FREQUENT = {
    # en
    "you": 400,
    "i": 300,
    "a": 300,
    "the": 250,
    "to": 200,
    "it": 150,
    "and": 150,
    "u": 150,
    "is": 120,
    "me": 100,
    "my": 100,
    "so": 80,
    "do": 80,
    "on": 80,
    "for": 80,
    "in": 100,
    "of": 80,
    "that": 70,
    "are": 70,
    "this": 60,
    "what": 60,
    "lol": 60,
    "ok": 60,
    "no": 60,
    "have": 60,
    "like": 60,
    "just": 50,
    "not": 50,
    "be": 50,
    "can": 50,
    "we": 50,
    "at": 50,
    "with": 40,
    "was": 40,
    "but": 40,
    "if": 40,
    "get": 40,
    "got": 40,
    "im": 40,
    "your": 60,
    "ur": 50,
    "its": 40,
    "how": 40,
    "all": 40,
    "yes": 30,
    "ya": 30,
    "or": 30,
    "one": 30,
    "know": 30,
    "see": 30,
    "want": 30,
    "go": 30,
    "up": 30,
    "out": 25,
    "now": 30,
    "when": 25,
    "she": 25,
    "he": 25,
    "they": 25,
    "them": 20,
    "her": 20,
    "him": 15,
    "will": 25,
    "would": 15,
    "there": 20,
    "here": 20,
    "too": 20,
    "time": 20,
    "need": 20,
    "dont": 30,
    "did": 15,
    "does": 10,
    "think": 20,
    "say": 15,
    "said": 10,
    "good": 20,
    "yeah": 20,
    "ill": 15,
    "us": 15,
    "our": 15,
    "an": 20,
    "as": 20,
    "ty": 15,
    "thanks": 15,
    "from": 15,
    "about": 15,
    "then": 15,
    "right": 15,
    "really": 15,
    "back": 15,
    "after": 15,
    "home": 15,
    "send": 15,
    "tell": 15,
    "make": 10,
    "come": 10,
    "day": 10,
    "more": 15,
    "some": 10,
    "any": 10,
    "who": 10,
    "why": 10,
    "where": 10,
    "new": 10,
    "first": 10,
    "old": 10,
    "same": 10,
    "school": 10,
    "chat": 10,
    "mum": 10,
    "mom": 10,
    "friends": 10,
    "let": 10,
    "look": 10,
    "way": 10,
    "please": 10,
    "pls": 10,
    "had": 10,
    "has": 10,
    "been": 10,
    "were": 10,
    "could": 10,
    "should": 10,
    "well": 10,
    "still": 10,
    "only": 10,
    "also": 10,
    "even": 8,
    "sorry": 8,
    "love": 8,
    "fun": 8,
    "play": 8,
    "game": 8,
    "hey": 15,
    "hi": 15,
    "omg": 10,
    "gg": 5,
    # es / pt / fr / de
    "que": 150,
    "de": 150,
    "la": 100,
    "el": 100,
    "en": 100,
    "y": 100,
    "es": 80,
    "te": 60,
    "tu": 60,
    "se": 60,
    "lo": 50,
    "por": 40,
    "con": 40,
    "un": 50,
    "una": 40,
    "mi": 40,
    "si": 40,
    "pero": 30,
    "o": 30,
    "e": 50,
    "um": 40,
    "uma": 30,
    "eu": 60,
    "voce": 40,
    "vc": 40,
    "nao": 60,
    "da": 40,
    "em": 40,
    "je": 80,
    "et": 60,
    "le": 60,
    "les": 50,
    "pas": 50,
    "est": 50,
    "pour": 30,
    "une": 30,
    "du": 30,
    "ich": 80,
    "und": 60,
    "der": 50,
    "die": 60,
    "das": 60,
    "ist": 50,
    "nicht": 40,
    "mit": 30,
    "zu": 30,
    "ein": 30,
    "auf": 20,
    "bist": 20,
    "hast": 20,
}
STOP_WORDS = frozenset(w for w, f in _FREQUENT.items() if f >= 50)


def _is_word_char(code: int) -> bool:
    return chr(code) in _WORD_CHARS


def _minimise(strings: set[str]) -> set[str]:
    """Drop strings implied by a shorter member (a prefix anchor covers its extensions)."""
    result: set[str] = set()
    for string in sorted(strings, key=len):
        if any(not kept.endswith(WORD_END) and string.startswith(kept) for kept in result):
            continue
        result.add(string)
    return result


def _cap(strings: set[str]) -> set[str]:
    capped = {s if len(s.rstrip(WORD_END)) <= _MAX_LENGTH else s[:_MAX_LENGTH] for s in strings}
    length = _MAX_LENGTH
    while len(capped) > _MAX_STRINGS and length > 1:
        length -= 1
        capped = {s if len(s) <= length else s[:length].rstrip(WORD_END) for s in capped}
    return _minimise(capped)


def _class_letters(items: list) -> list[str] | None:
    """The word characters an ``IN`` class can match, if it is a short literal list."""
    letters: list[str] = []
    for op, value in items:
        if op is C.LITERAL and _is_word_char(value):
            letters.append(chr(value))
        elif (
            op is C.RANGE
            and value[1] - value[0] < 10
            and all(_is_word_char(c) for c in range(value[0], value[1] + 1))
        ):
            letters.extend(chr(c) for c in range(value[0], value[1] + 1))
        elif op is C.CATEGORY and value is C.CATEGORY_DIGIT:
            letters.extend(_DIGITS)
        else:
            return None
    return letters if 0 < len(letters) <= 10 else None


def _is_lookbehind_separator(items: list) -> bool:
    r"""``(?<=[^\w])`` alone: matches nothing, right after a non-word character."""
    if len(items) != 1 or items[0][0] is not C.ASSERT:
        return False
    direction, body = items[0][1]
    return direction < 0 and all(_is_separator(o, v) for o, v in body)


def _is_separator(op: object, value: object) -> bool:
    """Whether an element only matches non-word characters (so a word starts after it)."""
    if op is C.BRANCH:
        alternatives = [list(a) for a in value[1]]  # type: ignore[index]
        return bool(alternatives) and all(
            _is_lookbehind_separator(a) or (a and all(_is_separator(o, v) for o, v in a))
            for a in alternatives
        )
    if op is C.SUBPATTERN:
        body = list(value[3])  # type: ignore[index]
        return bool(body) and all(_is_separator(o, v) for o, v in body)
    if op is C.LITERAL:
        return not _is_word_char(value)  # type: ignore[arg-type]
    if op is C.IN:
        items = list(value)  # type: ignore[arg-type]
        if items and items[0][0] is C.NEGATE:
            return any(o is C.CATEGORY and v is C.CATEGORY_WORD for o, v in items[1:])
        for item_op, item_value in items:
            if item_op is C.LITERAL and not _is_word_char(item_value):
                continue
            if item_op is C.CATEGORY and item_value in (C.CATEGORY_SPACE, C.CATEGORY_NOT_WORD):
                continue
            return False
        return True
    if op in _REPEATS:
        low, _high, body = value  # type: ignore[misc]
        return low >= 1 and bool(body) and all(_is_separator(o, v) for o, v in body)
    return False


def _ends_word(items: list, at_end: bool) -> bool:
    """Whether what follows ``items[0:]`` starts with a word end (separator or boundary)."""
    for op, value in items:
        if op in (C.ASSERT, C.ASSERT_NOT):
            continue  # zero width: look past it
        if op is C.AT:
            return value in (C.AT_BOUNDARY, C.AT_END, C.AT_END_STRING)
        return _is_separator(op, value)
    return at_end


def _first_words(items: list, end_is_word_end: bool, depth: int = 0) -> set[str]:
    """Strings one of which every match of ``items`` (starting at a word start) begins with.

    A string ending in WORD_END means the word ends there. "" means nothing
    literal is guaranteed.
    """
    if depth > 60:
        return {""}
    if not items:
        return {WORD_END} if end_is_word_end else {""}
    op, value = items[0]
    rest = items[1:]
    if op is C.LITERAL:
        if not _is_word_char(value):
            return {WORD_END}
        return _cap({chr(value) + tail for tail in _first_words(rest, end_is_word_end, depth + 1)})
    if op is C.IN:
        letters = _class_letters(value)
        if letters is None:
            return {WORD_END} if _is_separator(op, value) else {""}
        tails = _first_words(rest, end_is_word_end, depth + 1)
        return _cap({letter + tail for letter in letters for tail in tails})
    if op is C.AT:
        if value in (C.AT_BOUNDARY, C.AT_END, C.AT_END_STRING):
            return {WORD_END}
        return _first_words(rest, end_is_word_end, depth + 1)
    if op is C.BRANCH:
        if _is_separator(op, value):
            return {WORD_END}
        result: set[str] = set()
        for alternative in value[1]:
            result |= _first_words(list(alternative) + rest, end_is_word_end, depth + 1)
        return _cap(result)
    if op is C.SUBPATTERN:
        if _is_separator(op, value):
            return {WORD_END}
        return _first_words(list(value[3]) + rest, end_is_word_end, depth + 1)
    if op is C.ATOMIC_GROUP:
        return _first_words(list(value) + rest, end_is_word_end, depth + 1)
    if op in _REPEATS:
        low, high, body = value
        body = list(body)
        if _is_separator(op, value) or (low >= 1 and all(_is_separator(o, v) for o, v in body)):
            return {WORD_END}
        if high == 1:
            # optional (or exactly once): either the body then the rest, or just the rest
            with_body = _first_words(body + rest, end_is_word_end, depth + 1)
            if low == 1:
                return with_body
            return _cap(with_body | _first_words(rest, end_is_word_end, depth + 1))
        # The body may repeat: what follows one pass is not known, so stop there,
        # unless the body itself ends the word.
        once = _first_words(body, False, depth + 1)
        if low >= 1:
            return once
        return _cap(once | _first_words(rest, end_is_word_end, depth + 1))
    if op in (C.ASSERT, C.ASSERT_NOT):
        return _first_words(rest, end_is_word_end, depth + 1)
    return {""}


def _cost(anchor: str) -> float:
    """Estimated messages per thousand in which the anchor occurs."""
    exact = anchor.endswith(WORD_END)
    word = anchor.rstrip(WORD_END)
    if exact:
        if word in _FREQUENT:
            return float(_FREQUENT[word])
        if word.isdigit():
            return 6.0
        return {1: 40.0, 2: 15.0, 3: 4.0}.get(len(word), 1.5)
    # a prefix covers every word it starts
    covered = sum(f for w, f in _FREQUENT.items() if w.startswith(word))
    base = {1: 300.0, 2: 80.0, 3: 12.0, 4: 4.0}.get(len(word), 2.0)
    if word.isdigit():
        base = 20.0 if len(word) == 1 else 6.0
    return base + covered


def _usable(anchors: set[str]) -> bool:
    return bool(anchors) and all(a.rstrip(WORD_END) for a in anchors)


def _anchors(items: list, word_start: bool, end_is_word_end: bool, depth: int = 0):
    candidates = _candidates(items, word_start, end_is_word_end, depth)
    if not candidates:
        return None
    return min(candidates, key=lambda c: (anchor_cost(c), len(c)))


def _candidates(
    items: list, word_start: bool, end_is_word_end: bool, depth: int = 0
) -> list[set[str]]:
    """Every anchor set derivable for ``items``; each alone is a necessary condition."""
    candidates: list[set[str]] = []
    at_word_start = word_start
    for index, (op, value) in enumerate(items):
        if at_word_start:
            first = _first_words(list(items[index:]), end_is_word_end)
            if _usable(first):
                candidates.append(first)
        inner_end = _ends_word(items[index + 1 :], end_is_word_end)
        if op is C.BRANCH and depth < 30:
            per_alternative = [
                _anchors(list(alt), at_word_start, inner_end, depth + 1) for alt in value[1]
            ]
            if all(per_alternative):
                candidates.append(_cap(set().union(*per_alternative)))
        elif op is C.SUBPATTERN and depth < 30:
            inner = _anchors(list(value[3]), at_word_start, inner_end, depth + 1)
            if inner:
                candidates.append(inner)
        elif op in _REPEATS and value[0] >= 1 and depth < 30:
            inner = _anchors(list(value[2]), at_word_start, False, depth + 1)
            if inner:
                candidates.append(inner)
        at_word_start = _word_start_after(op, value, at_word_start)
    return [c for c in candidates if _usable(c)]


def anchor_cost(anchors: set[str] | frozenset[str]) -> float:
    return sum(_cost(a) for a in anchors)


def _word_start_after(op: object, value, before: bool) -> bool:
    """Whether a word certainly starts right after this element (given the state before)."""
    if op is C.AT:
        return value in (C.AT_BOUNDARY, C.AT_BEGINNING, C.AT_BEGINNING_STRING) or before
    if op in (C.ASSERT, C.ASSERT_NOT):
        return before
    if _is_separator(op, value):
        return True
    if op in _REPEATS:
        low, _high, body = value
        body = list(body)
        ends_with_separator = bool(body) and _ends_with_separator(body)
        if low == 0:
            return before and ends_with_separator
        return ends_with_separator
    if op is C.SUBPATTERN:
        body = list(value[3])
        return bool(body) and _ends_with_separator(body)
    if op is C.BRANCH:
        return all(_ends_with_separator(list(alt)) for alt in value[1])
    return False


def _ends_with_separator(items: list) -> bool:
    if not items:
        return False
    op, value = items[-1]
    if _is_separator(op, value):
        return True
    if op is C.SUBPATTERN:
        return _ends_with_separator(list(value[3]))
    if op is C.BRANCH:
        return all(_ends_with_separator(list(alt)) for alt in value[1])
    return False


def anchors_of(pattern: str, *, word_start: bool = True, word_end: bool = True):
    """Anchors of ``pattern`` (see the module doc), or ``None`` if none can be derived.

    ``word_start``/``word_end``: whether the pattern is only ever matched at a
    word start / up to a word end (the pattern recognizer wraps patterns so).
    """
    parsed = sre_parse.parse(pattern)
    return _anchors(list(parsed), word_start, word_end)


@dataclass(frozen=True, slots=True)
class Plan:
    """How the prefilter gates one pattern.

    ``requirements``: anchor sets that must each have a word in the text,
    rarest first; ``leading``: the set of words one of which starts every match
    (if derivable), so the pattern need only be tried where one of them starts.
    """

    requirements: tuple[frozenset[str], ...]
    leading: frozenset[str] | None


def plan(pattern: str, *, max_requirements: int = 3) -> Plan:
    """Anchor requirements for ``pattern`` (see :class:`Plan`); none if underivable."""
    parsed = list(sre_parse.parse(pattern))
    unique: dict[frozenset[str], float] = {}
    for candidate in _candidates(parsed, True, True):
        unique[frozenset(candidate)] = anchor_cost(candidate)
    ranked = sorted(unique, key=lambda c: (unique[c], len(c)))
    chosen: list[frozenset[str]] = []
    for candidate in ranked:
        # a superset of a chosen set is implied by it: no information
        if not any(candidate >= kept for kept in chosen):
            chosen.append(candidate)
        if len(chosen) == max_requirements:
            break
    leading = _first_words(parsed, True)
    return Plan(tuple(chosen), frozenset(leading) if _usable(leading) else None)


def split_alternatives(pattern: str) -> list[str]:
    """Top-level ``|`` alternatives of a regex (brackets, groups and escapes respected)."""
    parts: list[str] = []
    depth = 0
    in_class = False
    escaped = False
    start = 0
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or pattern[index - 1] == "["
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
    parts.append(pattern[start:])
    return parts
