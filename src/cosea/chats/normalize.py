"""Text normalisation for the recognizers.

Chat text hides the same words behind many spellings: "r u alone rn", "pr1v4te",
"pleeease", "s e n d", zero-width characters, full-width letters, emoji. The
recognizers run on one canonical form so a pattern is written once:

1. character level (only for non-ASCII text): Unicode NFKC, case folding,
   accents stripped (patterns in es/de/fr/pt are written without accents),
   look-alike Cyrillic/Greek letters mapped to Latin, zero-width and
   combining characters removed, and emoji replaced by ``emoji_<name>`` tokens;
2. word level: whitespace runs collapsed, apostrophes inside words dropped
   ("don't" -> "dont"), spaced-out letters joined ("s e n d" -> "send"),
   letter repeats collapsed ("soooo" -> "so"), leetspeak inside words decoded
   ("c4m" -> "cam") while numbers stay numbers ("im 14", "$500", "10 min"),
   and chat abbreviations expanded ("u" -> "you", "rn" -> "right now").

Every step records where it changed the text, and :class:`NormalizedText` maps
spans in the normalised text back to the original, so a reviewer sees the
words the person actually typed. The work is a ``str.lower`` plus one
precompiled regex scan for plain ASCII messages, which are most of them.
"""

from __future__ import annotations

import re
import unicodedata

from cosea.chats.recognizers._regex import trie_pattern
from cosea.chats.recognizers.base import Edit, NormalizedText

__all__ = ["ABBREVIATIONS", "EMOJI_TOKENS", "fold", "normalize", "normalize_folded"]

# Chat abbreviations expanded everywhere. Only entries that mean the same in all
# supported languages are here: "im" is German ("im Park"), "ya" is Spanish
# ("already"), "vc" is Portuguese ("você") and English ("voice chat"), so those
# stay as typed and the patterns' macros accept them.
ABBREVIATIONS: dict[str, str] = {
    # English
    "u": "you",
    "yu": "you",
    "yoo": "you",
    "ur": "your",
    "urs": "yours",
    "yr": "your",
    "r": "are",
    "pic": "picture",
    "pik": "picture",
    "pics": "pictures",
    "piks": "pictures",
    "pix": "pictures",
    "pict": "picture",
    "vid": "video",
    "vids": "videos",
    "pfp": "profile picture",
    "pls": "please",
    "plz": "please",
    "plis": "please",
    "pleas": "please",
    "rn": "right now",
    "atm": "at the moment",
    "wanna": "want to",
    "wana": "want to",
    "gonna": "going to",
    "gona": "going to",
    "gotta": "got to",
    "hafta": "have to",
    "lemme": "let me",
    "gimme": "give me",
    "cuz": "because",
    "coz": "because",
    "cos": "because",
    "bc": "because",
    "bcuz": "because",
    "becuz": "because",
    "bcs": "because",
    "idk": "i dont know",
    "idc": "i dont care",
    "tbh": "to be honest",
    "ngl": "not going to lie",
    "imo": "in my opinion",
    "irl": "in real life",
    "dm": "direct message",
    "dms": "direct messages",
    "snap": "snapchat",
    "sc": "snapchat",
    "insta": "instagram",
    "ig": "instagram",
    "tg": "telegram",
    "fb": "facebook",
    "msg": "message",
    "msgs": "messages",
    "txt": "text",
    "ppl": "people",
    "rly": "really",
    "rlly": "really",
    "fr": "for real",
    "wyd": "what are you doing",
    "wru": "where are you",
    "hbu": "how about you",
    "wbu": "what about you",
    "ily": "i love you",
    "ilysm": "i love you so much",
    "luv": "love",
    "bf": "boyfriend",
    "gf": "girlfriend",
    "bday": "birthday",
    "yrs": "years",
    "tho": "though",
    "thru": "through",
    "b4": "before",
    "2day": "today",
    "4real": "for real",
    "4ever": "forever",
    "4u": "for you",
    "2nite": "tonight",
    "2night": "tonight",
    "tonite": "tonight",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "tmr": "tomorrow",
    "tmrw": "tomorrow",
    "tmw": "tomorrow",
    "gr8": "great",
    "l8r": "later",
    "l8": "late",
    "w8": "wait",
    "m8": "mate",
    "h8": "hate",
    "d8": "date",
    "sk8": "skate",
    "str8": "straight",
    "some1": "someone",
    "any1": "anyone",
    "every1": "everyone",
    "no1": "no one",
    "ne1": "anyone",
    "nd": "and",
    "dnt": "dont",
    "cnt": "cant",
    "wnt": "want",
    "abt": "about",
    "bout": "about",
    "okay": "ok",
    "thx": "thanks",
    "thnx": "thanks",
    "ty": "thank you",
    "tysm": "thank you so much",
    "np": "no problem",
    "nvm": "never mind",
    "ttyl": "talk to you later",
    "cya": "see you",
    "gtg": "got to go",
    "g2g": "got to go",
    "brb": "be right back",
    "jk": "just kidding",
    "pw": "password",
    "acc": "account",
    "accs": "accounts",
    "num": "number",
    "hmu": "hit me up",
    "asap": "as soon as possible",
    # Spanish
    "xq": "porque",
    "porq": "porque",
    "pq": "porque",
    "xfa": "por favor",
    "porfa": "por favor",
    "porfis": "por favor",
    "tqm": "te quiero mucho",
    "tkm": "te quiero mucho",
    "dnd": "donde",
    "msj": "mensaje",
    "kien": "quien",
    "q": "que",
    # German
    "hdl": "hab dich lieb",
    "hdgdl": "hab dich ganz doll lieb",
    "vllt": "vielleicht",
    "vlt": "vielleicht",
    "kp": "kein plan",
    "ka": "keine ahnung",
    "gn8": "gute nacht",
    # French
    "slt": "salut",
    "stp": "s il te plait",
    "svp": "s il vous plait",
    "tkt": "t inquiete",
    "jsp": "je sais pas",
    "bcp": "beaucoup",
    "jtm": "je t aime",
    "dac": "d accord",
    "koi": "quoi",
    "ki": "qui",
    # Portuguese
    "hj": "hoje",
    "agr": "agora",
    "cmg": "comigo",
    "ctg": "contigo",
    "vdd": "verdade",
    "qnd": "quando",
    "qdo": "quando",
    "oq": "o que",
    "mto": "muito",
    "mt": "muito",
    "td": "tudo",
    "fds": "fim de semana",
}

