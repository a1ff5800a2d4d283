"""The request chain every request passes before its route (ARCHITECTURE.md, principle 6):

1. the control state is brought up to date (the virtual clock and the fault rules, from the store);
2. authentication: the bearer token, its tenant and its scopes (``/api/...``, ``/odata/...``);
3. fault injection: a matching rule (or, when allowed, an ``X-Emulator-Fault`` header) delays the
   request, fails it with a status in the API's own envelope, or drops the connection, before the
   route has written anything;
4. rate limiting: over its tenant's quota a request answers 429 with ``Retry-After``;
5. the journal records the request and its answer after the response is made.

The control plane itself (``/_emulator/...``) passes none of this.
"""

from __future__ import annotations

import time

from flask import Response, abort, current_app, g, request

from emulator import context, errors
from emulator.apis import Api, api_of
from emulator.auth.guard import check_bearer
from emulator.control import ratelimits
from emulator.control.faults import count_match, status_error

HEADER = "X-Emulator-Fault"


def before_request() -> None:
    ctx = g._get_current_object()  # one proxy look-up each: this runs on every request
    req = request._get_current_object()
    ctx.started = time.perf_counter()
    if "\x00" in req.path or b"%00" in req.query_string or b"\x00" in req.query_string:
        # no id, name or filter holds NUL; PostgreSQL could not even compare it (SQLite and PostgreSQL alike: 400)
        raise errors.BadRequest("The request's path or query holds a NUL character (%00), which no id, name or "
                                "filter may contain")
    if req.content_length is None and "chunked" in req.headers.get("Transfer-Encoding", "").lower():
        _read_chunked_body(req)
    api = api_of(req.path)
    if api.name == "control":
        return
    mdsp = current_app.extensions["mdsp"]
    if api.protected:
        context.open_transaction(mdsp["store"], write=False)
        mdsp["control"].sync(ctx.db)
        check_bearer(api)
    else:
        mdsp["control"].sync()
    if mdsp["control"].rules or (mdsp["settings"].allow_fault_header and HEADER in req.headers):
        _inject_faults(api, mdsp)
    if mdsp["control"].quotas or mdsp["rate_limit"]:
        _rate_limit(api, mdsp)
    if req.method not in context.READ_METHODS:
        context.release()  # the route's transaction takes the write lock (context.scope)


def _read_chunked_body(req) -> None:
    """A body without Content-Length (chunked; gunicorn passes it on as a stream): werkzeug stops reading at
    ``MAX_CONTENT_LENGTH`` without an error, so a longer body would reach the route cut short. It is read here,
    once (routes and the form parser take the cached bytes), and refused past the limit."""
    data = req.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and len(data) >= limit and req.environ["wsgi.input"].read(1):
        raise errors.PayloadTooLarge("The request body is too large.")


def _inject_faults(api: Api, mdsp) -> None:
    if mdsp["settings"].allow_fault_header and HEADER in request.headers:
        _header_fault(request.headers[HEADER])
    rules = mdsp["control"].rules
    if not rules:
        return
    now = mdsp["clock"].time()
    tenant, method, path = g.get("tenant"), request.method, request.path
    for rule in rules:
        if not rule.matches(method, path, api.name, tenant, now):
            continue
        context.release()  # end the read before writing the rule's counters
        with mdsp["store"].transaction(write=True) as conn:
            nth, fire = count_match(conn, rule)
        if fire:
            g.fault = rule.id
            _apply(rule.spec["effect"], rule.delay_ms(nth), rule.id)
            return


def _rate_limit(api: Api, mdsp) -> None:
    tenant = g.get("tenant")
    plane = mdsp["control"]
    if tenant is None or not (plane.quotas or mdsp["rate_limit"]):
        return
    quota = ratelimits.quota_for(plane.quotas, mdsp["rate_limit"], tenant, api.name)
    if quota is None:
        return
    context.release()  # end the read before counting
    with mdsp["store"].transaction(write=True) as conn:
        ratelimits.count(conn, tenant, api.name, quota, mdsp["clock"].time())


def _apply(effect: dict, delay_ms: float, label: str) -> None:
    if delay_ms:
        time.sleep(delay_ms / 1000)
    if effect.get("dropConnection"):
        abort(_dropped())
    status = effect.get("status")
    if status is None:
        return  # a pure delay: the request goes on
    if effect.get("body") is not None:
        abort(Response(current_app.json.dumps(effect["body"]), status=status, mimetype="application/json",
                       headers={"Retry-After": "1"} if status == 429 else {}))
    raise status_error(status, label)


def _header_fault(value: str) -> None:
    """``X-Emulator-Fault: 500`` (any 4xx/5xx), ``delay=MS`` or ``drop``, when the setting allows it."""
    value = value.strip().lower()
    g.fault = f"header:{value}"
    if value == "drop":
        _apply({"dropConnection": True}, 0, g.fault)
    elif value.startswith("delay="):
        try:
            delay = float(value[6:])
        except ValueError:
            raise errors.BadRequest(f"{HEADER}: delay=MS takes milliseconds, not {value[6:]!r}") from None
        _apply({}, min(max(delay, 0.0), 60_000.0), g.fault)
    elif value.isdigit() and 400 <= int(value) <= 599:
        _apply({"status": int(value)}, 0, g.fault)
    else:
        raise errors.BadRequest(f"{HEADER} takes a status (400-599), delay=MS or drop, not {value!r}")


def _dropped() -> Response:
    """A response that ends before its promised length: the client sees the connection break."""

    def nothing():
        return iter(())

    resp = Response(nothing(), status=200, mimetype="application/json")
    resp.headers["Content-Length"] = "1048576"  # promised, never sent: the server closes the connection
    return resp


def after_request(response: Response) -> Response:
    """Records the request in the journal (the control plane's own requests are not recorded)."""
    req = request._get_current_object()
    path = req.path
    if path.startswith("/_emulator/"):
        return response
    ctx = g._get_current_object()
    mdsp = current_app.extensions["mdsp"]
    started = ctx.get("started")
    cap = mdsp["settings"].journal_bodies
    mdsp["journal"].record({
        "time": mdsp["clock"].time(), "tenant": ctx.get("tenant"), "method": req.method,
        "path": path.replace("\x00", "%00"),  # as sent: PostgreSQL stores no NUL, and one would lose the batch
        "query": req.query_string.decode("utf-8", "replace").replace("\x00", "%00"), "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3) if started else 0.0,
        "fault": ctx.get("fault"),
        "request_body": _capped(req.get_data(cache=True), cap) if cap else None,
        "response_body": _capped(response.get_data(), cap) if cap and not response.is_streamed else None,
    })
    return response


def _capped(data: bytes, cap: int) -> str | None:
    """The first ``cap`` characters of a body, as text (undecodable bytes and NUL replaced); None for no body."""
    return data[:cap * 4].decode("utf-8", "replace")[:cap].replace("\x00", "\ufffd") if data else None


__all__ = ["after_request", "before_request"]
