"""The sandbox dashboard, ``/_emulator/ui/``: pages for people, over the same store and control plane as the APIs.

Pages are rendered here (Jinja, autoescaped); a small script (``static/dashboard.js``) refreshes the
panels every few seconds from the fragment routes below and sends the action forms as JSON.

Access follows the control plane: open without an admin token (the server binds to loopback). With
``--admin-token`` set, a request needs ``Authorization: Bearer <admin token>`` or the dashboard's cookie,
which ``/_emulator/ui/?token=<admin token>`` sets once (HttpOnly, SameSite=Strict, this path only; it
holds an HMAC of the token, not the token) before redirecting to the same URL without the token.

Actions (fault rules, the clock) are routes of the dashboard that call the control plane's own functions
(``parse_rule``/``insert_rule``, the clock and ``ControlPlane.changed``): the browser then needs no admin
token in script. They take JSON only and refuse a foreign ``Origin``, so no other site can post to them.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from emulator import __version__, errors
from emulator.control.guard import check_browser_reach
from emulator.dashboard import charts, data
from emulator.httpio import json_object
from emulator.runtime import runtime
from emulator.store import TenantScope
from emulator.timeseries.settle import settle_tenant

bp = Blueprint("dashboard", __name__, url_prefix="/_emulator/ui", template_folder="templates",
               static_folder="static")

COOKIE = "mdsp_emu_ui"
COOKIE_PATH = "/_emulator/ui"
JOURNAL_ROWS = 50
POLL_SECONDS = 5
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
TITLES = {400: "Bad request", 401: "Admin token required", 403: "Forbidden", 404: "Not found",
          415: "Unsupported media type", 421: "Unknown host name"}



# --- access ---------------------------------------------------------------------------------------------

def session_value(admin_token: str) -> str:
    """The cookie's value: an HMAC of the admin token (every worker computes the same, none stores it)."""
    return hmac.new(admin_token.encode(), b"mindsphere-emulator dashboard session", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _without_token() -> str:
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    return request.path + ("?" + urlencode(rest) if rest else "")


bp.before_request(check_browser_reach)  # the control plane's guard: host names and origins


@bp.before_request
def require_admin_token():
    expected = runtime().settings.admin_token
    if not expected or request.endpoint == "dashboard.static":  # the stylesheet and script hold no data
        return None
    given = request.args.get("token")
    if given is not None:
        if request.method != "GET" or not _same(given, expected):
            raise errors.Unauthorized("That is not the admin token")
        resp = redirect(_without_token(), 303)  # the token leaves the address bar and the history
        resp.set_cookie(COOKIE, session_value(expected), httponly=True, samesite="Strict", secure=request.is_secure,
                        path=COOKIE_PATH)
        return resp
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and _same(bearer.strip(), expected):
        return None
    cookie = request.cookies.get(COOKIE)
    if cookie and _same(cookie, session_value(expected)):
        return None
    raise errors.Unauthorized("The control plane has an admin token: open /_emulator/ui/?token=<admin token> once "
                              "(or send Authorization: Bearer <admin token>)")


@bp.after_request
def security_headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "dashboard.static":
        resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.errorhandler(errors.ApiError)
def on_error(err: errors.ApiError):
    """Pages and fragments answer an HTML page; actions (JSON in) answer the control plane's JSON envelope."""
    if request.method in ("GET", "HEAD"):
        resp = Response(render_template("dashboard/error.html", status=err.status,
                                        title=TITLES.get(err.status, "Error"), message=err.message),
                        status=err.status, mimetype="text/html")
        for key, value in err.headers.items():
            resp.headers[key] = value
        return resp
    return errors.render(err, "core")


def _action_body() -> dict:
    """A dashboard action's JSON body (its host and origin were checked by the control plane's guard): JSON needs
    a CORS preflight, which this server never grants."""
    if not request.is_json:
        raise errors.UnsupportedMediaType("Dashboard actions take application/json")
    return json_object(required=True)


# --- shared reads ---------------------------------------------------------------------------------------

def _clock(view: dict | None = None) -> dict:
    view = view or runtime().control.clock_view()
    return {"mode": view["mode"], "time": view["time"], "text": charts.utc(view["ms"]), "speed": view["speed"],
            "now": view["ms"]}


def _range() -> data.Range:
    key = request.args.get("range") or data.DEFAULT_RANGE
    if key not in data.RANGES:
        raise errors.BadRequest(f"range must be one of {', '.join(data.RANGES)}, not {key!r}")
    return data.RANGES[key]


def _scope(conn, name: str) -> TenantScope:
    return TenantScope(conn, name, runtime().derived_cache)


def _journal(name: str) -> list[dict]:
    rows = runtime().journal.query(tenant=name, limit=JOURNAL_ROWS)
    return [{"time": charts.utc(int(r["time"] * 1000)), "method": r["method"], "path": r["path"],
             "query": r["query"], "status": r["status"], "durationMs": r["duration_ms"], "fault": r["fault"]}
            for r in reversed(rows)]


def _events_page() -> int:
    raw = request.args.get("events") or "0"
    if not raw.isdigit() or len(raw) > 6:
        raise errors.BadRequest(f"events must be a page number (0, 1, ...), not {raw[:40]!r}")
    return int(raw)


def _asset_view(scope: TenantScope, tenant_row, asset_id: str, rng: data.Range, now: int) -> dict:
    row, path = data.asset(scope, asset_id)
    zone = ZoneInfo(tenant_row["default_timezone"])
    t0, t1 = data.window(rng, now)
    aspects = []
    for schema in data.dynamic_aspects(scope, row):
        found = data.aspect_data(scope, asset_id, schema, rng, now, zone)
        variables = []
        for var in schema.numeric:
            points, intervals = found.points[var], found.intervals[var]
            unit = schema.variables[var].get("unit") or ""
            variables.append({"name": var, "unit": unit,
                              "values": charts.values_chart(points, t0, t1),
                              "values_text": _values_text(points, found.values[var], found.detail_minutes, unit),
                              "aggregates": charts.aggregates_chart(intervals, t0, t1),
                              "aggregates_text": _aggregates_text(intervals, rng, unit)})
        latest = [{**item, "value": charts.number(item["value"]), "time": charts.utc(item["time"])}
                  for item in found.latest]
        aspects.append({"name": schema.name, "records": found.records, "variables": variables,
                        "latest": latest})
    return {"row": row, "path": path, "aspects": aspects, "range": rng, "from": charts.utc(t0),
            "to": charts.utc(t1)}


def _values_text(points, values: int, detail_minutes: int | None, unit: str) -> str:
    """What the values chart shows, truthfully: how many values, their extremes and the last, and what the line
    is drawn from (every record, or each interval's extremes when the range holds too many to read)."""
    if not points:
        return "No values in this range."
    numbers = [v for _, v in points]
    unit = f" {unit}" if unit else ""
    drawn = ("The line is drawn from every record." if detail_minutes is None else
             f"The line joins the first, lowest, highest and last value of each {detail_minutes}-minute interval "
             "(from the 2-minute aggregates): all a pixel column can show.")
    return (f"{values} values from {charts.utc(points[0][0])} to {charts.utc(points[-1][0])}; "
            f"minimum {charts.number(min(numbers))}{unit}, maximum {charts.number(max(numbers))}{unit}, "
            f"last {charts.number(numbers[-1])}{unit}. {drawn}")


def _aggregates_text(intervals, rng: data.Range, unit: str) -> str:
    if not intervals:
        return "No aggregates in this range."
    unit = f" {unit}" if unit else ""
    last = intervals[-1]
    return (f"{len(intervals)} intervals of {rng.value} {rng.unit}s with data: the line is each interval's "
            f"average, the band its minimum to maximum. Last interval ({charts.utc(last[0], False)}): average "
            f"{charts.number(last[2])}{unit}, minimum {charts.number(last[3])}{unit}, maximum "
            f"{charts.number(last[4])}{unit}, {last[5]} values.")


def _html(template: str, **context) -> Response:
    return Response(render_template(template, **context), mimetype="text/html")


@bp.context_processor
def page_context() -> dict:
    return {"version": __version__, "poll": POLL_SECONDS, "events_rows": data.EVENT_ROWS}


# --- pages ----------------------------------------------------------------------------------------------

@bp.get("/")
def index():
    """Every tenant, to choose one; the clock."""
    mdsp = runtime()
    return _html("dashboard/index.html", tenants=mdsp.control.tenants.list(),
                 default_tenant=mdsp.settings.tenant, clock=_clock())


@bp.get("/tenants/<name>/")
def tenant_page(name: str):
    """A tenant: its asset tree, fault rules, journal, contracts, and the clock."""
    return _tenant_page(name, None)


@bp.get("/tenants/<name>/assets/<asset_id>")
def asset_page(name: str, asset_id: str):
    """The tenant page with one asset chosen: its time series and aggregates over a range, updating live."""
    return _tenant_page(name, asset_id)


def _settled(name: str) -> None:
    """The rollups the charts read take in the tenant's writes first (emulator.timeseries.pending)."""
    rt = runtime()
    settle_tenant(rt.store, name, rt.derived_cache)


def _tenant_page(name: str, asset_id: str | None) -> Response:
    rng = _range()
    clock = _clock()
    if asset_id:
        _settled(name)
    with runtime().store.transaction() as conn:
        row = data.tenant(conn, name)
        scope = _scope(conn, name)
        tree, shown, cut = data.asset_tree(scope, row["root_asset_id"])
        chosen = _asset_view(scope, row, asset_id, rng, clock["now"]) if asset_id else None
        events = data.asset_events(scope, asset_id, clock["now"], _events_page()) if asset_id else None
        contract_rows = data.contract_list(scope)
        rules = data.fault_rules_for(conn, name)
    return _html("dashboard/tenant.html", tenant=name, tree=tree, tree_count=shown, tree_cut=cut,
                 tree_limit=data.TREE_LIMIT, asset=chosen, asset_id=asset_id, ranges=list(data.RANGES.values()),
                 range=rng, events=events, contracts=contract_rows, rules=rules, journal=_journal(name), clock=clock,
                 fault_apis=_fault_apis())


def _fault_apis() -> list[str]:
    """The APIs a tenant's fault rule may name here: not the token service (a token request has no tenant yet)."""
    return [name for name in runtime().registry.names if name != "token"]


# --- fragments: what the script refreshes ---------------------------------------------------------------

@bp.get("/tenants/<name>/assets/<asset_id>/charts")
def charts_fragment(name: str, asset_id: str):
    rng = _range()
    clock = _clock()
    _settled(name)
    with runtime().store.transaction() as conn:
        row = data.tenant(conn, name)
        chosen = _asset_view(_scope(conn, name), row, asset_id, rng, clock["now"])
    return _html("dashboard/_charts.html", asset=chosen)


@bp.get("/tenants/<name>/assets/<asset_id>/events")
def events_fragment(name: str, asset_id: str):
    """The asset's events beside its charts (``?events=N``: page N, newest first)."""
    page, range_key = _events_page(), _range().key  # the range only travels on in the page's links
    now = _clock()["now"]
    with runtime().store.transaction() as conn:
        data.tenant(conn, name)
        scope = _scope(conn, name)
        row, _ = data.asset(scope, asset_id)
        found = data.asset_events(scope, asset_id, now, page)
    return _html("dashboard/_events.html", events=found, tenant=name, asset_id=asset_id, asset_name=row["name"],
                 range_key=range_key)


@bp.get("/tenants/<name>/journal")
def journal_fragment(name: str):
    with runtime().store.transaction() as conn:
        data.tenant(conn, name)
    return _html("dashboard/_journal.html", journal=_journal(name), tenant=name)


@bp.get("/tenants/<name>/faults")
def faults_fragment(name: str):
    with runtime().store.transaction() as conn:
        data.tenant(conn, name)
        rules = data.fault_rules_for(conn, name)
    return _html("dashboard/_faults.html", rules=rules, tenant=name)


@bp.get("/clock")
def clock_fragment():
    return _html("dashboard/_clock.html", clock=_clock())


@bp.get("/tenants/<name>/contracts/<contract>/download")
def download_contract(name: str, contract: str):
    """The contract's CSDL XML as a file, as ``/_emulator/contracts/{name}/download`` answers it to the tenant."""
    with runtime().store.transaction() as conn:
        data.tenant(conn, name)
        document, filename = data.contract_document(_scope(conn, name), contract,
                                                    runtime().settings.odata_capability_annotations)
    resp = Response(document, content_type="application/xml")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


# --- actions (JSON in, JSON out) ------------------------------------------------------------------------

def _optional_int(body: dict, key: str) -> int | None:
    raw = body.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise errors.BadRequest(f"{key} must be a whole number, not {raw!r}") from None


@bp.post("/tenants/<name>/faults")
def create_fault(name: str):
    """``{"status": 500|429|..., "api": "" (all) | "assets" | ..., "times": "" | N}``: a rule failing the
    tenant's calls, made by the control plane's own ``parse_rule`` and ``insert_rule``."""
    body = _action_body()
    api = body.get("api") or None
    status = _optional_int(body, "status")
    if status is None:
        raise errors.BadRequest("status is required: the status the tenant's calls answer (400-599)")
    times = _optional_int(body, "times")
    _existing(name)
    rule = runtime().control.add_rule({"match": {"tenant": name, "api": api}, "effect": {"status": status},
                                       "times": times})
    spec = rule.spec
    calls = f"the next {spec['times']} calls" if spec["times"] else "every call"
    target = f"the {api} API" if api else "all APIs"
    verb = "answer" if spec["times"] else "answers"
    message = (f"Rule {rule.id[:8]} added: {calls} of tenant {name} to {target} {verb} "
               f"{spec['effect']['status']}{'' if spec['times'] else ' until cleared'}.")
    return jsonify({"message": message, "rule": rule.public(0, 0)}), 201


@bp.delete("/tenants/<name>/faults")
def clear_faults(name: str):
    """Removes the tenant's own rules (rules for every tenant stay: they are not this tenant's)."""
    _action_body()
    _existing(name)
    removed = runtime().control.clear_rules(name)
    return jsonify({"message": f"Removed {removed} fault rule{'s' if removed != 1 else ''} of tenant {name}.",
                    "removed": removed})


@bp.delete("/tenants/<name>/faults/<rule_id>")
def delete_fault(name: str, rule_id: str):
    _action_body()
    _existing(name)
    runtime().control.remove_rule(rule_id, tenant=name)
    return jsonify({"message": f"Removed fault rule {rule_id[:8]}."})


def _existing(name: str) -> None:
    """404 for a tenant that does not exist (rules of unknown tenants are not made from here)."""
    with runtime().store.transaction() as conn:
        data.tenant(conn, name)


def _clock_answer(view: dict) -> dict:
    clock = _clock(view)
    return {"message": f"The clock is {clock['mode']}: it reads {clock['text']}.",
            "clock": {"mode": clock["mode"], "time": clock["time"], "speed": clock["speed"]}}


@bp.put("/clock")
def set_clock():
    """``{"mode": "frozen", "time": optional ISO time}`` (frozen now when no time) or ``{"mode": "real"}``, set by
    the control plane's own verb (the same checks as ``PUT /_emulator/clock``)."""
    body = _action_body()
    mode = body.get("mode")
    if mode not in ("frozen", "real"):
        raise errors.BadRequest("mode must be frozen or real here (PUT /_emulator/clock sets an offset clock)")
    raw = body.get("time")
    at = raw.strip() if isinstance(raw, str) and raw.strip() else None
    return jsonify(_clock_answer(runtime().control.set_clock(mode, at)))


@bp.post("/clock/advance")
def advance_clock():
    """``{"seconds": N}``: time jumps ahead, as ``POST /_emulator/clock/advance`` moves it."""
    seconds = _optional_int(_action_body(), "seconds")
    if seconds is None:
        raise errors.BadRequest("seconds must be a whole number (at most ten years)")
    return jsonify(_clock_answer(runtime().control.advance_clock(seconds)))


@bp.app_template_global()
def dashboard_asset_url(tenant: str, asset_id: str, range_key: str | None = None, events: int = 0,
                        anchor: str | None = None) -> str:
    args: dict = {"range": range_key} if range_key and range_key != data.DEFAULT_RANGE else {}
    if events:
        args["events"] = events
    return url_for("dashboard.asset_page", name=tenant, asset_id=asset_id, _anchor=anchor, **args)
