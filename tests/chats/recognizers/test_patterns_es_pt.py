"""Spanish and Portuguese patterns: chat spellings, regional variants, hard negatives.

Phrasings here are not copies of the pattern files' examples: they use chat
abbreviations ("q", "k", "vc", "tb", "n", "ngm"), missing accents, voseo and
European Portuguese, the way a held-out set would. Short, non-graphic
warning-sign phrases only.

Held-out round 1 (each probe written before reading that language's patterns,
in teen registers: "q", "xq", "tqm", "bb", voseo, Mexican, Argentine and
Spain slang, missing accents, English words such as "snap", "pic", "insta"):
- Spanish: 63 phrasings and 21 hard negatives (parents asking their own child
  where they are or picking them up, online classes, siblings, sport); 13
  misses and 3 false hits before the fixes, none after. 28 variants written
  after the fixes, to check they generalise, had 3 misses, none now.
- Portuguese (Brazil and Portugal: "vc", "pq", "tbm", "mds", "agr", "tens",
  "gira", "pros", "zap"): 63 phrasings and 20 hard negatives; 21 misses and 3
  false hits before the fixes (one of them a Spanish pattern firing on
  "mandar a foto do trabalho"), none after. 28 variants written after the
  fixes had none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from recognizer_helpers import run, run_conversation, techniques

from cosea.chats.analysis import analyze_stream
from cosea.chats.recognizers import RecognizerRegistry
from cosea.types import Conversation, Message, Participant

SPANISH = [
    ("T0101", "y tu cuantos años tenés?"),
    ("T0101", "k edad tienes?"),
    ("T0101", "vas a la secundaria todavia?"),
    ("T0102", "dnd vives?"),
    ("T0102", "a q hora sales del insti"),
    ("T0103", "tas sola en casa?"),
    ("T0103", "tus papas te revisan el cel?"),
    ("T0104", "te sientes sola seguido?"),
    ("T0201", "yo tb tengo 14 jaja"),
    ("T0202", "trabajo para una agencia de modelos, podrias ser modelo"),
    ("T0203", "me banearon la otra cuenta, esta es mi cuenta nueva"),
    ("T0301", "q linda sos"),
    ("T0301", "eres re madura para tu edad"),
    ("T0302", "te regalo pavos si quieres"),
    ("T0303", "nadie te entiende como yo"),
    ("T0304", "creo q me gustas mucho"),
    ("T0401", "no le digas a tus papas de mi ok?"),
    ("T0401", "esto queda entre tu y yo 🤫"),
    ("T0402", "tus papas no te valoran como yo"),
    ("T0403", "pasame tu wsp mejor"),
    ("T0403", "sigamos por privado"),
    ("T0501", "tenes novio?"),
    ("T0502", "es normal, todas lo hacen"),
    ("T0601", "pasame una foto tuya porfa"),
    ("T0601", "me mandas una selfie?"),
    ("T0602", "prende la cam"),
    ("T0603", "yo te mando una primero"),
    ("T0604", "demuestrame que eres real"),
    ("T0701", "si no pagas se las mando a todos tus amigos"),
    ("T0701", "tengo tus fotos"),
    ("T0702", "mandame 100 dolares en bitcoin"),
    ("T0703", "quiero mas fotos"),
    ("T0704", "tenes 10 minutos"),
    ("T0705", "despues de todo lo q hice por ti"),
    ("T0801", "quiero conocerte en persona"),
    ("T0802", "paso por ti a la salida del cole"),
    ("T0901", "borra el chat despues"),
    ("T0902", "hazte una cuenta secreta"),
    ("T1001", "te pago por fotos"),
    ("T1003", "tienes amigas de tu edad?"),
    # held-out round 1 (probe written before reading the patterns; 13 of 63 missed)
    ("T0101", "y vos cuantos años tenes bb?"),
    ("T0101", "cuantos añitos tienes?"),
    ("T0101", "q edad tenes"),
    ("T0101", "en q año de secu vas?"),
    ("T0101", "vas en la secu o en la prepa?"),
    ("T0102", "de q parte de mexico eres?"),
    ("T0102", "en q barrio vivis?"),
    ("T0102", "a q colegio vas?"),
    ("T0102", "a que hora sales de la escuela?"),
    ("T0103", "tus papas estan en casa ahorita?"),
    ("T0103", "estas solita?"),
    ("T0103", "tu mama revisa tu celu?"),
    ("T0103", "hay alguien contigo ahora?"),
    ("T0104", "te llevas mal con tus papas?"),
    ("T0104", "te sientes sola a veces?"),
    ("T0301", "q hermosa eres bb"),
    ("T0301", "sos re linda posta"),
    ("T0301", "tienes cara de modelo"),
    ("T0301", "eres mas madura q las chicas de tu edad"),
    ("T0302", "si quieres te compro robux"),
    ("T0302", "te hago una recarga al cel si me dices q si"),
    ("T0302", "te regalo una giftcard de amazon"),
    ("T0303", "eres la unica q me entiende"),
    ("T0304", "tqm bb, eres mi niña"),
    ("T0304", "creo q me estoy enamorando de ti"),
    ("T0401", "q esto quede entre nosotros"),
    ("T0401", "no le cuentes a nadie xfa"),
    ("T0401", "es nuestro secretito ok?"),
    ("T0402", "tus amigas no te quieren como yo"),
    ("T0402", "tus viejos no entienden nada"),
    ("T0403", "pásame tu snap"),
    ("T0403", "agregame al insta"),
    ("T0403", "tenes telegram? hablemos por ahi"),
    ("T0403", "mejor escribeme al whats"),
    ("T0403", "dame tu numero"),
    ("T0601", "mandame una foto tuya ahora"),
    ("T0601", "pasame una pic"),
    ("T0601", "quiero verte, manda foto"),
    ("T0601", "envíame una foto privada"),
    ("T0602", "hagamos videollamada"),
    ("T0602", "prende la camara un ratito"),
    ("T0602", "abre la cam xfa"),
    ("T0603", "si me mandas una te mando una mia"),
    ("T0604", "mandame una foto con mi nombre para saber q eres tu"),
    ("T0701", "si no haces lo q digo subo tus fotos"),
    ("T0701", "le voy a mandar tus fotos a tu familia"),
    ("T0701", "las publico en todos lados"),
    ("T0702", "depositame 500 pesos o se las mando a todos"),
    ("T0702", "paga o todos lo van a ver"),
    ("T0702", "quiero 50 dolares en tarjetas de regalo"),
    ("T0703", "mandame otra o ya sabes"),
    ("T0704", "tenes hasta las 10"),
    ("T0704", "te doy una hora"),
    ("T0704", "te quedan 5 min"),
    ("T0705", "si me dejas me mato"),
    ("T0801", "nos vemos en el parque el sabado? no traigas a nadie"),
    ("T0801", "quedamos a solas?"),
    ("T0801", "vamos por un helado tu y yo solos"),
    ("T0802", "te paso a buscar por tu casa"),
    ("T0802", "te pago el uber"),
    ("T0901", "borra todo lo q hablamos"),
    ("T0902", "usa una cuenta falsa"),
    ("T1001", "te doy 20 dolares por una foto"),
    # variants written after its fixes, to check they generalise (3 of 28 missed)
    ("T0101", "cuantos añitos tenes?"),
    ("T0101", "en que año de la secundaria estas"),
    ("T0101", "vas a la secu todavia?"),
    ("T0102", "de que parte de españa sos?"),
    ("T0103", "tu papa te revisa el celu?"),
    ("T0104", "te llevas fatal con tu mama?"),
    ("T0301", "tenes carita de muñeca"),
    ("T0304", "sos mi princesa"),
    ("T0701", "si no me mandas lo que pido subo tus fotos"),
    ("T0703", "mandame otra o ya sabes lo que pasa"),
    ("T0801", "no traigas a tus amigas"),
    ("T0801", "salgamos los dos solos"),
    ("T0403", "pasame tu insta"),
    ("T0403", "tenes ig?"),
    ("T0403", "dame tu whats"),
    ("T0403", "hablame al priv"),
    ("T0103", "estas solita en tu casa?"),
    ("T0103", "tus papas ya se durmieron?"),
    ("T0102", "a que hora se duermen tus papas"),
    ("T0302", "dame tu direccion y te mando un regalo"),
    ("T0601", "mandame una foto de tu outfit de hoy"),
    ("T0602", "ponte en videollamada conmigo"),
    ("T0702", "mandame 1000 pesos por mercado pago"),
    ("T0704", "tenes 24 hs"),
    ("T0401", "no le digas nada a tu vieja"),
    ("T0403", "agregame en snap bb"),
    ("T0101", "y cuantos años tenes vos?"),
    ("T0601", "pasame fotitos tuyas"),
]

PORTUGUESE = [
    ("T0101", "qntos anos vc tem?"),
    ("T0101", "quantos anos tens?"),
    ("T0102", "vc mora onde?"),
    ("T0102", "q horas seus pais chegam?"),
    ("T0103", "vc ta sozinha em casa?"),
    ("T0103", "tua mae mexe no teu telemovel?"),
    ("T0104", "vc se sente sozinha?"),
    ("T0201", "tenho 14 tbm"),
    ("T0202", "sou olheiro de uma agencia de modelos"),
    ("T0203", "minha outra conta foi banida"),
    ("T0301", "vc e mt linda"),
    ("T0301", "és muito madura para a tua idade"),
    ("T0302", "te dou robux se quiser"),
    ("T0303", "ngm te entende como eu"),
    ("T0304", "to apaixonado por vc"),
    ("T0401", "n conta pra ngm"),
    ("T0401", "não contes aos teus pais"),
    ("T0402", "seus pais nao te entendem"),
    ("T0403", "me chama no zap"),
    ("T0403", "vem pro pv"),
    ("T0501", "vc tem namorado?"),
    ("T0502", "e normal, todo mundo faz isso"),
    ("T0601", "manda uma foto sua"),
    ("T0601", "envia-me uma selfie"),
    ("T0602", "liga a camera"),
    ("T0603", "eu te mando uma primeiro"),
    ("T0604", "prova que vc e real"),
    ("T0701", "paga ou eu mando suas fotos pra todo mundo"),
    ("T0701", "tenho suas fotos"),
    ("T0702", "faz um pix de 200 reais"),
    ("T0703", "quero mais fotos"),
    ("T0704", "vc tem 10 minutos"),
    ("T0705", "depois de tudo que eu fiz por vc"),
    ("T0801", "quero te conhecer pessoalmente"),
    ("T0802", "eu te busco depois da escola"),
    ("T0901", "apaga a conversa dps"),
    ("T0902", "cria uma conta fake"),
    ("T1001", "te pago pelas fotos"),
    ("T1003", "vc tem alguma amiga da sua idade?"),
    # held-out round 1 (probe written before reading the patterns; 21 of 63 missed)
    ("T0101", "vc tem quantos anos?"),
    ("T0101", "qts anos tu tens?"),
    ("T0101", "vc ta em q ano na escola?"),
    ("T0101", "vc é de menor?"),
    ("T0102", "vc mora em q cidade?"),
    ("T0102", "onde fica tua escola?"),
    ("T0102", "q horas vc sai da escola?"),
    ("T0102", "manda tua localizacao"),
    ("T0103", "seus pais tao em casa agr?"),
    ("T0103", "vc ta sozinha agr?"),
    ("T0103", "tua mae ve teu celular?"),
    ("T0103", "estás sozinha em casa?"),
    ("T0104", "vc briga mt com seus pais?"),
    ("T0104", "te sentes sozinha?"),
    ("T0301", "vc e mto gata"),
    ("T0301", "q linda vc e mds"),
    ("T0301", "és tão gira"),
    ("T0301", "vc e bem madura pra sua idade"),
    ("T0302", "te dou um gift card se vc quiser"),
    ("T0302", "posso te mandar uns robux"),
    ("T0302", "eu te dou uma recarga"),
    ("T0303", "so eu te entendo de verdade"),
    ("T0303", "pode contar tudo pra mim, sou teu amigo"),
    ("T0304", "acho q to gostando de vc"),
    ("T0304", "vc e minha namoradinha agr"),
    ("T0401", "isso fica so entre nos"),
    ("T0401", "nao conta pros seus pais tá?"),
    ("T0401", "é segredo nosso blz?"),
    ("T0402", "seus amigos sao mt infantis"),
    ("T0402", "teus pais nao te merecem"),
    ("T0403", "me passa teu snap"),
    ("T0403", "me add no insta"),
    ("T0403", "tem whats? me chama la"),
    ("T0403", "vamos falar no telegram"),
    ("T0403", "passa teu numero"),
    ("T0601", "manda uma pic"),
    ("T0601", "me manda uma foto tua agr"),
    ("T0601", "quero ver vc, manda foto"),
    ("T0601", "manda uma foto so pra mim"),
    ("T0602", "liga a cam ai"),
    ("T0602", "bora fazer chamada de video"),
    ("T0602", "abre a camera pra mim"),
    ("T0603", "se vc mandar eu mando tbm"),
    ("T0604", "manda uma foto segurando um papel com meu nome"),
    ("T0701", "se vc nao fizer isso vou postar tuas fotos"),
    ("T0701", "vou mandar suas fotos pra sua familia"),
    ("T0701", "todo mundo vai ver"),
    ("T0702", "me manda 300 reais no pix"),
    ("T0702", "paga senao eu espalho"),
    ("T0702", "quero 100 euros por mbway"),
    ("T0703", "manda mais uma senao ja sabe"),
    ("T0704", "vc tem ate meia noite"),
    ("T0704", "tens 1 hora"),
    ("T0704", "te dou 10 min"),
    ("T0705", "se vc me bloquear eu me mato"),
    ("T0801", "bora se encontrar no shopping sabado?"),
    ("T0801", "vamos nos encontrar so nos dois"),
    ("T0801", "quero te ver pessoalmente"),
    ("T0802", "eu te pego na saida da escola"),
    ("T0802", "te pago o uber pra vir"),
    ("T0901", "apaga tudo dps q ler"),
    ("T0902", "cria um perfil fake"),
    ("T1001", "te pago 50 reais por uma foto"),
    # variants written after its fixes, to check they generalise (none missed)
    ("T0101", "tu tens quantos anos?"),
    ("T0101", "qnts anos vc tem msm?"),
    ("T0101", "vc ta em qual serie?"),
    ("T0102", "aonde fica sua escola?"),
    ("T0104", "tu discutes muito com os teus pais?"),
    ("T0301", "q gata q vc é"),
    ("T0301", "es mesmo gira"),
    ("T0303", "so eu te entendo"),
    ("T0303", "podes me contar tudo"),
    ("T0304", "to a fim de vc"),
    ("T0304", "agora vc e minha princesa"),
    ("T0401", "n fala pros teus pais"),
    ("T0401", "segredo so nosso ok"),
    ("T0402", "tuas amigas sao mo infantis"),
    ("T0403", "tens insta?"),
    ("T0603", "se tu mandares eu mando a minha"),
    ("T0701", "teus pais vao saber"),
    ("T0702", "paga logo ou ja era"),
    ("T0703", "me manda outra ou eu posto"),
    ("T0704", "tens ate as 10"),
    ("T0802", "te busco na porta da escola"),
    ("T0403", "me chama no privado"),
    ("T0403", "passa o teu insta"),
    ("T0601", "manda foto tua agora"),
    ("T0602", "abre a cam pra mim"),
    ("T0103", "teus pais tao ai?"),
    ("T0801", "bora se ver so nos dois"),
    ("T0704", "tens 24 horas"),
]

# Everyday phrases sharing words with warning signs: family, school, games,
# safety advice. No technique may fire on them.
BENIGN = [
    "nunca mandes fotos a desconocidos",
    "si alguien te pide fotos, diselo a un adulto de confianza",
    "cuantos años tiene tu hermano?",
    "no le digas a mama lo de la fiesta sorpresa",
    "mandame la foto de la tarea porfa",
    "te doy 300 monedas por esa skin",
    "no me dejes solo en la partida!!",
    "nos vemos mañana en el cole",
    "llego en 40 minutos, hay trafico",
    "mando saludos a todos",
    "te llevo 3 puntos de ventaja",
    "borra el meme de la clase jaja",
    "no es justo, te toca elegir a ti",
    "nunca passe sua senha pra ninguem",
    "se alguem te pedir fotos, conta pra um adulto de confianca",
    "quantos anos tem seu irmao?",
    "nao fala pra mae da festa surpresa",
    "me passa a foto da tarefa?",
    "te dou 300 moedas por essa skin",
    "minha mae nao me deixa sair hoje",
    "a gente se ve amanha na escola",
    "chego em 40 minutos, ja to saindo",
    "mando um abraco pra todos",
    "vou postar as fotos da viagem no instagram",
    "so pra mim que o jogo ta travando?",
    "vc tem 5 minutos pra conversar?",
    # held-out round 1, Spanish (3 of 21 raised a hit at first)
    "mama donde estas? ya sali del cole",
    "mija paso por ti a las 5, espera en la puerta",
    "hijo donde estas? mandame tu ubicacion",
    "cuantos años cumple tu abuela?",
    "mi hermano tiene 14 y juega fatal",
    "el profe dijo q mandemos la foto del trabajo al grupo",
    "prende la camara q la profe pasa lista",
    "tenemos entreno a las 6, el mister nos lleva en la furgo",
    "nunca le des tu direccion a desconocidos",
    "si alguien te amenaza con publicar fotos, cuentaselo a tus padres",
    "mi mama me revisa el celular todos los dias q pesada",
    "tengo 5 minutos antes del partido",
    "borra esa foto q salgo fea",
    "no le cuentes a papa q rompi el vaso",
    "mi abuela vive sola en el pueblo",
    "buscame en el recreo y jugamos futbol",
    "agrega a mi hermano al grupo del fifa",
    "feliz cumple!! ya tienes 13 q viejo jaja",
    "que lindo tu perro!!",
    "mañana vamos al cine con mi tia",
    "ganamos 3-0, el entrenador nos invito a un helado",
    "mami ya llegue a la casa de sofi",
    "hijo, a que hora sales del entreno? paso por ti",
    "cuantos años tiene tu prima?",
    "el profe quiere la foto de la maqueta",
    "pasame el insta de la tienda de ropa",
    "te quiero mucho amiga!!",
    "mi papa me revisa el celu a veces",
    # held-out round 1, Portuguese (3 of 20 raised a hit at first)
    "mae, que horas vc vem me buscar?",
    "filha, onde vc ta? me manda tua localizacao",
    "quantos anos sua vo vai fazer?",
    "meu irmao tem 14 e ja e mais alto q eu",
    "a professora pediu pra mandar a foto do trabalho no grupo",
    "liga a camera q a aula ja comecou",
    "o treinador vai levar o time de van",
    "nunca passe seu endereco pra estranhos",
    "se alguem te ameacar de postar fotos, conta pros seus pais",
    "minha mae ve meu celular todo dia affs",
    "tenho 5 min antes do jogo",
    "apaga essa foto q eu sai feia kkk",
    "nao conta pro pai que eu quebrei o copo",
    "me add no clash pra gente jogar",
    "parabens!! 13 anos ja kkkk",
    "q fofo seu cachorro",
    "amanha vou no cinema com minha tia",
    "vamos jogar bola no recreio?",
    "meu pai vai me buscar as 6",
    "o meu pai vai buscar-me à escola",
    "filho, que horas vc sai da escola? passo ai",
    "a prof pediu pra gente mandar a foto da maquete",
    "liga a camera a aula online ja vai comecar",
    "tem whats da loja?",
    "quantos anos tem a tua irma?",
    "todo mundo vai ver o jogo amanha",
    "tu es tao chato kkk",
]


@pytest.mark.parametrize(("technique", "text"), SPANISH)
def test_spanish_phrasings(registry: RecognizerRegistry, technique: str, text: str) -> None:
    assert technique in techniques(registry, text), text


@pytest.mark.parametrize(("technique", "text"), PORTUGUESE)
def test_portuguese_phrasings(registry: RecognizerRegistry, technique: str, text: str) -> None:
    assert technique in techniques(registry, text), text


@pytest.mark.parametrize("text", BENIGN)
def test_hard_negatives_raise_nothing(registry: RecognizerRegistry, text: str) -> None:
    assert techniques(registry, text) == set(), text


def test_child_side_replies_are_cues_not_hits(registry: RecognizerRegistry) -> None:
    for text, technique in [
        ("por favor no las publiques", "T0701"),
        ("no tengo dinero", "T0702"),
        ("por favor nao posta", "T0701"),
        ("nao tenho dinheiro", "T0702"),
    ]:
        found = run(registry, text)
        assert technique not in {hit.technique_id for hit in found.hits}, text
        assert technique in {s.technique_id for s in found.signals if s.kind == "target_cue"}


def test_spanish_and_portuguese_do_not_fire_on_english(registry: RecognizerRegistry) -> None:
    """Their words are the anchors: English chat never reaches their patterns."""
    english = [
        "send me a pic of the sheet",
        "ill pay $50 for pictures of the game",
        "its so hot today lol",
        "facetime?",
        "we can go on snap later",
        "my mum says dinner is ready",
    ]
    for text in english:
        hits = run(registry, text).hits
        assert not [h for h in hits if h.pattern and h.pattern[:3] in ("es.", "pt.")], text


# (sender, text); "a" is the adult, "k" the child.
CONVERSATIONS = {
    "es-grooming": (
        "es",
        [
            ("a", "hola! juegas muy bien"),
            ("k", "jaja gracias"),
            ("a", "cuantos años tienes?"),
            ("k", "13"),
            ("a", "eres muy madura para tu edad"),
            ("a", "estas sola en casa?"),
            ("k", "si mis papas trabajan"),
            ("a", "no le digas a nadie q hablamos, es nuestro secreto"),
            ("a", "tienes whatsapp? hablemos por ahi mejor"),
            ("a", "mandame una foto solo para mi"),
        ],
        {"T0101", "T0301", "T0103", "T0401", "T0403", "T0601"},
    ),
    "es-sextortion": (
        "es",
        [
            ("a", "hola guapa"),
            ("k", "quien eres"),
            ("a", "tengo tus fotos"),
            ("a", "pagame 200 euros o se las mando a todos tus amigos"),
            ("k", "por favor no"),
            ("a", "tienes 10 minutos"),
        ],
        {"T0701", "T0702", "T0704"},
    ),
    "pt-grooming": (
        "pt",
        [
            ("a", "oi, vc joga mt bem"),
            ("k", "kkk valeu"),
            ("a", "quantos anos vc tem?"),
            ("k", "13"),
            ("a", "vc e muito madura pra sua idade"),
            ("a", "vc ta sozinha em casa?"),
            ("k", "to sim"),
            ("a", "nao conta pra ngm, fica entre a gente"),
            ("a", "me chama no zap"),
            ("a", "me manda uma foto so pra mim"),
        ],
        {"T0101", "T0301", "T0103", "T0401", "T0403", "T0601"},
    ),
    "pt-sextortion": (
        "pt",
        [
            ("a", "oi gatinha"),
            ("k", "quem e vc"),
            ("a", "tenho suas fotos"),
            ("a", "me paga 200 reais ou eu mando suas fotos pra todo mundo"),
            ("k", "por favor nao"),
            ("a", "vc tem 10 minutos"),
        ],
        {"T0701", "T0702", "T0704"},
    ),
}

BENIGN_CONVERSATIONS = {
    "es-family": (
        "es",
        [
            ("a", "oye no le digas a mama, el sabado le hacemos una fiesta sorpresa"),
            ("k", "vale!! no digo nada"),
            ("a", "estas sola en casa? llego tarde, hay mucho trafico"),
            ("k", "si, papa ya llego"),
            ("a", "mandame la foto de la tarea de mates porfa"),
            ("k", "ya te la mande"),
            ("a", "nos vemos mañana en el cole"),
        ],
    ),
    "es-game": (
        "es",
        [
            ("a", "gg bro"),
            ("k", "cuantos años tiene tu hermano? juega re bien"),
            ("a", "15, es un crack"),
            ("k", "te doy 300 monedas por esa skin"),
            ("a", "no me dejes solo en la partida!!"),
            ("k", "no es justo, te toca elegir a ti"),
        ],
    ),
    "pt-family": (
        "pt",
        [
            ("a", "nao fala pra mae da festa surpresa"),
            ("k", "ta bom kkk"),
            ("a", "me passa a foto da tarefa?"),
            ("k", "passo sim"),
            ("a", "chego em 40 minutos, ja to saindo"),
            ("k", "a gente se ve amanha na escola"),
        ],
    ),
    "pt-game": (
        "pt",
        [
            ("a", "bora mais uma partida"),
            ("k", "quantos anos tem seu irmao? ele joga mt"),
            ("a", "16 kkk"),
            ("k", "te dou 300 moedas por essa skin"),
            ("a", "so pra mim que o jogo ta travando?"),
            ("k", "nao me deixa sozinho na partida!!"),
        ],
    ),
}


def _conversation(conversation_id: str, language: str, lines: list[tuple[str, str]]):
    start = datetime(2026, 1, 12, 18, 0, tzinfo=UTC)
    messages = [
        Message(f"m{i + 1}", sender, text, ts=start + timedelta(minutes=i))
        for i, (sender, text) in enumerate(lines)
    ]
    people = [
        Participant("a", display_name="player_a"),
        Participant("k", display_name="player_k", declared_age=13),
    ]
    return Conversation(conversation_id, people, messages, platform="game_chat", language=language)


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_risky_conversations_show_their_techniques(registry: RecognizerRegistry, name: str) -> None:
    _, lines, expected = CONVERSATIONS[name]
    found = {
        hit.technique_id
        for result, (sender, _) in zip(run_conversation(registry, lines), lines, strict=True)
        for hit in result.hits
        if sender == "a"
    }
    assert expected <= found, expected - found


@pytest.mark.parametrize("name", sorted(BENIGN_CONVERSATIONS))
def test_benign_conversations_have_no_technique_hits(
    registry: RecognizerRegistry, name: str
) -> None:
    _, lines = BENIGN_CONVERSATIONS[name]
    hits = [
        (hit.technique_id, hit.matched_text)
        for result in run_conversation(registry, lines)
        for hit in result.hits
        if hit.side in ("adult-side", "any")
    ]
    assert not hits


def test_analyser_alerts_on_risky_and_not_on_benign(registry: RecognizerRegistry) -> None:
    conversations = [
        _conversation(name, language, lines)
        for name, (language, lines, *_rest) in {**CONVERSATIONS, **BENIGN_CONVERSATIONS}.items()
    ]
    assessments = {a.conversation_id: a for a in analyze_stream(conversations, registry=registry)}
    for name in CONVERSATIONS:
        assert assessments[name].alert, name
        assert assessments[name].suspect == "a", name
    for name in BENIGN_CONVERSATIONS:
        assert not assessments[name].alert, name