# Emoji that carry meaning for the recognizers, by the token that replaces them.
# Others keep a generic token so nothing is silently lost.
_EMOJI_GROUPS: dict[str, str] = {
    "kiss": "😘😗😙😚💋",
    "wink": "😉😜",
    "smirk": "😏",
    "shush": "🤫",
    "zip": "🤐",
    "clock": "⏰⏳⌛⏱⏲🕐🕑🕒🕓🕔🕕🕖🕗🕘🕙🕚🕛",
    "money": "💸💰💵💶💷💴💲🤑💳",
    "camera": "📸📷📹🎥",
    "heart": "❤♥💕💖💗💓💞💘💝💜💙💚💛🧡🤍🖤🤎😍🥰😻",
    "pleading": "🥺",
    "monkey": "🙈🙊",
    "eyes": "👀",
    "fire": "🔥🥵",
    "devil": "😈👿",
    "suggestive": "🍆🍑💦👅",
    "gift": "🎁",
    "lock": "🔒🔐",
    "ghost": "👻",
    "phone": "📱📲",
    "cry": "😭😢😿🥲",
    "scared": "😨😰😱😟",
    "laugh": "😂🤣",
    "smile": "😊🙂😄😁😀😃☺",
    "blush": "😳",
    "angry": "😡😠🤬",
    "knife": "🔪",
    "skull": "💀☠",
}
EMOJI_TOKENS: dict[str, str] = {
    emoji: f"emoji_{name}" for name, group in _EMOJI_GROUPS.items() for emoji in group
}

