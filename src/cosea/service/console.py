"""The reviewer console: server-rendered pages (Jinja2) with htmx, no assets from the internet.

Pages check the role's permissions like the API does; every state change carries
the session's CSRF token (a hidden form field, or the ``X-CSRF-Token`` header
htmx sends from ``hx-headers`` on the body).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from cosea.errors import CoseaError, InputError, NotFound
from cosea.service import accounts, alerts, audit, media, playbooks
from cosea.service.alerts import AlertQuery, Conflict
from cosea.service.deps import CSRF_HEADER, SESSION_COOKIE, csrf_ok, runtime_of, session_principal
from cosea.service.models import WELLNESS_MODES
from cosea.service.problems import Problem
from cosea.service.security import SCOPES, Principal
from cosea.service.timeutil import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("cosea.service") / "templates"))
LOGIN_CSRF_COOKIE = "cosea_login_csrf"
WELLNESS_LABELS = {
    "reveal_greyscale": "Blurred; a click reveals the picture in greyscale",
    "reveal_colour": "Blurred; a click reveals the picture in colour",
    "always_blurred": "Always blurred: never reveal pictures to me",
}
CLASS_LABELS = {
    "grooming": "Grooming",
    "sextortion": "Sextortion",
    "benign": "Benign",
    "known-material": "Known material",
}


class ConsoleRedirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


class ConsoleForbidden(Exception):
    def __init__(self, principal: Principal, needed: str) -> None:
        self.principal = principal
        self.needed = needed


# ---- helpers ---------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    mode = runtime_of(request).config.secure_cookies
    if mode == "always":
        return True
    if mode == "never":
        return False
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded == "https"


def _user(request: Request, permission: str | None = None) -> Principal:
    principal = session_principal(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise ConsoleRedirect(f"/console/login?next={quote(target)}")
    if permission and not principal.can(permission):
        raise ConsoleForbidden(principal, permission)
    wait = runtime_of(request).rate_limit(principal)
    if wait > 0:
        raise Problem(429, "too many requests; wait a moment", slug="rate-limited")
    return principal


async def _checked_form(request: Request, principal: Principal) -> dict[str, Any]:
    form = await request.form()
    presented = request.headers.get(CSRF_HEADER) or form.get("csrf_token")
    if not csrf_ok(principal, str(presented) if presented else None):
        raise ConsoleForbidden(principal, "a valid CSRF token (reload the page)")
    return {key: value for key, value in form.items()}


def _nav(principal: Principal) -> list[tuple[str, str, str]]:
    items = []
    if principal.can("alerts:read"):
        items.append(("queue", "Alert queue", "/console/queue"))
    if principal.can("matrix:read"):
        items.append(("matrix", "Matrix", "/console/matrix"))
    if principal.can("audit:read"):
        items.append(("audit", "Audit log", "/console/audit"))
    if principal.can("users:manage"):
        items.append(("admin", "Administration", "/console/admin"))
    items.append(("settings", "Settings", "/console/settings"))
    return items


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    active: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    context.update(
        user=principal,
        nav=_nav(principal) if principal else [],
        active=active,
        csrf_token=principal.csrf_token if principal else None,
        class_labels=CLASS_LABELS,
        now=utcnow(),
    )
    return templates.TemplateResponse(request, template, context, status_code=status_code)


@cache
def _matrix() -> Any:
    try:
        from cosea.matrix import load

        return load()
    except Exception:  # the console still works without the knowledge base
        return None


def matrix_tactics() -> list[dict[str, Any]]:
    matrix = _matrix()
    if matrix is None:
        return [{"id": f"TA{n:02d}", "name": f"TA{n:02d}", "techniques": []} for n in range(1, 11)]
    return [
        {
            "id": tactic.id,
            "name": tactic.name,
            "techniques": [
                {"id": t.id, "name": t.name, "scope": t.scope}
                for t in matrix.techniques_of(tactic.id)
            ],
        }
        for tactic in matrix.tactics
    ]


def _matrix_name(kind: str, entry_id: str | None) -> str:
    """The matrix's name for a technique or tactic id; the id itself when unknown."""
    if not entry_id:
        return ""
    matrix = _matrix()
    if matrix is None:
        return entry_id
    try:
        return getattr(matrix, kind)(entry_id).name
    except (KeyError, CoseaError, LookupError):
        return entry_id


def technique_name(technique_id: str | None) -> str:
    return _matrix_name("technique", technique_id)


