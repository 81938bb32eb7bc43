"""Pattern recognizers: technique phrases per language, kept as YAML data.

Each language file (``patterns/<lang>.yaml``) lists, per technique ID, regexes
written against normalised text (see :mod:`cosea.chats.normalize`), each with a
confidence and the side it is typically risky from:

- ``adult-side``: risky when the person who turns out to be the suspect says it
  ("how old r u" between two 13-year-olds is small talk);
- ``any``: risky from anyone ("pay me or everyone sees it");
- ``child-side``: a cue in what the target says ("please dont post it"); these
  become :class:`~cosea.types.ContextSignal` of kind ``target_cue`` rather than
  technique hits, since the technique is the other person's.

Patterns use macros (``{you}``, ``{pic}``, ``{parents}``...), a space matches any
run of spaces and punctuation, and ``{gap}`` skips up to three words. Exclusions
drop a technique's hits where a hard negative matches ("surprise party").

Speed: anchors derived from every pattern feed one trie-shaped regex per
registry, run first on the cheaply case-folded text; most messages stop there,
before full normalisation. See :mod:`cosea.chats.recognizers._anchors`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from importlib import resources
from operator import or_
from pathlib import Path
from typing import Any

import yaml

from cosea.chats.recognizers._anchors import Plan, split_alternatives
from cosea.chats.recognizers._plan_cache import cached_plan
from cosea.chats.recognizers._regex import WORD_END
from cosea.chats.recognizers.base import (
    NormalizedText,
    PatternHit,
    Recognizer,
    RecognizerContext,
)
from cosea.errors import InputError
from cosea.types import ContextSignal, Message

SIDES = ("adult-side", "child-side", "any")
DEFAULT_LANGUAGES = ("en", "es", "de", "fr", "pt")
TECHNIQUE_ID = re.compile(r"^T\d{4}$")
# A space in a pattern: a run of non-word characters, or nothing right after one
# (so "they (?:all )? (?:will )?see" still matches "they see").
_SEPARATOR = r"(?:[^\w$@]+|(?<=[^\w$@]))"
_OPTIONAL_SEPARATOR = r"[^\w$@]*"
_MACRO = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_GAP = re.compile(r"^gap(\d?)$")


def pattern_directory() -> Path:
    return Path(str(resources.files("cosea.chats.recognizers.patterns")))


@dataclass(slots=True)
class Pattern:
    """One compiled pattern of one technique in one language."""

    id: str
    technique_id: str
    language: str
    source: str
    regex: re.Pattern[str]
    confidence: float
    side: str
    requirements: tuple[frozenset[str], ...]  # anchor sets that must all be present
    examples: tuple[str, ...] = ()
    label: str | None = None
    leading: frozenset[str] | None = None  # words one of which starts every match
    key: str = ""  # unique per compiled alternative

    @property
    def anchors(self) -> frozenset[str] | None:
        return self.requirements[0] if self.requirements else None

    def starts_here(self, word: str) -> bool:
        """Whether a match could start at a word (given the leading anchors)."""
        if self.leading is None:
            return True
        exact, prefixes = _split_leading(self.leading)
        return word in exact or (bool(prefixes) and word.startswith(prefixes))


_LEADING_CACHE: dict[frozenset[str], tuple[frozenset[str], tuple[str, ...]]] = {}


def _split_leading(leading: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Leading anchors as (whole words, prefixes), cached: ``str.startswith`` takes a tuple."""
    split = _LEADING_CACHE.get(leading)
    if split is None:
        exact = frozenset(a[:-1] for a in leading if a.endswith(WORD_END))
        prefixes = tuple(sorted(a for a in leading if not a.endswith(WORD_END)))
        split = _LEADING_CACHE[leading] = (exact, prefixes)
    return split


