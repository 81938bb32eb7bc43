"""``cosea report`` and ``cosea playbook``: evidence packages, CyberTipline-shaped reports,
STIX, cross-platform signals and stakeholder playbooks, all written to files a person sends.

ALERT is an alert id of the service database; CASE a triage case (name, folder or
case.db). A thin layer over :mod:`cosea.report`; heavy imports happen inside commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(no_args_is_help=True)
signals_app = typer.Typer(
    no_args_is_help=True, help="Pseudonymised cross-platform signals (keyed HMAC)."
)
app.add_typer(signals_app, name="signals")

TARGET_HELP = "An alert id (service database) or a triage case (name, folder or case.db)."


def _database_option() -> str | None:
    return typer.Option(
        None, "--database-url", help="Service database (default: COSEA_DATABASE_URL or COSEA_HOME)."
    )


def _data_dir_option() -> str | None:
    return typer.Option(None, "--data-dir", help="The service's data folder (kept media).")


def _cases_option() -> Path | None:
    return typer.Option(
        None, "--cases-dir", help="Folder holding cases [default: COSEA_HOME/cases]."
    )


def _actor_option() -> str | None:
    return typer.Option(None, "--actor", help="Who makes the report (audit log) [default: you].")


def _load(target: str, database_url, data_dir, cases_dir, actor):  # type: ignore[no-untyped-def]
    from cosea.report.source import load_item

    return load_item(
        target, database_url=database_url, data_dir=data_dir, cases_dir=cases_dir, actor=actor
    )


@app.command("evidence")
def evidence_command(
    target: str = typer.Argument(..., help=TARGET_HELP),
    out: Path = typer.Option(..., "--out", help="The package to write (.zip)."),
    include_media: bool | None = typer.Option(
        None,
        "--include-media/--no-media",
        help="Put the media files in (only where the report policy allows) [default: policy].",
    ),
    database_url: str | None = _database_option(),
    data_dir: str | None = _data_dir_option(),
    cases_dir: Path | None = _cases_option(),
    actor: str | None = _actor_option(),
) -> None:
    """Write a signed evidence package: messages, transcript, media hashes, decisions, audit."""
    from cosea.report.evidence import write_evidence_package

    item = _load(target, database_url, data_dir, cases_dir, actor)
    written = write_evidence_package(item, out, include_media=include_media)
    console = Console(soft_wrap=True)
    console.print(
        f"wrote {escape(str(out))}: {written.members} members, {written.media_files} media "
        f"file(s), manifest SHA-256 {written.manifest_sha256}"
    )
    console.print(f"signed with Ed25519 key {written.key_fingerprint}")
    for note in written.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(f"check it with: cosea report verify {escape(str(out))}")


@app.command("verify")
def verify_command(
    package: Path = typer.Argument(..., help="An evidence package (.zip)."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="The sender's published public key (PEM) to pin the signer."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check the signature and every member; name each difference; exit 1 on any."""
    from cosea.report.evidence import verify_package

    result = verify_package(package, public_key)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        console = Console(soft_wrap=True)
        label = (result.item or {}).get("label", "?")
        console.print(
            f"package {escape(str(package))} ({escape(str(label))}): {result.members_checked} "
            f"member(s) checked, key {result.key_fingerprint or '-'} ({result.key_source})"
        )
        for difference in result.differences:
            console.print(f"  [red]✗[/] {escape(str(difference))}")
        if result.ok:
            console.print("[green]verified: signature good, every member unchanged[/]")
            if result.key_source == "package":
                console.print(
                    "[dim]The key inside the package was used: compare its fingerprint with the "
                    "sender's, or pass --public-key.[/]"
                    + (
                        " (It is this installation's key.)"
                        if result.signed_by_this_installation
                        else ""
                    )
                )
        else:
            console.print(f"[red]verification FAILED: {len(result.differences)} difference(s)[/]")
    if not result.ok:
        raise typer.Exit(1)


@app.command("public-key")
def public_key_command(
    out: Path | None = typer.Option(None, "--out", help="Also write the key (PEM) here."),
) -> None:
    """Print this installation's signing public key and fingerprint (to publish)."""
    from cosea.report import keys

    key = keys.signing_key()
    pem = keys.public_pem(key.public_key)
    if out is not None:
        out.write_bytes(pem)
    typer.echo(pem.decode().rstrip())
    typer.echo(f"fingerprint (SHA-256 of the raw key): {key.fingerprint}")


