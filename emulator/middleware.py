"""The request chain every data-plane request passes before its route (ARCHITECTURE.md, principle 6).

``CHAIN`` is the whole chain, in order, in one place:

1. ``screen``: a NUL character in the path or query is refused; a chunked body is read (and bounded);
2. ``sync_control``: the control state is brought up to date (the virtual clock and the fault rules, from
   the store);
3. ``authenticate``: the bearer token, its tenant and its scopes (APIs whose descriptor says ``protected``);
4. ``inject_faults``: a matching rule (or, when allowed, an ``X-Emulator-Fault`` header) delays the request,
   fails it with a status in the API's own envelope, or drops the connection, before the route has written
   anything;
5. ``rate_limit``: over its tenant's quota a request answers 429 with ``Retry-After``;
6. ``hand_over``: a writing request ends the chain's read transaction (the route takes the write lock);

and after the response, ``record`` writes the journal entry. The control plane itself (``/_emulator/...``)
passes only the first step.
"""

from __future__ import annotations

import re
import threading
import time

from flask import Response, abort, current_app, request

from emulator import context, errors
from emulator.auth.guard import check_bearer
from emulator.auth.routes import claimed_tenant
from emulator.context import RequestState
from emulator.control import ratelimits
from emulator.control.faults import count_match, status_error
from emulator.runtime import KEY, Runtime, bind, runtime

HEADER = "X-Emulator-Fault"
# the header as WSGI's environ holds it (read there: a look-up of the headers' view costs a microsecond, their key's
# spelling made each time)
_HEADER_KEY = "HTTP_" + HEADER.upper().replace("-", "_")


def screen(st: RequestState, rt: Runtime) -> None:
    req = st.req
    if "\x00" in req.path or b"%00" in req.query_string or b"\x00" in req.query_string:
        # no id, name or filter holds NUL; PostgreSQL could not even compare it (SQLite and PostgreSQL alike: 400)
        raise errors.BadRequest("The request's path or query holds a NUL character (%00), which no id, name or "
                                "filter may contain")
    if req.content_length is None and "chunked" in req.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        _read_chunked_body(req)
    elif rt.settings.journal_bodies:
        req.get_data(cache=True)  # kept for the journal: the form parser reads the cached bytes, not the stream


def sync_control(st: RequestState, rt: Runtime) -> None:
    if st.api.protected:
        context.open_transaction(rt.store, write=False)
    # a tenant may have gone or changed: what this process cached of tenants goes too
    if rt.control.sync(st.db, by_beacon=True):
        rt.tenant_cache.clear()
        rt.derived_cache.clear()
        rt.keyring.forget()  # or the signing keys rotated


def authenticate(st: RequestState, rt: Runtime) -> None:
    if st.api.protected:
        check_bearer(st.api)
    elif st.api.name == "token":
        st.tenant = claimed_tenant()  # a token request is its client's tenant's: faults, quotas, journal


def inject_faults(st: RequestState, rt: Runtime) -> None:
    req = st.req
    allowed_header = rt.settings.allow_fault_header and _HEADER_KEY in req.environ
    if allowed_header:
        _header_fault(st, req.environ[_HEADER_KEY])
    rules = rt.control.rules_for(st.tenant, st.db)
    if not rules:
        return
    now = rt.clock.time()
    method, path = req.method, req.path
    for rule in rules:
        if not rule.matches(method, path, st.api.name, st.tenant, now):
            continue
        context.release()  # end the read before writing the rule's counters
        with rt.store.transaction(write=True) as conn:
            nth, fire = count_match(conn, rule)
        if fire:
            st.fault = rule.id
            _apply(rule.spec["effect"], rule.delay_ms(nth), rule.id)
            return


def rate_limit(st: RequestState, rt: Runtime) -> None:
    if st.tenant is None or not (rt.control.quotas or rt.rate_limit):
        return
    quota = ratelimits.quota_for(rt.control.quotas, rt.rate_limit, st.tenant, st.api.name)
    if quota is None:
        return
    context.release()  # end the read before counting
    with rt.store.transaction(write=True) as conn:
        ratelimits.count(conn, st.tenant, st.api.name, quota, rt.clock.time())


def hand_over(st: RequestState, rt: Runtime) -> None:
    if st.req.method not in context.READ_METHODS:
        context.release()  # the route's transaction takes the write lock (context.scope)
    elif st.api.before_read is not None:
        st.api.before_read()  # e.g. the rollups take in the writes before TS Aggregates reads them


CHAIN = (screen, sync_control, authenticate, inject_faults, rate_limit, hand_over)


def before_request() -> None:
    rt = current_app._get_current_object().extensions[KEY]  # (one look-up through the proxy, not an attribute's)
    bind(rt)
    req = request._get_current_object()
    st = context.begin_request(rt.registry.api_of(req.path), req)
    if not st.api.data_plane:
        screen(st, rt)
        return
    for step in CHAIN:
        step(st, rt)


