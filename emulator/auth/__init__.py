"""The token service: keys, JWT issue and verify, ``/oauth/token``, ``/token_keys``, the technical token manager,
the bearer check and the OAuth clients of tenants."""

from __future__ import annotations

from emulator.apis import Api, Service


def describe() -> Api:
    from emulator.auth import routes, spec

    return Api(
        name="token", title="Token service",
        prefixes=(("/oauth/", "oauth"), ("/token_keys", "oauth"), ("/api/technicaltokenmanager/", "core")),
        protected=False,
        blueprints=(routes.bp,), spec=spec.fragment,
        services=(Service("oauth", "UAA client_credentials", ("/oauth/token", "/token_keys")),
                  Service("technicaltokenmanager", "v3", ("/api/technicaltokenmanager/v3/oauth/token",))),
        known_gaps=("Only the client_credentials grant; no user tokens, no subtenant impersonation (iam-action).",),
    )
