"""German and French patterns: chat spellings, hard negatives, whole conversations.

The phrasings are not copies of the pattern files' examples: they use missing
umlauts and accents, "ue"/"oe" spellings, chat forms ("haste", "biste", "nen";
"t", "ta", "chui", "g", "jveux", "tof") and abbreviations ("hdl", "vllt", "stp",
"tkt"), the way a held-out set would. Short, non-graphic warning-sign phrases only.

Held-out round 2 (each probe written before reading that language's patterns,
in teen registers with Austrian and Swiss forms, missing umlauts and English
words such as "pic", "snap", "facetimen"):
- German: 64 phrasings and 20 hard negatives (parents, teachers and online
  lessons, siblings, sport, gaming); 17 misses and 4 false hits before the
  fixes; none after, bar one false hit left on purpose: a parent's "schatz wo
  bist du? schick mir deinen standort" (groomers say "schatz" too, and ask for
  a location the same way). 26 variants written after the fixes, to check they
  generalise, had 6 misses and 1 false hit, none now.
- French (France, Belgium, Quebec: "jsp", "tkt", "stp", "ptdr", "t"/"ta",
  "as-tu", "pv", "jvais"): 64 phrasings and 20 hard negatives; 15 misses and
  3 false hits before the fixes; none after, bar the same parent's request
  left on purpose ("ma cherie tu es ou? envoie moi ta localisation"). 25
  variants written after the fixes had no misses and 3 false hits (posting
  one's own holiday photos, a second account for a tournament, joining
  friends at football), none now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from recognizer_helpers import run, run_conversation, techniques

from cosea.chats.analysis import analyze_stream
from cosea.chats.recognizers import RecognizerRegistry
from cosea.types import Conversation, Message, Participant

GERMAN = [
    ("T0101", "wie alt bisst du eig?"),
    ("T0101", "welche klasse biste"),
    ("T0102", "wo wohnste?"),
    ("T0102", "wann kommt deine mama von der arbeit nach hause"),
    ("T0103", "biste grad alleine?"),
    ("T0103", "haste sturmfrei heute"),
    ("T0104", "fuehlst du dich oft allein?"),
    ("T0201", "ich bin auch 14 lol"),
    ("T0202", "ich bin fotograf fuer eine modelagentur"),
    ("T0203", "mein alter acc wurde gesperrt, das ist mein neuer"),
    ("T0301", "du bist voll suess"),
    ("T0301", "du bist so reif für dein alter"),
    ("T0302", "ich kauf dir vbucks wenn du willst"),
    ("T0303", "niemand versteht dich so wie ich"),
    ("T0304", "ich hab mich in dich verliebt"),
    ("T0401", "sags bloß keinem ok?"),
    ("T0401", "erzähl deinen eltern nix von mir"),
    ("T0402", "deine eltern checken dich eh nicht"),
    ("T0403", "haste snap? schreib mir da"),
    ("T0501", "biste single?"),
    ("T0502", "ist voll normal, alle in deinem alter machen das"),
    ("T0601", "schick ma n pic von dir"),
    ("T0601", "kannst du mir ein foto von dir schicken, nur fuer mich"),
    ("T0602", "mach mal deine cam an"),
    ("T0603", "ich schick auch eins wenn du willst"),
    ("T0604", "halt nen zettel mit meinem namen hoch"),
    ("T0701", "ich schick die bilder an deine ganze klasse"),
    ("T0701", "blockier mich und alle sehen deine bilder"),
    ("T0702", "überweis 300€ oder es geht online"),
    ("T0703", "ich brauche neue bilder"),
    ("T0704", "du hast 15 min"),
    ("T0705", "nach allem was ich für dich getan hab?"),
    ("T0801", "wollen wir uns mal in echt treffen?"),
    ("T0802", "ich zahl dir das zugticket"),
    ("T0901", "lösch unseren chat danach"),
    ("T0902", "mach dir nen fake account damit deine eltern es nicht sehen"),
    ("T1001", "wie viel nimmst du fur ein bild"),
    ("T1003", "hast du freundinnen in deinem alter?"),
    # a held-out probe written after the patterns (each missed at first)
    ("T0103", "sind deine eltern heute abend weg?"),
    ("T0103", "ist grad jemand bei dir zuhause?"),
    ("T0201", "bin selber erst 16"),
    ("T0303", "du kannst mir echt alles sagen"),
    ("T0401", "das muss niemand wissen"),
    ("T0402", "deine freunde sind doch nur neidisch"),
    ("T0701", "wenn du nicht zahlst sieht deine ganze schule die bilder"),
    ("T0703", "schick mir noch mehr"),
    # held-out round 2 (probe written before reading the patterns; 17 of 64 missed)
    ("T0101", "wie alt bist n du?"),
    ("T0101", "welche klasse bist du jetzt"),
    ("T0101", "biste schon 18?"),
    ("T0101", "wie alt bisch du?"),
    ("T0101", "gehst du noch zur schule?"),
    ("T0102", "wo wohnst du genau?"),
    ("T0102", "aus welcher stadt kommst du"),
    ("T0102", "auf welche schule gehst du"),
    ("T0102", "wann hast du schule aus?"),
    ("T0102", "schick mal deinen standort"),
    ("T0103", "sind deine eltern grad da?"),
    ("T0103", "bist du allein zuhaus?"),
    ("T0103", "kontrolliert deine mutter dein handy?"),
    ("T0103", "haste heut sturmfrei?"),
    ("T0104", "streitest du viel mit deinen eltern?"),
    ("T0104", "hast du wenig freunde?"),
    ("T0301", "du bist echt hübsch wsl"),
    ("T0301", "bist voll die süße"),
    ("T0301", "du siehst aus wie ein model"),
    ("T0301", "du bist so erwachsen für dein alter"),
    ("T0302", "ich kann dir vbucks schenken"),
    ("T0302", "willst du ne paysafecard?"),
    ("T0302", "ich lad dir dein handy auf"),
    ("T0303", "nur ich versteh dich wirklich"),
    ("T0303", "du kannst mir alles erzählen"),
    ("T0304", "ich glaub ich hab mich in dich verknallt"),
    ("T0304", "hdl meine kleine"),
    ("T0401", "sag keinem was von uns"),
    ("T0401", "das bleibt unter uns ok?"),
    ("T0401", "deine eltern dürfen das nicht wissen"),
    ("T0402", "deine freunde sind kindisch, du brauchst die nicht"),
    ("T0402", "deine eltern verstehen dich eh nicht"),
    ("T0403", "schreib mir auf snap"),
    ("T0403", "haste insta?"),
    ("T0403", "gib mir deine nummer"),
    ("T0403", "lass auf whatsapp weiterschreiben"),
    ("T0403", "adde mich auf discord"),
    ("T0601", "schick mal ein pic"),
    ("T0601", "schick mir n foto von dir"),
    ("T0601", "zeig mal wie du aussiehst"),
    ("T0601", "schick ein privates bild"),
    ("T0602", "lass facetimen"),
    ("T0602", "mach cam an"),
    ("T0602", "komm in den videocall"),
    ("T0603", "wenn du eins schickst schick ich auch eins"),
    ("T0604", "schick ein foto mit meinem namen drauf als beweis"),
    ("T0701", "ich schick die bilder an deine eltern"),
    ("T0701", "dann stell ich alles online"),
    ("T0701", "alle werden deine bilder sehen"),
    ("T0702", "schick mir 200 euro per paysafe"),
    ("T0702", "zahl oder alle sehen es"),
    ("T0702", "ich will 100€ in amazon gutscheinen"),
    ("T0703", "schick noch eins sonst weißt du was passiert"),
    ("T0704", "du hast bis 20 uhr zeit"),
    ("T0704", "ne stunde, dann poste ich es"),
    ("T0704", "die zeit läuft"),
    ("T0705", "wenn du mich blockierst bring ich mich um"),
    ("T0801", "wollen wir uns mal treffen? nur wir zwei"),
    ("T0801", "lass uns am samstag im park treffen"),
    ("T0802", "ich hol dich von der schule ab"),
    ("T0802", "ich bezahl dir das taxi"),
    ("T0901", "lösch den chatverlauf"),
    ("T0902", "mach dir nen zweitaccount"),
    ("T1001", "ich geb dir 50€ für ein bild"),
    # variants written after its fixes, to check they generalise (6 of 26 missed)
    ("T0104", "zoffst du dich oft mit deiner mama?"),
    ("T0104", "haste kaum freunde?"),
    ("T0301", "du bist echt ne hübsche"),
    ("T0301", "du siehst aus wie ne prinzessin"),
    ("T0302", "brauchst du guthaben?"),
    ("T0302", "ich lade dir guthaben auf"),
    ("T0303", "nur ich kenne dich richtig"),
    ("T0304", "bin voll in dich verknallt"),
    ("T0304", "hab dich lieb mausi"),
    ("T0401", "deine mama darf davon nie erfahren"),
    ("T0402", "deine freundinnen sind so kindisch"),
    ("T0403", "lass mal auf snap weiterschreiben"),
    ("T0602", "lass mal facetimen heute abend"),
    ("T0701", "sonst stell ich alles online"),
    ("T0702", "zahl sonst alle sehen es"),
    ("T0704", "ne stunde noch"),
    ("T0801", "lass uns morgen nach der schule am bahnhof treffen"),
    ("T0601", "schick mal n selfie"),
    ("T0403", "gib mal deine nummer"),
    ("T0101", "wie alt bisch?"),
    ("T0103", "bisch allei dahei?"),
    ("T0102", "in welchem kanton wohnst du?"),
    ("T0702", "schick 100 franken per twint"),
    ("T0601", "schick mir ein foto von dir grad"),
    ("T0602", "komm mal in videocall"),
    ("T0701", "ich schick die fotos an deine eltern"),
]

FRENCH = [
    ("T0101", "ta quel age?"),
    ("T0101", "t en quelle classe"),
    ("T0102", "thabites ou?"),
    ("T0102", "tu rentres a quelle heure des cours"),
    ("T0103", "t seule chez toi la?"),
    ("T0103", "tes darons sont la?"),
    ("T0104", "tu te sens souvent seule?"),
    ("T0201", "g 15 ans aussi mdr"),
    ("T0202", "chui photographe pour une agence de mannequins"),
    ("T0203", "mon ancien compte sest fait ban, cest mon nouveau compte"),
    ("T0301", "t trop belle"),
    ("T0301", "t'es très mature pour ton âge"),
    ("T0302", "jte paye des vbucks si tu veux"),
    ("T0303", "personne te comprend comme moi"),
    ("T0304", "jte kiffe grave"),
    ("T0401", "dis rien à tes parents stp"),
    ("T0401", "ça reste entre nous ok?"),
    ("T0402", "tes parents te comprennent pas"),
    ("T0403", "ta snap? on parle la bas"),
    ("T0501", "t celibataire?"),
    ("T0502", "c normal tout le monde le fait"),
    ("T0601", "envoie moi une tof de toi"),
    ("T0601", "tu peux m'envoyer un selfie? juste pour moi"),
    ("T0602", "allume ta cam"),
    ("T0603", "jtenvoie la mienne dabord"),
    ("T0604", "prouve moi que tes pas un fake"),
    ("T0701", "jenvoie tes photos a toute ta classe"),
    ("T0701", "bloque moi et je publie tout"),
    ("T0702", "vire 300€ sinon ça part partout"),
    ("T0703", "jveux dautres photos"),
    ("T0704", "tas 15 min"),
    ("T0705", "apres tout ce que jai fait pour toi?"),
    ("T0801", "on se voit en vrai?"),
    ("T0802", "je te paye le billet de train"),
    ("T0901", "supprime la conv apres"),
    ("T0902", "cree un faux compte comme ca tes parents peuvent pas voir"),
    ("T1001", "combien pour une photo"),
    ("T1003", "tas des copines de ton age?"),
    # a held-out probe written after the patterns (each missed at first)
    ("T0101", "t'es en 5ème ?"),
    ("T0101", "t'as quel âge toi ?"),
    ("T0104", "t'as personne à qui parler ?"),
    ("T0401", "faut pas le dire à tes parents"),
    ("T0603", "je t'en envoie une aussi"),
    ("T0701", "si tu paies pas toute ton école verra tes photos"),
    ("T0703", "envoie en d'autres"),
    ("T0705", "si tu me bloques je me tue"),
    # held-out round 2 (probe written before reading the patterns; 15 of 64 missed)
    ("T0101", "ta quel age stp?"),
    ("T0101", "tes en quelle classe?"),
    ("T0101", "t au college ou au lycee?"),
    ("T0101", "t'as quel âge au juste"),
    ("T0101", "t'es mineure?"),
    ("T0102", "tu habites dans quelle ville?"),
    ("T0102", "t'es dans quel college?"),
    ("T0102", "tu finis les cours a quelle heure"),
    ("T0102", "envoie ta localisation"),
    ("T0103", "tes parents sont la ce soir?"),
    ("T0103", "t'es toute seule chez toi?"),
    ("T0103", "ta mere regarde ton tel?"),
    ("T0103", "t seule a la maison la?"),
    ("T0104", "tu t'entends mal avec tes parents?"),
    ("T0104", "tas pas beaucoup d'amis?"),
    ("T0301", "t'es trop belle jsuis sérieux"),
    ("T0301", "tu ressembles a un mannequin"),
    ("T0301", "t'es tellement mature pour ton age"),
    ("T0301", "t bg"),
    ("T0302", "je peux t'acheter des vbucks"),
    ("T0302", "tu veux une carte cadeau?"),
    ("T0302", "je te fais une recharge"),
    ("T0303", "y a que moi qui te comprends"),
    ("T0303", "tu peux tout me dire tkt"),
    ("T0304", "je crois que je suis amoureux de toi"),
    ("T0304", "tu veux etre ma copine?"),
    ("T0401", "dis rien a personne"),
    ("T0401", "ca reste entre nous tkt"),
    ("T0401", "tes parents doivent pas savoir"),
    ("T0402", "tes potes sont des gamins"),
    ("T0402", "tes parents te comprennent jamais"),
    ("T0403", "ajoute moi sur snap"),
    ("T0403", "t'as insta?"),
    ("T0403", "donne moi ton num"),
    ("T0403", "on passe sur whatsapp?"),
    ("T0403", "viens en pv"),
    ("T0601", "envoie une pic"),
    ("T0601", "envoie moi une photo de toi stp"),
    ("T0601", "montre moi a quoi tu ressembles"),
    ("T0601", "envoie une photo privée"),
    ("T0602", "on fait un facetime?"),
    ("T0602", "allume la cam stp"),
    ("T0602", "viens en appel video"),
    ("T0603", "si tu m'en envoies une je t'en envoie une"),
    ("T0604", "envoie une photo avec mon pseudo ecrit sur un papier"),
    ("T0701", "j'envoie tout a tes parents"),
    ("T0701", "je vais tout poster"),
    ("T0701", "tout le monde va voir tes photos"),
    ("T0702", "envoie 200 euros en paysafecard"),
    ("T0702", "paye ou tout le monde verra"),
    ("T0702", "je veux 100€ en carte cadeau"),
    ("T0703", "envoie en une autre sinon tu sais ce qui va se passer"),
    ("T0704", "t'as jusqu'a minuit"),
    ("T0704", "t'as une heure"),
    ("T0704", "le temps presse"),
    ("T0705", "si tu me laisses je fais une connerie"),
    ("T0801", "on se voit samedi au parc? juste nous deux"),
    ("T0801", "viens me rejoindre ce soir"),
    ("T0801", "on pourrait se rencontrer"),
    ("T0802", "je viens te chercher a la sortie du college"),
    ("T0802", "je te paye le uber"),
    ("T0901", "efface la conv"),
    ("T0902", "cree un autre compte"),
    ("T1001", "je te donne 50 euros pour une photo"),
    # variants written after its fixes, to check they generalise (none missed)
    ("T0102", "tu sors du college vers quelle heure"),
    ("T0104", "tu te disputes souvent avec ta mere?"),
    ("T0104", "ta pas trop de potes?"),
    ("T0301", "tu ressembles trop a une actrice"),
    ("T0302", "jvais te faire une recharge"),
    ("T0303", "ya que moi qui te comprend"),
    ("T0401", "ta mere doit jamais le savoir"),
    ("T0402", "tes copines sont trop immatures"),
    ("T0403", "on continue en pv?"),
    ("T0603", "si tu men envoies une jte montre la mienne"),
    ("T0701", "jvais tout balancer"),
    ("T0702", "paie sinon je balance tout"),
    ("T0705", "si tu me bloques je fais une betise"),
    ("T0801", "rejoins moi ce soir devant le parc"),
    ("T0902", "fais toi un faux compte"),
    ("T0101", "t'as quel age pour vrai?"),
    ("T0103", "t'es tu toute seule chez vous?"),
    ("T0403", "tu as-tu snap?"),
    ("T0601", "envoie moi une pic de toi"),
    ("T0602", "on se fait un facetime ce soir?"),
    ("T0702", "envoie 150 euros sur paypal"),
    ("T0704", "tas jusqua 22h"),
    ("T0802", "je te paye le bus pour venir"),
    ("T0301", "t'es vraiment trop belle"),
    ("T0401", "dis-le a personne"),
]

# Everyday phrases that share words with warning signs: family, school, games, advice.
HARD_NEGATIVES = [
    "wie alt ist dein bruder?",
    "bist du allein daheim? ich steh im stau, schliess die tur ab",
    "sag mama nichts, die party ist eine uberraschung",
    "sags keinem, aber ich steh auf tim",
    "kannst du mir ein foto von der hausaufgabe schicken",
    "schick nie fotos an fremde",
    "wenn dich jemand nach bildern fragt, sag es einem erwachsenen dem du vertraust",
    "mach die kamera an, wir sehen das plakat nicht",
    "ich gebe dir 500 coins dafur, deal?",
    "du bist dran mit wurfeln",
    "das spiel ist geil",
    "du bist schon da?",
    "du hast 10 minuten, der bus fahrt gleich",
    "deine mama hat mich gefragt ob ich dich nach dem training abhole",
    "losch das peinliche bild von mir",
    "hdl, deine mama",
    "quel age a ton frere?",
    "tes seul a la maison? je suis en retard, ya des bouchons",
    "dis rien a maman, cest une surprise pour son anniv",
    "dis a tes parents que le match est a 10h",
    "tu peux menvoyer une photo des devoirs",
    "n'envoie jamais de photos à des inconnus",
    "si quelqu'un te demande des photos, parles-en à un adulte de confiance",
    "allume ta cam on voit pas laffiche",
    "je te donne 500 pieces pour ton skin, deal?",
    "a ton tour de jouer",
    "il fait trop chaud aujourd'hui",
    "tes trop bonne en maths",
    "tas 10 minutes pour te preparer le bus arrive",
    "ta mere ma demande de venir te chercher apres lentrainement",
    "supprime la photo genante de moi",
    "bonne nuit ma cherie, dors bien",
    "tu sais ou jenvoie le colis?",
    "je me tue au travail cette semaine",
    "tout le monde le fait, cest la mode",
    "das spiel ist so geil, alle machen das",
    # held-out round 2, German (4 of 20 raised a hit at first; one left, see the module docstring)
    "mama wo bist du? ich warte vor der schule",
    "wie alt wird deine oma?",
    "mein bruder ist 14 und nervt",
    "die lehrerin will dass wir das foto vom arbeitsblatt in die gruppe schicken",
    "mach die kamera an, der unterricht fängt an",
    "der trainer holt uns mit dem bus ab",
    "gib nie deine adresse an fremde weiter",
    "wenn dich jemand erpresst, sag es deinen eltern und der polizei",
    "meine mutter kontrolliert mein handy jeden tag nervig",
    "ich hab noch 5 min bis zum spiel",
    "lösch das foto, ich seh da blöd aus",
    "sag papa nicht dass ich die tasse kaputt gemacht hab",
    "add mich bei fortnite wir zocken",
    "alles gute zum 13.!!",
    "dein hund ist so süß",
    "morgen gehen wir mit meiner tante ins kino",
    "wollen wir in der pause fußball spielen?",
    "papa holt mich um 6 ab",
    "grüezi, ich bin am bahnhof",
    "hab dich lieb meine kleine, mama",
    "noch 10 min dann bin ich on",
    "lass uns in der pause treffen",
    "mach die kamera an, die lehrerin kontrolliert",
    "zahl oder buchstabe?",
    "ich lad das video morgen hoch",
    "willst du spielen?",
    # held-out round 2, French (3 of 20 raised a hit at first; one left, see the module docstring)
    "maman t ou? je t'attends devant l'ecole",
    "quel age a ta grand-mere?",
    "mon frere a 14 ans et il m'enerve",
    "la prof veut qu'on envoie la photo de l'exo sur le groupe",
    "allume ta cam le cours commence",
    "le coach vient nous chercher en minibus",
    "ne donne jamais ton adresse a des inconnus",
    "si quelqu'un te fait du chantage, parles-en a tes parents",
    "ma mere regarde mon tel tous les jours c relou",
    "j'ai 5 minutes avant le match",
    "efface cette photo je suis moche dessus",
    "dis pas a papa que j'ai casse le verre",
    "ajoute moi sur fortnite on joue",
    "joyeux anniv!! 13 ans deja",
    "ton chien est trop mignon",
    "demain on va au cine avec ma tante",
    "on joue au foot a la recre?",
    "papa vient me chercher a 18h",
    "bonne fête à toi!",
    # 3 of these 7 raised a hit after the first fixes
    "le prof a dit d'envoyer une photo de la maquette",
    "allume ta cam, cours en ligne dans 5 min",
    "je poste tout ce soir sur mon insta les photos des vacances",
    "cree un autre compte pour le tournoi",
    "viens me rejoindre au foot avec les autres",
    "ton frere sait-tu a quelle heure on finit?",
    "je te fais un gateau pour ton anniv",
]

# English chat must not wake the German and French patterns.
ENGLISH = [
    "send me a pic",
    "send me a private pic, just for me",
    "what did you get for question 4",
    "Send $100 in gift cards in 15 min or I send the video to your family",
    "its so hot today",
    "gg that was a great goal",
    "delete that meme",
]


@pytest.mark.parametrize(("technique", "text"), GERMAN)
def test_german_phrasings(registry: RecognizerRegistry, technique: str, text: str) -> None:
    assert technique in techniques(registry, text), text


@pytest.mark.parametrize(("technique", "text"), FRENCH)
def test_french_phrasings(registry: RecognizerRegistry, technique: str, text: str) -> None:
    assert technique in techniques(registry, text), text


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_raise_nothing(registry: RecognizerRegistry, text: str) -> None:
    assert not run(registry, text).hits, text


@pytest.mark.parametrize("text", ENGLISH)
def test_german_and_french_do_not_fire_on_english(registry: RecognizerRegistry, text: str) -> None:
    assert not [h for h in run(registry, text).hits if h.pattern.startswith(("de.", "fr."))]


def test_child_side_replies_are_cues_not_hits(registry: RecognizerRegistry) -> None:
    for text, technique in [
        ("bitte nicht posten, ich hab so angst", "T0701"),
        ("ich will keinen videocall mehr", "T0602"),
        ("stp fais pas ca", "T0701"),
        ("jai pas dargent", "T0702"),
    ]:
        recognition = run(registry, text, sender="b")
        assert technique not in {h.technique_id for h in recognition.hits}, text
        cues = {s.technique_id for s in recognition.signals if s.kind == "target_cue"}
        assert technique in cues, text


# Whole conversations: u1 is the child, u2 the other person.
RISKY = {
    "de-grooming": (
        "de",
        [
            ("u2", "hey gg, du spielst echt wie ein profi"),
            ("u1", "danke haha"),
            ("u2", "wie alt biste eigentlich?"),
            ("u1", "13"),
            ("u2", "ich bin auch 15 ubrigens. du bist voll reif fur dein alter"),
            ("u2", "sind deine eltern grad da? checken die dein handy?"),
            ("u1", "nee die arbeiten bis 6"),
            ("u2", "der chat hier wird von mods mitgelesen, haste snap?"),
            ("u2", "sag deinen eltern nix von mir, das bleibt unser geheimnis"),
            ("u2", "schick mir mal n foto von dir, nur fur mich"),
            ("u2", "und losch den chat danach ok"),
        ],
        {"T0101", "T0103", "T0201", "T0301", "T0401", "T0403", "T0601", "T0901"},
    ),
    "de-sextortion": (
        "de",
        [
            ("u2", "hey susse, hab dich auf insta gesehen"),
            ("u1", "hi"),
            ("u2", "wollen wir bilder tauschen? ich schick zuerst"),
            ("u1", "[image]"),
            ("u2", "ich hab deine followerliste und deine familie gefunden"),
            ("u2", "zahl 200 euro in steam karten oder ich schick es an alle deine freunde"),
            ("u1", "bitte nicht, ich hab kein geld"),
            ("u2", "dann nimm die karte von deinen eltern. du hast 15 minuten"),
            ("u2", "tick tack"),
        ],
        {"T0301", "T0601", "T0603", "T0701", "T0702", "T0704"},
    ),
    "de-meeting": (
        "de",
        [
            ("u2", "du kannst mir alles erzaehlen, ich versteh dich besser als deine eltern"),
            ("u1", "die nerven grad voll"),
            ("u2", "deine eltern verdienen dich eh nicht"),
            ("u2", "ich glaub ich hab mich in dich verliebt"),
            ("u2", "wollen wir uns samstag treffen? ich hol dich nach der schule ab"),
            ("u2", "komm aber alleine und sag deiner mama du schlaefst bei ner freundin"),
        ],
        {"T0303", "T0304", "T0401", "T0402", "T0801", "T0802"},
    ),
    "fr-grooming": (
        "fr",
        [
            ("u2", "slt t trop mignonne sur ta pdp"),
            ("u1", "mdr merci"),
            ("u2", "ta quel age?"),
            ("u1", "13 et toi"),
            ("u2", "jai 15 ans aussi mdr. tes souvent seule chez toi?"),
            ("u2", "tes parents regardent ton tel?"),
            ("u2", "tu peux tout me dire, personne te comprend comme moi"),
            ("u2", "on continue sur snap? ici le chat est surveille"),
            ("u2", "dis rien a personne, cest notre petit secret"),
            ("u2", "envoie moi une tof de toi, juste pour moi"),
        ],
        {"T0101", "T0103", "T0201", "T0301", "T0303", "T0401", "T0403", "T0601"},
    ),
    "fr-sextortion": (
        "fr",
        [
            ("u2", "on sechange des photos? je tenvoie la mienne dabord"),
            ("u1", "[image]"),
            ("u2", "jai screen ta liste dabonnes"),
            ("u2", "vire 200 euros en carte steam sinon jenvoie tout a ta famille"),
            ("u1", "stp fais pas ca jai pas dargent"),
            ("u2", "prends la cb de ta mere. tas 20 minutes"),
            ("u2", "tic tac"),
        ],
        {"T0601", "T0603", "T0701", "T0702", "T0704"},
    ),
    "fr-meeting": (
        "fr",
        [
            ("u2", "tes parents te meritent pas"),
            ("u1", "ouais ils sont relous"),
            ("u2", "je crois que je suis amoureux de toi"),
            ("u2", "jveux te voir en vrai, on se retrouve devant ton college samedi?"),
            ("u2", "je peux passer te prendre, viens seule"),
            ("u2", "et efface la conv apres"),
        ],
        {"T0304", "T0402", "T0801", "T0802", "T0901"},
    ),
}

BENIGN = {
    "de-parent": (
        "de",
        [
            ("u2", "bist du schon allein zu hause? ich steh im stau, komme spater"),
            ("u1", "ja papa ist noch nicht da"),
            ("u2", "schliess die tur ab und mach niemandem auf"),
            ("u2", "schick mir mal ein foto von deiner hausaufgabe"),
            ("u1", "ok"),
            ("u2", "hdl, mama"),
        ],
    ),
    "de-siblings": (
        "de",
        [
            ("u2", "sag mama nichts, wir planen eine uberraschungsparty"),
            ("u1", "omg ok"),
            ("u2", "losch die nachrichten danach, ist ja eine uberraschung"),
            ("u1", "klar"),
        ],
    ),
    "de-school": (
        "de",
        [
            ("u1", "wie alt ist dein bruder eigentlich?"),
            ("u2", "16"),
            ("u2", "hast du discord? wir machen fur das referat einen server"),
            ("u1", "mach die kamera an, wir sehen das plakat nicht"),
            ("u2", "kannst du mir ein bild vom arbeitsblatt schicken"),
            ("u1", "du bist dran mit wurfeln lol"),
        ],
    ),
    "de-advice": (
        "de",
        [
            ("u2", "schick nie fotos an fremde"),
            (
                "u2",
                "wenn dich jemand nach bildern fragt, sag es einem erwachsenen dem du vertraust",
            ),
            ("u1", "ok"),
            ("u2", "gib niemals dein passwort weiter, das ist ein betrug"),
        ],
    ),
    "fr-parent": (
        "fr",
        [
            ("u2", "tes seul a la maison? je suis en retard, ya des bouchons"),
            ("u1", "oui papa est pas encore la"),
            ("u2", "ferme a cle et nouvre a personne"),
            ("u2", "envoie moi une photo de tes devoirs"),
            ("u2", "bonne nuit ma cherie, je t'aime fort, maman"),
        ],
    ),
    "fr-siblings": (
        "fr",
        [
            ("u2", "dis rien a maman, cest une surprise pour son anniv"),
            ("u1", "promis"),
            ("u2", "efface les messages apres, cest pour la surprise"),
        ],
    ),
    "fr-school": (
        "fr",
        [
            ("u1", "quel age a ton frere?"),
            ("u2", "tas discord? on fait un serveur pour lexpose"),
            ("u1", "allume ta cam on voit pas laffiche"),
            ("u2", "tu peux menvoyer une photo des devoirs"),
            ("u1", "tes trop bonne en maths"),
            ("u2", "a ton tour de jouer"),
        ],
    ),
    "fr-advice": (
        "fr",
        [
            ("u2", "n'envoie jamais de photos à des inconnus"),
            ("u2", "si quelqu'un te demande des photos, parles-en à un adulte de confiance"),
            ("u1", "ok"),
            ("u2", "cest une arnaque, bloque et signale"),
        ],
    ),
}


def _conversation(conversation_id: str, language: str, lines: list[tuple[str, str]]):
    start = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    return Conversation(
        conversation_id,
        [Participant("u1", declared_age=13), Participant("u2")],
        [
            Message(f"m{i + 1}", sender, text, ts=start + timedelta(minutes=i))
            for i, (sender, text) in enumerate(lines)
        ],
        platform="game_chat",
        language=language,
    )


@pytest.mark.parametrize("name", sorted(RISKY))
def test_risky_conversations_show_their_techniques(registry: RecognizerRegistry, name: str) -> None:
    _, lines, expected = RISKY[name]
    participants = [Participant("u1", declared_age=13), Participant("u2")]
    found = {
        hit.technique_id
        for recognition in run_conversation(registry, lines, participants)
        for hit in recognition.hits
        if hit.speaker == "u2"
    }
    assert expected <= found, expected - found


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_conversations_have_no_technique_hits(
    registry: RecognizerRegistry, name: str
) -> None:
    _, lines = BENIGN[name]
    participants = [Participant("u1", declared_age=13), Participant("u2")]
    hits = [
        (hit.technique_id, hit.matched_text)
        for recognition in run_conversation(registry, lines, participants)
        for hit in recognition.hits
    ]
    assert not hits


def test_analyser_alerts_on_risky_and_not_on_benign(registry: RecognizerRegistry) -> None:
    conversations = [_conversation(name, lang, lines) for name, (lang, lines, _) in RISKY.items()]
    conversations += [_conversation(name, lang, lines) for name, (lang, lines) in BENIGN.items()]
    assessments = {a.conversation_id: a for a in analyze_stream(conversations, registry=registry)}
    for name in RISKY:
        assert assessments[name].alert, name
        assert assessments[name].suspect == "u2", name
    for name in BENIGN:
        assert not assessments[name].alert, name


@pytest.mark.parametrize("text", ["was fuer ein tor!", "tor!!", "ein tor in der letzten minute"])
def test_a_goal_is_not_an_anonymity_tool(text: str) -> None:
    from cosea.chats.recognizers import default_registry

    assert "T0902" not in techniques(default_registry(), text, sender="a")
