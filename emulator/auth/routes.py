"""The token endpoints: ``POST /oauth/token``, ``GET /token_keys`` and the technical token manager.

Contracts: mindsphere-api.md 1a and 1c, sdk-requests.md 2. The tenant is taken from the client
(client ids are unique across the server), since the real service reads it from a host name the
emulator does not have.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from emulator import errors
from emulator.auth.clients import authenticate
from emulator.runtime import runtime
from emulator.store.models import clients

bp = Blueprint("auth", __name__)

TTM_FIELDS = ("appName", "appVersion", "hostTenant", "userTenant")



def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


def _basic(header: str | None) -> tuple[str, str] | None:
    """(client_id, secret) from ``Basic base64(id:secret)``, or None."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if ":" not in decoded:
        return None
    client_id, secret = decoded.split(":", 1)
    return client_id, secret


def _authenticate(creds: tuple[str, str]) -> dict | None:
    """The client of these credentials, or None. A NUL character matches no client (and PostgreSQL could not
    even compare it)."""
    if any("\x00" in part for part in creds):
        return None
    return authenticate(runtime().store, *creds)


def _claimed_client() -> tuple[str, str] | None:
    """The credentials a token request presents: HTTP Basic (``Authorization`` or the token manager's
    ``X-SPACE-AUTH-KEY``) or the form fields ``client_id``/``client_secret``."""
    creds = _basic(request.headers.get("X-SPACE-AUTH-KEY") or request.headers.get("Authorization"))
    if creds is None and request.mimetype == "application/x-www-form-urlencoded" and request.form.get("client_id"):
        creds = (request.form.get("client_id", ""), request.form.get("client_secret", ""))
    return creds


def claimed_tenant() -> str | None:
    """The tenant of the client a token request names (before its secret is checked): the request chain
    attributes the request to it, so that its faults, rate limits and journal entries are the tenant's."""
    creds = _claimed_client()
    if creds is None or "\x00" in creds[0]:
        return None
    with runtime().store.transaction() as conn:
        return conn.scalar(select(clients.c.tenant_id).where(clients.c.client_id == creds[0]))


@bp.post("/oauth/token")
def oauth_token():
    """Client credentials grant; ``grant_type`` in the form body or the query (Mendix's TokenURL)."""
    grant_type = request.form.get("grant_type") or request.args.get("grant_type")
    if not grant_type:
        raise errors.OAuthError(400, "invalid_request", "Missing grant type")
    if grant_type != "client_credentials":
        raise errors.OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
    creds = _basic(request.headers.get("Authorization"))
    if creds is None and request.form.get("client_id"):
        creds = (request.form.get("client_id", ""), request.form.get("client_secret", ""))
    challenge = {"WWW-Authenticate": 'Basic realm="UAA/client", error="unauthorized"'}
    if creds is None:
        raise errors.OAuthError(401, "unauthorized", "Full authentication is required to access this resource",
                                challenge)
    client = _authenticate(creds)
    if client is None:
        raise errors.OAuthError(401, "unauthorized", "Bad credentials", challenge)
    granted = list(client["scopes"])
    asked = request.form.get("scope") or request.args.get("scope")
    if asked:
        wanted = asked.split()
        outside = [s for s in wanted if s not in granted]
        if outside:
            raise errors.OAuthError(400, "invalid_scope", f"Invalid scope: {outside[0]}. Did you know that you "
                                    f"can get default scopes by simply sending no value?")
        granted = wanted
    body = runtime().tokens.issue(client_id=client["client_id"], tenant=client["tenant_id"],
                                  instance=client["instance"], scopes=granted, base_url=request.host_url)
    return _no_store(jsonify(body))


@bp.get("/token_keys")
def token_keys():
    """The public keys, current first, each with its SPKI PEM in ``value`` (what the SDK reads)."""
    return jsonify({"keys": runtime().keyring.published(runtime().clock.time())})


@bp.post("/api/technicaltokenmanager/v3/oauth/token")
def technical_token():
    """App credentials: ``X-SPACE-AUTH-KEY: Basic ...`` and ``{appName, appVersion, hostTenant, userTenant}``."""
    header = request.headers.get("X-SPACE-AUTH-KEY") or request.headers.get("Authorization")
    creds = _basic(header)
    challenge = {"WWW-Authenticate": 'Basic realm="technicaltokenmanager"'}
    if creds is None:
        raise errors.Unauthorized("Missing or malformed X-SPACE-AUTH-KEY (expected Basic base64(id:secret))",
                                  headers=challenge)
    client = _authenticate(creds)
    if client is None:
        raise errors.Unauthorized("Bad credentials", headers=challenge)
    fields = _ttm_fields()
    tenant = client["tenant_id"]
    if fields["hostTenant"] != tenant:
        raise errors.Forbidden(f"The credentials do not belong to host tenant {fields['hostTenant']!r}")
    if fields["userTenant"] != tenant:
        raise errors.Forbidden(f"Tenant {fields['userTenant']!r} has no subscription to "
                               f"{fields['appName']} {fields['appVersion']} of {tenant!r}")
    body = runtime().tokens.issue(
        client_id=client["client_id"], tenant=tenant, instance=client["instance"], scopes=list(client["scopes"]),
        base_url=request.host_url,
        extra={"app_name": fields["appName"], "app_version": fields["appVersion"]},
    )
    return _no_store(jsonify(body))


def _ttm_fields() -> dict:
    """The four fields from the JSON body or, alternatively, from the query (not both). Their forms are the
    contract's (``spec.py``: the body's and the query's, checked before the route runs); which source holds
    them, and that it holds all four, is checked here."""
    in_query = {k: request.args[k] for k in TTM_FIELDS if k in request.args}
    raw = request.get_data(cache=True)
    if raw.strip():
        if in_query:
            raise errors.BadRequest("Give appName, appVersion, hostTenant and userTenant either in the body or "
                                    "in the query, not in both")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise errors.BadRequest("The request body must be a JSON object")
        source = body
    else:
        source = in_query
    out = {}
    for name in TTM_FIELDS:
        value = source.get(name)
        if value is None or value == "":
            raise errors.MissingBodyProperty(f"{name} is required")
        out[name] = value
    return out
