"""A readable timeline of one conversation for a reviewer or an investigator.

Each message is shown with its sender, the techniques found on it (their spans
highlighted in the text), the risk after it as a small bar, the stage reached and
the moment the alert fired, followed by a summary with the reasons and the
context signals. The timeline is built by the same streaming analyser as
``cosea chats analyze``: what it shows at message *k* is what was known then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cosea.chats.analysis.analyzer import ConversationAnalyzer
from cosea.chats.analysis.tactics import stage_label, technique_name
from cosea.chats.model import RiskModel
from cosea.types import Assessment, ContextSignal, Conversation, Message, TechniqueHit

BARS = " ▁▂▃▄▅▆▇█"


@dataclass
class Step:
    message: Message
    hits: list[TechniqueHit]
    assessment: Assessment
    new_signals: list[ContextSignal] = field(default_factory=list)
    alert_fired: bool = False


@dataclass
class Timeline:
    conversation: Conversation
    steps: list[Step]
    model: RiskModel
    start_signals: list[ContextSignal] = field(default_factory=list)

    @property
    def final(self) -> Assessment | None:
        return self.steps[-1].assessment if self.steps else None


def build_timeline(
    conversation: Conversation,
    model: RiskModel | str | None = None,
    registry: Any = None,
    *,
    context: list[ContextSignal] | None = None,
    normalizer: Any = None,
) -> Timeline:
    analyzer = ConversationAnalyzer(
        model, registry, conversation=conversation, normalizer=normalizer
    )
    analyzer.add_context(context or [])
    timeline = Timeline(conversation, [], analyzer.model, list(analyzer.assessment.context))
    seen_signals = len(analyzer.assessment.context)
    was_alert = False
    for message in conversation.messages:
        assessment = analyzer.observe(message)
        signals = assessment.context[seen_signals:]
        seen_signals = len(assessment.context)
        timeline.steps.append(
            Step(
                message,
                list(analyzer.last_hits),
                assessment,
                list(signals),
                alert_fired=assessment.alert and not was_alert,
            )
        )
        was_alert = assessment.alert
    return timeline


def risk_bar(risk: float, width: int = 8) -> str:
    """A bar of ``width`` cells, eighths resolution: 0.5 -> '████    '."""
    eighths = round(max(0.0, min(1.0, risk)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (BARS[part] if part else "")).ljust(width)


def sparkline(values: list[float]) -> str:
    return "".join(BARS[1 + min(7, int(max(0.0, min(1.0, v)) * 8))] for v in values)


def _highlighted(text: str, hits: list[TechniqueHit]) -> Any:
    from rich.text import Text

    shown = Text(text)
    for hit in hits:
        start, end = max(0, hit.start), min(len(text), hit.end)
        if end > start:
            shown.stylize("bold black on yellow", start, end)
    return shown


def render_timeline(timeline: Timeline, console: Any, *, show_text: bool = True) -> None:
    """Print the timeline on a Rich console."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    conversation, model = timeline.conversation, timeline.model
    final = timeline.final
    suspect = final.suspect if final is not None else None
    title = f"Conversation {conversation.id}"
    if conversation.platform:
        title += f" · {conversation.platform}"
    if conversation.language:
        title += f" · {conversation.language}"
    people = ", ".join(
        p.id
        + (f" ({p.display_name})" if p.display_name else "")
        + (f", declared {p.declared_age}" if p.declared_age is not None else "")
        for p in conversation.participants
    )
    console.print(f"[bold]{escape(title)}[/]  participants: {escape(people) or '-'}")
    for signal in timeline.start_signals:
        console.print(f"  [cyan]context[/] {escape(signal.description)}")

    table = Table(show_header=True, header_style="bold", expand=False, show_lines=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("time", style="dim", no_wrap=True)
    table.add_column("from", no_wrap=True)
    if show_text:
        table.add_column("message", ratio=3)
    table.add_column("techniques", ratio=2)
    table.add_column("risk", no_wrap=True)
    table.add_column("stage", no_wrap=True)
    for index, step in enumerate(timeline.steps, start=1):
        message, assessment = step.message, step.assessment
        sender = escape(message.sender)
        if suspect is not None and message.sender == suspect:
            sender = f"[bold red]{sender}[/]"
        techniques = ", ".join(
            f"{h.technique_id} {technique_name(h.technique_id)} ({h.confidence:.2f})"
            for h in step.hits
        )
        for signal in step.new_signals:
            techniques += ("\n" if techniques else "") + f"[cyan]{escape(signal.description)}[/]"
        colour = "red" if assessment.risk >= model.alert_threshold else "green"
        risk = f"[{colour}]{risk_bar(assessment.risk)}[/] {assessment.risk:.2f}"
        if step.alert_fired:
            risk += " [bold white on red] ALERT [/]"
        time = message.ts.strftime("%m-%d %H:%M") if message.ts else ""
        row = [str(index), time, sender]
        if show_text:
            row.append(_highlighted(message.text, step.hits))
        row += [techniques or "", risk, assessment.stage or ""]
        table.add_row(*row)
    console.print(table)

    if final is None:
        console.print("(no messages)")
        return
    curve = sparkline([s.assessment.risk for s in timeline.steps])
    lines = [
        f"risk curve  {curve}  (alert threshold {model.alert_threshold:.2f})",
        f"class       {final.cls}   risk {final.risk:.2f}",
        f"suspect     {final.suspect or '-'}",
        f"alert       {'raised at ' + final.alert_message if final.alert_message else 'not raised'}",
        f"stage       {stage_label(final.stage)}",
        "tactics     "
        + (" → ".join(stage_label(t) for t in final.tactics_seen) if final.tactics_seen else "-"),
    ]
    if final.evidence:
        lines.append("reasons")
        strongest = sorted(final.evidence, key=lambda e: -e.confidence)[:8]
        for evidence in sorted(strongest, key=lambda e: _order(timeline, e.message_id)):
            where = f"{evidence.message_id}: " if evidence.message_id else ""
            lines.append(f"  · {where}{evidence.reason}  [{evidence.confidence:.2f}]")
    if final.context:
        lines.append("context")
        lines.extend(f"  · {signal.description}" for signal in final.context)
    console.print(
        Panel("\n".join(escape(line) for line in lines), title="Assessment", expand=False)
    )


def _order(timeline: Timeline, message_id: str | None) -> int:
    for i, step in enumerate(timeline.steps):
        if step.message.id == message_id:
            return i
    return -1
