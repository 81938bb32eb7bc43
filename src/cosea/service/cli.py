"""``cosea serve`` and the ``cosea service`` admin commands (users, keys, retention, audit).

Heavy imports happen inside the commands so ``cosea --help`` stays fast.
"""

from __future__ import annotations

import os

import typer

admin_app = typer.Typer(
    no_args_is_help=True, help="Administer the service: users, API keys, retention, audit."
)


def _runtime(database_url: str | None = None):  # type: ignore[no-untyped-def]
    from cosea.service.config import ServiceConfig
    from cosea.service.runtime import ServiceRuntime

    config = ServiceConfig.from_env()
    if database_url:
        config.database_url = database_url
    return ServiceRuntime(config)


def _console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console()


def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Load demo data and print a login."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (uvicorn)."),
    database_url: str | None = typer.Option(
        None, help="Database URL (default: COSEA_DATABASE_URL, else SQLite in COSEA_HOME)."
    ),
    retention_days: float | None = typer.Option(None, min=0.01, help="Retention period."),
    webhook_allow_private: bool = typer.Option(
        False, help="Allow webhooks to loopback and private addresses."
    ),
    secure_cookies: str = typer.Option(
        "auto", help="auto (Secure on https), always (behind a TLS proxy), never."
    ),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
) -> None:
    """Run the API and the reviewer console."""
    import uvicorn

    from cosea import settings
    from cosea.service.config import CONFIG_ENV, ServiceConfig

    config = ServiceConfig.from_env()
    config.workers = workers
    config.secure_cookies = secure_cookies
    config.webhook_allow_private = webhook_allow_private or config.webhook_allow_private
    if retention_days is not None:
        config.retention_days = retention_days
    if database_url:
        config.database_url = database_url
    if demo and not (database_url or os.environ.get("COSEA_DATABASE_URL")):
        # The demo gets its own database so it never mixes with real data.
        demo_home = settings.home() / "demo"
        demo_home.mkdir(parents=True, exist_ok=True)
        config.database_url = f"sqlite:///{demo_home / 'cosea-demo.db'}"
        config.data_dir = str(demo_home)
    console = _console()
    # Migrate once here, before any worker starts.
    from cosea.service.runtime import ServiceRuntime

    runtime = ServiceRuntime(config)
    if demo:
        from cosea.service.demo import load_demo

        with console.status("loading demo data..."):
            summary = load_demo(runtime)
        _print_demo(console, summary, host, port)
    console.print(
        f"[bold]cosea service[/] on http://{host}:{port}  "
        f"console: http://{host}:{port}/console  API docs: http://{host}:{port}/docs  "
        f"({workers} worker{'s' if workers > 1 else ''}, {runtime.engine.dialect.name})",
        soft_wrap=True,
    )
    if workers == 1:
        from cosea.service.app import create_app

        uvicorn.run(create_app(config, runtime=runtime), host=host, port=port, log_level=log_level)
        return
    runtime.engine.dispose()
    os.environ[CONFIG_ENV] = config.to_env()
    uvicorn.run(
        "cosea.service.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


def _print_demo(console, summary: dict, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    roles = {
        "reviewer": "works the alert queue",
        "analyst": "techniques and statistics, pseudonymised",
        "auditor": "the audit log",
        "admin": "users, keys, lists",
    }
    console.print("[bold]Demo logins[/] (generated now, shown once):")
    for username, password in summary["logins"].items():
        console.print(
            f"  {username:<9} password  [bold]{password}[/]   ({roles.get(username, '')})",
            highlight=False,
        )
    if summary.get("loaded_now"):
        console.print(
            f"demo data: {summary.get('conversations', 0)} conversations streamed in, "
            f"{summary.get('media', 0)} benign pictures matched against list 'demo-known'"
        )
        console.print(
            f"demo platform API key (shown once): {summary.get('api_key')}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"Open http://{host}:{port}/console and log in as [bold]reviewer[/] to work the queue.",
        soft_wrap=True,
    )


@admin_app.command("user-add")
def user_add(
    username: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., help="admin, reviewer, analyst or auditor."),
    password: str | None = typer.Option(
        None, help="Password (12+ characters); generated and printed when left out."
    ),
    database_url: str | None = typer.Option(None, help="Database URL."),
) -> None:
    """Create a console user."""
    from cosea.service import accounts
    from cosea.service.security import generate_password

    runtime = _runtime(database_url)
    generated = password is None
    password = password or generate_password()
    accounts.create_user(runtime.engine, username, password, role)
    console = _console()
    console.print(f"user [bold]{username}[/] ({role}) created")
    if generated:
        console.print(f"password: [bold]{password}[/]  (shown once)")


@admin_app.command("user-password")
def user_password(
    username: str,
    password: str | None = typer.Option(None, help="New password; generated when left out."),
    database_url: str | None = typer.Option(None),
) -> None:
    """Set a new password (ends the user's sessions)."""
    from cosea.service import accounts
    from cosea.service.security import generate_password

    runtime = _runtime(database_url)
    generated = password is None
    password = password or generate_password()
    accounts.set_password(runtime.engine, username, password, actor="system:cli")
    _console().print(
        f"password changed for {username}" + (f": [bold]{password}[/]" if generated else "")
    )


@admin_app.command("user-disable")
def user_disable(
    username: str,
    enable: bool = typer.Option(False, "--enable", help="Enable again instead."),
    database_url: str | None = typer.Option(None),
) -> None:
    """Disable (or enable) a user; disabling ends their sessions."""
    from cosea.service import accounts

    accounts.set_disabled(_runtime(database_url).engine, username, not enable, actor="system:cli")
    _console().print(f"{username} {'enabled' if enable else 'disabled'}")


@admin_app.command("users")
def users(database_url: str | None = typer.Option(None)) -> None:
    """List console users."""
    from rich.table import Table

    from cosea.service import accounts

    table = Table("username", "role", "status", "last login")
    for user in accounts.list_users(_runtime(database_url).engine):
        table.add_row(
            user["username"],
            user["role"],
            "disabled" if user["disabled"] else "active",
            user["last_login_at"] or "never",
        )
    _console().print(table)


@admin_app.command("key-create")
def key_create(
    name: str = typer.Argument(..., help="A name for the key (e.g. the integration)."),
    platform: str = typer.Option(..., help="The platform the key acts for."),
    scope: list[str] = typer.Option(
        [],
        help="A scope (repeat); default: messages:write, conversations:analyze, media:match, "
        "alerts:read, webhooks:manage.",
    ),
    rate: float | None = typer.Option(None, help="Requests per second (token bucket)."),
    burst: int | None = typer.Option(None, help="Burst size."),
    database_url: str | None = typer.Option(None),
) -> None:
    """Create a platform API key and print it (once)."""
    from cosea.service import accounts
    from cosea.service.security import PLATFORM_DEFAULT_SCOPES

    key_id, secret = accounts.create_api_key(
        _runtime(database_url).engine,
        name=name,
        platform=platform,
        scopes=list(scope) or list(PLATFORM_DEFAULT_SCOPES),
        rate_per_second=rate,
        burst=burst,
    )
    console = _console()
    console.print(f"key {key_id} for platform [bold]{platform}[/]:")
    console.print(secret, highlight=False, soft_wrap=True)


@admin_app.command("key-revoke")
def key_revoke(key_id: int, database_url: str | None = typer.Option(None)) -> None:
    """Revoke an API key (other workers notice within a few seconds)."""
    from cosea.service import accounts

    accounts.revoke_api_key(_runtime(database_url).engine, key_id)
    _console().print(f"key {key_id} revoked")


@admin_app.command("keys")
def keys(database_url: str | None = typer.Option(None)) -> None:
    """List API keys (never the keys themselves)."""
    from rich.table import Table

    from cosea.service import accounts

    table = Table("id", "name", "platform", "scopes", "status", "last used")
    for key in accounts.list_api_keys(_runtime(database_url).engine):
        table.add_row(
            str(key["id"]),
            key["name"],
            key["platform"],
            ", ".join(key["scopes"]),
            "revoked" if key["revoked_at"] else "active",
            key["last_used_at"] or "never",
        )
    _console().print(table)


@admin_app.command("purge")
def purge(
    older_than: float | None = typer.Option(
        None, help="Days; default: the configured retention period."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would go."),
    database_url: str | None = typer.Option(None),
) -> None:
    """Purge message text and kept media past retention (alerts and cases hold theirs)."""
    from cosea.service.retention import purge as run_purge

    report = run_purge(
        _runtime(database_url), older_than_days=older_than, dry_run=dry_run, actor="system:cli"
    )
    data = report.to_dict()
    _console().print(
        f"{'would purge' if dry_run else 'purged'}: {data['messages_purged']} message texts, "
        f"{data['media_files_purged']} media files older than {data['cutoff']}; "
        f"{data['expired_sessions_removed']} expired sessions",
        soft_wrap=True,
    )


@admin_app.command("audit-verify")
def audit_verify(database_url: str | None = typer.Option(None)) -> None:
    """Verify the audit log's hash chain; exit 1 when it is broken."""
    from cosea.service import audit

    runtime = _runtime(database_url)
    with runtime.engine.connect() as connection:
        result = audit.verify(connection)
    console = _console()
    if result.ok:
        console.print(f"audit log intact: {result.entries} entries")
        return
    console.print(f"[bold red]audit log broken[/]: {len(result.problems)} problem(s)")
    for problem in result.problems[:50]:
        console.print(f"  - {problem}")
    raise typer.Exit(code=1)