_DELETE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
    "\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a\ufe0b\ufe0c"
    "\ufe0d\ufe0e\ufe0f\u034f\u061c"
)
# Look-alike letters used to dodge keyword filters ("sеnd" with a Cyrillic е).
_CONFUSABLES: dict[str, str] = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ɡ": "g", "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "’": "'", "‘": "'", "ʼ": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "«": '"', "»": '"', "…": "...",
    "–": "-", "—": "-",
}  # fmt: skip


def _char_replacement(char: str) -> str:
    if char in _DELETE:
        return ""
    if char in EMOJI_TOKENS:
        return f" {EMOJI_TOKENS[char]} "
    if char in _CONFUSABLES:
        return _CONFUSABLES[char]
    category = unicodedata.category(char)
    if category == "Mn" or category == "Cf":
        return ""
    if category == "So" and ord(char) >= 0x2190:
        return " emoji_other "
    folded = unicodedata.normalize("NFKC", char).casefold()
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    stripped = "".join(_CONFUSABLES.get(c, c) for c in stripped)
    return stripped


class _CharTable(dict):
    """``str.translate`` table filled lazily, so any Unicode character works at C speed.

    It also tracks which characters change length, because only those need
    offset bookkeeping (and a cheap regex finds them).
    """

    def __init__(self) -> None:
        super().__init__()
        self.length_changing: set[str] = set()
        self._finder: re.Pattern[str] | None = None

    def __missing__(self, codepoint: int) -> str:
        char = chr(codepoint)
        replacement = char.lower() if codepoint < 128 else _char_replacement(char)
        self[codepoint] = replacement
        if len(replacement) != 1:
            self.length_changing.add(char)
            self._finder = None
        return replacement

    def finder(self) -> re.Pattern[str] | None:
        if self._finder is None and self.length_changing:
            chars = "".join(sorted(self.length_changing))
            self._finder = re.compile(f"[{re.escape(chars)}]")
        return self._finder


_CHAR_TABLE = _CharTable()

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "8": "b", "9": "g", "@": "a", "$": "s", "!": "i", "|": "l"})  # fmt: skip
_LEET_CHARS = "013457895@$!|"
_LEET_CLASS = "0-9@$!|"
_SEPARATORS = " .\\-_*~+"

# Word-level pass 1 finds what might need work. Every alternative starts with a
# literal or a character class, so the regex engine skips most positions in C;
# the callbacks look around the match and rewrite whole words.
_GENERAL = re.compile(
    r"(?P<ws>[ \t\n\r\f\v]{2,}|[\t\n\r\f\v])"
    r"|(?P<apos>')"
    rf"|(?P<leet>[{_LEET_CLASS}]+)"
    r"|(?P<repeat>(?P<rc>[a-z])(?P=rc){2})"
    rf"|(?P<spaced>[{_SEPARATORS}][a-z][{_SEPARATORS}][a-z](?![\w@$]))"
)
# Word-level pass 2 expands abbreviations; it runs only when a token is one.
_ABBREVIATION_WORD = re.compile(rf"(?<![\w@$])(?:{trie_pattern(ABBREVIATIONS)})(?![\w@$])")
_TOKEN = re.compile(rf"[a-z{_LEET_CLASS}]+")
_ABBREVIATION_KEYS = frozenset(ABBREVIATIONS)
# Whether pass 1 can change anything (see _general_worth_running). A digit or leet
# symbol only matters next to a letter ("p1c", "10min", "0ld", "gr8"): a number on
# its own ("at 5", "question 4") is never rewritten, and most numbers in chat stand
# alone.
_GENERAL_WORTH_RUNNING = re.compile(
    rf"[^\W\d_][{_LEET_CLASS}]|[{_LEET_CLASS}][^\W\d_]|['\t\n\r\f\v]|  |([a-z])\1\1"
    rf"|[{_SEPARATORS}][a-z][{_SEPARATORS}][a-z](?![\w@$])"
)
_GENERAL_TRIGGER_CHARS = frozenset("0123456789@$!|'\t\n\r\f\v")
_REPEAT_OR_SPACED = re.compile(rf"([a-z])\1\1|[{_SEPARATORS}][a-z][{_SEPARATORS}][a-z](?![\w@$])")


