"""``cosea chats``: analyse conversations, explain one, evaluate, train and cross-validate.

A thin layer over :mod:`cosea.chats.analysis`, :mod:`cosea.chats.model`,
:mod:`cosea.chats.evaluation` and :mod:`cosea.chats.explain`; heavy imports stay
inside the commands so ``cosea --help`` stays fast.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="Analyse conversations for offender techniques.")

ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Risk model JSON (default: the model shipped with cosea)."),
]
ReaderOption = Annotated[
    str | None,
    typer.Option(
        "--reader", "-r", help="Input format (see `cosea chats readers`); detected when left out."
    ),
]
MapOption = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="CSV column mapping, e.g. conversation=thread_id,from=sender,text=body,ts=sent_at",
    ),
]
ReaderOptions = Annotated[
    list[str] | None,
    typer.Option(
        "--option", "-O", help="Reader option KEY=VALUE (tz=Europe/Berlin, ...); repeatable."
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Stop at the first bad record instead of skipping it.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def _reader_options(reader: str | None, map: str | None, options: list[str] | None) -> dict:
    try:
        from cosea.chats.cli_io import reader_options
    except ImportError:  # pragma: no cover - the io CLI ships with the readers
        return {}
    return reader_options(reader, map, options)


def _grouped(files: list[Path], reader: str | None, options: dict[str, Any]) -> bool:
    """Whether the inputs keep each conversation's messages together (CSV may interleave)."""
    from cosea.chats.io import detect_reader

    grouped_option = str(options.get("grouped", "")).lower() in {"1", "true", "yes", "on"}
    for path in files:
        name = reader
        if name is None:
            try:
                name = detect_reader(path)
            except Exception:
                continue
        if name == "csv" and not grouped_option:
            return False
    return True


def _load_model(model: Path | None) -> Any:
    from cosea.chats.model import default_model, load_model

    return load_model(model) if model is not None else default_model()


