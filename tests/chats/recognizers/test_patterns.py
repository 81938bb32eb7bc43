"""Pattern recognizers: each tactic in each language, typos and leet, examples and negatives."""

from __future__ import annotations

import pytest
from recognizer_helpers import techniques

from cosea.chats.recognizers import RecognizerRegistry, pattern_set

# A few warning-sign phrasings per tactic and language (short, non-graphic).
PHRASES: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("T0101", "so how old r u?"),
        ("T0102", "which school do u go to"),
        ("T0103", "r ur parents home rn?"),
        ("T0201", "age is just a number"),
        ("T0202", "im a talent scout for a modelling agency"),
        ("T0301", "ur so mature for ur age"),
        ("T0302", "ill buy u robux if u want"),
        ("T0303", "u can tell me anything, i get u better than anyone"),
        ("T0304", "i think i love u. be my gf?"),
        ("T0401", "dont tell ur mum about us ok"),
        ("T0403", "add me on snap its more private"),
        ("T0501", "have u ever had a bf?"),
        ("T0601", "send me a pic just for me"),
        ("T0602", "turn ur cam on"),
        ("T0603", "ill send one first if u do"),
        ("T0701", "pay or i send ur pics to all ur followers"),
        ("T0702", "send $300 in gift cards"),
        ("T0704", "u have 10 minutes"),
        ("T0705", "after everything i did for u"),
        ("T0801", "lets meet up irl this weekend"),
        ("T0802", "i can pick u up after school"),
        ("T0901", "delete our chats after"),
    ],
    "es": [
        ("T0101", "cuantos años tienes?"),
        ("T0102", "donde vives?"),
        ("T0103", "estas sola ahora?"),
        ("T0301", "eres muy madura para tu edad"),
        ("T0401", "no le digas a nadie de esto"),
        ("T0403", "tienes whatsapp? hablemos por ahi"),
        ("T0601", "mandame una foto"),
        ("T0701", "si no pagas mando tus fotos a todos tus amigos"),
        ("T0702", "pagame 200 euros"),
        ("T0704", "tienes 10 minutos"),
        ("T0801", "quiero conocerte en persona"),
        ("T0901", "borra el chat despues"),
    ],
    "de": [
        ("T0101", "wie alt bist du?"),
        ("T0102", "wo wohnst du?"),
        ("T0103", "bist du gerade allein?"),
        ("T0301", "du bist so reif für dein alter"),
        ("T0401", "sag es niemandem, das bleibt unser geheimnis"),
        ("T0403", "hast du snapchat?"),
        ("T0601", "schick mir ein foto"),
        ("T0701", "zahl oder ich schicke die bilder an alle deine freunde"),
        ("T0702", "zahl mir 200 euro"),
        ("T0704", "du hast 10 minuten"),
        ("T0801", "wollen wir uns treffen?"),
        ("T0901", "lösch den chat danach"),
    ],
    "fr": [
        ("T0101", "t'as quel âge ?"),
        ("T0102", "tu habites où ?"),
        ("T0103", "t'es seule là ?"),
        ("T0301", "t'es très mature pour ton âge"),
        ("T0401", "dis rien à personne, c'est notre petit secret"),
        ("T0403", "t'as snap ?"),
        ("T0601", "envoie moi une photo"),
        ("T0701", "paye ou je balance tes photos à tous tes potes"),
        ("T0702", "paye moi 200 euros"),
        ("T0704", "t'as 10 minutes"),
        ("T0801", "on se voit samedi ?"),
        ("T0901", "efface la conv après"),
    ],
    "pt": [
        ("T0101", "quantos anos vc tem?"),
        ("T0102", "vc mora onde?"),
        ("T0103", "vc ta sozinha?"),
        ("T0301", "você é muito madura para sua idade"),
        ("T0401", "não conta pra ninguém, fica entre a gente"),
        ("T0403", "vc tem whatsapp?"),
        ("T0601", "me manda uma foto"),
        ("T0701", "paga ou eu mando suas fotos pra todo mundo"),
        ("T0702", "me paga 200 reais"),
        ("T0704", "vc tem 10 minutos"),
        ("T0801", "bora se encontrar sábado?"),
        ("T0901", "apaga a conversa depois"),
    ],
}
# Typos, leetspeak, spacing and repeats still hit.
VARIANTS = [
    ("T0101", "h0w 0ld r u"),
    ("T0103", "r u aloooone rn"),
    ("T0401", "d0nt t3ll ur p4rents"),
    ("T0601", "s e n d me a p1c"),
    ("T0601", "sned me a pik plz"),
    ("T0602", "turn ur c4m on"),
    ("T0704", "u have 10min"),
    ("T0901", "deleeete our chats"),
]