_APOSTROPHE_OR_CONTROL = frozenset("'\t\n\r\f\v")
# ASCII letters -> "a", leet characters -> "1", the rest -> " ": a letter next to a
# leet character is then "a1" or "1a" in the translated bytes
_LETTER_OR_LEET = bytes(
    ord("a") if chr(c).isalpha() else ord("1") if chr(c) in "0123456789@$!|" else ord(" ")
    for c in range(256)
)


def _general_worth_running(text: str) -> bool:
    """``_GENERAL_WORTH_RUNNING.search(text)``, cheaper on the usual text: its slow
    alternatives (a character next to a letter) can only match where one of the
    trigger characters is, which a set look-up rules out first, and on plain ASCII
    one byte translation finds a letter next to a leet character (a number in a
    text, "at 5", is common, and the regex tries every position)."""
    if _GENERAL_TRIGGER_CHARS.isdisjoint(text):
        return "  " in text or _REPEAT_OR_SPACED.search(text) is not None
    if not text.isascii():
        return _GENERAL_WORTH_RUNNING.search(text) is not None
    if "  " in text or not _APOSTROPHE_OR_CONTROL.isdisjoint(text):
        return True
    classes = text.encode("ascii").translate(_LETTER_OR_LEET)
    if b"a1" in classes or b"1a" in classes:
        return True
    return _REPEAT_OR_SPACED.search(text) is not None


_WORD_CHARS_SET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!|_")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_LEET_INSIDE = re.compile(rf"(?<=[a-z])[{_LEET_CLASS}]+(?=[a-z])")
_CHAT_SINGLE_LETTERS = frozenset("uriaykcbnx")
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th", "er", "e", "eme", "o", "a", "te", "ten"})
_UNITS = frozenset(
    """am pm yo yrs yr hrs hr h min mins m s sec secs k kg km cm mm gb mb kb x p d w mo
    days day weeks wk lbs ft in pcs""".split()  # noqa: SIM905
)
# Words spelled with a double letter, so "gooood" becomes "good" and not "god";
# everything else collapses to one letter ("soooo" -> "so", "pleeease" -> "please").
_DOUBLE_LETTER_WORDS = frozenset(
    """good too soon see free feel cool school sweet need keep meet sleep week look book room
    door food moon boo bee teen three agree coffee tomorrow all will well tell still call
    kill pull full small really little pretty kiss miss boss pass less mess guess happy sorry
    funny silly hello add odd off stuff apps summer letter better dinner yummy bully attention
    address kidding waiting getting sitting shopping stopped tripping hurry worry cutie
    seen fee feed deep beer weekend goodnight goodbye lonely bitte ballett allein sommer
    kommen komm mutter treffen muss wollen immer nett belle elle cette mille fille
    folle pomme homme lla llama calle ella ello isso esse essa nosso""".split()  # noqa: SIM905
)


def _decode_leet(word: str) -> str:
    def swap(match: re.Match[str]) -> str:
        run = match.group()
        if any(c not in _LEET_CHARS for c in run):
            return run  # "f2p", "b2b": digits that are not letter stand-ins
        return run.translate(_LEET)

    return _LEET_INSIDE.sub(swap, word)


def _once(match: re.Match[str]) -> str:
    # a function, not the template r"\1": re parses a template string on every call
    return match.group(1)


def _twice(match: re.Match[str]) -> str:
    return match.group(1) * 2


def _collapse_repeats(word: str) -> str:
    single = _REPEATS.sub(_once, word)
    if single in _DOUBLE_LETTER_WORDS or single in ABBREVIATIONS:
        return single
    doubled = _REPEATS.sub(_twice, word)
    if doubled in _DOUBLE_LETTER_WORDS:
        return doubled
    # several runs: try doubling each one alone ("sooo gooood" is two words anyway)
    for match in _REPEATS.finditer(word):
        candidate = _REPEATS.sub(_once, word[: match.start()]) + match.group(1) * 2
        candidate += _REPEATS.sub(_once, word[match.end() :])
        if candidate in _DOUBLE_LETTER_WORDS:
            return candidate
    return single


