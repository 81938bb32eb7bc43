"""Test data for the scale-out tests: benign chats, generated pictures, small evidence folders.

Conversations use only benign chatter and the short, non-graphic warning-sign phrases of
``shared/spec/conversation-format.md``; pictures are drawn by code.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

CHATTER = [
    "gg that was close",
    "lol ty",
    "did you finish the maths homework",
    "what time is practice tomorrow",
    "keep it secret its a surprise for dad",
    "how old is your brother now",
    "wanna play another round",
    "see you at school",
]
WARNING = [
    "how old r u",
    "are you alone right now",
    "dont tell your parents",
    "send me a private pic",
    "lets move to another app its more private",
]


def conversation(
    cid: str,
    rng: random.Random,
    start: datetime,
    *,
    risky: bool,
    adult: dict[str, Any] | None = None,
    young: dict[str, Any] | None = None,
    messages: int = 12,
    adult_first: bool = False,
) -> dict[str, Any]:
    young = young or {"id": "u1", "display_name": f"kid_{cid}", "declared_age": 13}
    adult = adult or {"id": "u2", "display_name": f"mate_{cid}", "account_created": "2025-01-01"}
    records = []
    clock = start
    for i in range(messages):
        clock += timedelta(seconds=rng.randint(20, 200))
        sender = "u1" if (i % 2 == 0) != adult_first else "u2"
        text = rng.choice(WARNING) if risky and sender == "u2" and i > 2 else rng.choice(CHATTER)
        records.append(
            {
                "id": f"m{i + 1}",
                "ts": clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "from": sender,
                "text": text,
            }
        )
    return {
        "id": cid,
        "platform": "game_chat",
        "language": "en",
        "participants": [young, adult],
        "messages": records,
    }


def write_fan_out_chats(path: Path, conversations: int = 40, seed: int = 7) -> Path:
    """JSON Lines where one adult account contacts many young accounts within hours (T0105),
    between ordinary conversations, so batch signals depend on conversations in other shards."""
    rng = random.Random(seed)
    start = datetime(2026, 2, 1, 9, tzinfo=UTC)
    lines = []
    for c in range(conversations):
        when = start + timedelta(minutes=20 * c)
        if c % 4 == 1:
            adult = {
                "id": "u2",
                "display_name": "coach.max",
                "account_created": "2026-01-25",
                "account_id": "acct-777",
            }
            young = {
                "id": "u1",
                "display_name": f"kid{c}",
                "declared_age": 12 + c % 3,
                "account_id": f"young-{c}",
            }
            lines.append(
                conversation(
                    f"fan-{c:03d}",
                    rng,
                    when,
                    risky=c % 8 == 1,
                    adult=adult,
                    young=young,
                    adult_first=True,
                )
            )
        else:
            lines.append(conversation(f"plain-{c:03d}", rng, when, risky=c % 7 == 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def write_interleaved_csv(folder: Path, seed: int = 3) -> list[Path]:
    """Two CSV exports of one platform, rows of many threads interleaved by time; some
    threads continue from the first file into the second."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    rows = []
    for n in range(120):
        thread = f"thread-{rng.randint(0, 11):02d}"
        sender = rng.choice(["a", "b"])
        risky = thread in ("thread-03", "thread-07") and sender == "b"
        rows.append(
            {
                "conversation": thread,
                "from": f"{thread}-{sender}",
                "name": f"user_{thread}_{sender}",
                "age": "13" if sender == "a" else "",
                "text": rng.choice(WARNING if risky and rng.random() < 0.5 else CHATTER),
                "ts": (start + timedelta(minutes=3 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    paths = []
    for number, part in enumerate((rows[:70], rows[70:])):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(part[0]))
        writer.writeheader()
        writer.writerows(part)
        path = folder / f"export-{number}.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        paths.append(path)
    return paths


def picture_bytes(seed: int, fmt: str = "JPEG", size: tuple[int, int] = (200, 150)) -> bytes:
    from cosea.media.demo import benign_picture

    buffer = io.BytesIO()
    benign_picture(seed, size).save(buffer, format=fmt)
    return buffer.getvalue()


def write_media_folder(root: Path, pictures: int = 10) -> Path:
    """Pictures (JPEG and PNG), a near-duplicate, a text file, a corrupt picture, a zip."""
    from cosea.media.demo import benign_picture

    root.mkdir(parents=True, exist_ok=True)
    for seed in range(pictures):
        fmt = "PNG" if seed % 3 == 0 else "JPEG"
        folder = root / ("a" if seed % 2 else "b")
        folder.mkdir(exist_ok=True)
        (folder / f"pic{seed:02d}.{fmt.lower()}").write_bytes(picture_bytes(seed, fmt))
    smaller = io.BytesIO()
    benign_picture(1, (200, 150)).resize((100, 75)).save(smaller, format="JPEG", quality=70)
    (root / "a" / "pic01-small.jpg").write_bytes(smaller.getvalue())
    (root / "notes.txt").write_text("meeting notes\n", encoding="utf-8")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a picture")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("inner/pic50.jpg", picture_bytes(50))
        zipped.writestr("inner/readme.txt", "hello\n")
    (root / "bundle.zip").write_bytes(archive.getvalue())
    return root


def warm_worker() -> bool:
    """Build the default recognizers once in a worker process (what its first chats task
    would do), so tests can overlap that start-up with their own single-process runs."""
    from cosea.chats.analysis import ConversationAnalyzer

    ConversationAnalyzer()
    return True


_warming: list[Any] = []


def warm_all(client: Any) -> None:
    """Start warming every worker in the background (the futures are kept, not awaited)."""
    for address in client.scheduler_info(n_workers=-1)["workers"]:
        _warming.append(
            client.submit(warm_worker, workers=[address], allow_other_workers=False, pure=False)
        )


class KillWorkerOnce(WorkerPlugin):
    """Kills the worker process running the first task whose key contains ``key_part``.

    ``when="finished"``: right after the task finished (its rows are committed) and before
    the scheduler hears of it, so Dask runs it again elsewhere; ``when="running"``: a
    moment into the task. A marker file makes it happen once across all workers.
    """

    name = "cosea-test-kill-once"

    def __init__(self, marker: str, key_part: str, when: str = "finished") -> None:
        self.marker = marker
        self.key_part = key_part
        self.when = when

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if self.key_part not in str(key):
            return
        finished = self.when == "finished" and start == "executing" and finish == "memory"
        running = self.when == "running" and finish == "executing"
        if not (finished or running):
            return
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        if finished:
            os._exit(17)
        import threading

        threading.Timer(0.05, os._exit, (17,)).start()
