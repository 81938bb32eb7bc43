"""The FastAPI application: API, console, health checks, OpenAPI docs (served offline)."""

from __future__ import annotations

import functools
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from cosea import __version__
from cosea.service import problems
from cosea.service.config import ServiceConfig
from cosea.service.problems import PROBLEM_JSON
from cosea.service.runtime import ServiceRuntime

log = logging.getLogger("cosea.service")
STATIC_DIR = resources.files("cosea.service") / "static"

# Paths whose bodies may be large uploads; everything else is held to max_json_bytes.
UPLOAD_PATHS = ("/v1/media:match", "/v1/conversations:analyze")

DESCRIPTION = """\
The cosea service: platforms stream messages and media in; reviewers work an alert
queue in the console; every access is audited.

Authenticate with an API key: `Authorization: Bearer csk_...`. Errors are RFC 9457
problem details (`application/problem+json`).
"""

CONSOLE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


class _BodyTooLarge(Exception):
    pass


class LimitsAndHeaders:
    """Pure ASGI middleware: request size limits and security headers (cheap per request)."""

    def __init__(self, app: Any, config: ServiceConfig) -> None:
        self.app = app
        self.json_limit = config.max_json_bytes
        self.upload_limit = config.max_upload_bytes

    def _limit_for(self, path: str) -> int:
        if path in UPLOAD_PATHS or path.endswith("/import"):
            return self.upload_limit
        return self.json_limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self._limit_for(path)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await self._too_large(send, path, limit)
                    return
        received = 0
        started = False
        exceeded = False

        async def limited_receive() -> dict:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Frameworks turn errors while reading a body into their own 400;
                    # flag it and answer 413 in place of whatever the app then sends.
                    exceeded = True
                    raise _BodyTooLarge
            return message

        console = path.startswith("/console") or path == "/"

        async def send_with_headers(message: dict) -> None:
            nonlocal started
            if exceeded:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._too_large(send, path, limit)
                return
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                if console:
                    # A page that sets its own policy (the sandboxed matrix view) keeps it.
                    if not any(name == b"content-security-policy" for name, _ in headers):
                        headers.append((b"content-security-policy", CONSOLE_CSP.encode()))
                    headers.append((b"cache-control", b"no-store"))
                    if not path.startswith("/console/matrix/view"):
                        headers.append((b"x-frame-options", b"DENY"))
                elif path.startswith("/v1/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            if not started:
                started = True
                await self._too_large(send, path, limit)

    async def _too_large(self, send: Any, path: str, limit: int) -> None:
        body = json.dumps(
            {
                "type": "urn:cosea:problem:too-large",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"the request body is larger than this endpoint accepts ({limit} bytes)",
                "instance": path,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(
    config: ServiceConfig | None = None, *, runtime: ServiceRuntime | None = None
) -> FastAPI:
    """Build the application; the database is migrated and the analyser loaded on creation."""
    config = config or ServiceConfig.from_env()
    runtime = runtime or ServiceRuntime(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from cosea.service.webhooks import Dispatcher

        if config.run_dispatcher and runtime.dispatcher is None:
            runtime.dispatcher = Dispatcher(runtime)
            runtime.dispatcher.start()
        # Everything loaded so far (model, recognizers, matrix) lives as long as the
        # worker: keep it out of the garbage collector's full passes.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if runtime.dispatcher is not None:
                runtime.dispatcher.stop()
                runtime.dispatcher = None
            runtime.writer.stop()
            runtime.readers.close()

    app = FastAPI(
        title="cosea service",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    problems.install(app)

    from cosea.service.api import router as api_router
    from cosea.service.console import install_handlers
    from cosea.service.console import router as console_router

    app.include_router(api_router)
    app.include_router(console_router)
    install_handlers(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="cosea service API",
            swagger_js_url="/static/swagger_ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger_ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/healthz", tags=["health"], summary="Alive")
    def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", tags=["health"], summary="Database and indexes ready")
    def readyz() -> Response:
        checks = readiness(runtime)
        ready = all(check["ok"] for check in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/", include_in_schema=False)
    def root(request: Request) -> Response:
        return RedirectResponse("/console", status_code=303)

    app.add_middleware(LimitsAndHeaders, config=config)
    return app


@functools.cache
def _migration_heads() -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(resources.files("cosea.storage") / "migrations"))
    config.set_main_option("path_separator", "os")
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def readiness(runtime: ServiceRuntime) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            heads = {
                row[0]
                for row in connection.execute(text("SELECT version_num FROM alembic_version"))
            }
        expected = _migration_heads()
        missing = sorted(expected - heads)
        checks["database"] = {
            "ok": not missing,
            "dialect": runtime.engine.dialect.name,
            "migrations": sorted(heads),
            **({"not_applied": missing} if missing else {}),
        }
    except Exception as error:  # readiness reports; it never raises
        checks["database"] = {"ok": False, "error": str(error)}
    info = runtime.analyzers.info
    checks["analyzer"] = {"ok": True, "engine": info.name, "model": info.model_id}
    try:
        from cosea.service.media import MatcherCache

        if runtime.matchers is None:
            runtime.matchers = MatcherCache(runtime)
        names = tuple(sorted(runtime.matchers.list_names()))
        if names:
            runtime.matchers.matcher(names, False)
        checks["hash_index"] = {"ok": True, "lists": list(names)}
    except Exception as error:
        checks["hash_index"] = {"ok": False, "error": str(error)}
    return checks


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes."""
    return create_app(ServiceConfig.from_env())