def after_request(response: Response) -> Response:
    """``record``: the journal entry of a data-plane request (the control plane's own are not recorded)."""
    st = context.state()
    if not st.api.data_plane:
        return response
    rt = runtime()
    req = st.req
    cap = rt.settings.journal_bodies
    rt.journal.record({
        "time": rt.clock.time(), "tenant": st.tenant, "method": req.method,
        "path": req.path.replace("\x00", "%00"),  # as sent: PostgreSQL stores no NUL, and one would lose the batch
        "query": req.query_string.decode("utf-8", "replace").replace("\x00", "%00"), "status": response.status_code,
        "duration_ms": round((time.perf_counter() - st.started) * 1000, 3),
        "fault": st.fault,
        "request_body": _capped(req.get_data(cache=True), cap) if cap else None,
        "response_body": _capped(response.get_data(), cap) if cap and not response.is_streamed else None,
    })
    return response


def _read_chunked_body(req) -> None:
    """A body without Content-Length (chunked; gunicorn passes it on as a stream): werkzeug stops reading at
    ``MAX_CONTENT_LENGTH`` without an error, so a longer body would reach the route cut short. It is read here,
    once (routes and the form parser take the cached bytes), and refused past the limit."""
    data = req.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and len(data) >= limit and req.environ["wsgi.input"].read(1):
        raise errors.PayloadTooLarge("The request body is too large.")


DELAYED_PER_TENANT = 4  # a tenant's injected delays in flight in one worker (of its 8 threads): the rest serve others
_delay_slots: dict[str | None, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _delay(tenant: str | None, delay_ms: float) -> None:
    """Sleep an injected delay in one of the tenant's slots. A delay holds a thread, so one tenant's slow faults
    (eight delay= requests once stalled a whole server) must leave threads for the others: past its slots, a
    delayed request of the tenant answers 503 at once, as a saturated service would."""
    context.release()  # no transaction (nor, for an in-memory store, its lock) is held while a request sleeps
    with _slots_lock:
        slots = _delay_slots.setdefault(tenant, threading.BoundedSemaphore(DELAYED_PER_TENANT))
    if not slots.acquire(blocking=False):
        raise errors.ServiceUnavailable(f"More than {DELAYED_PER_TENANT} of this tenant's requests are being "
                                        "delayed by injected faults in this worker", headers={"Retry-After": "1"})
    try:
        time.sleep(delay_ms / 1000)
    finally:
        slots.release()


def _apply(effect: dict, delay_ms: float, label: str) -> None:
    if delay_ms:
        _delay(context.state().tenant, delay_ms)
    if effect.get("dropConnection"):
        abort(_dropped())
    status = effect.get("status")
    if status is None:
        return  # a pure delay: the request goes on
    if effect.get("body") is not None:
        abort(Response(current_app.json.dumps(effect["body"]), status=status, mimetype="application/json",
                       headers={"Retry-After": "1"} if status == 429 else {}))
    raise status_error(status, label)


def _header_fault(st: RequestState, value: str) -> None:
    """``X-Emulator-Fault: 500`` (any 4xx/5xx), ``delay=MS`` or ``drop``, when the setting allows it."""
    value = value.strip().lower()
    st.fault = f"header:{value}"
    if value == "drop":
        _apply({"dropConnection": True}, 0, st.fault)
    elif value.startswith("delay="):
        try:
            delay = float(value[6:])
        except ValueError:
            raise errors.BadRequest(f"{HEADER}: delay=MS takes milliseconds, not {value[6:]!r}") from None
        _apply({}, min(max(delay, 0.0), 60_000.0), st.fault)
    elif value.isdigit() and 400 <= int(value) <= 599:
        _apply({"status": int(value)}, 0, st.fault)
    else:
        raise errors.BadRequest(f"{HEADER} takes a status (400-599), delay=MS or drop, not {value!r}")


def _dropped() -> Response:
    """A response that ends before its promised length: the client sees the connection break."""

    def nothing():
        return iter(())

    resp = Response(nothing(), status=200, mimetype="application/json")
    resp.headers["Content-Length"] = "1048576"  # promised, never sent: the server closes the connection
    return resp


# Credentials never reach the journal: tokens in answers, secrets in token requests (form or JSON).
_SECRETS = re.compile(r'("(?:access_token|client_secret|clientSecret)"\s*:\s*)"[^"]*"|'
                      r'(\b(?:client_secret|access_token|assertion)=)[^&\s]*')


def _redact(text: str) -> str:
    return _SECRETS.sub(lambda m: f'{m.group(1)}"[redacted]"' if m.group(1) else f"{m.group(2)}[redacted]", text)


def _capped(data: bytes, cap: int) -> str | None:
    """The first ``cap`` characters of a body, as text (undecodable bytes and NUL replaced, credentials redacted);
    None for no body. Redacted before the cut, so a secret cut in half is not half kept."""
    if not data:
        return None
    return _redact(data[:cap * 4 + 4096].decode("utf-8", "replace"))[:cap].replace("\x00", "\ufffd")


__all__ = ["CHAIN", "after_request", "before_request"]
