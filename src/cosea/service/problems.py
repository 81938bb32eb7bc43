"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cosea.errors import CoseaError, InputError, NotFound, ValidationFailed

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title
        self.headers = headers
        self.extensions = extensions


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:cosea:problem:{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        return parts[0] + ("." + ".".join(parts[1:]) if len(parts) > 1 else "")
    return ".".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.detail,
            slug=exc.slug,
            title=exc.title,
            headers=exc.headers,
            **exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": _location(error.get("loc", ())), "problem": error.get("msg", "")}
            for error in exc.errors()
        ]
        summary = "; ".join(f"{e['location']}: {e['problem']}" for e in errors[:5])
        return problem_response(
            request,
            422,
            f"the request is not valid: {summary}",
            slug="validation-error",
            title="Request validation failed",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            request,
            exc.status_code,
            str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem_response(request, 404, str(exc), slug="not-found")

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        extensions: dict[str, Any] = {"source": exc.source}
        if exc.line is not None:
            extensions["line"] = exc.line
        if exc.entry:
            extensions["entry"] = exc.entry
        return problem_response(
            request, 422, str(exc), slug="bad-input", title="Input could not be read", **extensions
        )

    @app.exception_handler(ValidationFailed)
    async def _validation_failed(request: Request, exc: ValidationFailed) -> JSONResponse:
        return problem_response(
            request,
            422,
            str(exc),
            slug="bad-input",
            title="Input could not be read",
            errors=exc.problems,
        )

    @app.exception_handler(CoseaError)
    async def _cosea(request: Request, exc: CoseaError) -> JSONResponse:
        return problem_response(request, 400, str(exc), slug="bad-request")
