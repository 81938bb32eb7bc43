"""The conversations step of ``cosea demo``: the analyser on the project's own demo chats.

The bundled chats (``cosea/chats/data/demo_conversations.jsonl``) were written for
the project: risky ones carry only short, non-graphic warning-sign phrases, and
the benign ones are hard negatives (a surprise party, a coach's pick-up, a
deleted meme) in several languages. The demo analyses them message by message,
writes the predictions and an explain timeline of the strongest alert, and
prints each alert with its reasons.
"""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

DEMO_RESOURCE = "demo_conversations.jsonl"


def demo_conversations_path() -> Path:
    """Where the bundled demo conversations are (a real file inside the package)."""
    return Path(str(resources.files("cosea.chats.data").joinpath(DEMO_RESOURCE)))


def run_demo(out: Path, console: Console) -> dict[str, Any]:
    from cosea.chats.analysis import analyze_stream
    from cosea.chats.analysis.tactics import stage_label
    from cosea.chats.evaluation import evaluate, load_gold
    from cosea.chats.explain import build_timeline, render_timeline
    from cosea.chats.io import read_conversations
    from cosea.chats.model import default_model

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    source = demo_conversations_path()
    model = default_model()
    conversations = list(read_conversations([source], reader="jsonl"))
    assessments = list(analyze_stream(conversations, model))
    predictions_path = out / "chats-predictions.jsonl"
    with predictions_path.open("w", encoding="utf-8") as handle:
        for assessment in assessments:
            handle.write(json.dumps(assessment.to_prediction(), ensure_ascii=False) + "\n")

    console.print(
        f"[bold]Conversations[/]: analysed {len(conversations)} demo chats message by message"
    )
    table = Table(show_header=True, header_style="bold")
    for column in ("conversation", "lang", "class", "risk", "suspect", "alert at", "stage"):
        table.add_column(column, justify="right" if column == "risk" else "left")
    by_id = {c.id: c for c in conversations}
    for assessment in assessments:
        colour = "red" if assessment.alert else "green"
        table.add_row(
            assessment.conversation_id,
            by_id[assessment.conversation_id].language or "-",
            f"[{colour}]{assessment.cls}[/]",
            f"{assessment.risk:.2f}",
            assessment.suspect or "-",
            assessment.alert_message or "-",
            stage_label(assessment.stage),
        )
    console.print(table)
    alerts = [a for a in assessments if a.alert]
    for assessment in alerts:
        console.print(
            f"[bold red]alert[/] {escape(assessment.conversation_id)} "
            f"({assessment.cls}, risk {assessment.risk:.2f}, raised at {assessment.alert_message}):"
        )
        for evidence in sorted(assessment.evidence, key=lambda e: -e.confidence)[:4]:
            console.print(f"   · {escape(evidence.reason)}", highlight=False)

    explain_path = None
    if alerts:
        strongest = max(alerts, key=lambda a: a.risk)
        timeline = build_timeline(by_id[strongest.conversation_id], model)
        explain_path = out / "chats-explain.txt"
        recorder = Console(record=True, width=140, file=io.StringIO())
        render_timeline(timeline, recorder)
        explain_path.write_text(recorder.export_text(), encoding="utf-8")

    report = evaluate(load_gold(source), [a.to_prediction() for a in assessments])
    summary = {
        "conversations": len(conversations),
        "alerts": len(alerts),
        "alerted": [a.conversation_id for a in alerts],
        "predictions": str(predictions_path),
        "explain": str(explain_path) if explain_path else None,
        "f05_on_demo": round(report["conversation"]["f05"], 3),
        "false_alarm_rate_on_demo": round(report["conversation"]["false_alarm_rate"], 3),
    }
    console.print(
        f"wrote {predictions_path}" + (f" and {explain_path}" if explain_path else ""),
        highlight=False,
    )
    return summary
