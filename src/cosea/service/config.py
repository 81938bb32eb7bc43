"""The service's configuration: defaults, overridden by ``COSEA_SERVICE_*`` variables.

Worker processes started by uvicorn receive the configuration as JSON in
``COSEA_SERVICE_CONFIG`` (see :func:`ServiceConfig.to_env`), so every worker
runs with exactly what ``cosea serve`` was given.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cosea import settings

CONFIG_ENV = "COSEA_SERVICE_CONFIG"


@dataclass(slots=True)
class ServiceConfig:
    database_url: str | None = None  # None: the configured cosea database
    data_dir: str | None = None  # kept media files; None: <COSEA_HOME>/service
    # Request limits
    max_json_bytes: int = 1 << 20
    max_upload_bytes: int = 32 << 20
    max_messages_per_request: int = 1000
    # Token bucket per API key (and per console user), per worker process
    rate_per_second: float = 200.0
    burst: int = 400
    # API keys are cached briefly so a request needs no key lookup; revocation
    # reaches other worker processes within this many seconds.
    key_cache_seconds: float = 5.0
    # Sessions
    session_hours: float = 8.0
    secure_cookies: str = "auto"  # auto (Secure when the request is https) | always | never
    # Privacy
    retention_days: float = 30.0
    allow_media_storage: bool = True  # policy: may a request ask to keep the file?
    # Webhooks
    webhook_max_attempts: int = 8
    webhook_backoff_seconds: float = 2.0
    webhook_timeout_seconds: float = 5.0
    webhook_poll_seconds: float = 1.0
    webhook_allow_private: bool = False  # allow loopback/private addresses as targets
    run_dispatcher: bool = True
    # Media
    alert_categories: list[str] = field(default_factory=lambda: ["*"])
    ignore_categories: list[str] = field(default_factory=lambda: ["known-benign"])
    workers: int = 1

    @property
    def media_dir(self) -> Path:
        base = Path(self.data_dir) if self.data_dir else settings.home() / "service"
        path = base / "media"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def resolved_database_url(self) -> str:
        return self.database_url or settings.database_url()

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServiceConfig:
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        if environ.get(CONFIG_ENV):
            values.update(json.loads(environ[CONFIG_ENV]))
        for spec in fields(cls):
            name = f"COSEA_SERVICE_{spec.name.upper()}"
            if name in environ:
                values[spec.name] = _parse(environ[name], getattr(cls(), spec.name))
        return cls(**values)


def _parse(text: str, default: Any) -> Any:
    if isinstance(default, bool):
        return text.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    if isinstance(default, list):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text
