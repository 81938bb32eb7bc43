"""A benign demo folder for triage, and the demo run: folder → list → scan → verify → report.

Everything here is generated: the pictures are drawn by the code (sky, sun, hills and
shapes, no people), their EXIF names a fictional camera maker and a point in the open
Atlantic (no land, no address), and the chats are the project's own short, non-graphic
warning-sign phrases, as in ``shared/spec/conversation-format.md``. The demo hash list
is made from some of these pictures, so the scan has something to match.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import tarfile
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageDraw, ImageEnhance
from rich.console import Console

DEMO_LIST = "triage-demo"
DEMO_KNOWN_LIST = "triage-demo-known"
# A point in the open Atlantic, far from any coast: a fictional place with no address.
FICTIONAL_PLACE = (47.6125, -37.4231)
_START = datetime(2024, 3, 2, 9, 15, 0)
_FIXED_MTIME = datetime(2024, 4, 1, 12, 0, 0).timestamp()


def generated_picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A generated landscape: sky gradient, a sun, hills and a few shapes."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    top = (rng.randint(40, 120), rng.randint(90, 170), rng.randint(170, 250))
    bottom = (rng.randint(180, 250), rng.randint(170, 230), rng.randint(140, 210))
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    sun_x, sun_y, radius = rng.randint(60, width - 60), rng.randint(40, 160), rng.randint(25, 55)
    draw.ellipse(
        (sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius),
        fill=(255, rng.randint(190, 240), rng.randint(60, 140)),
    )
    for layer in range(3):
        base = int(height * (0.55 + 0.12 * layer))
        points = [(0, height)]
        for x in range(0, width + 80, 80):
            points.append((x, base + rng.randint(-60, 40)))
        points.append((width, height))
        shade = 60 + layer * 35
        draw.polygon(
            points, fill=(rng.randint(20, 70), shade + rng.randint(0, 60), rng.randint(20, 70))
        )
    for _ in range(rng.randint(3, 7)):
        x, y = rng.randint(0, width), rng.randint(height // 2, height)
        s = rng.randint(8, 30)
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + s, y + s * 2), fill=colour)
        else:
            draw.ellipse((x, y, x + s * 2, y + s), fill=colour)
    return image


def _exif(
    camera: str, taken: datetime, gps: tuple[float, float] | None, software: str | None
) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fictional Optics"
    exif[ExifTags.Base.Model] = camera
    exif[ExifTags.Base.DateTime] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if software:
        exif[ExifTags.Base.Software] = software
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    exif_ifd[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if gps is not None:
        latitude, longitude = gps
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps_ifd[ExifTags.GPS.GPSLatitudeRef] = "N" if latitude >= 0 else "S"
        gps_ifd[ExifTags.GPS.GPSLatitude] = _dms(abs(latitude))
        gps_ifd[ExifTags.GPS.GPSLongitudeRef] = "E" if longitude >= 0 else "W"
        gps_ifd[ExifTags.GPS.GPSLongitude] = _dms(abs(longitude))
    return exif.tobytes()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 2)
    return (float(degrees), float(minutes), seconds)


def _jpeg(image: Image.Image, exif: bytes | None = None, quality: int = 88) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, exif=exif or b"")
    return buffer.getvalue()


WHATSAPP_CHAT = """\
02/03/2024, 18:02 - Alex: hey, good game today
02/03/2024, 18:03 - Sam: thanks lol
02/03/2024, 18:05 - Alex: how old are you btw
02/03/2024, 18:05 - Sam: 13
02/03/2024, 18:07 - Alex: you seem really mature for your age
02/03/2024, 18:09 - Alex: are you alone right now
02/03/2024, 18:10 - Sam: yeah why
02/03/2024, 18:11 - Alex: dont tell your parents we talk ok, this is our secret
02/03/2024, 18:12 - Alex: lets move to another app
02/03/2024, 18:13 - Alex: send me a private pic
"""


def _jsonl_chats() -> str:
    risky = {
        "id": "demo-chat-1",
        "platform": "game_chat",
        "language": "en",
        "participants": [
            {"id": "u1", "display_name": "river_12", "declared_age": 12},
            {"id": "u2", "display_name": "coach.kay", "declared_age": 16},
        ],
        "messages": [
            {"id": "m1", "ts": "2024-03-03T17:00:00Z", "from": "u2", "text": "nice match"},
            {"id": "m2", "ts": "2024-03-03T17:01:00Z", "from": "u1", "text": "ty!!"},
            {"id": "m3", "ts": "2024-03-03T17:03:00Z", "from": "u2", "text": "how old r u"},
            {"id": "m4", "ts": "2024-03-03T17:03:30Z", "from": "u1", "text": "im 12"},
            {
                "id": "m5",
                "ts": "2024-03-03T17:05:00Z",
                "from": "u2",
                "text": "i can get you free skins if you keep this between us",
            },
            {
                "id": "m6",
                "ts": "2024-03-03T17:06:00Z",
                "from": "u2",
                "text": "dont tell your parents",
            },
            {
                "id": "m7",
                "ts": "2024-03-03T17:07:00Z",
                "from": "u2",
                "text": "are you alone right now",
            },
            {
                "id": "m8",
                "ts": "2024-03-03T17:08:00Z",
                "from": "u2",
                "text": "send me a private pic",
            },
        ],
    }
    benign = {
        "id": "demo-chat-2",
        "platform": "messenger",
        "language": "en",
        "participants": [{"id": "a", "display_name": "mum"}, {"id": "b", "display_name": "jo"}],
        "messages": [
            {
                "id": "m1",
                "ts": "2024-03-04T08:00:00Z",
                "from": "a",
                "text": "dont forget your lunch",
            },
            {"id": "m2", "ts": "2024-03-04T08:01:00Z", "from": "b", "text": "got it, see you at 4"},
            {
                "id": "m3",
                "ts": "2024-03-04T08:02:00Z",
                "from": "a",
                "text": "keep the surprise party a secret from dad",
            },
        ],
    }
    return json.dumps(risky) + "\n" + json.dumps(benign) + "\n"


def demo_folder(out: Path) -> dict[str, Any]:
    """Write the demo evidence folder; returns what it holds (for lists and tests)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Any] = {"folder": str(out.resolve()), "pictures": {}, "listed": []}
    cameras = ["FO-100", "FO-100", "FO-220 Pro"]
    originals: dict[str, Image.Image] = {}
    for number in range(1, 13):
        name = f"IMG_{number:04d}.jpg"
        image = generated_picture(number)
        originals[name] = image
        taken = _START + timedelta(days=number // 3, hours=number * 2, minutes=number * 7)
        gps = (
            (FICTIONAL_PLACE[0] + number * 0.0011, FICTIONAL_PLACE[1] - number * 0.0017)
            if number % 3 != 0
            else None
        )
        software = "DemoEdit 2.1" if number in {4, 9} else None
        data = _jpeg(image, _exif(cameras[number % 3], taken, gps, software))
        written["pictures"][name] = data
        if number <= 10:
            (out / "DCIM").mkdir(exist_ok=True)
            (out / "DCIM" / name).write_bytes(data)
    copies = out / "copies"
    copies.mkdir(exist_ok=True)
    small = originals["IMG_0002.jpg"].resize((320, 240))
    (copies / "IMG_0002_small.jpg").write_bytes(_jpeg(small))
    brighter = ImageEnhance.Brightness(originals["IMG_0003.jpg"]).enhance(1.25)
    (copies / "IMG_0003_bright.jpg").write_bytes(_jpeg(brighter))
    (copies / "IMG_0005_q30.jpg").write_bytes(_jpeg(originals["IMG_0005.jpg"], quality=30))
    documents = out / "documents"
    documents.mkdir(exist_ok=True)
    (documents / "notes.txt").write_text(
        "Shopping: bread, apples, batteries.\nCall the garage on Monday.\n", encoding="utf-8"
    )
    # A picture disguised as a document: the scan flags the extension mismatch.
    (documents / "holiday.pdf").write_bytes(written["pictures"]["IMG_0006.jpg"])
    (documents / "timetable.pdf").write_bytes(_small_pdf())
    chats = out / "chats"
    chats.mkdir(exist_ok=True)
    (chats / "WhatsApp Chat with Alex.txt").write_text(WHATSAPP_CHAT, encoding="utf-8")
    (chats / "messages.jsonl").write_text(_jsonl_chats(), encoding="utf-8")
    system = out / "system"
    system.mkdir(exist_ok=True)
    known_text = "Demo operating system licence file. Nothing to review here.\n"
    (system / "LICENSE-OS.txt").write_text(known_text, encoding="utf-8")
    damaged = out / "damaged"
    damaged.mkdir(exist_ok=True)
    (damaged / "broken.jpg").write_bytes(written["pictures"]["IMG_0007.jpg"][:2500])
    # A zip holding pictures and a nested tar.gz with a picture and an older chat.
    nested = io.BytesIO()
    with tarfile.open(fileobj=nested, mode="w:gz") as tar:
        for name, data in (
            ("backup/IMG_0011.jpg", written["pictures"]["IMG_0011.jpg"]),
            ("backup/chat-old.txt", WHATSAPP_CHAT),
        ):
            payload = data if isinstance(data, bytes) else data.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            info.mtime = int(_FIXED_MTIME)
            tar.addfile(info, io.BytesIO(payload))
    stamp = (2024, 3, 20, 18, 30, 0)
    with zipfile.ZipFile(out / "phone-backup.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (
            ("photos/IMG_0012.jpg", written["pictures"]["IMG_0012.jpg"]),
            ("photos/IMG_0004-copy.jpg", written["pictures"]["IMG_0004.jpg"]),
            ("backup.tar.gz", nested.getvalue()),
        ):
            archive.writestr(zipfile.ZipInfo(name, stamp), data, zipfile.ZIP_DEFLATED)
    for path in out.rglob("*"):
        if path.is_file():
            os.utime(path, (_FIXED_MTIME, _FIXED_MTIME))
    written["listed"] = ["IMG_0002.jpg", "IMG_0005.jpg", "IMG_0011.jpg"]
    written["known_text_sha256"] = hashlib.sha256(known_text.encode()).hexdigest()
    return written


def _small_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Bus timetable (demo document)")
    pdf.set_creation_date(datetime(2024, 3, 1))
    return bytes(pdf.output())


def build_demo_lists(info: dict[str, Any], replace: bool = True) -> dict[str, Any]:
    """The demo hash list (PDQ and SHA-256 of some demo pictures) and a known-files list."""
    from cosea.media.hashing import hash_bytes
    from cosea.media.lists import ListStore

    store = ListStore()
    for name in (DEMO_LIST, DEMO_KNOWN_LIST):
        if replace and store.has_list(name):
            store.delete_list(name)
    store.create_list(
        DEMO_LIST,
        description="Demo list made from generated, benign pictures of the triage demo folder",
        scheme="default",
        kind="known-material",
        source="cosea triage demo",
    )
    entries = []
    for name in info["listed"]:
        data = info["pictures"][name]
        hashes = hash_bytes(data, name=name, signals=("sha256", "pdq"))
        entries.append(
            {
                "signal": "sha256",
                "hash": hashlib.sha256(data).hexdigest(),
                "category": "of-concern",
                "notes": f"demo: {name}",
            }
        )
        if hashes.pdq:
            entries.append(
                {
                    "signal": "pdq",
                    "hash": hashes.pdq,
                    "category": "of-concern",
                    "notes": f"demo: {name}",
                }
            )
    added = store.add_entries(DEMO_LIST, entries)
    store.create_list(
        DEMO_KNOWN_LIST,
        description="Demo known-files list (stands in for NSRL)",
        scheme="default",
        kind="known-files",
        source="cosea triage demo",
    )
    store.add_entries(
        DEMO_KNOWN_LIST,
        [{"signal": "sha256", "hash": info["known_text_sha256"], "category": "known-benign"}],
    )
    return {"list": DEMO_LIST, "entries": added, "known_list": DEMO_KNOWN_LIST}


def run_demo(out: Path, console: Console) -> dict[str, Any]:
    """Demo folder → list → scan → verify → HTML report, all under ``out``."""
    from cosea.triage.case import Case
    from cosea.triage.reports import export_report
    from cosea.triage.scanner import ScanOptions, scan
    from cosea.triage.verify import verify_case

    out = Path(out)
    evidence = out / "triage-evidence"
    cases = out / "triage-cases"
    console.print("[bold]triage[/] generating a benign demo folder …")
    info = demo_folder(evidence)
    lists = build_demo_lists(info)
    console.print(
        f"[bold]triage[/] demo list {lists['list']!r} ({lists['entries']} hashes) and "
        f"known-files list {lists['known_list']!r}"
    )
    started = time.monotonic()
    summary = scan(
        ScanOptions(
            case="demo",
            sources=[evidence],
            lists=[DEMO_LIST],
            known_files=DEMO_KNOWN_LIST,
            examiner="demo-examiner",
            cases_dir=cases,
        ),
        console=console,
    )
    with Case.open("demo", cases) as case:
        verification = verify_case(case, examiner="demo-examiner")
        report_path = out / "triage-report.html"
        export_report(case, "html", report_path, thumbnails=True, examiner="demo-examiner")
    totals = summary.totals
    console.print(
        f"[bold]triage[/] case {summary.case_path}: {totals['files']} files, "
        f"{totals['matched_files']} matched, {totals['clusters']} clusters, "
        f"{totals['chat_alerts']} chat alert(s), {totals['errors']} error(s); verify: "
        + ("[green]intact[/]" if verification.ok else "[red]differences[/]")
    )
    console.print(f"[bold]triage[/] report: {report_path}")
    return {
        "case": summary.case_path,
        "report": str(report_path),
        "evidence": str(evidence),
        "files": totals["files"],
        "matched_files": totals["matched_files"],
        "clusters": totals["clusters"],
        "chat_alerts": totals["chat_alerts"],
        "errors": totals["errors"],
        "verified": verification.ok,
        "seconds": round(time.monotonic() - started, 2),
    }
