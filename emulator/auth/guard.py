"""The bearer check that runs before every protected route (``/api/...``, ``/odata/...``).

It verifies the token, loads the token's tenant (the scope of every query that follows, see
:mod:`emulator.context`), and checks the scope the call needs (the API's descriptor says which).
Failures answer in the called API's own envelope: 401 with
``WWW-Authenticate: Bearer error="invalid_token"``, or 403 ``mdsp.core.generic.forbidden``.
"""

from __future__ import annotations

from flask import request

from emulator import context, errors
from emulator.apis import Api
from emulator.auth.tokens import revocation_signature
from emulator.runtime import runtime


def check_bearer(api: Api) -> None:
    """Runs inside the request's (read) transaction, which the chain opened."""
    if not api.protected:
        return
    rt = runtime()
    st = context.state()
    req = request._get_current_object()  # one proxy look-up: this runs on every request
    header = req.headers.get("Authorization", "")
    if not header:
        raise errors.Unauthorized("Full authentication is required to access this resource")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.Unauthorized("The Authorization header must be 'Bearer <access token>'")
    try:
        verified = rt.tokens.verify(token, st.db)
    except errors.Unauthorized as exc:
        tenant = getattr(exc, "tenant", None)
        if isinstance(tenant, str) and "\x00" not in tenant and rt.tenant_cache.lookup(st.db, tenant, fresh=False):
            st.tenant = tenant  # an expired token of an existing tenant: its 401 is the tenant's, in the journal
        raise
    tenant = verified.tenant
    if not isinstance(tenant, str) or "\x00" in tenant or context.load_tenant(rt.tenant_cache, tenant) is None:
        raise errors.Unauthorized("The tenant of this access token does not exist")
    claims = verified.claims
    if claims.get("rev_sig") != revocation_signature(claims.get("client_id"), st.tenant_row["instance"]):
        raise errors.Unauthorized("The access token was revoked: its tenant was re-created or its client changed")
    st.claims = verified.claims
    needed = api.required_scope(req.method)
    if needed is not None and needed not in verified.scopes:
        raise errors.Forbidden(f"The access token lacks the scope {needed!r} this call requires")