def tactic_name(tactic_id: str | None) -> str:
    return _matrix_name("tactic", tactic_id)


def _age(value: str | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value.rstrip("Z"))
    seconds = max(0, int((utcnow() - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def _risk_level(risk: float) -> str:
    if risk >= 0.8:
        return "high"
    if risk >= 0.5:
        return "medium"
    return "low"


templates.env.globals.update(
    technique_name=technique_name,
    tactic_name=tactic_name,
    age=_age,
    risk_level=_risk_level,
)


def highlight(text: str | None, marks: list[dict[str, Any]]) -> Markup:
    """Message text with evidence spans wrapped in <mark>, everything escaped."""
    if text is None:
        return Markup('<span class="purged">[text purged by retention]</span>')
    spans = sorted(
        (
            (int(m["span"][0]), int(m["span"][1]), m)
            for m in marks
            if m.get("span") and 0 <= int(m["span"][0]) < int(m["span"][1]) <= len(text)
        ),
        key=lambda item: (item[0], -item[1]),
    )
    out: list[str] = []
    cursor = 0
    for start, end, mark in spans:
        if start < cursor:
            continue  # overlapping evidence: the first span shown carries the mark
        out.append(str(Markup.escape(text[cursor:start])))
        label = f"{mark.get('technique')} {technique_name(mark.get('technique'))}"
        if mark.get("reason"):
            label += f" - {mark['reason']}"
        out.append(
            f'<mark class="evidence" title="{Markup.escape(label)}" '
            f'data-technique="{Markup.escape(mark.get("technique") or "")}">'
            f"{Markup.escape(text[start:end])}</mark>"
        )
        cursor = end
    out.append(str(Markup.escape(text[cursor:])))
    return Markup("".join(out))


# ---- login -----------------------------------------------------------------------------

_failures: dict[str, list[float]] = {}
_failures_lock = threading.Lock()
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0


def _too_many_failures(key: str) -> bool:
    now = time.monotonic()
    with _failures_lock:
        recent = [t for t in _failures.get(key, []) if now - t < FAILURE_WINDOW]
        _failures[key] = recent
        return len(recent) >= MAX_FAILURES


def _note_failure(key: str) -> None:
    with _failures_lock:
        _failures.setdefault(key, []).append(time.monotonic())


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


@router.get("/login")
def login_page(request: Request, next: str | None = None, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", None, login_csrf=token, next=_safe_next(next), error=error
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
        max_age=3600,
    )
    return response


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    presented = str(form.get("login_csrf") or "")
    if not cookie or not secrets.compare_digest(cookie, presented):
        return RedirectResponse(
            "/console/login?" + urlencode({"error": "The form expired; please try again."}),
            status_code=303,
        )
    client = request.client.host if request.client else "unknown"
    key = f"{username.lower()}|{client}"
    if _too_many_failures(key):
        return RedirectResponse(
            "/console/login?" + urlencode({"error": "Too many failed attempts; wait 5 minutes."}),
            status_code=303,
        )
    runtime = runtime_of(request)
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(
        accounts.login,
        runtime.engine,
        username,
        password,
        session_hours=runtime.config.session_hours,
    )
    if result is None:
        _note_failure(key)
        return RedirectResponse(
            "/console/login?" + urlencode({"error": "Wrong username or password.", "next": target}),
            status_code=303,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
        max_age=int(runtime.config.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    principal = _user(request)
    await _checked_form(request, principal)
    accounts.logout(
        runtime_of(request).engine,
        principal.session_id or 0,
        actor=principal.actor,
        role=principal.role,
    )
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("")
def home(request: Request) -> Response:
    principal = _user(request)
    landing = {"auditor": "/console/audit", "admin": "/console/admin"}.get(principal.role)
    if landing is None:
        landing = _nav(principal)[0][2]
    return RedirectResponse(landing, status_code=303)


# ---- queue -----------------------------------------------------------------------------


@router.get("/queue")
def queue(
    request: Request,
    state: str = "open,escalated",
    cls: str = "",
    platform: str = "",
    min_risk: str = "",
    sort: str = "-risk,age",
    page: int = 1,
) -> Response:
    principal = _user(request, "alerts:read")
    runtime = runtime_of(request)
    page = max(1, page)
    per_page = 25
    try:
        minimum = float(min_risk) if min_risk else None
    except ValueError:
        minimum = None
    query = AlertQuery(
        state=[s for s in state.split(",") if s] or None,
        cls=[c for c in cls.split(",") if c] or None,
        platform=platform or None,
        min_risk=minimum,
        sort=sort if sort in {"-risk,age", "age", "-age", "-updated"} else "-risk,age",
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    result = alerts.list_alerts(runtime, principal, query)
    filters = {"state": state, "cls": cls, "platform": platform, "min_risk": min_risk, "sort": sort}
    return render(
        request,
        "queue.html",
        principal,
        active="queue",
        result=result,
        filters=filters,
        page=page,
        pages=max(1, -(-result["total"] // per_page)),
        query_string=urlencode({k: v for k, v in filters.items() if v}),
    )


# ---- one alert -------------------------------------------------------------------------


def _group_media(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        key = item.get("cluster") or f"item-{item['id']}"
        group = groups.setdefault(key, {"key": key, "items": [], "matches": []})
        group["items"].append(item)
        for match in item.get("matches") or []:
            if match not in group["matches"]:
                group["matches"].append(match)
    ordered = sorted(groups.values(), key=lambda g: (-len(g["items"]), g["key"]))
    for number, group in enumerate(ordered, 1):
        group["number"] = number
        best = group["matches"][0] if group["matches"] else None
        group["label"] = (
            f"{best['list']} · {best.get('category') or 'uncategorised'}" if best else "No match"
        )
    return ordered


def _stage_bar(assessment: dict[str, Any]) -> list[dict[str, Any]]:
    seen = list(assessment.get("tactics_seen") or [])
    stage = assessment.get("stage")
    bar = []
    for tactic in matrix_tactics():
        bar.append(
            {
                "id": tactic["id"],
                "name": tactic["name"],
                "reached": tactic["id"] in seen,
                "current": tactic["id"] == stage,
                "order": seen.index(tactic["id"]) + 1 if tactic["id"] in seen else None,
            }
        )
    return bar


def _playbook_context(
    request: Request,
    principal: Principal,
    alert_id: int,
    audience: str | None,
    country: str | None,
) -> dict[str, Any]:
    """What ``_playbook.html`` shows: the playbook, or why it cannot be shown."""
    from cosea.report.hotlines import countries

    # A bad choice in the address falls back to the default for that choice, with the reason.
    problems = []
    try:
        chosen_audience = playbooks.audience_of(audience)
    except InputError as error:
        chosen_audience, problems = "platform", [*problems, error.problem]
    try:
        chosen_country = playbooks.country_of(country)
    except InputError as error:
        chosen_country, problems = None, [*problems, error.problem]
    try:
        built = playbooks.alert_playbook(
            runtime_of(request), principal, alert_id, chosen_audience, chosen_country, via="console"
        )
    except NotFound:
        raise
    except CoseaError as error:
        # A broken report policy, say: the alert page still works, and says why.
        built, problems = None, [*problems, f"The playbook could not be built: {error}"]

    def query(target_audience: str) -> str:
        values = {"audience": target_audience}
        if chosen_country:
            values["country"] = chosen_country
        return urlencode(values)

    tabs = [
        {
            "id": name,
            "label": playbooks.AUDIENCE_LABELS[name],
            "selected": name == chosen_audience,
            "page_url": f"/console/alerts/{alert_id}?{query(name)}#playbook",
            "fragment_url": f"/console/alerts/{alert_id}/playbook?{query(name)}",
        }
        for name in playbooks.AUDIENCE_ORDER
    ]
    return {
        "pb": built,
        "pb_audience": chosen_audience,
        "pb_tabs": tabs,
        "pb_problems": problems,
        "pb_countries": countries(),
        "pb_alert_id": alert_id,
    }


@router.get("/alerts/{alert_id}/playbook")
def alert_playbook_fragment(
    request: Request, alert_id: int, audience: str = "", country: str = ""
) -> Response:
    """The playbook section alone, for htmx to swap in when the reviewer changes audience."""
    principal = _user(request, "alerts:read")
    if not request.headers.get("hx-request"):
        # Opened directly (no htmx): the whole alert page, showing the same choice.
        values = {k: v for k, v in {"audience": audience, "country": country}.items() if v}
        return RedirectResponse(
            f"/console/alerts/{alert_id}?{urlencode(values)}#playbook", status_code=303
        )
    try:
        context = _playbook_context(request, principal, alert_id, audience, country)
    except NotFound as error:
        return HTMLResponse(f'<p class="notice">{Markup.escape(str(error))}</p>', status_code=404)
    return render(request, "_playbook.html", principal, **context)


@router.get("/alerts/{alert_id}")
def alert_page(
    request: Request,
    alert_id: int,
    decided: str | None = None,
    audience: str = "",
    country: str = "",
) -> Response:
    principal = _user(request, "alerts:read")
    runtime = runtime_of(request)
    try:
        alert = alerts.get_alert(
            runtime,
            principal,
            alert_id,
            include_messages=principal.can("messages:read"),
            include_media=principal.can("media:read"),
            via="console",
        )
    except NotFound:
        return render(
            request,
            "error.html",
            principal,
            status_code=404,
            title="Alert not found",
            message=f"There is no alert {alert_id}.",
        )
    assessment = alert.get("assessment") or {}
    messages = alert.get("messages", [])
    for message in messages:
        message["html"] = highlight(message.get("text"), message.get("techniques") or [])
        message["is_suspect"] = message["from"] == alert.get("suspect")
    techniques: dict[str, int] = {}
    for message in messages:
        for mark in message.get("techniques") or []:
            if mark.get("technique"):
                techniques[mark["technique"]] = techniques.get(mark["technique"], 0) + 1
    for technique in alert.get("techniques") or []:
        techniques.setdefault(technique, 0)
    return render(
        request,
        "alert.html",
        principal,
        active="queue",
        alert=alert,
        assessment=assessment,
        messages=messages,
        technique_counts=sorted(techniques.items()),
        stage_bar=_stage_bar(assessment),
        media_groups=_group_media(alert.get("media", [])),
        decided=decided,
        can_decide=principal.can("alerts:decide")
        and alert["state"] in {"open", "escalated", "confirmed"},
        wellness_label=WELLNESS_LABELS.get(principal.wellness, ""),
        **_playbook_context(request, principal, alert_id, audience, country),
    )


@router.post("/alerts/{alert_id}/decision")
async def alert_decision(request: Request, alert_id: int) -> Response:
    principal = _user(request, "alerts:decide")
    form = await _checked_form(request, principal)
    runtime = runtime_of(request)
    decision = str(form.get("decision") or "")
    reason = str(form.get("reason") or "")
    try:
        alerts.decide(runtime, principal, alert_id, decision, reason)
    except (Conflict, CoseaError) as error:
        return render(
            request,
            "error.html",
            principal,
            status_code=409 if isinstance(error, Conflict) else 422,
            title="The decision was not recorded",
            message=str(error),
            back=f"/console/alerts/{alert_id}",
        )
    return RedirectResponse(f"/console/alerts/{alert_id}?decided={decision}", status_code=303)


# ---- media -----------------------------------------------------------------------------


@router.get("/media/{media_id}/thumb")
def media_thumb(request: Request, media_id: int) -> Response:
    principal = _user(request, "media:read")
    try:
        data, _mode = media.media_view(runtime_of(request), principal, media_id, reveal=False)
    except NotFound:
        return Response(status_code=404)
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/media/{media_id}/reveal")
async def media_reveal(request: Request, media_id: int) -> Response:
    principal = _user(request, "media:read")
    await _checked_form(request, principal)
    try:
        data, mode = media.media_view(runtime_of(request), principal, media_id, reveal=True)
    except PermissionError as error:
        return HTMLResponse(
            f'<p class="notice" id="media-{media_id}-img">{Markup.escape(str(error))}</p>',
            status_code=403,
        )
    except NotFound as error:
        return HTMLResponse(f'<p class="notice">{Markup.escape(str(error))}</p>', status_code=404)
    encoded = base64.b64encode(data).decode("ascii")
    return render(
        request,
        "_revealed.html",
        principal,
        media_id=media_id,
        mode=mode,
        data_uri=f"data:image/png;base64,{encoded}",
    )


@router.get("/media/{media_id}/blurred")
def media_blurred_fragment(request: Request, media_id: int) -> Response:
    principal = _user(request, "media:read")
    return render(request, "_blurred.html", principal, media_id=media_id)


# ---- matrix ----------------------------------------------------------------------------


def _heat(runtime: Any) -> tuple[list[dict[str, Any]], dict[str, int], int]:
    counts = alerts.technique_counts(runtime, states=("open", "confirmed", "escalated"))
    peak = max(counts.values(), default=0)
    tactics = matrix_tactics()
    for tactic in tactics:
        for technique in tactic["techniques"]:
            count = counts.get(technique["id"], 0)
            technique["count"] = count
            technique["level"] = 0 if not count else min(5, 1 + int(4 * count / max(peak, 1)))
    return tactics, counts, peak


@router.get("/matrix")
def matrix_page(request: Request) -> Response:
    principal = _user(request, "matrix:read")
    tactics, counts, peak = _heat(runtime_of(request))
    matrix = _matrix()
    return render(
        request,
        "matrix.html",
        principal,
        active="matrix",
        tactics=tactics,
        total=sum(counts.values()),
        peak=peak,
        matrix_name=matrix.name if matrix is not None else "COSEA matrix",
        matrix_version=matrix.version if matrix is not None else "",
        has_full_view=_render_html() is not None,
    )


@router.get("/matrix/heatmap")
def matrix_heatmap_fragment(request: Request) -> Response:
    principal = _user(request, "matrix:read")
    tactics, counts, peak = _heat(runtime_of(request))
    return render(
        request, "_heatmap.html", principal, tactics=tactics, total=sum(counts.values()), peak=peak
    )


def _render_html() -> Any:
    try:
        from cosea.matrix.export.html import render_html
    except ImportError:
        return None
    return render_html


@router.get("/matrix/view")
def matrix_full_view(request: Request) -> Response:
    """The matrix capability's own HTML view, with live counts."""
    _user(request, "matrix:read")
    renderer = _render_html()
    matrix = _matrix()
    if renderer is None or matrix is None:
        return HTMLResponse("<p>The full matrix view is not available.</p>", status_code=404)
    counts = alerts.technique_counts(runtime_of(request), states=("open", "confirmed", "escalated"))
    response = HTMLResponse(renderer(matrix, counts))
    # The export is self-contained (inline style and script); it runs sandboxed in a frame.
    response.headers["content-security-policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "img-src data:; frame-ancestors 'self'; sandbox allow-scripts"
    )
    return response


@router.get("/matrix/{technique_id}")
def technique_page(request: Request, technique_id: str) -> Response:
    principal = _user(request, "matrix:read")
    matrix = _matrix()
    technique = None
    if matrix is not None:
        try:
            technique = matrix.technique(technique_id)
        except (KeyError, CoseaError, LookupError):
            technique = None
    if technique is None:
        return render(
            request,
            "error.html",
            principal,
            status_code=404,
            title="Technique not found",
            message=f"{technique_id} is not in the matrix.",
            back="/console/matrix",
        )
    mitigations = []
    for mitigation_id in technique.mitigations:
        try:
            mitigations.append(matrix.mitigation(mitigation_id))
        except (KeyError, CoseaError, LookupError):
            continue
    counts = alerts.technique_counts(runtime_of(request), states=("open", "confirmed", "escalated"))
    return render(
        request,
        "technique.html",
        principal,
        active="matrix",
        technique=technique,
        tactic=matrix.tactic_of(technique.id),
        mitigations=mitigations,
        stakeholders=matrix.stakeholders,
        alert_count=counts.get(technique.id, 0),
    )


# ---- audit -----------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request,
    actor: str = "",
    action: str = "",
    target_id: str = "",
    before_id: int | None = None,
) -> Response:
    principal = _user(request, "audit:read")
    runtime = runtime_of(request)
    with runtime.engine.begin() as connection:
        entries = audit.browse(
            connection,
            actor=actor or None,
            action=action or None,
            target_id=target_id or None,
            before_id=before_id,
            limit=50,
        )
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="audit.browse",
            details={"filters": {"actor": actor, "action": action, "target_id": target_id}},
        )
    filters = {"actor": actor, "action": action, "target_id": target_id}
    return render(
        request,
        "audit.html",
        principal,
        active="audit",
        entries=entries,
        filters=filters,
        next_before=entries[-1]["id"] if len(entries) == 50 else None,
        query_string=urlencode({k: v for k, v in filters.items() if v}),
    )


@router.post("/audit/verify")
async def audit_verify(request: Request) -> Response:
    principal = _user(request, "audit:read")
    await _checked_form(request, principal)
    runtime = runtime_of(request)
    with runtime.engine.connect() as connection:
        result = audit.verify(connection)
    with runtime.engine.begin() as connection:
        audit.append(
            connection,
            actor=principal.actor,
            actor_role=principal.role,
            action="audit.verify",
            details={"ok": result.ok, "entries": result.entries},
        )
    return render(request, "_verify.html", principal, result=result)


# ---- settings --------------------------------------------------------------------------


@router.get("/settings")
def settings_page(request: Request, saved: str | None = None) -> Response:
    principal = _user(request)
    return render(
        request,
        "settings.html",
        principal,
        active="settings",
        modes=[(mode, WELLNESS_LABELS[mode]) for mode in WELLNESS_MODES],
        saved=saved,
    )


@router.post("/settings")
async def settings_submit(request: Request) -> Response:
    principal = _user(request)
    form = await _checked_form(request, principal)
    mode = str(form.get("wellness") or "")
    accounts.set_wellness(
        runtime_of(request).engine, principal.id, mode, actor=principal.actor, role=principal.role
    )
    return RedirectResponse("/console/settings?saved=1", status_code=303)


# ---- administration --------------------------------------------------------------------


@router.get("/admin")
def admin_page(
    request: Request, created_key: str | None = None, message: str | None = None
) -> Response:
    principal = _user(request, "users:manage")
    runtime = runtime_of(request)
    return render(
        request,
        "admin.html",
        principal,
        active="admin",
        users=accounts.list_users(runtime.engine),
        keys=accounts.list_api_keys(runtime.engine),
        scopes=SCOPES,
        retention_days=runtime.retention_days(),
        allow_media=runtime.media_storage_allowed(),
        message=message,
    )


@router.post("/admin/users")
async def admin_create_user(request: Request) -> Response:
    principal = _user(request, "users:manage")
    form = await _checked_form(request, principal)
    try:
        accounts.create_user(
            runtime_of(request).engine,
            str(form.get("username") or ""),
            str(form.get("password") or ""),
            str(form.get("role") or ""),
            actor=principal.actor,
        )
        message = f"User {form.get('username')} created."
    except CoseaError as error:
        message = f"Not created: {error}"
    return RedirectResponse("/console/admin?" + urlencode({"message": message}), status_code=303)


@router.post("/admin/keys")
async def admin_create_key(request: Request) -> Response:
    principal = _user(request, "keys:manage")
    form = await request.form()
    presented = request.headers.get(CSRF_HEADER) or form.get("csrf_token")
    if not csrf_ok(principal, str(presented) if presented else None):
        raise ConsoleForbidden(principal, "a valid CSRF token (reload the page)")
    scopes = [str(s) for s in form.getlist("scopes")]
    runtime = runtime_of(request)
    try:
        _key_id, secret = accounts.create_api_key(
            runtime.engine,
            name=str(form.get("name") or ""),
            platform=str(form.get("platform") or ""),
            scopes=scopes,
            actor=principal.actor,
        )
    except CoseaError as error:
        return RedirectResponse(
            "/console/admin?" + urlencode({"message": f"Not created: {error}"}), status_code=303
        )
    # The key is shown once, on this response only; it is never stored in clear.
    return render(
        request,
        "admin.html",
        principal,
        active="admin",
        users=accounts.list_users(runtime.engine),
        keys=accounts.list_api_keys(runtime.engine),
        scopes=SCOPES,
        retention_days=runtime.retention_days(),
        allow_media=runtime.media_storage_allowed(),
        new_key=secret,
        message="Key created. Copy it now: it will not be shown again.",
    )


@router.post("/admin/keys/{key_id}/revoke")
async def admin_revoke_key(request: Request, key_id: int) -> Response:
    principal = _user(request, "keys:manage")
    await _checked_form(request, principal)
    runtime = runtime_of(request)
    prefix = accounts.revoke_api_key(runtime.engine, key_id, actor=principal.actor)
    runtime.forget_key(prefix)
    return RedirectResponse(
        "/console/admin?" + urlencode({"message": f"Key {key_id} revoked."}), status_code=303
    )


def install_handlers(app: Any) -> None:
    @app.exception_handler(ConsoleRedirect)
    async def _redirect(request: Request, exc: ConsoleRedirect) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": exc.location})
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(ConsoleForbidden)
    async def _forbidden(request: Request, exc: ConsoleForbidden) -> Response:
        return render(
            request,
            "error.html",
            exc.principal,
            status_code=403,
            title="Not permitted",
            message=(
                f"Your role ({exc.principal.role}) does not allow this: it needs {exc.needed}."
            ),
        )
