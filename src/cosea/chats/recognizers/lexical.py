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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cosea.chats.recognizers._anchors import plan, split_alternatives
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
_SEPARATOR = r"[^\w$@]+"
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
    leading: bool = False  # the first requirement starts the match
    key: str = ""  # unique per compiled alternative

    @property
    def anchors(self) -> frozenset[str] | None:
        return self.requirements[0] if self.requirements else None


@dataclass(slots=True)
class TechniquePatterns:
    technique_id: str
    patterns: list[Pattern] = field(default_factory=list)
    exclusions: list[re.Pattern[str]] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PatternSet:
    """All patterns of the selected languages, compiled, with the prefilter built."""

    languages: tuple[str, ...]
    techniques: dict[str, TechniquePatterns]
    exclude_all: list[re.Pattern[str]]
    technique_names: dict[str, str]
    prefilter: Prefilter

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
            return rf"(?:[\w$@']+{_SEPARATOR}){{0,{words}}}"
        if name not in macros:
            raise InputError(where, f"unknown macro {{{name}}} in {source!r}")
        return "(?:" + _expand(macros[name], macros, where, depth + 1) + ")"

    return _MACRO.sub(replace, source)


def _spaces_to_separators(source: str) -> str:
    """A literal space (outside ``[...]``) matches any run of spaces and punctuation."""
    out: list[str] = []
    in_class = False
    escaped = False
    for char in source:
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
            if out and out[-1] == _SEPARATOR:
                continue
            out.append(_SEPARATOR)
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
    path: Path, shared_macros: dict[str, str], *, language: str | None = None
) -> tuple[str, dict[str, TechniquePatterns], list[re.Pattern[str]]]:
    """Compile one pattern file. Errors name the file and the entry."""
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
            _compile(wrap(inner), f"{where} pattern {number}")
            pattern_id = str(entry.get("id") or f"{lang}.{technique_id}.{number}")
            # Each top-level alternative gets its own anchors: one common word in
            # one branch would otherwise make the whole pattern run everywhere.
            for branch, alternative in enumerate(split_alternatives(inner)):
                gating = plan(alternative)
                bucket.patterns.append(
                    Pattern(
                        id=pattern_id,
                        technique_id=technique_id,
                        language=lang,
                        source=str(entry["match"]),
                        regex=_compile(wrap(alternative), f"{where} pattern {number}"),
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
        for entry in _as_list(spec.get("exclude")):
            regex_text, _ = compile_pattern(str(entry), macros, where)
            bucket.exclusions.append(_compile(regex_text, f"{where} exclusion"))
        bucket.negatives.extend(str(n) for n in _as_list(spec.get("negatives")))
    exclude_all = [
        _compile(compile_pattern(str(e), macros, str(path))[0], f"{path} exclude_all")
        for e in _as_list(data.get("exclude_all"))
    ]
    return lang, techniques, exclude_all


_OBFUSCATION_HINTS = re.compile(
    r"[0-9@$!|]+[a-z]"  # leetspeak inside a word ("p1c", "c4m") or "10min"
    r"|[ .\-_*~+][a-z][ .\-_*~+][a-z](?![\w@$])"  # spaced-out letters ("s e n d")
    r"|(?P<repeat>[a-z])(?P=repeat)(?P=repeat)"  # letter repeats ("alooone")
    r"|[\t\n\r]|  "
)
_TOKEN = re.compile(r"[a-z0-9_]+")


class Prefilter:
    """Which patterns can match a text, from the words in it, with integer bitsets.

    Every (pattern, requirement) pair owns one bit. A word maps to the bits of
    the requirements it satisfies (exactly, or as a prefix anchor); OR-ing the
    bits of a text's words and checking each pattern's bits tells which
    patterns have all their requirements present. The first pass runs on the
    folded text, before normalisation, with abbreviations mapped to the words
    they expand to: most messages end there.
    """

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.patterns: list[Pattern] = []
        self.always: list[Pattern] = []
        self.needs: list[int] = []
        self.primary_bits: list[int] = []
        self.primary_owner: dict[int, int] = {}  # primary bit index -> pattern index
        exact: dict[str, int] = {}
        prefix: dict[str, int] = {}
        bit = 0
        for pattern in patterns:
            if not pattern.requirements:
                self.always.append(pattern)
                continue
            index = len(self.patterns)
            self.patterns.append(pattern)
            need = 0
            for position, requirement in enumerate(pattern.requirements):
                mask = 1 << bit
                if position == 0:
                    self.primary_owner[bit] = index
                    self.primary_bits.append(mask)
                need |= mask
                bit += 1
                for anchor in requirement:
                    table, word = (
                        (exact, anchor[:-1]) if anchor.endswith(WORD_END) else (prefix, anchor)
                    )
                    table[word] = table.get(word, 0) | mask
            self.needs.append(need)
        self.primary_mask = sum(self.primary_bits)
        # "\d+" gives single-digit prefix anchors: any word starting with a digit.
        self.digit_mask = 0
        for digit in "0123456789":
            self.digit_mask |= prefix.pop(digit, 0)
        self.prefix = prefix
        self.prefix_lengths = sorted({len(w) for w in prefix})
        # Most words share no first three letters with any prefix anchor; one set
        # lookup rules them out before trying every prefix length.
        self.prefix_heads = frozenset(w[:3] for w in prefix)
        self.exact = exact
        # Raw (folded, not yet normalised) words: abbreviations stand for the
        # words they expand to.
        from cosea.chats.normalize import ABBREVIATIONS  # normalize imports this package

        raw = dict(exact)
        for short, expansion in ABBREVIATIONS.items():
            mask = 0
            for word in expansion.split():
                mask |= self.word_mask(word)
            if mask:
                raw[short] = raw.get(short, 0) | mask
        self.raw_exact = raw

    def word_mask(self, word: str) -> int:
        mask = self.exact.get(word, 0)
        if word[:1].isdigit():
            mask |= self.digit_mask
        for length in self.prefix_lengths:
            if length > len(word):
                break
            bits = self.prefix.get(word[:length])
            if bits:
                mask |= bits
        return mask

    def text_mask(self, words: list[str], exact: dict[str, int]) -> int:
        mask = 0
        get = exact.get
        heads = self.prefix_heads
        for word in words:
            bits = get(word)
            if bits:
                mask |= bits
            if word[:3] in heads:
                for length in self.prefix_lengths:
                    if length > len(word):
                        break
                    bits = self.prefix.get(word[:length])
                    if bits:
                        mask |= bits
            if word[0] <= "9":
                mask |= self.digit_mask
        return mask

    def matching(self, mask: int) -> list[int]:
        """Indexes of patterns whose requirements are all in ``mask``."""
        primaries = mask & self.primary_mask
        found = []
        needs = self.needs
        owner = self.primary_owner
        while primaries:
            low = primaries & -primaries
            index = owner[low.bit_length() - 1]
            need = needs[index]
            if mask & need == need:
                found.append(index)
            primaries ^= low
        return found

    def could_match(self, folded: str) -> bool:
        """Cheap first pass on folded text: could any pattern match after normalisation?"""
        if "'" in folded:
            folded = folded.replace("'", "")
        if _OBFUSCATION_HINTS.search(folded):
            return True
        if self.always:
            return True
        return bool(self.matching(self.text_mask(_TOKEN.findall(folded), self.raw_exact)))

    def candidates(self, text: str) -> list[tuple[Pattern, list[int] | None]]:
        """Patterns that can match normalised ``text``; for leading ones, where to try."""
        tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
        mask = self.text_mask([t for t, _ in tokens], self.exact)
        result: list[tuple[Pattern, list[int] | None]] = [(p, None) for p in self.always]
        for index in self.matching(mask):
            pattern = self.patterns[index]
            if not pattern.leading:
                result.append((pattern, None))
                continue
            primary = self.primary_bits_of(index)
            positions = [start for word, start in tokens if self.word_mask(word) & primary]
            result.append((pattern, positions))
        return result

    def primary_bits_of(self, index: int) -> int:
        need = self.needs[index]
        return need & -need  # the primary requirement owns the pattern's lowest bit


def load_pattern_set(
    languages: Iterable[str] | None = None, *, extra_files: Iterable[Path] = ()
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
    exclude_all: list[re.Pattern[str]] = []
    for path in files:
        _, loaded, excluded = load_language(path, shared_macros)
        exclude_all.extend(excluded)
        for technique_id, bucket in loaded.items():
            merged = techniques.setdefault(technique_id, TechniquePatterns(technique_id))
            merged.patterns.extend(bucket.patterns)
            merged.exclusions.extend(bucket.exclusions)
            merged.negatives.extend(bucket.negatives)
    every = [p for t in techniques.values() for p in t.patterns]
    return PatternSet(
        languages=wanted,
        techniques=techniques,
        exclude_all=exclude_all,
        technique_names=names,
        prefilter=Prefilter(every),
    )


class PatternRecognizer(Recognizer):
    """Technique phrases in one or more languages, from YAML pattern files."""

    name = "patterns"
    languages: tuple[str, ...] = DEFAULT_LANGUAGES

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
        if name:
            self.name = name

    def candidates(self, text: NormalizedText) -> list[tuple[Pattern, list[int] | None]]:
        """Patterns worth running on this message (see :class:`Prefilter`)."""
        prefilter = self.patterns.prefilter
        if not prefilter.could_match(text.folded):
            return []
        return prefilter.candidates(text.text)

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[PatternHit | ContextSignal]:
        candidates = self.candidates(text)
        if not candidates:
            return ()
        normalized = text.text
        best: dict[tuple[str, str], tuple[Pattern, re.Match[str]]] = {}
        for pattern, positions in candidates:
            key = (pattern.technique_id, "cue" if pattern.side == "child-side" else "hit")
            current = best.get(key)
            if current is not None and current[0].confidence >= pattern.confidence:
                continue
            match = None
            if positions is None:
                match = pattern.regex.search(normalized)
            else:
                for position in positions:
                    match = pattern.regex.match(normalized, position)
                    if match is not None:
                        break
            if match is not None:
                best[key] = (pattern, match)
        if not best:
            return ()
        if any(ex.search(normalized) for ex in self.patterns.exclude_all):
            return ()
        findings: list[PatternHit | ContextSignal] = []
        for (technique_id, kind), (pattern, match) in sorted(best.items()):
            technique = self.patterns.techniques[technique_id]
            if any(ex.search(normalized) for ex in technique.exclusions):
                continue
            start, end = text.original_span(*match.span())
            if kind == "cue":
                findings.append(
                    ContextSignal(
                        kind="target_cue",
                        participant=message.sender,
                        value={"pattern": pattern.id, "message_id": message.id},
                        weight=pattern.confidence,
                        description=pattern.label
                        or f"reply suggests {self.technique_name(technique_id)}",
                        technique_id=technique_id,
                    )
                )
                continue
            findings.append(
                PatternHit(
                    message_id=message.id,
                    technique_id=technique_id,
                    start=start,
                    end=end,
                    confidence=pattern.confidence,
                    recognizer=self.name,
                    speaker=message.sender,
                    matched_text=text.original[start:end],
                    side=pattern.side,
                    pattern=pattern.id,
                )
            )
        return findings

    def technique_name(self, technique_id: str) -> str:
        return self.patterns.technique_names.get(technique_id, technique_id)
