"""One error vocabulary: typed exceptions raised by services, rendered in each API's real envelope.

MindSphere speaks four error dialects (mindsphere-api.md 1a, 2f, 3, 6b):

* core (asset management, aggregates v4, token manager, the control plane):
  ``{"errors": [{"code": "mdsp.core.generic.<x>", "logref": "...", "message": "..."}]}``
* time series (and aggregates v3): ``{"id": "...", "message": "..."}``
* OAuth (``/oauth/token``): ``{"error": "...", "error_description": "..."}``
* OData: ``{"error": {"code": "...", "message": "..."}}``

Routes never build an error body by hand: they raise, and :func:`render` answers.
"""

from __future__ import annotations

import uuid

from flask import Response, json
from werkzeug.exceptions import HTTPException

CORE_PREFIX = "mdsp.core.generic."


class ApiError(Exception):
    """An answer other than success. ``code`` is the suffix after ``mdsp.core.generic.``."""

    status = 400
    code = "invalidParameter"
    detail: str | None = None  # for the log only, never in the answer (store failures: the driver's words)

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    status, code = 400, "invalidParameter"


class MissingParameter(ApiError):
    status, code = 400, "missingParameter"


class InvalidBody(ApiError):
    status, code = 400, "invalidRequestBodyProperty"


class MissingBodyProperty(ApiError):
    status, code = 400, "missingRequestBodyProperty"


class Unauthorized(ApiError):
    """A missing or bad bearer token. Always carries the RFC 6750 challenge."""

    status, code = 401, "unauthorized"

    def __init__(self, message: str, **kw):
        super().__init__(message, **kw)
        self.headers.setdefault("WWW-Authenticate",
                                f'Bearer error="invalid_token", error_description="{challenge_text(message)}"')


def challenge_text(text: str) -> str:
    """``text`` as RFC 6750 allows an ``error_description`` (printable ASCII but ``"`` and ``\\``): a message may
    quote a token's header, and a quote would end the parameter, a non-Latin-1 character break the response."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "'" if c == '"' else "?" for c in text)


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "noMatch"


class MethodNotAllowed(ApiError):
    status, code = 405, "methodNotAllowed"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PreconditionFailed(ApiError):
    status, code = 412, "noMatch"


class PayloadTooLarge(ApiError):
    status, code = 413, "payloadTooLarge"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupportedMediaType"


class TooManyRequests(ApiError):
    status, code = 429, "tooManyRequests"


class InternalError(ApiError):
    status, code = 500, "internalServerError"


class NotImplementedYet(ApiError):
    """A request the service parses but does not implement (OData: an unsupported option or function)."""

    status, code = 501, "notImplemented"


class ServiceUnavailable(ApiError):
    status, code = 503, "serviceUnavailable"


class InsufficientStorage(ApiError):
    """The store's disk is full: nothing of the request was stored (RFC 4918's 507)."""

    status, code = 507, "insufficientStorage"


def store_failure(exc: Exception) -> ApiError:
    """The answer to a store that cannot do its part (down, restarting, out of space): a 503 with
    ``Retry-After`` (or 507 for a full disk), never the 500 of an emulator bug.

    The answer names no host, port or driver text (an unauthenticated caller of ``/oauth/token`` would learn where
    the database is); that detail is in ``err.detail``, for the log."""
    text = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "disk is full" in text or "No space left" in text or "could not extend file" in text:
        err = InsufficientStorage("The storage is full; nothing was stored. Free space and try again.")
    else:
        err = ServiceUnavailable("The storage is unavailable; nothing was stored. Try again.",
                                 headers={"Retry-After": "1"})
    err.detail = text
    return err


class OAuthError(Exception):
    """An error of the token endpoint, in the UAA shape."""

    def __init__(self, status: int, error: str, description: str, headers: dict | None = None):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description
        self.headers = dict(headers or {})


_BY_STATUS = {cls.status: cls for cls in (
    BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict, PreconditionFailed,
    PayloadTooLarge, UnsupportedMediaType, TooManyRequests, InternalError,
    NotImplementedYet, ServiceUnavailable, InsufficientStorage,
)}


def by_status(status: int) -> type[ApiError]:
    """The typed error of a status (ApiError itself for a status without one)."""
    return _BY_STATUS.get(status, ApiError)


def from_http_exception(exc: HTTPException) -> ApiError:
    """Werkzeug's own refusals (unknown route, wrong method, body too large) as typed errors."""
    cls = _BY_STATUS.get(exc.code or 500, ApiError)
    messages = {
        404: "The requested resource does not exist.",
        405: "The method is not allowed for the requested URL.",
        413: "The request body is too large.",
    }
    err = cls(messages.get(exc.code, exc.description or exc.name), status=exc.code)
    if exc.code == 405:
        allow = exc.get_headers()
        for key, value in allow:
            if key.lower() == "allow":
                err.headers["Allow"] = value
    return err


def body_for(err: ApiError, envelope: str) -> dict:
    logref = uuid.uuid4().hex
    if envelope == "timeseries":
        return {"id": logref, "message": err.message}
    if envelope == "odata":
        error = {"code": str(err.status), "message": err.message}
        if getattr(err, "target", None):
            error["target"] = err.target
        return {"error": error}
    if envelope == "oauth":
        error = {401: "invalid_token", 403: "insufficient_scope"}.get(err.status, err.code)
        return {"error": error, "error_description": err.message}
    return {"errors": [{"code": CORE_PREFIX + err.code, "logref": logref, "message": err.message}]}


def render(err: ApiError, envelope: str) -> Response:
    resp = Response(json.dumps(body_for(err, envelope)), status=err.status, mimetype="application/json")
    if envelope == "odata":  # OData JSON format 21.1: the message's language; the version of the protocol
        resp.headers["Content-Language"] = "en"
        resp.headers["OData-Version"] = "4.0"
    for key, value in err.headers.items():
        resp.headers[key] = value
    return resp


def render_oauth(err: OAuthError) -> Response:
    resp = Response(
        json.dumps({"error": err.error, "error_description": err.description}),
        status=err.status, mimetype="application/json",
    )
    resp.headers["Cache-Control"] = "no-store"
    for key, value in err.headers.items():
        resp.headers[key] = value
    return resp
