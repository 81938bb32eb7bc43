"""The platform API (``/v1``): messages, conversations, media, lists, alerts, webhooks,
audit and administration. OpenAPI at ``/docs``."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select, update

from cosea.errors import CoseaError, InputError, NotFound, ValidationFailed
from cosea.service import accounts, alerts, audit, media, retention, webhooks
from cosea.service.alerts import AlertQuery, Conflict
from cosea.service.conversations import ingest_messages, ingest_messages_async
from cosea.service.deps import require, runtime_dependency
from cosea.service.models import Webhook, WebhookDelivery
from cosea.service.problems import Problem
from cosea.service.runtime import ServiceRuntime, set_setting
from cosea.service.security import PLATFORM_DEFAULT_SCOPES, SCOPES, Principal
from cosea.types import Message, Participant

router = APIRouter(prefix="/v1")
_hooks = Webhook.__table__
_deliveries = WebhookDelivery.__table__


# ---- request bodies ------------------------------------------------------------------


class MessageIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="the platform's message id")
    sender: str = Field(alias="from", min_length=1, max_length=200, description="participant id")
    text: str = Field(default="", max_length=20_000)
    ts: datetime | None = Field(default=None, description="ISO 8601 with a zone")
    attachments: list[str] = Field(default_factory=list, max_length=50)

    def to_message(self, conversation_id: str) -> Message:
        return Message(
            id=self.id,
            sender=self.sender,
            text=self.text,
            ts=self.ts,
            conversation_id=conversation_id,
            attachments=list(self.attachments),
        )


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    declared_age: int | None = Field(default=None, ge=0, le=130)
    account_created: str | None = Field(default=None, max_length=40)

    def to_participant(self) -> Participant:
        return Participant.from_dict(self.model_dump(exclude_none=True))


class MessagesIn(BaseModel):
    """One or more messages; a bare message object is accepted as a batch of one."""

    model_config = ConfigDict(extra="forbid")

    messages: list[MessageIn] = Field(min_length=1, max_length=1000)
    participants: list[ParticipantIn] | None = Field(default=None, max_length=512)
    language: str | None = Field(default=None, max_length=16)

    @model_validator(mode="before")
    @classmethod
    def _single_message(cls, data: Any) -> Any:
        if isinstance(data, dict) and "messages" not in data and ("from" in data or "id" in data):
            return {"messages": [data]}
        return data


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "dismiss", "escalate"]
    reason: str = Field(min_length=1, max_length=4000)


class HoldIn(BaseModel):
    case: str = Field(min_length=1, max_length=100)


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    scheme: str = "default"
    kind: str = "known-material"
    source: str | None = Field(default=None, max_length=200)


class DisableIn(BaseModel):
    entries: list[int | str] = Field(min_length=1, max_length=100_000)
    enable: bool = False


class HashesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hashes: dict[str, str] = Field(description="signal -> hash, e.g. {'pdq': '...'}")
    lists: list[str] | None = None
    robust: bool = False
    conversation_id: str | None = Field(default=None, max_length=200)
    message_id: str | None = Field(default=None, max_length=200)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    events: list[Literal["alert.raised", "decision.made"]] = Field(min_length=1)


class UserIn(BaseModel):
    username: str
    password: str
    role: Literal["admin", "reviewer", "analyst", "auditor"]


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    platform: str = Field(min_length=1, max_length=64)
    scopes: list[str] = Field(default_factory=lambda: list(PLATFORM_DEFAULT_SCOPES))
    rate_per_second: float | None = Field(default=None, gt=0)
    burst: int | None = Field(default=None, gt=0)


class SettingsIn(BaseModel):
    retention_days: float | None = Field(default=None, gt=0)
    allow_media_storage: bool | None = None


Runtime = Annotated[ServiceRuntime, Depends(runtime_dependency)]


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


# ---- conversations -------------------------------------------------------------------


@router.post(
    "/conversations/{conversation_id}/messages",
    tags=["conversations"],
    summary="Add messages to a conversation and get its current assessment",
)
async def post_messages(
    conversation_id: Annotated[str, PathParam(max_length=200)],
    body: MessagesIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("messages:write"))],
) -> Response:
    if len(body.messages) > runtime.config.max_messages_per_request:
        raise Problem(
            413,
            f"at most {runtime.config.max_messages_per_request} messages per request",
            slug="too-many-messages",
        )
    # Reads and analysis run on the event loop (a few hundred microseconds, cheaper than
    # a thread hop); the writes are awaited from the worker's batch writer.
    result = await ingest_messages_async(
        runtime,
        platform=principal.platform or "console",
        conversation_id=conversation_id,
        messages=[m.to_message(conversation_id) for m in body.messages],
        participants=[p.to_participant() for p in body.participants or []] or None,
        language=body.language,
    )
    return _json(result.to_dict())


@router.post(
    "/conversations:analyze",
    tags=["conversations"],
    summary="Analyse whole conversations uploaded in any supported export format",
)
async def analyze_conversations(
    request: Request,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("conversations:analyze"))],
    file: Annotated[UploadFile | None, File(description="a chat export")] = None,
    reader: Annotated[str | None, Query(description="reader name; detected when absent")] = None,
    store: Annotated[bool, Query(description="keep the conversations and raise alerts")] = True,
) -> Response:
    from starlette.concurrency import run_in_threadpool

    suffix = ""
    if file is not None:
        data = await file.read()
        suffix = Path(file.filename or "").suffix[:10]
    else:
        data = await request.body()
        content_type = request.headers.get("content-type", "")
        suffix = {
            "application/json": ".json",
            "application/x-ndjson": ".jsonl",
            "application/jsonl": ".jsonl",
            "text/csv": ".csv",
            "application/xml": ".xml",
            "text/xml": ".xml",
            "text/plain": ".txt",
        }.get(content_type.split(";")[0].strip(), "")
    if not data:
        raise Problem(422, "send a chat export as the request body or as 'file'", slug="bad-input")
    return await run_in_threadpool(
        _analyze_upload, runtime, principal, data, suffix, reader, store, file
    )


def _analyze_upload(
    runtime: ServiceRuntime,
    principal: Principal,
    data: bytes,
    suffix: str,
    reader: str | None,
    store: bool,
    file: UploadFile | None,
) -> Response:
    from cosea.chats.io import ReadReport, read_conversations

    handle, name = tempfile.mkstemp(prefix="cosea-upload-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        report = ReadReport()
        results = []
        display = (file.filename if file is not None else None) or "upload"
        try:
            for conversation in read_conversations([name], reader=reader, report=report):
                if store:
                    outcome = ingest_messages(
                        runtime,
                        platform=principal.platform or "console",
                        conversation_id=conversation.id,
                        messages=conversation.messages,
                        participants=conversation.participants,
                        language=conversation.language,
                    )
                    item = outcome.to_dict()
                    assessment = outcome.assessment
                else:
                    assessment = runtime.analyzers.analyze(conversation)
                    item = {"assessment": assessment.to_dict() if assessment else None}
                item["id"] = conversation.id
                item["prediction"] = assessment.to_prediction() if assessment else None
                results.append(item)
        except CoseaError as error:
            raise _named(error, name, display) from None
        errors = [
            {"line": e.line, "entry": e.entry, "problem": e.problem} for e in report.errors[:50]
        ]
        return _json(
            {
                "conversations": results,
                "read": {
                    "conversations": report.conversations,
                    "messages": report.messages,
                    "skipped": report.skipped,
                    "errors": errors,
                },
                "stored": store,
            }
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _named(error: CoseaError, temporary: str, display: str) -> CoseaError:
    """The same error naming the upload the client sent, not the temporary file."""
    if isinstance(error, InputError):
        return InputError(display, error.problem, line=error.line, entry=error.entry)
    if isinstance(error, ValidationFailed):
        return ValidationFailed(display, [p.replace(temporary, display) for p in error.problems])
    renamed = type(error).__new__(type(error))
    renamed.args = tuple(str(a).replace(temporary, display) for a in error.args)
    return renamed


# ---- media ---------------------------------------------------------------------------


@router.post(
    "/media:match",
    tags=["media"],
    summary="Match a file (multipart 'file') or given hashes (JSON) against the hash lists",
)
async def match_media(
    request: Request,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("media:match"))],
) -> Response:
    from starlette.concurrency import run_in_threadpool

    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=20)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(422, "multipart requests need a 'file' part", slug="bad-input")
        data = await upload.read()
        options = {
            "lists": [s for s in str(form.get("lists") or "").split(",") if s.strip()] or None,
            "robust": str(form.get("robust", "false")).lower() in {"1", "true", "yes", "on"},
            "keep": str(form.get("keep", "false")).lower() in {"1", "true", "yes", "on"},
            "conversation_id": form.get("conversation_id") or None,
            "message_id": form.get("message_id") or None,
            "filename": upload.filename,
            "content_type": upload.content_type,
        }
        return await run_in_threadpool(_match_file, runtime, principal, data, options)
    try:
        body = HashesIn.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in error.errors()]
        ) from None
    hashes = media.hashes_from_request(body.hashes)
    return await run_in_threadpool(_match_hashes, runtime, principal, hashes, body)


def _match_file(
    runtime: ServiceRuntime, principal: Principal, data: bytes, options: dict[str, Any]
) -> Response:
    if not data:
        raise Problem(422, "the uploaded file is empty", slug="bad-input")
    hashes = media.hash_upload(data, robust=options["robust"])
    matches = media.find_matches(runtime, hashes, options["lists"], options["robust"])
    outcome = media.record_match(
        runtime,
        principal,
        hashes=hashes,
        matches=matches,
        data=data,
        keep=options["keep"],
        filename=options["filename"],
        content_type=options["content_type"],
        conversation_id=options["conversation_id"],
        message_id=options["message_id"],
    )
    return _json(outcome.to_dict())


def _match_hashes(
    runtime: ServiceRuntime, principal: Principal, hashes: media.MediaHashes, body: HashesIn
) -> Response:
    matches = media.find_matches(runtime, hashes, body.lists, body.robust)
    outcome = media.record_match(
        runtime,
        principal,
        hashes=hashes,
        matches=matches,
        data=None,
        keep=False,
        filename=None,
        content_type=None,
        conversation_id=body.conversation_id,
        message_id=body.message_id,
    )
    return _json(outcome.to_dict())


# ---- lists ---------------------------------------------------------------------------


def _store(runtime: ServiceRuntime) -> Any:
    from cosea.media.lists import ListStore

    return ListStore(runtime.engine)


def _list_info(info: Any, stats: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {
        "name": info.name,
        "description": info.description,
        "scheme": info.category_scheme,
        "kind": info.kind,
        "source": info.source,
        "enabled": info.enabled,
        "created_at": info.created_at.isoformat() if info.created_at else None,
    }
    if stats is not None:
        out["stats"] = stats
    return out


def _audit(runtime: ServiceRuntime, principal: Principal, action: str, **kwargs: Any) -> None:
    with runtime.engine.begin() as connection:
        audit.append(
            connection, actor=principal.actor, actor_role=principal.role, action=action, **kwargs
        )


def _lists_changed(runtime: ServiceRuntime) -> None:
    if runtime.matchers is not None:
        runtime.matchers.invalidate()


@router.get("/lists", tags=["lists"], summary="Hash lists")
def get_lists(
    runtime: Runtime, principal: Annotated[Principal, Depends(require("lists:read"))]
) -> Response:
    return _json({"items": [_list_info(info) for info in _store(runtime).lists()]})


@router.post("/lists", tags=["lists"], summary="Create a hash list", status_code=201)
def create_list(
    body: ListIn, runtime: Runtime, principal: Annotated[Principal, Depends(require("lists:write"))]
) -> Response:
    info = _store(runtime).create_list(
        body.name, body.description, scheme=body.scheme, kind=body.kind, source=body.source
    )
    _audit(runtime, principal, "list.create", target_type="list", target_id=body.name)
    return _json(_list_info(info), 201)


@router.get("/lists/{name}", tags=["lists"], summary="One hash list with its statistics")
def get_list(
    name: str, runtime: Runtime, principal: Annotated[Principal, Depends(require("lists:read"))]
) -> Response:
    store = _store(runtime)
    return _json(_list_info(store.get_list(name), store.stats(name)))


@router.post("/lists/{name}/import", tags=["lists"], summary="Import entries from a file")
async def import_list(
    name: str,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("lists:write"))],
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form(description="text, csv, vics, nsrl or stix")] = "text",
    signal: Annotated[str | None, Form()] = None,
    category: Annotated[str | None, Form()] = None,
    source: Annotated[str | None, Form()] = None,
    skip_invalid: Annotated[bool, Form()] = False,
) -> Response:
    from starlette.concurrency import run_in_threadpool

    data = await file.read()
    suffix = Path(file.filename or "").suffix[:10]
    return await run_in_threadpool(
        _import_list,
        runtime,
        principal,
        name,
        data,
        suffix,
        file.filename or "upload",
        format,
        signal,
        category,
        source,
        skip_invalid,
    )


def _import_list(
    runtime: ServiceRuntime,
    principal: Principal,
    name: str,
    data: bytes,
    suffix: str,
    display: str,
    format_name: str,
    signal: str | None,
    category: str | None,
    source: str | None,
    skip_invalid: bool,
) -> Response:
    from cosea.media.lists import get_format, import_file

    get_format(format_name)  # unknown format: a clear error before anything is written
    handle, path = tempfile.mkstemp(prefix="cosea-list-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            report = import_file(
                _store(runtime),
                name,
                path,
                format_name,
                signal=signal,
                category=category,
                source=source,
                skip_invalid=skip_invalid,
            )
        except CoseaError as error:
            raise _named(error, path, display) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    _lists_changed(runtime)
    result = report.to_dict()
    result["source"] = display
    _audit(
        runtime,
        principal,
        "list.import",
        target_type="list",
        target_id=name,
        details={"format": format_name, "added": report.added, "file": display},
    )
    return _json(result)


@router.get("/lists/{name}/entries", tags=["lists"], summary="Entries of a list, paged")
def list_entries(
    name: str,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("lists:read"))],
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    include_disabled: bool = False,
) -> Response:
    items = []
    for entry in _store(runtime).iter_entries(
        name, enabled_only=not include_disabled, batch_size=limit + 1
    ):
        if entry.id <= after_id:
            continue
        items.append(
            {
                "id": entry.id,
                "signal": entry.signal,
                "hash": entry.hash,
                "category": entry.category,
                "source": entry.source,
                "enabled": entry.enabled,
                "series": entry.series,
                "added_at": entry.added_at.isoformat() if entry.added_at else None,
            }
        )
        if len(items) >= limit:
            break
    next_after = items[-1]["id"] if len(items) == limit else None
    return _json({"items": items, "next_after_id": next_after})


@router.post("/lists/{name}/disable", tags=["lists"], summary="Disable (or enable) entries")
def disable_entries(
    name: str,
    body: DisableIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("lists:write"))],
) -> Response:
    store = _store(runtime)
    if body.enable:
        changed = store.enable_entries(name, body.entries)
    else:
        changed = store.disable_entries(name, body.entries)
    _lists_changed(runtime)
    _audit(
        runtime,
        principal,
        "list.enable_entries" if body.enable else "list.disable_entries",
        target_type="list",
        target_id=name,
        details={"requested": len(body.entries), "changed": changed},
    )
    return _json({"changed": changed})


# ---- alerts --------------------------------------------------------------------------


def _csv(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return out or None


@router.get("/alerts", tags=["alerts"], summary="The alert queue: filter, sort, page")
def list_alerts(
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    state: Annotated[list[str] | None, Query(description="open, confirmed, ...")] = None,
    cls: Annotated[list[str] | None, Query(alias="class")] = None,
    platform: str | None = None,
    min_risk: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_risk: Annotated[float | None, Query(ge=0, le=1)] = None,
    sort: Annotated[str, Query(description="fields risk, age, updated; '-' for descending")] = (
        "-risk,age"
    ),
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    query = AlertQuery(
        state=_csv(state),
        cls=_csv(cls),
        platform=platform,
        min_risk=min_risk,
        max_risk=max_risk,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    return _json(alerts.list_alerts(runtime, principal, query))


@router.get("/alerts:export", tags=["alerts"], summary="Alerts with pseudonymised identifiers")
def export_alerts(
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    state: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    items = alerts.export_alerts(
        runtime, principal, AlertQuery(state=_csv(state), limit=limit, sort="age")
    )
    return _json({"items": items})


@router.get("/alerts/{alert_id}", tags=["alerts"], summary="One alert (audited)")
def get_alert(
    alert_id: int,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    include: Annotated[str, Query(description="comma list: messages, media")] = "",
) -> Response:
    parts = {p.strip() for p in include.split(",") if p.strip()}
    unknown = parts - {"messages", "media"}
    if unknown:
        raise Problem(422, f"include: unknown parts {sorted(unknown)}", slug="validation-error")
    if parts & {"messages"} and not principal.can("messages:read"):
        raise Problem(403, "reading message text needs messages:read", slug="forbidden")
    if parts & {"media"} and not (principal.can("media:read") or principal.kind == "apikey"):
        raise Problem(403, "reading media needs media:read", slug="forbidden")
    return _json(
        alerts.get_alert(
            runtime,
            principal,
            alert_id,
            include_messages="messages" in parts,
            include_media="media" in parts,
        )
    )


@router.get(
    "/alerts/{alert_id}/playbook",
    tags=["alerts"],
    summary="What each stakeholder should do about an alert, and where to report (audited)",
)
def alert_playbook(
    alert_id: int,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("alerts:read"))],
    audience: Annotated[
        str,
        Query(description="platform, law-enforcement, parents, social-services or schools"),
    ] = "platform",
    country: Annotated[
        str | None,
        Query(max_length=3, description="ISO code for where to report (default: report policy)"),
    ] = None,
) -> Response:
    from cosea.service.playbooks import alert_playbook as build

    return _json(build(runtime, principal, alert_id, audience, country))


@router.post("/alerts/{alert_id}/decision", tags=["alerts"], summary="Confirm, dismiss, escalate")
def decide(
    alert_id: int,
    body: DecisionIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("alerts:decide"))],
) -> Response:
    try:
        return _json(alerts.decide(runtime, principal, alert_id, body.decision, body.reason))
    except Conflict as error:
        raise Problem(409, str(error), slug="conflict") from None


@router.post("/alerts/{alert_id}/hold", tags=["alerts"], summary="Hold content past retention")
def hold(
    alert_id: int,
    body: HoldIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("alerts:hold"))],
) -> Response:
    return _json(alerts.hold(runtime, principal, alert_id, body.case))


@router.get("/stats/techniques", tags=["alerts"], summary="Alerts per technique (heatmap counts)")
def technique_stats(
    runtime: Runtime, principal: Annotated[Principal, Depends(require("stats:read"))]
) -> Response:
    return _json({"counts": alerts.technique_counts(runtime)})


# ---- webhooks ------------------------------------------------------------------------


def _hook_scope(principal: Principal) -> Any:
    if principal.kind == "apikey":
        return _hooks.c.platform == principal.platform
    return _hooks.c.id.is_not(None)


@router.post("/webhooks", tags=["webhooks"], summary="Register a webhook", status_code=201)
def register_webhook(
    body: WebhookIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("webhooks:manage"))],
) -> Response:
    with runtime.engine.begin() as connection:
        hook_id, secret = webhooks.register(
            connection,
            url=body.url,
            events=list(body.events),
            platform=principal.platform,
            created_by=principal.actor,
            allow_private=runtime.config.webhook_allow_private,
        )
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="webhook.create",
            target_type="webhook",
            target_id=hook_id,
            details={"url": body.url, "events": list(body.events)},
        )
    return _json(
        {"id": hook_id, "url": body.url, "events": list(body.events), "secret": secret}, 201
    )


@router.get("/webhooks", tags=["webhooks"], summary="Registered webhooks")
def list_webhooks(
    runtime: Runtime, principal: Annotated[Principal, Depends(require("webhooks:manage"))]
) -> Response:
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(_hooks).where(_hook_scope(principal))).all()
    return _json({"items": [webhooks.describe(row) for row in rows]})


def _own_hook(runtime: ServiceRuntime, principal: Principal, hook_id: int) -> Any:
    with runtime.engine.connect() as connection:
        row = connection.execute(
            select(_hooks).where(_hooks.c.id == hook_id, _hook_scope(principal))
        ).first()
    if row is None:
        raise NotFound(f"webhook {hook_id} not found")
    return row


@router.delete("/webhooks/{hook_id}", tags=["webhooks"], summary="Deactivate a webhook")
def delete_webhook(
    hook_id: int,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("webhooks:manage"))],
) -> Response:
    _own_hook(runtime, principal, hook_id)
    with runtime.engine.begin() as connection:
        connection.execute(update(_hooks).where(_hooks.c.id == hook_id).values(active=False))
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="webhook.deactivate",
            target_type="webhook",
            target_id=hook_id,
        )
    return Response(status_code=204)


@router.get("/webhooks/{hook_id}/deliveries", tags=["webhooks"], summary="Delivery log")
def webhook_deliveries(
    hook_id: int,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("webhooks:manage"))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    _own_hook(runtime, principal, hook_id)
    with runtime.engine.connect() as connection:
        rows = connection.execute(
            select(_deliveries)
            .where(_deliveries.c.webhook_id == hook_id)
            .order_by(_deliveries.c.id.desc())
            .limit(limit)
        ).all()
    return _json({"items": [webhooks.describe_delivery(row) for row in rows]})


# ---- audit ---------------------------------------------------------------------------


@router.get("/audit", tags=["audit"], summary="Browse the audit log (newest first)")
def browse_audit(
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("audit:read"))],
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    with runtime.engine.begin() as connection:
        items = audit.browse(
            connection,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before_id=before_id,
            limit=limit,
        )
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="audit.browse",
            details={"filters": {"actor": actor, "action": action, "target_id": target_id}},
        )
    return _json({"items": items})


@router.get("/audit/verify", tags=["audit"], summary="Verify the audit log's hash chain")
def verify_audit(
    runtime: Runtime, principal: Annotated[Principal, Depends(require("audit:read"))]
) -> Response:
    with runtime.engine.connect() as connection:
        result = audit.verify(connection)
    _audit(runtime, principal, "audit.verify", details={"ok": result.ok})
    return _json(result.to_dict())


# ---- administration ------------------------------------------------------------------


@router.get("/me", tags=["admin"], summary="Who am I and what may I do")
def whoami(request: Request, principal: Annotated[Principal, Depends(require())]) -> Response:
    return _json(
        {
            "actor": principal.actor,
            "kind": principal.kind,
            "role": principal.role,
            "platform": principal.platform,
            "permissions": sorted(principal.permissions),
        }
    )


@router.get("/admin/users", tags=["admin"], summary="Console users")
def get_users(
    runtime: Runtime, principal: Annotated[Principal, Depends(require("users:manage"))]
) -> Response:
    return _json({"items": accounts.list_users(runtime.engine)})


@router.post("/admin/users", tags=["admin"], summary="Create a console user", status_code=201)
def post_user(
    body: UserIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("users:manage"))],
) -> Response:
    user_id = accounts.create_user(
        runtime.engine, body.username, body.password, body.role, actor=principal.actor
    )
    return _json({"id": user_id, "username": body.username, "role": body.role}, 201)


@router.get("/admin/keys", tags=["admin"], summary="API keys (never the keys themselves)")
def get_keys(
    runtime: Runtime, principal: Annotated[Principal, Depends(require("keys:manage"))]
) -> Response:
    return _json({"items": accounts.list_api_keys(runtime.engine), "scopes": SCOPES})


@router.post("/admin/keys", tags=["admin"], summary="Create an API key", status_code=201)
def post_key(
    body: KeyIn, runtime: Runtime, principal: Annotated[Principal, Depends(require("keys:manage"))]
) -> Response:
    key_id, secret = accounts.create_api_key(
        runtime.engine,
        name=body.name,
        platform=body.platform,
        scopes=body.scopes,
        rate_per_second=body.rate_per_second,
        burst=body.burst,
        actor=principal.actor,
    )
    return _json({"id": key_id, "key": secret, "scopes": body.scopes}, 201)


@router.delete("/admin/keys/{key_id}", tags=["admin"], summary="Revoke an API key")
def revoke_key(
    key_id: int,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("keys:manage"))],
) -> Response:
    prefix = accounts.revoke_api_key(runtime.engine, key_id, actor=principal.actor)
    runtime.forget_key(prefix)
    return Response(status_code=204)


@router.post("/admin/purge", tags=["admin"], summary="Purge content past the retention period")
def purge(
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("retention:purge"))],
    older_than_days: Annotated[float | None, Query(gt=0)] = None,
    dry_run: bool = False,
) -> Response:
    report = retention.purge(
        runtime, older_than_days=older_than_days, dry_run=dry_run, actor=principal.actor
    )
    return _json(report.to_dict())


@router.get("/admin/settings", tags=["admin"], summary="Retention and media policy")
def get_settings(
    runtime: Runtime, principal: Annotated[Principal, Depends(require("users:manage"))]
) -> Response:
    return _json(
        {
            "retention_days": runtime.retention_days(),
            "allow_media_storage": runtime.media_storage_allowed(),
        }
    )


@router.put("/admin/settings", tags=["admin"], summary="Change retention and media policy")
def put_settings(
    body: SettingsIn,
    runtime: Runtime,
    principal: Annotated[Principal, Depends(require("users:manage"))],
) -> Response:
    changes = body.model_dump(exclude_none=True)
    for key, value in changes.items():
        set_setting(runtime.engine, key, value)
    _audit(runtime, principal, "settings.change", details=changes)
    return get_settings(runtime, principal)