@dataclass(slots=True)
class TechniquePatterns:
    technique_id: str
    patterns: list[Pattern] = field(default_factory=list)
    # hard negatives, per language: they only veto hits of their own language
    exclusions: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    negatives: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Exclusion:
    """One top-level alternative of a hard negative, gated like a pattern.

    It vetoes its language's hits of ``technique_id``, or of every technique when
    that is None (a file's ``exclude_all``); the prefilter runs it only on texts
    that hold its anchors, since most hits meet none of the many exclusions."""

    technique_id: str | None
    language: str
    regex: re.Pattern[str]
    requirements: tuple[frozenset[str], ...]
    key: str = ""


@dataclass(slots=True)
class PatternSet:
    """All patterns of the selected languages, compiled, with the prefilter built."""

    languages: tuple[str, ...]
    techniques: dict[str, TechniquePatterns]
    exclude_all: dict[str, list[re.Pattern[str]]]  # per language
    technique_names: dict[str, str]
    prefilter: Prefilter
    exclusions: list[Exclusion] = field(default_factory=list)  # gated, every language

    def all_patterns(self) -> list[Pattern]:
        return [p for t in self.techniques.values() for p in t.patterns]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        raise InputError(
            str(path), f"not valid YAML: {error}", line=None if line is None else line + 1
        ) from error
    if not isinstance(data, dict):
        raise InputError(str(path), "a pattern file must be a mapping")
    return data


def _expand(source: str, macros: dict[str, str], where: str, depth: int = 0) -> str:
    if depth > 10:
        raise InputError(where, f"macros nest too deeply in {source!r}")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        gap = _GAP.match(name)
        if gap:
            words = int(gap.group(1) or 3)
            return rf"(?:[\w$@']+[^\w$@]+){{0,{words}}}"
        if name not in macros:
            raise InputError(where, f"unknown macro {{{name}}} in {source!r}")
        return "(?:" + _expand(macros[name], macros, where, depth + 1) + ")"

    return _MACRO.sub(replace, source)


def _spaces_to_separators(source: str) -> str:
    """A literal space (outside ``[...]``) matches any run of spaces and punctuation."""
    out: list[str] = []
    in_class = False
    escaped = False
    skip_quantifier = False
    for index, char in enumerate(source):
        if escaped:
            out.append(char)
            escaped = False
            continue
        if char == "\\":
            out.append(char)
            escaped = True
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
            continue
        if char == "[":
            in_class = True
            out.append(char)
            continue
        if char == " ":
            if index + 1 < len(source) and source[index + 1] in "?*":
                skip_quantifier = True  # " ?": an optional separator
                out.append(_OPTIONAL_SEPARATOR)
                continue
            if out and out[-1] == _SEPARATOR:
                continue
            out.append(_SEPARATOR)
            continue
        if skip_quantifier:
            skip_quantifier = False
            continue
        out.append(char)
    return "".join(out)


def compile_pattern(source: str, macros: dict[str, str], where: str) -> tuple[str, str]:
    """A pattern's final regex text and the inner regex anchors are derived from."""
    inner = expand_pattern(source, macros, where)
    return wrap(inner), inner


def expand_pattern(source: str, macros: dict[str, str], where: str) -> str:
    source = re.sub(r" ?(\{gap\d?\}) ", r" \1", source.strip())
    return _spaces_to_separators(_expand(source, macros, where))


