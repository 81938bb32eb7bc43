"""Reading speed and memory of every chat reader on large generated files.

    .venv/bin/python tests/chats/io/measure_readers.py [MESSAGES]

Writes one file per format (benign chatter with an occasional warning-sign
phrase) to a temporary folder, then for each reader prints messages per second
when streaming (one pass, no tracing) and the peak of Python allocations while
streaming (a second pass under tracemalloc), beside the file's size. Not a test:
timings depend on the machine.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_io_streaming import _text, big_jsonl, big_pan12, big_telegram

from cosea.chats.io import stream_messages


def big_whatsapp(path: Path, messages: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for m in range(messages):
            day, minute = 1 + (m // 1440) % 28, m % 1440
            out.write(
                f"{day:02d}/03/2024, {minute // 60:02d}:{minute % 60:02d} - "
                f"Player {m % 5}: {_text(m)}\n"
            )
            if m % 10 == 0:
                out.write("and a second line\n")
    return path


def big_discord(path: Path, messages: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write('{"guild": {"id": "1", "name": "G"}, "channel": {"id": "2", "type": ')
        out.write('"GuildTextChat", "name": "general"}, "messages": [\n')
        for m in range(messages):
            record = {
                "id": str(m),
                "type": "Default",
                "timestamp": "2024-01-12T18:02:11.123+00:00",
                "content": _text(m),
                "author": {"id": str(m % 9), "name": f"user{m % 9}", "nickname": None},
                "attachments": [],
            }
            out.write(("" if m == 0 else ",\n") + json.dumps(record))
        out.write("\n]}\n")
    return path


def big_csv(path: Path, messages: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["thread_id", "sender", "body", "sent_at"])
        for m in range(messages):
            # interleaved: 20 threads sorted by time, as a database dump would be
            writer.writerow([f"t{m % 20}", f"u{m % 7}", _text(m), 1705082531 + m])
    return path


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    folder = Path(tempfile.mkdtemp(prefix="cosea-readers-"))
    files = {
        "jsonl": big_jsonl(folder / "big.jsonl", messages // 50, 50),
        "pan12": big_pan12(folder / "big.xml", messages // 50, 50),
        "whatsapp": big_whatsapp(folder / "big.txt", messages),
        "telegram": big_telegram(folder / "big.json", messages),
        "discord": big_discord(folder / "discord.json", messages),
        "csv": big_csv(folder / "big.csv", messages),
    }
    print(f"{'reader':10} {'messages':>9} {'file MB':>8} {'msg/s':>9} {'peak MB':>8}")
    for reader, path in files.items():
        start = time.perf_counter()
        count = sum(1 for _ in stream_messages(path, reader=reader))
        rate = count / (time.perf_counter() - start)
        tracemalloc.start()
        for _ in stream_messages(path, reader=reader):
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size = path.stat().st_size
        print(f"{reader:10} {count:>9} {size / 1e6:>8.1f} {rate:>9,.0f} {peak / 1e6:>8.2f}")
        path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