def _write_atomically(target: Path, lines: Any) -> int:
    """Write JSON lines beside the target and move them into place at the end."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    count = 0
    try:
        with partial.open("w", encoding="utf-8") as handle:
            for record in lines:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return count


AlertRow = tuple[str, str, float, str | None, str | None, str | None, list[str]]


def alerts_table(rows: Iterable[AlertRow], alerts: int, conversations: int) -> Table:
    """The strongest alerts of a run: (conversation, class, risk, suspect, alert message,
    stage, reasons) per row, as `chats analyze` and its cluster run print them."""
    table = Table(title=f"Alerts ({alerts} of {conversations} conversations)")
    for column in ("conversation", "class", "risk", "suspect", "alert at", "stage"):
        table.add_column(column, justify="right" if column == "risk" else "left", no_wrap=True)
    table.add_column("strongest reasons", ratio=1)
    for conversation, cls, risk, suspect, alert_message, stage, reasons in rows:
        table.add_row(
            escape(conversation),
            cls,
            f"{risk:.2f}",
            escape(suspect or "-"),
            escape(alert_message or "-"),
            stage or "",
            escape("\n".join(reasons)),
        )
    return table


def _print_skipped(report: Any, console: Console) -> None:
    from rich.markup import escape

    for error in report.errors[:20]:
        console.print(f"[yellow]skipped:[/] {escape(str(error))}", highlight=False)
    if len(report.errors) > 20:
        console.print(f"[yellow]... and {len(report.errors) - 20} more skipped record(s)[/]")


@app.command("analyze")
def analyze_command(
    files: Annotated[list[Path], typer.Argument(help="Chat files to analyse.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions file (JSON Lines).")],
    reader: ReaderOption = None,
    map: MapOption = None,
    option: ReaderOptions = None,
    strict: StrictOption = False,
    model: ModelOption = None,
    top: Annotated[int, typer.Option(help="Alerts to show in the summary table.")] = 15,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            envvar="COSEA_DASK_SCHEDULER",
            help="Dask scheduler address (or local[:N]): analyse on that cluster, results "
            "also in the database. Inputs may be s3:// or file:// URLs.",
        ),
    ] = None,
) -> None:
    """Analyse conversations message by message and write one prediction per conversation."""
    from cosea.scale import wants_cluster

    if wants_cluster(scheduler, [*files, out]):
        from cosea.scale.commands import chats_analyze

        options = _reader_options(reader, map, option)
        chats_analyze(files, out, scheduler, reader, options, strict, model, top)
        return
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cosea.chats.analysis import StreamStats, analyze_stream
    from cosea.chats.io import ReadReport, stream_messages

    console = Console(stderr=True)
    options = _reader_options(reader, map, option)
    risk_model = _load_model(model)
    report = ReadReport()
    stats = StreamStats()
    grouped = _grouped(files, reader, options)
    alerts: list[tuple[float, int, dict[str, Any]]] = []

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]analysing[/]"),
        BarColumn(),
        TextColumn("{task.fields[conversations]} conversations · {task.fields[messages]} messages"),
        TextColumn("· [red]{task.fields[alerts]} alerts[/]"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )

    def predictions() -> Any:
        task = progress.add_task("analyse", total=None, conversations=0, messages=0, alerts=0)
        pairs = stream_messages(
            files, reader=reader, strict=strict, report=report, ends=True, **options
        )
        for n, assessment in enumerate(
            analyze_stream(pairs, risk_model, grouped=grouped, stats=stats), start=1
        ):
            if assessment.alert:
                reasons = sorted(assessment.evidence, key=lambda e: -e.confidence)[:2]
                summary = {
                    "id": assessment.conversation_id,
                    "class": str(assessment.cls),
                    "risk": assessment.risk,
                    "suspect": assessment.suspect,
                    "alert_message": assessment.alert_message,
                    "stage": assessment.stage or "-",
                    "reasons": [r.reason for r in reasons],
                }
                entry = (assessment.risk, -n, summary)
                if len(alerts) < top:
                    heapq.heappush(alerts, entry)
                elif top > 0:
                    heapq.heappushpop(alerts, entry)
            progress.update(
                task,
                conversations=stats.conversations,
                messages=stats.messages,
                alerts=stats.alerts,
            )
            yield assessment.to_prediction()

    with progress:
        written = _write_atomically(out, predictions())
    _print_skipped(report, console)
    if alerts:
        rows = [
            (row["id"], row["class"], risk, row["suspect"], row["alert_message"], row["stage"],
             row["reasons"])
            for risk, _, row in sorted(alerts, key=lambda e: (-e[0], -e[1]))
        ]  # fmt: skip
        console.print(alerts_table(rows, stats.alerts, stats.conversations))
    for note in stats.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(
        f"{report.summary()}; {stats.alerts} alert(s); wrote {written} prediction(s) to {out}",
        highlight=False,
    )


@app.command("explain")
def explain_command(
    file: Annotated[Path, typer.Argument(help="Chat file holding the conversation.")],
    conversation_id: Annotated[str, typer.Option("--id", help="Conversation id to explain.")],
    reader: ReaderOption = None,
    map: MapOption = None,
    option: ReaderOptions = None,
    model: ModelOption = None,
    hide_text: Annotated[
        bool, typer.Option("--hide-text", help="Leave message texts out (findings only).")
    ] = False,
) -> None:
    """Show one conversation as a timeline: techniques, risk curve, stage, alert, reasons."""
    from cosea.chats.explain import build_timeline, render_timeline
    from cosea.chats.io import read_conversations
    from cosea.errors import NotFound

    options = _reader_options(reader, map, option)
    found = None
    for conversation in read_conversations([file], reader=reader, **options):
        if conversation.id == conversation_id:
            found = conversation
            break
    if found is None:
        raise NotFound(f"{file}: no conversation with id {conversation_id!r}")
    timeline = build_timeline(found, _load_model(model))
    render_timeline(timeline, Console(), show_text=not hide_text)


@app.command("eval")
def eval_command(
    gold: Annotated[list[Path], typer.Option("--gold", help="Labelled conversations (JSONL).")],
    pred: Annotated[Path, typer.Option("--pred", help="Predictions written by `analyze`.")],
    as_json: JsonOption = False,
    latency_p: Annotated[
        float | None,
        typer.Option(help="eSPD latency penalty p (default ln 3 / (median risky length - 1))."),
    ] = None,
) -> None:
    """Score predictions against gold labels (PAN12 F0.5, delay, eSPD latency F1, techniques)."""
    from cosea.chats.evaluation import evaluate, load_gold, load_predictions, print_report

    report = evaluate(load_gold(gold), load_predictions(pred), latency_p=latency_p)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_report(report, Console())


@app.command("crossval")
def crossval_command(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled conversations (JSONL).")],
    folds: Annotated[int, typer.Option(help="Number of stratified folds.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the fold split.")] = 0,
    as_json: JsonOption = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the held-out predictions here.")
    ] = None,
    latency_p: Annotated[float | None, typer.Option(help="eSPD latency penalty p.")] = None,
) -> None:
    """Stratified k-fold cross-validation: fit on k-1 folds, stream-analyse the held-out one."""
    from rich.progress import Progress

    from cosea.chats.evaluation import cross_validate, print_report, quality_goals, read_labelled

    conversations = read_labelled(data)
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("recognising", total=len(conversations))
        predictions, report = cross_validate(
            conversations,
            folds=folds,
            seed=seed,
            latency_p=latency_p,
            progress=lambda _: progress.advance(task),
        )
    report["goals"] = quality_goals(report)
    if out is not None:
        _write_atomically(out, predictions)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_report(report, Console(), title=f"{folds}-fold cross-validation (seed {seed})")


@app.command("train")
def train_command(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled conversations (JSONL).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the model JSON.")],
    c: Annotated[float | None, typer.Option("--c", help="Inverse L2 strength.")] = None,
    false_alarm_target: Annotated[
        float, typer.Option(help="Largest false-alarm rate on benign when choosing the threshold.")
    ] = 0.05,
    monotone: Annotated[
        bool,
        typer.Option(
            "--monotone/--no-monotone",
            help="Sign-constrained weights: a stronger warning sign never lowers the risk "
            "(every feature >= 0, adults_only <= 0).",
        ),
    ] = False,
) -> None:
    """Fit the risk model's weights, calibration and thresholds; write them as JSON."""
    from rich.progress import Progress

    from cosea.chats.evaluation import read_labelled
    from cosea.chats.model.training import DEFAULT_C, DEFAULT_MONOTONE, fit_model

    conversations = read_labelled(data)
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("recognising", total=len(conversations))
        model = fit_model(
            conversations,
            c=c if c is not None else DEFAULT_C,
            false_alarm_target=false_alarm_target,
            monotone=DEFAULT_MONOTONE if monotone else None,
            metadata={"data": [p.name for p in data]},
            progress=lambda _: progress.advance(task),
        )
    model.save(out)
    oof = model.metadata.get("out_of_fold", {})
    console.print(
        f"wrote {out}: {len(conversations)} conversations, alert threshold "
        f"{model.alert_threshold:.3f}, technique threshold {model.technique_threshold:.2f}; "
        f"out-of-fold F0.5 {oof.get('f05')}, false alarms {oof.get('false_alarm_rate')}",
        highlight=False,
    )


def _register_io_commands() -> None:
    try:
        from cosea.chats.cli_io import convert_command, readers_command
    except ImportError:  # pragma: no cover - the io CLI ships with the readers
        return
    app.command("readers", help="List the chat formats cosea reads.")(readers_command)
    app.command("convert", help="Convert chat exports to cosea's JSON Lines.")(convert_command)


_register_io_commands()