def wrap(inner: str) -> str:
    """Match whole words only: nothing wordy right before or after."""
    return rf"(?<![\w$@])(?:{inner})(?![\w$@])"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _compile(regex: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as error:
        raise InputError(where, f"bad regex: {error}") from error


def load_language(
    path: Path,
    shared_macros: dict[str, str],
    *,
    language: str | None = None,
    planner: Callable[[str], Plan] | None = None,
    gated: list[Exclusion] | None = None,
) -> tuple[str, dict[str, TechniquePatterns], list[re.Pattern[str]]]:
    """Compile one pattern file. Errors name the file and the entry.

    ``planner`` derives each alternative's anchors (default: the shipped plans,
    else :func:`plan`); ``gated`` receives the file's exclusions, one per
    alternative with its anchors, for the prefilter."""
    planner = planner or cached_plan
    data = _read_yaml(path)
    lang = str(data.get("language") or language or path.stem)
    macros = {**shared_macros, **{str(k): str(v) for k, v in (data.get("macros") or {}).items()}}
    techniques: dict[str, TechniquePatterns] = {}
    for technique_id, spec in (data.get("techniques") or {}).items():
        technique_id = str(technique_id)
        where = f"{path} [{technique_id}]"
        if not TECHNIQUE_ID.match(technique_id):
            raise InputError(str(path), f"{technique_id!r} is not a technique ID (T + 4 digits)")
        spec = spec or {}
        default_side = spec.get("speaker", "adult-side")
        default_confidence = float(spec.get("confidence", 0.7))
        bucket = techniques.setdefault(technique_id, TechniquePatterns(technique_id))
        for number, entry in enumerate(_as_list(spec.get("patterns")), start=1):
            if isinstance(entry, str):
                entry = {"match": entry}
            if not isinstance(entry, dict) or "match" not in entry:
                raise InputError(where, f"pattern {number} needs a 'match' regex", entry=number)
            side = str(entry.get("speaker", default_side))
            if side not in SIDES:
                raise InputError(where, f"speaker must be one of {SIDES}, got {side!r}")
            confidence = float(entry.get("confidence", default_confidence))
            if not 0.0 < confidence <= 1.0:
                raise InputError(where, f"confidence {confidence} not in (0, 1]", entry=number)
            inner = expand_pattern(str(entry["match"]), macros, where)
            # Only the alternatives are compiled (each is what runs): a bad regex
            # fails in the alternative that holds it, and a second compile of the
            # whole entry doubled the start-up time.
            alternatives = split_alternatives(inner)
            pattern_id = str(entry.get("id") or f"{lang}.{technique_id}.{number}")
            # Each top-level alternative gets its own anchors: one common word in
            # one branch would otherwise make the whole pattern run everywhere.
            for branch, alternative in enumerate(alternatives):
                # compiled first: a bad regex is reported as such, not by the planner
                regex = _compile(wrap(alternative), f"{where} pattern {number}")
                gating = planner(alternative)
                bucket.patterns.append(
                    Pattern(
                        id=pattern_id,
                        technique_id=technique_id,
                        language=lang,
                        source=str(entry["match"]),
                        regex=regex,
                        confidence=confidence,
                        side=side,
                        requirements=gating.requirements,
                        examples=tuple(str(e) for e in _as_list(entry.get("examples")))
                        if branch == 0
                        else (),
                        label=entry.get("label"),
                        leading=gating.leading,
                        key=f"{pattern_id}#{branch}",
                    )
                )
        for number, entry in enumerate(_as_list(spec.get("exclude")), start=1):
            regex_text, inner = compile_pattern(str(entry), macros, where)
            bucket.exclusions.setdefault(lang, []).append(
                _compile(regex_text, f"{where} exclusion")
            )
            if gated is not None:
                key = f"{lang}.{technique_id}.exclude.{number}"
                gated.extend(_gated_exclusions(technique_id, lang, inner, planner, where, key))
        bucket.negatives.extend(str(n) for n in _as_list(spec.get("negatives")))
    exclude_all = []
    for number, entry in enumerate(_as_list(data.get("exclude_all")), start=1):
        regex_text, inner = compile_pattern(str(entry), macros, str(path))
        exclude_all.append(_compile(regex_text, f"{path} exclude_all"))
        if gated is not None:
            key = f"{lang}.exclude_all.{number}"
            gated.extend(_gated_exclusions(None, lang, inner, planner, str(path), key))
    return lang, techniques, exclude_all


def _gated_exclusions(
    technique_id: str | None,
    language: str,
    inner: str,
    planner: Callable[[str], Plan],
    where: str,
    key: str,
) -> list[Exclusion]:
    """An exclusion split into its top-level alternatives, each with its own anchors."""
    found = []
    for branch, alternative in enumerate(split_alternatives(inner)):
        found.append(
            Exclusion(
                technique_id=technique_id,
                language=language,
                regex=_compile(wrap(alternative), f"{where} exclusion"),
                requirements=planner(alternative).requirements,
                key=f"{key}#{branch}",
            )
        )
    return found


_OBFUSCATION_HINTS = re.compile(
    r"[0-9@$!|]+[a-z]"  # leetspeak inside a word ("p1c", "c4m") or "10min"
    r"|[ .\-_*~+][a-z][ .\-_*~+][a-z](?![\w@$])"  # spaced-out letters ("s e n d")
    r"|(?P<repeat>[a-z])(?P=repeat)(?P=repeat)"  # letter repeats ("alooone")
    r"|[\t\n\r]|  "
)
_INSTANCES = itertools.count(1)
_TOKEN = re.compile(r"[a-z0-9_]+")
_SHORT_TEXT = 160  # characters; see PatternRecognizer.find
_WORD_TABLE_LIMIT = 100_000  # words remembered by the first pass (bounded memory)
# A word can take part in an obfuscation hint: a digit before a letter ("p1c"), a letter
# tripled ("alooone"), a single letter ("s e n d"), or an underscore between letters.
_WORD_HINT = re.compile(r"[0-9][a-z]|([a-z])\1\1|_|^[a-z]$")
# Characters of a hint that are not word characters: symbols of leetspeak, whitespace.
_HINT_SYMBOLS = frozenset("@$!|\t\n\r")


class _WordTable(dict):  # type: ignore[type-arg]
    """Word -> bits, computed on first sight; bounded (cleared when full).

    Looked up with ``map(table.__getitem__, words)``, a loop that runs in C: the
    vocabulary of chat is small and Zipfian, so nearly every look-up is a hit.
    """

    def __init__(self, compute: Any) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, word: str) -> int:
        if len(self) >= _WORD_TABLE_LIMIT:
            self.clear()
        bits = self[word] = self.compute(word)
        return bits