def _rewrite_word(word: str) -> str:
    expanded = ABBREVIATIONS.get(word)
    if expanded is not None:
        return expanded
    new = _collapse_repeats(word) if _REPEATS.search(word) else word
    new = _decode_leet(new)
    return ABBREVIATIONS.get(new, new)


def _word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and text[start - 1] in _WORD_CHARS_SET:
        start -= 1
    while end < len(text) and text[end] in _WORD_CHARS_SET:
        end += 1
    return start, end


def _spaced_run(text: str, start: int, end: int) -> tuple[int, int, str] | None:
    """Widen a "sep letter sep letter" hint to the whole run of single letters."""
    separator = text[start]
    run_start = start + 1
    while (
        run_start >= 2
        and text[run_start - 1] == separator
        and text[run_start - 2].isalpha()
        and (run_start < 3 or text[run_start - 3] not in _WORD_CHARS_SET)
    ):
        run_start -= 2
    run_end = end
    while (
        run_end + 1 < len(text)
        and text[run_end] == separator
        and text[run_end + 1].isalpha()
        and (run_end + 2 >= len(text) or text[run_end + 2] not in _WORD_CHARS_SET)
    ):
        run_end += 2
    letters = text[run_start:run_end:2]
    if len(letters) >= 4 and letters[0] in "ai" and separator == " ":
        run_start += 2  # "a p i c": the article stays a word
        letters = letters[1:]
    if len(letters) >= 4 and letters[-1] in "ai" and separator == " ":
        run_end -= 2  # "s e n d a pic"
        letters = letters[:-1]
    if len(letters) < 3:
        return None
    if separator == " " and set(letters) <= _CHAT_SINGLE_LETTERS:
        return None  # "r u k", "i c u": chat shorthand, not a hidden word
    return run_start, run_end, letters


def _general_edits(text: str) -> tuple[str, list[Edit]]:
    pieces: list[str] = []
    edits: list[Edit] = []
    position = 0  # end of the text already copied or replaced
    new_length = 0
    for match in _GENERAL.finditer(text):
        start, end = match.span()
        if start < position:
            continue  # inside a word an earlier match already rewrote
        kind = match.lastgroup
        if kind == "ws":
            replacement = " "
        elif kind == "apos":
            if not (start > 0 and text[start - 1].isalpha() and text[end : end + 1].isalpha()):
                continue
            replacement = ""
        elif kind == "spaced":
            run = _spaced_run(text, start, end)
            if run is None or run[0] < position:
                continue
            start, end, letters = run
            replacement = _rewrite_word(letters)
        elif kind == "leet" and not (start and text[start - 1].isalpha()):
            if not (text[start].isdigit() and text[end : end + 1].isalpha()):
                continue
            unit_end = _word_bounds(text, end, end)[1]
            unit = text[end:unit_end]
            if not unit.isalpha() or unit in _ORDINAL_SUFFIXES:
                continue
            if end - start == 1 and text[start] in "0134" and len(unit) >= 2 and unit not in _UNITS:
                # a leading leet digit: "0ld", "4lone"
                word = text[start:unit_end]
                replacement = ABBREVIATIONS.get(word) or _rewrite_word(
                    text[start].translate(_LEET) + unit
                )
                end = unit_end
                if replacement == word:
                    continue
            else:
                # a number glued to a unit ("10min", "12yo", "5pm"): split, keep the number
                replacement = text[start:end] + " "
        else:  # a leet run or a letter repeat: rewrite the word around it
            start, end = _word_bounds(text, start, end)
            if start < position:
                continue
            word = text[start:end]
            replacement = _rewrite_word(word)
        if replacement == text[start:end]:
            continue
        pieces.append(text[position:start])
        new_length += start - position
        pieces.append(replacement)
        edits.append((new_length, new_length + len(replacement), start, end))
        new_length += len(replacement)
        position = end
    if not edits:
        return text, edits
    pieces.append(text[position:])
    return "".join(pieces), edits