@app.command("cybertip")
def cybertip_command(
    target: str = typer.Argument(..., help=TARGET_HELP),
    out: Path = typer.Option(..., "--out", help="The report to write (.xml)."),
    database_url: str | None = _database_option(),
    data_dir: str | None = _data_dir_option(),
    cases_dir: Path | None = _cases_option(),
    actor: str | None = _actor_option(),
) -> None:
    """Draft a CyberTipline-shaped report (XSD-valid) and list what a person must complete."""
    from cosea.report.cybertip import write_cybertip

    item = _load(target, database_url, data_dir, cases_dir, actor)
    written = write_cybertip(item, out)
    console = Console(soft_wrap=True)
    for path in written.files:
        console.print(f"wrote {escape(str(path))} (valid against cybertip.xsd)", soft_wrap=True)
    console.print(f"[bold]Before sending, {len(written.todo)} field(s) to fill or confirm:[/]")
    for todo in written.todo:
        mark = "[yellow]fill[/]   " if todo.action == "fill" else "[cyan]confirm[/]"
        console.print(
            f"  {mark} {escape(todo.document)}: [bold]{escape(todo.field)}[/] - {escape(todo.why)}",
            soft_wrap=True,
        )
    console.print(f"the same list: {escape(str(written.todo_path))}. Nothing was sent.")


@app.command("stix")
def stix_command(
    target: str = typer.Argument(..., help=TARGET_HELP),
    out: Path = typer.Option(..., "--out", help="The bundle to write (.json)."),
    tlp: str = typer.Option("amber", "--tlp", help="clear, green, amber, amber+strict or red."),
    observed_data: bool | None = typer.Option(
        None,
        "--observed-data/--no-observed-data",
        help="Add observed-data (pseudonymised accounts, file hashes); the policy must allow it.",
    ),
    all_media: bool = typer.Option(
        False, "--all-media", help="Indicators for every file, not only files that matched a list."
    ),
    validate: bool = typer.Option(True, help="Check the bundle with stix2-validator."),
    database_url: str | None = _database_option(),
    data_dir: str | None = _data_dir_option(),
    cases_dir: Path | None = _cases_option(),
    actor: str | None = _actor_option(),
) -> None:
    """Write a STIX 2.1 bundle: sightings of the matrix's techniques and file-hash indicators."""
    from cosea.report.stix import validate_bundle, write_stix

    item = _load(target, database_url, data_dir, cases_dir, actor)
    written = write_stix(item, out, tlp=tlp, observed_data=observed_data, all_media=all_media)
    console = Console(soft_wrap=True)
    console.print(
        f"wrote {escape(str(out))}: {written.objects} objects - {written.sightings} sighting(s), "
        f"{written.indicators} indicator(s), {written.observed_data} observed-data; "
        f"TLP:{written.tlp.upper()}"
    )
    if validate:
        check = validate_bundle(out)
        if check.skipped:
            console.print("[yellow]stix2-validator is not installed; bundle not checked[/]")
        elif check.ok:
            console.print(
                f"[green]stix2-validator: no errors[/] ({len(check.warnings)} warning(s))"
            )
        else:
            for error in check.errors[:20]:
                console.print(f"  [red]✗[/] {escape(error)}")
            raise typer.Exit(1)


@app.command("hotlines")
def hotlines_command(
    country: str | None = typer.Option(
        None, "--country", help="ISO code, e.g. GB; all if left out."
    ),
    audience: str | None = typer.Option(None, "--audience", help="Only bodies for this reader."),
) -> None:
    """Hotlines and reporting bodies by country (public addresses)."""
    from rich.table import Table

    from cosea.report.hotlines import bodies_for, hotlines
    from cosea.report.playbook import audience_name

    name = audience_name(audience) if audience else None
    bodies = (
        bodies_for(country, name)
        if country
        else [b for b in hotlines() if name is None or name in b.audiences]
    )
    table = Table("country", "name", "kind", "address", title="Where to report")
    for body in bodies:
        table.add_row(body.country, escape(body.name), body.kind, body.url)
    Console(soft_wrap=True).print(table)


# -- signals --------------------------------------------------------------------------------


@signals_app.command("keygen")
def signals_keygen(
    out: Path = typer.Option(..., "--out", help="Key file to create (mode 0600)."),
) -> None:
    """Make a new key to share with a partner (out of band); both sides use the same file."""
    from cosea.report.signals import key_id, load_signals_key, new_signals_key

    new_signals_key(out)
    Console(soft_wrap=True).print(
        f"wrote {escape(str(out))}; key id {key_id(load_signals_key(out))}"
    )