class Prefilter:
    """Which patterns can match a text, from the words in it, with integer bitsets.

    Each pattern has up to three requirements (anchor sets); requirement ``k``
    of pattern ``i`` owns bit ``k * n + i``. A word maps to the bits of the
    requirements it satisfies (exactly, or as a prefix anchor). OR-ing the bits
    of a text's words, filling in requirements a pattern does not have, and
    AND-ing the three blocks together leaves exactly the patterns whose
    requirements are all present, in a handful of big-integer operations.
    The first pass runs on the folded text, before normalisation, with
    abbreviations mapped to the words they expand to: most messages end there.
    Exclusions (hard negatives) are gated the same way, by a prefilter of their own
    that only looks at the normalised text of a hit: kept out of the patterns'
    bitsets, which every new text ORs word by word, they do not make those wider.
    """

    BLOCKS = 3

    def __init__(
        self, patterns: Sequence[Pattern | Exclusion], exclusions: Sequence[Exclusion] = ()
    ) -> None:
        self.always: list[Any] = [p for p in patterns if not p.requirements]
        self.patterns: list[Any] = [p for p in patterns if p.requirements]
        self.always_exclusions: list[Exclusion] = [e for e in exclusions if not e.requirements]
        self.exclusions: list[Exclusion] = [e for e in exclusions if e.requirements]
        self._exclusion_filter = Prefilter(self.exclusions) if self.exclusions else None
        gated = self.patterns
        count = self.count = len(gated)
        self.pattern_block = (1 << count) - 1
        exact: dict[str, int] = {}
        prefix: dict[str, int] = {}
        filler = 0
        for index, pattern in enumerate(gated):
            for block in range(self.BLOCKS):
                bit = 1 << (block * count + index)
                if block >= len(pattern.requirements):
                    filler |= bit
                    continue
                for anchor in pattern.requirements[block]:
                    if anchor.endswith(WORD_END):
                        exact[anchor[:-1]] = exact.get(anchor[:-1], 0) | bit
                    else:
                        prefix[anchor] = prefix.get(anchor, 0) | bit
        self.filler = filler
        self.exact = exact
        # A scan returns the longest prefix anchor starting a word; every shorter
        # prefix anchor of it matches too, so it carries their bits as well.
        self.prefix_bits: dict[str, int] = {}
        for anchor in prefix:
            bits = 0
            for length in range(1, len(anchor) + 1):
                bits |= prefix.get(anchor[:length], 0)
            self.prefix_bits[anchor] = bits
        self.prefix_lengths = sorted({len(anchor) for anchor in prefix})
        # Raw (folded, not yet normalised) words: abbreviations stand for the
        # words they expand to.
        from cosea.chats.normalize import ABBREVIATIONS  # normalize imports this package

        raw = dict(exact)
        for short, expansion in ABBREVIATIONS.items():
            bits = 0
            for word in expansion.split():
                bits |= self.word_bits(word)
            if bits:
                raw[short] = raw.get(short, 0) | bits
        self.raw_exact = raw
        # Obfuscation hints alone: prefix anchors are looked up per word instead.
        self.hint = re.compile(_OBFUSCATION_HINTS.pattern)
        self._word_bits: dict[str, int] = {}
        # One bit above the three blocks: the word may be part of an obfuscation hint.
        self.hint_bit = 1 << (self.BLOCKS * count)
        self._raw_table = _WordTable(self._raw_table_bits)

    def _raw_table_bits(self, word: str) -> int:
        bits = self.raw_word_bits(word)
        if _WORD_HINT.search(word) is not None:
            bits |= self.hint_bit
        return bits

    def _anchor_bits(self, word: str, exact: dict[str, int]) -> int:
        """A word's bits: as a whole word in ``exact``, and every prefix anchor it
        starts with (each carries the bits of its own shorter prefixes)."""
        bits = exact.get(word, 0)
        prefix_bits = self.prefix_bits
        for length in self.prefix_lengths:
            if length > len(word):
                break
            bits |= prefix_bits.get(word[:length], 0)
        return bits

    def word_bits(self, word: str) -> int:
        """Bits a normalised word stands for."""
        return self._anchor_bits(word, self.exact)

    def normalized_bits(self, text: str) -> int:
        """The bits of a normalised text's words, a word at a time through a bounded table."""
        known = self._word_bits
        bits = 0
        for word in _TOKEN.findall(text):
            word_bits = known.get(word)
            if word_bits is None:
                word_bits = self._anchor_bits(word, self.exact)
                if len(known) >= _WORD_TABLE_LIMIT:
                    known.clear()
                known[word] = word_bits
            if word_bits:  # most words: 0, and OR-ing it would still copy the bits
                bits |= word_bits
        return bits

    def matching(self, bits: int) -> list[Pattern]:
        """Patterns whose requirements all have a word in the text."""
        full = bits | self.filler
        count = self.count
        ready = full & (full >> count) & (full >> (2 * count)) & self.pattern_block
        found = []
        patterns = self.patterns
        while ready:
            low = ready & -ready
            found.append(patterns[low.bit_length() - 1])
            ready ^= low
        return found

    def exclusions_for(self, normalized: str) -> list[Exclusion]:
        """Exclusions that can match the normalised text (their anchors are in it)."""
        found = list(self.always_exclusions)
        if self._exclusion_filter is not None:
            gate = self._exclusion_filter
            found += gate.matching(gate.normalized_bits(normalized))
        return found

    def raw_word_bits(self, word: str) -> int:
        """Bits a folded (not yet normalised) word stands for: whole word or prefix anchors."""
        return self._anchor_bits(word, self.raw_exact)

    def first_pass(self, text: NormalizedText) -> int:
        """Cheap first pass on folded text: could any pattern match after normalisation?

        0 when none can; else its words' bits, or -1 when only the normalised text can
        tell. Never says no where a pattern could match: a sign of obfuscation anywhere
        sends the message on, and a word's bits include every prefix anchor it starts
        with."""
        if self.always:
            return -1
        words = text.words
        if not words:
            return 0
        # Per word, not per message, through a table (see _WordTable). Most words
        # are no anchor (0) and are dropped before the OR: each OR of these
        # thousands-of-bits integers makes a new one.
        bits = reduce(or_, filter(None, map(self._raw_table.__getitem__, words)), 0)
        plain = text.plain
        if (
            bits & self.hint_bit or "  " in plain or not _HINT_SYMBOLS.isdisjoint(plain)
        ) and self.hint.search(plain) is not None:
            return -1
        if not bits:
            return 0
        bits |= self.filler
        count = self.count
        if bits & (bits >> count) & (bits >> (2 * count)) & self.pattern_block:
            return bits
        return 0

    def candidates_for(self, text: NormalizedText) -> list[Pattern]:
        """Patterns worth running on ``text``: the first pass, then its normalised form."""
        bits = self.first_pass(text)
        if bits == 0:
            return []
        normalized = text.text
        if bits < 0 or normalized != text.plain:
            return self.candidates(normalized)
        # Normalisation changed nothing, so the normalised words are the raw words,
        # none of them an abbreviation: the first pass's bits are the answer.
        return self.matching(bits)

    def candidates(self, text: str) -> list[Pattern]:
        """Patterns that can match normalised ``text``."""
        return [*self.always, *self.matching(self.normalized_bits(text))]


