"""The bearer check that runs before every protected route (``/api/...``, ``/odata/...``).

It verifies the token, records the tenant and the claims on ``flask.g`` for the store scope, and
checks the scope the call needs. Failures answer in the called API's own envelope: 401 with
``WWW-Authenticate: Bearer error="invalid_token"``, or 403 ``mdsp.core.generic.forbidden``.
"""

from __future__ import annotations

from flask import current_app, g, request

from emulator import errors
from emulator.apis import Api
from emulator.auth import scopes as scope_names
from emulator.store import tenants


def check_bearer(api: Api) -> None:
    if not api.protected:
        return
    mdsp = current_app.extensions["mdsp"]
    header = request.headers.get("Authorization", "")
    if not header:
        raise errors.Unauthorized("Full authentication is required to access this resource")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.Unauthorized("The Authorization header must be 'Bearer <access token>'")
    claims = mdsp["tokens"].verify(token)
    tenant = claims.get("ten")
    if not isinstance(tenant, str) or not tenants.tenant_exists(mdsp["store"], tenant):
        raise errors.Unauthorized("The tenant of this access token does not exist")
    g.claims = claims
    g.tenant = tenant
    needed = scope_names.required_scope(api.name, request.method)
    if needed is not None and needed not in scope_names.expand(claims["scope"]):
        raise errors.Forbidden(f"The access token lacks the scope {needed!r} this call requires")
