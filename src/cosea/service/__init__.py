"""Service: the API for platforms and the reviewer console.

>>> from cosea.service import ServiceConfig, create_app
>>> app = create_app(ServiceConfig())      # FastAPI app; run with uvicorn

``cosea serve`` runs it; ``cosea service`` (``cosea.service.cli.admin_app``)
administers users, API keys, retention and the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosea._exports import lazy_getattr

if TYPE_CHECKING:
    from cosea.service.app import create_app
    from cosea.service.config import ServiceConfig
    from cosea.service.runtime import ServiceRuntime

__all__ = ["ServiceConfig", "ServiceRuntime", "create_app"]
_EXPORTS = {
    "create_app": "cosea.service.app",
    "ServiceConfig": "cosea.service.config",
    "ServiceRuntime": "cosea.service.runtime",
}


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