@signals_app.command("export")
def signals_export(
    targets: list[str] = typer.Argument(None, help="Alert ids or cases; or use --state."),
    key_file: Path = typer.Option(..., "--key-file", help="The key shared with the partner."),
    out: Path = typer.Option(..., "--out", help="Signals file to write (.jsonl)."),
    state: list[str] = typer.Option(
        [], "--state", help="Also every alert in this state, e.g. confirmed (repeat)."
    ),
    source: str | None = typer.Option(None, "--source", help="Your organisation's name."),
    database_url: str | None = _database_option(),
    data_dir: str | None = _data_dir_option(),
    cases_dir: Path | None = _cases_option(),
    actor: str | None = _actor_option(),
) -> None:
    """Export the suspects of alerts or cases as pseudonymised signals."""
    from cosea.errors import InputError
    from cosea.report.signals import export_signals
    from cosea.report.source import load_item

    chosen = list(targets or [])
    if state:
        from sqlalchemy import select

        from cosea.report.source import _service_runtime
        from cosea.service.models import ServiceAlert

        runtime = _service_runtime(database_url, data_dir)
        table = ServiceAlert.__table__
        with runtime.engine.connect() as connection:
            chosen += [
                str(i)
                for i in connection.execute(
                    select(table.c.id).where(table.c.state.in_(state)).order_by(table.c.id)
                ).scalars()
                if str(i) not in chosen
            ]
    if not chosen:
        raise InputError(None, "nothing to export: name alerts or cases, or give --state")
    items = [
        load_item(t, database_url=database_url, data_dir=data_dir, cases_dir=cases_dir, actor=actor)
        for t in chosen
    ]
    written = export_signals(items, key_file, out, source=source)
    Console(soft_wrap=True).print(
        f"wrote {escape(str(out))}: {written.signals} signal(s) from {len(items)} item(s), "
        f"key id {written.key_id}"
    )


@signals_app.command("import")
def signals_import(
    file: Path = typer.Argument(..., help="A partner's signals file (.jsonl)."),
    key_file: Path = typer.Option(..., "--key-file", help="The key shared with the partner."),
    case: list[str] = typer.Option([], "--case", help="Also match a triage case's accounts."),
    no_service: bool = typer.Option(
        False, "--no-service", help="Do not read the service database."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the overlaps as JSON."),
    database_url: str | None = _database_option(),
    cases_dir: Path | None = _cases_option(),
    actor: str | None = _actor_option(),
) -> None:
    """Match a partner's signals against local accounts and files; report the overlaps."""
    from rich.table import Table

    from cosea.report.signals import import_signals
    from cosea.report.source import load_case

    cases = [load_case(name, cases_dir=cases_dir, actor=actor) for name in case]
    result = import_signals(
        file,
        key_file,
        database_url=database_url,
        cases=cases,
        actor=actor,
        use_service=not no_service,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    console = Console(soft_wrap=True)
    console.print(
        f"{result.signals} signal(s) from {escape(str(result.source or 'a partner'))} checked "
        f"against {result.local_accounts} local account(s) and {result.local_files} file hash(es)"
    )
    if not result.overlaps:
        console.print("no overlap found")
        return
    table = Table("signal", "matched on", "strength", "local", "techniques", title="Overlaps")
    for overlap in result.overlaps:
        local = overlap.local
        if overlap.kind == "file":
            hashes = sorted({part.split(":")[0] for part in overlap.matched.split(", ")})
            matched_on = f"file ({', '.join(hashes)})"
            where = f"{local.get('where')} " + (
                f"media {local.get('media')}"
                + (f" (alert {local['alert']})" if local.get("alert") else "")
                if "media" in local
                else str(local.get("file"))
            )
        else:
            matched_on = overlap.kind
            alerts = ", ".join(map(str, local.get("alerts") or []))
            where = (
                f"{local.get('where')} {local.get('platform') or ''} conversation "
                f"{local.get('conversation')} account {local.get('account')}"
                + (f" (alerts {alerts})" if alerts else "")
            )
        table.add_row(
            overlap.signal,
            matched_on,
            overlap.strength,
            escape(where),
            ", ".join(overlap.techniques),
        )
    console.print(table)
    console.print(
        "[dim]An overlap is a lead for a person to check, not proof of identity; display names "
        "are weak evidence.[/]"
    )


# -- playbook -------------------------------------------------------------------------------


def playbook_command(
    target: str | None = typer.Argument(None, help="Alert id or case (or use --technique)."),
    audience: str = typer.Option(
        "platform",
        "--audience",
        help="parents, platform, law-enforcement, social-services or schools.",
    ),
    country: str | None = typer.Option(
        None, "--country", help="ISO country code for where to report (e.g. GB, US)."
    ),
    technique: list[str] = typer.Option(
        [], "--technique", "-t", help="Technique ids instead of an alert or case (repeat)."
    ),
    markdown: Path | None = typer.Option(None, "--markdown", help="Also write it as Markdown."),
    as_json: bool = typer.Option(False, "--json", help="Print it as JSON."),
    database_url: str | None = _database_option(),
    cases_dir: Path | None = _cases_option(),
    actor: str | None = _actor_option(),
) -> None:
    """Recommended actions for each stakeholder, and where to report."""
    from cosea.errors import InputError
    from cosea.report.playbook import build_playbook

    item = None
    if target:
        item = _load(target, database_url, None, cases_dir, actor)
        techniques = item.technique_ids()
    elif technique:
        techniques = [t.strip() for t in technique if t.strip()]
    else:
        raise InputError(None, "name an alert or case, or give --technique")
    playbook = build_playbook(techniques, audience, country, item=item)
    if markdown is not None:
        markdown.write_text(playbook.to_markdown(), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(playbook.to_dict(), indent=2, ensure_ascii=False))
        return
    playbook.render(Console())
