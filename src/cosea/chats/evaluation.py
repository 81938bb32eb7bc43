"""Measuring the analyser against gold labels: ``cosea chats eval`` and ``cosea chats crossval``.

Conversation level (PAN12 style; *risky* means class grooming or sextortion):
precision, recall, F0.5 (the PAN12 sexual-predator-identification measure,
precision weighted over recall), F1, false-alarm rate on benign conversations,
class accuracy, suspect accuracy on risky conversations.

Early warning: the alert delay in messages from the gold first risky message to
the predicted ``alert_message`` (an alert before the first risky message counts
as 0; missed conversations are counted separately), median and 90th percentile,
and the latency-weighted F1 of early sexual predator detection (eSPD; Vogt,
Leser and Akbik, ACL 2021, taking the measure from the eRisk lab of Losada et
al.)::

    penalty(k) = -1 + 2 / (1 + exp(-p * (k - 1)))      k = messages read when warning
    speed      = 1 - median(penalty(k_i)) over true positives
    F_latency  = F1 * speed

``p`` sets how fast lateness is punished: ``penalty(k) = 0.5`` at
``k = 1 + ln(3) / p``. By default ``p = ln(3) / (m - 1)`` where ``m`` is the median
length (in messages) of the gold risky conversations, so a warning half-way
through a typical risky chat costs half of the score; pass ``latency_p`` to fix it
(eRisk used 0.0078 for its much longer post histories).

Message level: micro precision, recall and F1 of (conversation, message,
technique) triples against the gold technique labels, and the same per technique.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from cosea.errors import CoseaError, InputError
from cosea.types import Conversation, ConversationClass

RISKY = {ConversationClass.GROOMING.value, ConversationClass.SEXTORTION.value}
CLASSES = {c.value for c in ConversationClass}
PREDICTION_FIELDS = ("id", "class", "risk", "suspect", "alert_message", "techniques", "stage")


@dataclass
class GoldConversation:
    id: str
    cls: str
    offender: str | None
    first_risk_message: str | None
    techniques: dict[str, list[str]]
    message_ids: list[str] = field(default_factory=list)

    @property
    def risky(self) -> bool:
        return self.cls in RISKY

    def index(self, message_id: str | None) -> int | None:
        if message_id is None:
            return None
        try:
            return self.message_ids.index(message_id)
        except ValueError:
            return None

    @classmethod
    def from_conversation(cls, conversation: Conversation) -> GoldConversation:
        label = conversation.label
        if not isinstance(label, dict) or label.get("class") not in CLASSES:
            raise InputError(
                conversation.source,
                "gold conversation without a usable label.class (benign, grooming, sextortion)",
                entry=conversation.id,
            )
        return cls(
            id=conversation.id,
            cls=label["class"],
            offender=label.get("offender"),
            first_risk_message=label.get("first_risk_message"),
            techniques={k: list(v) for k, v in (label.get("techniques") or {}).items()},
            message_ids=[m.id for m in conversation.messages],
        )


def read_labelled(paths: Iterable[str | Path], **options: Any) -> list[Conversation]:
    """Labelled conversations from files (format detected; JSON Lines for the labelled sets)."""
    from cosea.chats.io import ReadReport, read_conversations

    report = ReadReport()
    conversations = list(read_conversations(list(paths), report=report, strict=True, **options))
    if not conversations:
        raise CoseaError("no conversations found in " + ", ".join(map(str, paths)))
    return conversations


def load_gold(paths: Iterable[str | Path] | str | Path) -> list[GoldConversation]:
    """Gold conversations: labelled conversations, or label-only JSON lines.

    Label-only lines (``{"id": ..., "label": {...}}``, as ``cosea.chats.io.pan12_gold``
    writes them for the PAN12 predator list) carry no messages: conversation,
    class and suspect measures are computed; alert delays need the messages.
    """
    paths = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    gold: list[GoldConversation] = []
    labelled: list[Path] = []
    for path in paths:
        if _label_only(path):
            gold.extend(_read_label_lines(path))
        else:
            labelled.append(path)
    if labelled:
        gold.extend(GoldConversation.from_conversation(c) for c in read_labelled(labelled))
    return gold


def _first_record(path: Path) -> Any:
    from cosea.chats.io.base import open_text

    if not path.is_file():
        return None
    try:
        with open_text(path) as handle:
            for line in handle:
                if line.strip():
                    return json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return None


def _label_only(path: Path) -> bool:
    first = _first_record(path)
    return isinstance(first, dict) and "label" in first and "messages" not in first


def _read_label_lines(path: Path) -> list[GoldConversation]:
    from cosea.chats.io.base import open_text

    gold = []
    with open_text(path) as handle:
        for number, record in _json_lines(path, handle):
            label = record.get("label") if isinstance(record, dict) else None
            if (
                not isinstance(label, dict)
                or label.get("class") not in CLASSES
                or "id" not in record
            ):
                raise InputError(path, "a gold line needs an id and label.class", line=number)
            gold.append(
                GoldConversation(
                    id=str(record["id"]),
                    cls=label["class"],
                    offender=label.get("offender"),
                    first_risk_message=label.get("first_risk_message"),
                    techniques={k: list(v) for k, v in (label.get("techniques") or {}).items()},
                    message_ids=[],
                )
            )
    return gold


def load_predictions(path: str | Path) -> list[dict[str, Any]]:
    """Prediction lines (the spec's format), checked field by field with line numbers."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    predictions = []
    with path.open(encoding="utf-8") as handle:
        for number, record in _json_lines(path, handle):
            predictions.append(check_prediction(record, path, number))
    return predictions


def _json_lines(path: Path, handle: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed record) for each non-blank line; bad JSON names the line."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(path, f"not JSON ({error.msg})", line=number) from None


def check_prediction(
    record: Any, source: str | Path | None = None, line: int | None = None
) -> dict:
    if not isinstance(record, dict):
        raise InputError(source, "a prediction must be a JSON object", line=line)
    missing = [f for f in ("id", "class") if f not in record]
    if missing:
        raise InputError(source, f"prediction lacks {', '.join(missing)}", line=line)
    if record["class"] not in CLASSES:
        raise InputError(
            source, f"class {record['class']!r} is not benign, grooming or sextortion", line=line
        )
    risk = record.get("risk")
    if risk is not None and not (isinstance(risk, int | float) and 0.0 <= risk <= 1.0):
        raise InputError(source, f"risk {risk!r} is not a number in [0, 1]", line=line)
    techniques = record.get("techniques") or {}
    if not isinstance(techniques, dict) or not all(
        isinstance(v, list) for v in techniques.values()
    ):
        raise InputError(source, "techniques must map message ids to lists of IDs", line=line)
    return {**record, "id": str(record["id"]), "techniques": techniques}


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_penalty(k: int, p: float) -> float:
    return -1.0 + 2.0 / (1.0 + math.exp(-p * (k - 1)))


def _safe_div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision, recall = _safe_div(tp, tp + fp), _safe_div(tp, tp + fn)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def evaluate(
    gold: Sequence[GoldConversation],
    predictions: Sequence[dict[str, Any]],
    *,
    latency_p: float | None = None,
) -> dict[str, Any]:
    """Every measure of the module docstring, as a JSON-ready dict."""
    by_id = {p["id"]: p for p in predictions}
    gold_ids = {g.id for g in gold}
    tp = fp = fn = tn = 0
    class_right = suspect_right = risky_total = 0
    delays: list[int] = []
    early = missed = no_alert_message = unmeasurable = 0
    latency_ks: list[int] = []
    technique_counts: dict[str, list[int]] = {}
    micro = [0, 0, 0]
    missing = [g.id for g in gold if g.id not in by_id]
    for g in gold:
        p = by_id.get(g.id) or {"class": "benign", "techniques": {}}
        predicted_risky = p["class"] in RISKY
        class_right += p["class"] == g.cls
        if g.risky:
            risky_total += 1
            suspect_right += p.get("suspect") is not None and p.get("suspect") == g.offender
            if predicted_risky:
                tp += 1
                alert_index = g.index(p.get("alert_message"))
                if not g.message_ids:
                    unmeasurable += 1  # label-only gold: no message order to measure in
                elif alert_index is None:
                    no_alert_message += 1
                else:
                    first = g.index(g.first_risk_message)
                    first = 0 if first is None else first
                    early += alert_index < first
                    delays.append(max(0, alert_index - first))
                    latency_ks.append(alert_index + 1)
            else:
                fn += 1
                missed += 1
        elif predicted_risky:
            fp += 1
        else:
            tn += 1
        gold_triples = {(m, t) for m, ts in g.techniques.items() for t in ts}
        pred_triples = {(m, t) for m, ts in (p.get("techniques") or {}).items() for t in ts}
        for triples, slot in ((gold_triples & pred_triples, 0), (pred_triples - gold_triples, 1)):
            for _, t in triples:
                technique_counts.setdefault(t, [0, 0, 0])[slot] += 1
                micro[slot] += 1
        for _, t in gold_triples - pred_triples:
            technique_counts.setdefault(t, [0, 0, 0])[2] += 1
            micro[2] += 1

    precision, recall = _safe_div(tp, tp + fp), _safe_div(tp, tp + fn)
    f05 = _safe_div(1.25 * precision * recall, 0.25 * precision + recall)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    risky_lengths = [len(g.message_ids) for g in gold if g.risky and g.message_ids]
    if latency_p is None:
        typical = median(risky_lengths) if risky_lengths else 2
        latency_p = math.log(3) / max(1.0, typical - 1)
    penalties = [latency_penalty(k, latency_p) for k in latency_ks]
    speed = 1.0 - median(penalties) if penalties else 0.0
    benign_total = tp + fp + fn + tn - risky_total
    per_technique = {
        t: _prf(*counts) | {"support": counts[0] + counts[2]}
        for t, counts in sorted(technique_counts.items())
    }
    return {
        "conversations": len(gold),
        "risky": risky_total,
        "benign": benign_total,
        "predictions_missing": len(missing),
        "predictions_unknown": len(set(by_id) - gold_ids),
        "conversation": {
            "precision": precision,
            "recall": recall,
            "f05": f05,
            "f1": f1,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "false_alarm_rate": _safe_div(fp, benign_total),
            "class_accuracy": _safe_div(class_right, len(gold)),
            "suspect_accuracy": _safe_div(suspect_right, risky_total),
        },
        "alert_delay": {
            "median": median(delays) if delays else None,
            "p90": _percentile(delays, 0.9),
            "mean": _safe_div(sum(delays), len(delays)) if delays else None,
            "alerted": len(delays),
            "before_first_risky": early,
            "missed": missed,
            "without_alert_message": no_alert_message,
            "not_measurable": unmeasurable,
        },
        "latency_f1": {
            "f_latency": f1 * speed if penalties or not unmeasurable else None,
            "f1": f1,
            "speed": speed,
            "p": latency_p,
            "median_warning_k": median(latency_ks) if latency_ks else None,
        },
        "techniques": {"micro": _prf(*micro), "per_technique": per_technique},
    }


def quality_goals(report: dict[str, Any]) -> dict[str, bool]:
    """The issue's targets on the development set (5-fold cross-validation)."""
    delay = report["alert_delay"]["median"]
    return {
        "F0.5 >= 0.90": report["conversation"]["f05"] >= 0.90,
        "false alarms <= 5%": report["conversation"]["false_alarm_rate"] <= 0.05,
        "median alert delay <= 2": delay is not None and delay <= 2,
        "technique micro-F1 >= 0.75": report["techniques"]["micro"]["f1"] >= 0.75,
    }


def cross_validate(
    conversations: Sequence[Conversation],
    *,
    folds: int = 5,
    seed: int = 0,
    registry: Any = None,
    normalizer: Any = None,
    c: float | None = None,
    latency_p: float | None = None,
    progress: Any = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Stratified k-fold: fit on k-1 folds, predict the held-out fold by streaming analysis.

    Features do not depend on the model, so each conversation is traced once; every
    held-out conversation is then analysed message by message with the model of its
    fold, which never saw it. Returns the predictions and the :func:`evaluate` report.
    """
    from sklearn.model_selection import StratifiedKFold

    from cosea.chats.analysis.analyzer import analyze_conversation
    from cosea.chats.analysis.pipeline import resolve
    from cosea.chats.model.training import DEFAULT_C, fit_from_traces, trace_all

    registry, normalizer = resolve(registry, normalizer)
    gold = [GoldConversation.from_conversation(c) for c in conversations]
    classes = [g.cls for g in gold]
    smallest = min(classes.count(c) for c in set(classes))
    if folds < 2 or smallest < folds:
        raise CoseaError(
            f"{folds}-fold cross-validation needs at least {folds} conversations of each class "
            f"(smallest class has {smallest})"
        )
    traces = trace_all(conversations, registry, normalizer, progress=progress)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    predictions: list[dict[str, Any] | None] = [None] * len(conversations)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(classes, classes)):
        model = fit_from_traces(
            [traces[i] for i in train_idx],
            c=c if c is not None else DEFAULT_C,
            metadata={"cross_validation_fold": fold},
        )
        for i in test_idx:
            assessment = analyze_conversation(
                conversations[i], model, registry, normalizer=normalizer
            )
            predictions[i] = assessment.to_prediction()
    final = [p for p in predictions if p is not None]
    report = evaluate(gold, final, latency_p=latency_p)
    report["cross_validation"] = {"folds": folds, "seed": seed}
    return final, report


def print_report(report: dict[str, Any], console: Any, title: str = "Evaluation") -> None:
    """A readable summary of :func:`evaluate`'s report on a Rich console."""
    from rich.table import Table

    conv, delay, latency = report["conversation"], report["alert_delay"], report["latency_f1"]
    micro = report["techniques"]["micro"]
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")

    def pct(x: float) -> str:
        return f"{x:.3f}"

    rows = [
        (
            "conversations (risky / benign)",
            f"{report['conversations']} ({report['risky']} / {report['benign']})",
        ),
        ("precision", pct(conv["precision"])),
        ("recall", pct(conv["recall"])),
        ("F0.5 (PAN12)", pct(conv["f05"])),
        ("F1", pct(conv["f1"])),
        (
            "false-alarm rate on benign",
            f"{conv['false_alarm_rate']:.1%} ({conv['fp']}/{report['benign']})",
        ),
        ("class accuracy", pct(conv["class_accuracy"])),
        ("suspect accuracy (risky)", pct(conv["suspect_accuracy"])),
        (
            "alert delay median (messages)",
            "-" if delay["median"] is None else f"{delay['median']:g}",
        ),
        ("alert delay p90 (messages)", "-" if delay["p90"] is None else f"{delay['p90']:.1f}"),
        ("alerts before the first risky message", str(delay["before_first_risky"])),
        ("risky conversations missed", str(delay["missed"])),
        (
            f"latency-weighted F1 (eSPD, p={latency['p']:.4f})",
            "-" if latency["f_latency"] is None else pct(latency["f_latency"]),
        ),
        ("  speed", pct(latency["speed"])),
        ("technique micro precision", pct(micro["precision"])),
        ("technique micro recall", pct(micro["recall"])),
        ("technique micro F1", pct(micro["f1"])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    per = report["techniques"]["per_technique"]
    if per:
        techniques = Table(title="Techniques (message level)", header_style="bold")
        for column in ("technique", "support", "precision", "recall", "F1"):
            techniques.add_column(column, justify="right" if column != "technique" else "left")
        for technique, row in per.items():
            techniques.add_row(
                technique,
                str(row["support"]),
                pct(row["precision"]),
                pct(row["recall"]),
                pct(row["f1"]),
            )
        console.print(techniques)
    if "goals" in report:
        for goal, met in report["goals"].items():
            mark = "[green]met[/]" if met else "[red]not met[/]"
            console.print(f"  goal {goal}: {mark}")