def _abbreviation_edits(text: str) -> tuple[str, list[Edit]]:
    pieces: list[str] = []
    edits: list[Edit] = []
    position = 0
    new_length = 0
    for match in _ABBREVIATION_WORD.finditer(text):
        start, end = match.span()
        replacement = ABBREVIATIONS[match.group()]
        pieces.append(text[position:start])
        new_length += start - position
        pieces.append(replacement)
        edits.append((new_length, new_length + len(replacement), start, end))
        new_length += len(replacement)
        position = end
    if not edits:
        return text, edits
    pieces.append(text[position:])
    return "".join(pieces), edits


def offsets_from_edits(new_length: int, old_length: int, edits: list[Edit]) -> list[int]:
    """Per-character map from edited text to the text before the edits (``len + 1`` entries).

    Unchanged stretches map one to one; a replaced stretch spreads its
    characters over the original stretch, first to first and last to last.
    """
    offsets: list[int] = []
    previous_new = previous_old = 0
    for new_start, new_end, old_start, old_end in edits:
        offsets.extend(range(previous_old, previous_old + new_start - previous_new))
        new_span = new_end - new_start
        old_span = old_end - old_start
        if new_span == old_span:
            offsets.extend(range(old_start, old_end))
        elif new_span == 1 or old_span <= 1:
            offsets.extend([old_start] * new_span)
        elif new_span:
            last = old_span - 1
            offsets.extend(old_start + (i * last) // (new_span - 1) for i in range(new_span))
        previous_new, previous_old = new_end, old_end
    offsets.extend(range(previous_old, previous_old + new_length - previous_new))
    offsets.append(old_length)
    return offsets


def _character_level(text: str) -> tuple[str, list[Edit]]:
    folded = text.translate(_CHAR_TABLE)
    finder = _CHAR_TABLE.finder()
    if finder is None or (len(folded) == len(text) and finder.search(text) is None):
        return folded, []
    # Rebuild around the characters that change length; emoji tokens get a space
    # on each side only where the text has none, so no whitespace runs appear.
    pieces: list[str] = []
    edits: list[Edit] = []
    position = 0
    new_length = 0
    for match in finder.finditer(text):
        start = match.start()
        replacement = _CHAR_TABLE[ord(match.group())]
        if replacement.startswith(" "):
            if start > position:
                before = _CHAR_TABLE[ord(text[start - 1])][-1:]
            else:
                before = pieces[-1][-1:] if pieces else ""
            if before in ("", " "):
                replacement = replacement[1:]
            after = text[start + 1 : start + 2]
            if after == "" or after.isspace():
                replacement = replacement[:-1]
        chunk = text[position:start].translate(_CHAR_TABLE)
        pieces.append(chunk)
        new_length += len(chunk)
        pieces.append(replacement)
        edits.append((new_length, new_length + len(replacement), start, start + 1))
        new_length += len(replacement)
        position = start + 1
    pieces.append(text[position:].translate(_CHAR_TABLE))
    return "".join(pieces), edits


def fold(text: str) -> tuple[str, list[Edit]]:
    """Character-level step only: case, Unicode form, accents, look-alikes, emoji."""
    if text.isascii():
        return text.lower(), []
    return _character_level(text)


def normalize_folded(
    original: str, folded: str, fold_edits: list[Edit]
) -> tuple[str, list[tuple[int, list[Edit]]]]:
    """Word-level steps on already folded text; returns the text and each step's edits."""
    current = folded
    stages: list[tuple[int, list[Edit]]] = [(len(current), fold_edits)] if fold_edits else []
    if _general_worth_running(current):
        current, edits = _general_edits(current)
        if edits:
            stages.append((len(current), edits))
    if not _ABBREVIATION_KEYS.isdisjoint(_TOKEN.findall(current)):
        current, edits = _abbreviation_edits(current)
        if edits:
            stages.append((len(current), edits))
    return current, stages


def normalize(text: str) -> NormalizedText:
    """The canonical form the recognizers match on, with offsets back to ``text``.

    The work happens on first use of ``.text`` (``.folded`` is cheaper still):
    the prefilters of the recognizers settle most messages on the folded text,
    so most messages are never fully normalised.
    """
    return NormalizedText.deferred(text)