def load_pattern_set(
    languages: Iterable[str] | None = None,
    *,
    extra_files: Iterable[Path] = (),
    planner: Callable[[str], Plan] | None = None,
) -> PatternSet:
    """Compile the bundled pattern files for ``languages`` plus any extra files.

    Extra files (an organisation's own patterns) use the same schema; their
    techniques add to the bundled ones.
    """
    directory = pattern_directory()
    common = _read_yaml(directory / "common.yaml")
    shared_macros = {str(k): str(v) for k, v in (common.get("macros") or {}).items()}
    names = {str(k): str(v) for k, v in (common.get("technique_names") or {}).items()}
    wanted = tuple(languages) if languages else DEFAULT_LANGUAGES
    files = []
    for language in wanted:
        path = directory / f"{language}.yaml"
        if not path.is_file():
            known = sorted(p.stem for p in directory.glob("*.yaml") if p.stem != "common")
            raise InputError(str(path), f"no patterns for language {language!r}; have {known}")
        files.append(path)
    files.extend(Path(p) for p in extra_files)
    techniques: dict[str, TechniquePatterns] = {}
    exclude_all: dict[str, list[re.Pattern[str]]] = {}
    gated: list[Exclusion] = []
    for path in files:
        lang, loaded, excluded = load_language(path, shared_macros, planner=planner, gated=gated)
        exclude_all.setdefault(lang, []).extend(excluded)
        for technique_id, bucket in loaded.items():
            merged = techniques.setdefault(technique_id, TechniquePatterns(technique_id))
            merged.patterns.extend(bucket.patterns)
            for language, exclusions in bucket.exclusions.items():
                merged.exclusions.setdefault(language, []).extend(exclusions)
            merged.negatives.extend(bucket.negatives)
    every = [p for t in techniques.values() for p in t.patterns]
    return PatternSet(
        languages=wanted,
        techniques=techniques,
        exclude_all=exclude_all,
        technique_names=names,
        prefilter=Prefilter(every, gated),
        exclusions=gated,
    )


