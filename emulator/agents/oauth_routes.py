"""The agent's OAuth endpoints (agent IAM): ``/register`` and ``/oauth/token`` under ``/api/agentmanagement/v3``.

They take no tenant token: the initial and registration access tokens are JWTs signed with the emulator's key
that name their tenant (``ten``), and a client assertion names it too; the tenant's scope is opened from that.
"""

from __future__ import annotations

import jwt
from flask import Blueprint, jsonify, request

from emulator import context, errors, limits
from emulator.agents import oauth
from emulator.agents.routes import _now, sign
from emulator.httpio import json_body
from emulator.runtime import runtime
from emulator.store import TenantScope

bp = Blueprint("agentiam", __name__, url_prefix="/api/agentmanagement/v3")


def _verify(token: str) -> dict:
    """An emulator-signed JWT's claims (RS256, a key of the ring, not expired)."""
    rt = runtime()
    kid = jwt.get_unverified_header(token).get("kid")
    key = rt.keyring.find(kid, context.state().db) if isinstance(kid, str) else None
    if key is None:
        raise jwt.InvalidSignatureError("unknown key")
    claims = jwt.decode(token, key.public_key, algorithms=[limits.TOKEN_ALGORITHM],
                        options={"verify_aud": False, "verify_exp": False, "verify_iat": False,
                                 "require": ["iat", "jti"]})
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp <= _now()):  # the emulator's clock, not the host's
        raise jwt.ExpiredSignatureError("expired")
    return claims


def _tenant_scope(tenant: str) -> TenantScope:
    """The scope of the tenant a verified token (or assertion) names, in the request's transaction."""
    st, rt = context.state(), runtime()
    write = request.method not in context.READ_METHODS
    if st.db is None:
        st.db = rt.store.begin(write=write)
    row = rt.tenant_cache.lookup(st.db, tenant, fresh=True, for_write=write) if "\x00" not in tenant else None
    if row is None:
        raise oauth.unauthorized("Unknown tenant")
    st.tenant, st.tenant_row = tenant, row
    return TenantScope(st.db, tenant, rt.derived_cache)


def _open_db() -> None:
    st = context.state()
    if st.db is None:
        st.db = runtime().store.begin(write=request.method not in context.READ_METHODS)


def _body() -> dict:
    body = json_body(required=False)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise oauth.bad_request("The body must be a JSON object")
    return body


@bp.post("/register")
def register():
    _open_db()
    claims = oauth.bearer_claims(request.headers.get("Authorization"), _verify, oauth.IAT_CATEGORY)
    scope = _tenant_scope(claims["ten"])
    body = oauth.register(scope, claims, _body(), now=_now(), base_url=context.base_url(), sign=sign)
    return jsonify(body), 201


@bp.get("/register/<client_id>")
def read_registration(client_id: str):
    _open_db()
    claims = oauth.bearer_claims(request.headers.get("Authorization"), _verify, oauth.RAT_CATEGORY)
    scope = _tenant_scope(claims["ten"])
    return jsonify(oauth.read_registration(scope, claims, client_id, context.base_url()))


@bp.put("/register/<client_id>")
def rotate(client_id: str):
    _open_db()
    claims = oauth.bearer_claims(request.headers.get("Authorization"), _verify, oauth.RAT_CATEGORY)
    scope = _tenant_scope(claims["ten"])
    return jsonify(oauth.rotate(scope, claims, client_id, _body(), now=_now(), base_url=context.base_url(),
                                sign=sign))


@bp.post("/oauth/token")
def agent_token():
    now = _now()
    server_time = {"Server-Time": str(int(now))}
    try:
        form = request.form.to_dict()
        claims = oauth.assertion_claims_unverified(form)
        scope = _tenant_scope(claims["ten"])
        tenant_row = context.tenant_row()

        def issue(client_id: str) -> dict:
            context.release()
            body = runtime().tokens.issue(
                client_id=client_id, tenant=scope.tenant, instance=tenant_row["instance"],
                scopes=list(limits.AGENT_TOKEN_SCOPES), base_url=context.base_url(),
                extra={"iat": int(now), "exp": int(now) + limits.AGENT_TOKEN_SECONDS, "cat": "agent-token:v1",
                       "ten_ctx": "main-tenant"})
            return {**body, "token_type": "bearer", "expires_in": limits.AGENT_TOKEN_SECONDS,
                    "scope": list(limits.AGENT_TOKEN_SCOPES)}

        body = oauth.agent_token(scope, form["client_assertion"], now=now, issue=issue)
    except errors.OAuthError as exc:
        exc.headers = {**(getattr(exc, "headers", None) or {}), **server_time}
        raise
    resp = jsonify(body)
    resp.headers.update({**server_time, "Cache-Control": "no-store"})
    return resp


def _agent_jwk(jwk: dict) -> dict:
    """A key as agent IAM publishes it: ``value`` the PEM without line breaks (the Node SDK inserts the two it
    needs after ``BEGIN`` and before ``END``, mindconnect-api.md 3c)."""
    return {**jwk, "value": "".join(jwk["value"].split())
            .replace("-----BEGINPUBLICKEY-----", "-----BEGIN PUBLIC KEY-----")
            .replace("-----ENDPUBLICKEY-----", "-----END PUBLIC KEY-----")}


@bp.get("/oauth/token_key")
def token_key():
    """The current signing key of agent tokens (no authorization)."""
    return jsonify(_agent_jwk(runtime().keyring.published(_now())[0]))


@bp.get("/oauth/token_keys")
def token_keys():
    """Every published key, the current one first (select by the token's ``kid``)."""
    return jsonify({"keys": [_agent_jwk(k) for k in runtime().keyring.published(_now())]})
