"""The reports step of ``cosea demo``: from a confirmed demo alert to every output.

The demo gets its own embedded SQLite database under the output folder. Two of the
chats capability's demo conversations (short, non-graphic warning-sign phrases only)
are streamed into the service message by message, two generated benign pictures
(abstract compositions, never photographs) are matched against a demo hash list made
from one of them, and a demo reviewer decides. From the resulting alert the demo
writes an evidence package and verifies it, a CyberTipline-shaped report validated
against the project's XSD, a STIX 2.1 bundle checked with stix2-validator, pseudonymised
signals, and playbooks; with the triage demo's case present, a STIX bundle for it too.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from rich.console import Console

DEMO_LIST = "report-demo-known"
DEMO_CONVERSATIONS = ("demo-en-01", "demo-en-02")
DEMO_REVIEWER = "demo-reviewer"
SEEDED_SETTING = "report_demo_alerts"


def demo_runtime(folder: Path) -> Any:
    """A service runtime on its own SQLite database and media folder under ``folder``."""
    from cosea.service.config import ServiceConfig
    from cosea.service.runtime import ServiceRuntime

    folder.mkdir(parents=True, exist_ok=True)
    config = ServiceConfig(
        database_url=f"sqlite:///{folder / 'cosea-report-demo.db'}",
        data_dir=str(folder),
        run_dispatcher=False,
    )
    return ServiceRuntime(config)


def _jpeg(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


def seed_demo_alerts(runtime: Any) -> dict[str, int]:
    """Stream the demo conversations in, match demo pictures, decide; returns alert ids."""
    from cosea.chats.demo import demo_conversations_path
    from cosea.chats.io import read_conversations
    from cosea.media.demo import benign_picture
    from cosea.media.lists import ListStore
    from cosea.service import alerts, media
    from cosea.service.conversations import ingest_messages
    from cosea.service.runtime import get_setting, set_setting, user_principal
    from cosea.service.security import Principal

    seeded = get_setting(runtime.engine, SEEDED_SETTING)
    if seeded:
        return {str(k): int(v) for k, v in seeded.items()}
    conversations = {
        c.id: c
        for c in read_conversations([demo_conversations_path()], reader="jsonl")
        if c.id in DEMO_CONVERSATIONS
    }
    found: dict[str, int] = {}
    for conversation_id in DEMO_CONVERSATIONS:
        conversation = conversations[conversation_id]
        result = None
        for message in conversation.messages:  # one by one, as a platform streams them
            result = ingest_messages(
                runtime,
                platform=conversation.platform or "demo",
                conversation_id=conversation.id,
                messages=[message],
                participants=conversation.participants,
                language=conversation.language,
            )
        if result is not None and result.alert_id is not None:
            found[conversation_id] = result.alert_id

    pictures = [_jpeg(benign_picture(seed, (320, 240))) for seed in (7101, 7102)]
    known = media.hash_upload(pictures[0])
    store = ListStore(runtime.engine)
    if not store.has_list(DEMO_LIST):
        store.create_list(
            DEMO_LIST,
            description="Hashes of a generated, benign demo picture",
            source="cosea report demo",
        )
        store.add_entries(
            DEMO_LIST,
            [
                {"signal": signal, "hash": known.hashes[signal], "category": "of-concern"}
                for signal in ("sha256", "pdq")
                if known.hashes.get(signal)
            ],
        )
    if runtime.matchers is not None:
        runtime.matchers.invalidate()
    sextortion = conversations["demo-en-02"]
    platform = Principal(
        kind="apikey",
        id=0,
        name="demo-platform",
        role="platform",
        permissions=frozenset({"media:match"}),
        platform=sextortion.platform,
    )
    for number, data in enumerate(pictures, start=1):
        hashes = media.hash_upload(data)
        media.record_match(
            runtime,
            platform,
            hashes=hashes,
            matches=media.find_matches(runtime, hashes, None, False),
            data=data,
            keep=True,
            filename=f"IMG_{number:04d}.jpg",
            content_type="image/jpeg",
            conversation_id=sextortion.id,
            message_id=sextortion.messages[-1].id,
        )
    reviewer = user_principal(0, DEMO_REVIEWER, "reviewer")
    if "demo-en-01" in found:
        alerts.decide(
            runtime,
            reviewer,
            found["demo-en-01"],
            "confirm",
            "Age probing, secrecy and an image request from an adult account: confirmed.",
        )
    if "demo-en-02" in found:
        alerts.decide(
            runtime,
            reviewer,
            found["demo-en-02"],
            "escalate",
            "Threat to share images and a demand for money: escalate for reporting.",
        )
    set_setting(runtime.engine, SEEDED_SETTING, found)
    return found


def run_demo(out: Path, console: Console) -> dict[str, Any]:
    """Evidence package (verified), CyberTipline XML (XSD), STIX (validator), signals and
    playbooks from a demo alert, all under ``out``."""
    from cosea.report.cybertip import validate_cybertip, write_cybertip
    from cosea.report.evidence import verify_package, write_evidence_package
    from cosea.report.playbook import build_playbook
    from cosea.report.signals import export_signals, new_signals_key
    from cosea.report.source import load_alert, load_case
    from cosea.report.stix import validate_bundle, write_stix

    started = time.monotonic()
    out = Path(out)
    folder = out / "report"
    folder.mkdir(parents=True, exist_ok=True)
    runtime = demo_runtime(folder / "service")
    found = seed_demo_alerts(runtime)
    if not found:
        raise RuntimeError("the demo conversations raised no alert")
    alert_id = found.get("demo-en-02") or next(iter(found.values()))
    item = load_alert(alert_id, runtime=runtime, actor=DEMO_REVIEWER)
    console.print(
        f"[bold]report[/] alert {alert_id}: {item.cls}, risk {item.risk}, "
        f"{sum(len(c.messages) for c in item.conversations)} messages, {len(item.media)} media"
    )

    package = folder / f"evidence-alert-{alert_id}.zip"
    written = write_evidence_package(item, package)
    verification = verify_package(package)
    console.print(
        f"[bold]report[/] evidence package {package} ({written.members} members, signed by "
        f"{written.key_fingerprint[:16]}…): "
        + ("[green]verified[/]" if verification.ok else "[red]verification failed[/]")
    )

    tip_path = folder / f"cybertip-alert-{alert_id}.xml"
    tip = write_cybertip(item, tip_path)
    tip_problems = [p for path in tip.files for p in validate_cybertip(path)]
    console.print(
        f"[bold]report[/] CyberTipline-shaped report {tip_path} (+{len(tip.files) - 1} "
        f"fileDetails): XSD "
        + ("[green]valid[/]" if not tip_problems else f"[red]{len(tip_problems)} problem(s)[/]")
        + f"; {len(tip.todo)} field(s) for the reviewer to fill, listed in {tip.todo_path.name}"
    )

    bundle_path = folder / f"stix-alert-{alert_id}.json"
    bundle = write_stix(item, bundle_path, tlp="amber")
    stix_check = validate_bundle(bundle_path)
    console.print(
        f"[bold]report[/] STIX 2.1 bundle {bundle_path} ({bundle.objects} objects, TLP:AMBER): "
        + (
            "[yellow]stix2-validator not installed[/]"
            if stix_check.skipped
            else "[green]stix2-validator: no errors[/]"
            if stix_check.ok
            else f"[red]{len(stix_check.errors)} validator error(s)[/]"
        )
    )

    key_path = folder / "partners.key"
    if not key_path.exists():
        new_signals_key(key_path)
    signals_path = folder / "signals.jsonl"
    signals = export_signals([item], key_path, signals_path, source="cosea demo")
    console.print(
        f"[bold]report[/] {signals.signals} pseudonymised signal(s) for partners: {signals_path}"
    )

    playbooks = {}
    for audience, country in (("parents", "GB"), ("platform", "US")):
        playbook = build_playbook(item.technique_ids(), audience, country, item=item)
        path = folder / f"playbook-{audience}.md"
        path.write_text(playbook.to_markdown(), encoding="utf-8")
        playbooks[audience] = str(path)
    console.print(f"[bold]report[/] playbooks: {', '.join(playbooks.values())}")

    case_bundle = None
    case_folder = out / "triage-cases"
    if (case_folder / "demo" / "case.db").is_file():
        case_item = load_case("demo", cases_dir=case_folder, actor=DEMO_REVIEWER)
        case_path = folder / "stix-case-demo.json"
        write_stix(case_item, case_path, tlp="green")
        case_bundle = str(case_path)
        console.print(f"[bold]report[/] STIX bundle for the triage demo case: {case_path}")

    return {
        "alert": alert_id,
        "alerts": found,
        "evidence_package": str(package),
        "verified": verification.ok,
        "cybertip": str(tip_path),
        "cybertip_valid": not tip_problems,
        "cybertip_todo": len(tip.todo),
        "stix": str(bundle_path),
        "stix_valid": stix_check.ok,
        "signals": str(signals_path),
        "playbooks": playbooks,
        "case_stix": case_bundle,
        "seconds": round(time.monotonic() - started, 2),
    }