@dataclass(frozen=True, slots=True)
class _Found:
    """What a pattern found in a text, before it is tied to a message and a sender."""

    technique_id: str
    pattern: Pattern
    start: int  # span in the original text
    end: int
    matched_text: str


class PatternRecognizer(Recognizer):
    """Technique phrases in one or more languages, from YAML pattern files.

    What the patterns find depends on the text alone, so it is kept on the text
    (``NormalizedText.derived``): a text the normaliser hands out again (see
    ``cosea.chats.analysis.pipeline.memo_normalizer``) costs one look-up, and nothing
    outlives the texts themselves."""

    name = "patterns"
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    text_only = True

    def __init__(
        self,
        languages: Iterable[str] | None = None,
        *,
        extra_files: Iterable[Path] = (),
        name: str | None = None,
    ) -> None:
        self.patterns = load_pattern_set(languages, extra_files=extra_files)
        self.languages = self.patterns.languages
        self.technique_ids = tuple(sorted(self.patterns.techniques))
        # per instance: two pattern sets find different things in one text
        self._derived_key = f"patterns#{next(_INSTANCES)}"
        if name:
            self.name = name

    def candidates(self, text: NormalizedText) -> list[Pattern]:
        """Patterns worth running on this message (see :class:`Prefilter`)."""
        return self.patterns.prefilter.candidates_for(text)

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[PatternHit | ContextSignal]:
        found = text.derived(self._derived_key, self.find)
        if not found:
            return ()
        return [self._finding(message, item) for item in found]

    def find(self, text: NormalizedText) -> tuple[_Found, ...]:
        """The best pattern per technique and side that matches ``text`` and that no
        exclusion of its language vetoes, with its span in the original text."""
        candidates = self.patterns.prefilter.candidates_for(text)
        if not candidates:
            return ()
        normalized = text.text
        # On a chat-sized text one search is cheaper than trying the pattern at each of
        # its leading words; on a long one the leading words save the scan.
        short = len(normalized) <= _SHORT_TEXT
        words: list[tuple[str, int]] | None = None
        best: dict[tuple[str, str], tuple[Pattern, re.Match[str]]] = {}
        for pattern in candidates:
            key = (pattern.technique_id, "cue" if pattern.side == "child-side" else "hit")
            current = best.get(key)
            if current is not None and current[0].confidence >= pattern.confidence:
                continue
            match = None
            if pattern.leading is None or short:
                match = pattern.regex.search(normalized)
            else:
                if words is None:
                    words = [(m.group(), m.start()) for m in _TOKEN.finditer(normalized)]
                exact, prefixes = _split_leading(pattern.leading)
                for word, start in words:
                    if word in exact or (prefixes and word.startswith(prefixes)):
                        match = pattern.regex.match(normalized, start)
                        if match is not None:
                            break
            if match is not None:
                best[key] = (pattern, match)
        if not best:
            return ()
        exclusions = self.patterns.prefilter.exclusions_for(normalized)
        vetoed: dict[tuple[str, str | None], bool] = {}

        def excluded(language: str, technique_id: str | None) -> bool:
            verdict = vetoed.get((language, technique_id))
            if verdict is None:
                verdict = vetoed[(language, technique_id)] = any(
                    ex.regex.search(normalized) is not None
                    for ex in exclusions
                    if ex.language == language and ex.technique_id == technique_id
                )
            return verdict

        found = []
        for (technique_id, _kind), (pattern, match) in sorted(best.items()):
            language = pattern.language
            if excluded(language, None) or excluded(language, technique_id):
                continue
            start, end = text.original_span(*match.span())
            found.append(_Found(technique_id, pattern, start, end, text.original[start:end]))
        return tuple(found)

    def _finding(self, message: Message, found: _Found) -> PatternHit | ContextSignal:
        pattern = found.pattern
        if pattern.side == "child-side":
            return ContextSignal(
                kind="target_cue",
                participant=message.sender,
                value={"pattern": pattern.id, "message_id": message.id},
                weight=pattern.confidence,
                description=pattern.label
                or f"reply suggests {self.technique_name(found.technique_id)}",
                technique_id=found.technique_id,
            )
        return PatternHit(
            message_id=message.id,
            technique_id=found.technique_id,
            start=found.start,
            end=found.end,
            confidence=pattern.confidence,
            recognizer=self.name,
            speaker=message.sender,
            matched_text=found.matched_text,
            side=pattern.side,
            pattern=pattern.id,
        )

    def technique_name(self, technique_id: str) -> str:
        return self.patterns.technique_names.get(technique_id, technique_id)