# Other phrasings of the same techniques (English chat style), kept as regression checks.
PARAPHRASES = [
    ("T0101", "btw whats ur age"),
    ("T0101", "u look young, what grade r u in"),
    ("T0102", "what city do u live in"),
    ("T0102", "wat school u at"),
    ("T0103", "anyone else home with u?"),
    ("T0103", "do ur parents go thru ur phone"),
    ("T0104", "u seem kinda lonely, do u have friends"),
    ("T0301", "ur honestly gorgeous"),
    ("T0301", "u seem so grown up for ur age"),
    ("T0302", "i can send u a steam card"),
    ("T0302", "ill get u vbucks"),
    ("T0303", "ur the only one who gets me"),
    ("T0304", "ur my gf now ok"),
    ("T0304", "i love u so much"),
    ("T0401", "this stays between u and me"),
    ("T0401", "dont let ur parents see this chat"),
    ("T0401", "keep our chats secret"),
    ("T0402", "ur mom is so controlling"),
    ("T0403", "whats ur snap"),
    ("T0403", "hit me up on telegram"),
    ("T0501", "r u a virgin"),
    ("T0502", "all the girls ur age do it"),
    ("T0601", "send a pic of urself"),
    ("T0601", "can i get a selfie"),
    ("T0602", "go live for me"),
    ("T0602", "hop on facetime"),
    ("T0603", "ill show u mine if u show me urs"),
    ("T0604", "take a pic holding a note with todays date"),
    ("T0701", "ill leak ur pics"),
    ("T0701", "ur friends will see everything"),
    ("T0702", "send me 100 bucks"),
    ("T0702", "i want $50 in amazon cards"),
    ("T0703", "i want another video"),
    ("T0704", "u got 5 mins"),
    ("T0704", "hurry up"),
    ("T0705", "if u block me ill kill myself"),
    ("T0801", "wanna hang out irl"),
    ("T0801", "we should meet up"),
    ("T0802", "ill get u an uber"),
    ("T0901", "wipe our messages"),
    ("T0902", "use a burner account"),
    ("T1001", "ill pay for ur pics"),
    ("T1003", "bring ur friends too"),
    ("T0101", "u in high school yet?"),
    ("T0101", "how old r u really"),
    ("T0102", "where abouts do u live"),
    ("T0103", "is ur mom around rn"),
    ("T0103", "can ur parents see ur dms"),
    ("T0301", "u have such a pretty face"),
    ("T0301", "ur way more mature than girls my age"),
    ("T0302", "i'll send u some money for new clothes"),
    ("T0303", "i'm always here for u no matter what"),
    ("T0304", "i think im falling for u"),
    ("T0401", "dont say anything to ur dad about this"),
    ("T0401", "no one can know about us"),
    ("T0402", "ur parents dont care about u like i do"),
    ("T0403", "lets go to snap"),
    ("T0403", "dm me on insta"),
    ("T0501", "have u ever kissed anyone"),
    ("T0601", "can u send a photo of urself"),
    ("T0601", "show me a pic of u"),
    ("T0602", "turn on ur webcam"),
    ("T0603", "i'll go first then u send one"),
    ("T0701", "i'll send these to ur school"),
    ("T0701", "everyone at ur school is gonna see this"),
    ("T0702", "pay up or else"),
    ("T0702", "send me a 50 dollar gift card"),
    ("T0703", "i want more videos"),
    ("T0704", "u have an hour"),
    ("T0705", "dont leave me or ill hurt myself"),
    ("T0801", "can we meet this weekend"),
    ("T0802", "i'll drive to ur town"),
    ("T0901", "delete all our messages now"),
    ("T0902", "get a vpn first"),
    ("T0104", "do u get along with ur parents"),
    ("T0202", "im a casting agent"),
    ("T0203", "they banned my old account lol"),
    ("T0502", "its normal everyone does it"),
    ("T1003", "does ur sister want to join"),
]


@pytest.mark.parametrize(
    ("language", "technique", "text"),
    [(lang, t, text) for lang, rows in PHRASES.items() for t, text in rows],
)
def test_phrase_per_tactic_and_language(
    registry: RecognizerRegistry, language: str, technique: str, text: str
) -> None:
    assert technique in techniques(registry, text), f"{language}: {text!r}"


@pytest.mark.parametrize(("technique", "text"), VARIANTS)
def test_typo_and_leet_variants(registry: RecognizerRegistry, technique: str, text: str) -> None:
    assert technique in techniques(registry, text)


@pytest.mark.parametrize(("technique", "text"), PARAPHRASES)
def test_paraphrases(registry: RecognizerRegistry, technique: str, text: str) -> None:
    assert technique in techniques(registry, text)


def test_every_pattern_example_is_recognised(registry: RecognizerRegistry) -> None:
    patterns = pattern_set(registry)
    assert patterns is not None
    missed = []
    for technique in patterns.techniques.values():
        for pattern in technique.patterns:
            for example in pattern.examples:
                found = techniques(registry, example)
                cues = {
                    s.technique_id for s in _signals(registry, example) if s.kind == "target_cue"
                }
                if pattern.technique_id not in found | cues:
                    missed.append((pattern.id, example))
    assert not missed


def test_negatives_in_pattern_files_do_not_fire(registry: RecognizerRegistry) -> None:
    patterns = pattern_set(registry)
    assert patterns is not None
    fired = [
        (t.technique_id, n)
        for t in patterns.techniques.values()
        for n in t.negatives
        if t.technique_id in techniques(registry, n)
    ]
    assert not fired


def test_every_pattern_is_gated_by_anchors(registry: RecognizerRegistry) -> None:
    """A pattern without anchors would run on every message: slow, so not allowed."""
    patterns = pattern_set(registry)
    assert patterns is not None
    assert not patterns.prefilter.always
    covered = {p.technique_id for p in patterns.all_patterns()}
    visible = {
        "T0101", "T0102", "T0103", "T0104", "T0201", "T0202", "T0203", "T0301", "T0302",
        "T0303", "T0304", "T0401", "T0402", "T0403", "T0501", "T0502", "T0503", "T0601",
        "T0602", "T0603", "T0604", "T0701", "T0702", "T0703", "T0704", "T0705", "T0801",
        "T0802", "T0901", "T0902", "T1001", "T1002", "T1003",
    }  # fmt: skip
    assert visible <= covered
    for language in ("en", "es", "de", "fr", "pt"):
        assert {p.language for p in patterns.all_patterns()} >= {language}


def _signals(registry: RecognizerRegistry, text: str):
    from recognizer_helpers import run

    return run(registry, text).signals
