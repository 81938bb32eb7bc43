"""The same input gives the same assessments in every process: nothing in them may
depend on the order a set of strings iterates in, which changes with the hash seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
from cosea.chats.analysis import analyze_stream
from cosea.chats.io import read_conversations
conversations = list(read_conversations([sys.argv[1]], reader="jsonl"))
print(json.dumps([a.to_dict() for a in analyze_stream(conversations)], sort_keys=True))
"""


def test_assessments_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    # three participants with profile ages: two adult-and-minor pairs, whose age-gap
    # signals once came out in a seed-dependent order
    conversation = {
        "id": "family-1",
        "platform": "messenger",
        "participants": [
            {"id": "u1", "display_name": "Coach", "declared_age": 34},
            {"id": "u2", "display_name": "Sam", "declared_age": 13},
            {"id": "u3", "display_name": "Dad", "declared_age": 45},
        ],
        "messages": [
            {"id": "m1", "from": "u1", "text": "practice moved to 5pm"},
            {"id": "m2", "from": "u3", "text": "thanks, see you there"},
            {"id": "m3", "from": "u2", "text": "ok"},
        ],
    }
    path = tmp_path / "family.jsonl"
    path.write_text(json.dumps(conversation) + "\n", encoding="utf-8")
    outputs = set()
    for seed in ("1", "2", "3"):
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    (assessment,) = json.loads(outputs.pop())
    assert [c["kind"] for c in assessment["context"]].count("age_gap") == 2
