"""The token service's contract (its OpenAPI fragment): ``/oauth/token``, ``/token_keys`` and the technical token
manager.

Written once, beside the routes: the document shows it and requests are validated from it
(:mod:`emulator.validation`), the technical token manager's JSON body and query fields included. ``POST
/oauth/token`` is checked in its route (``CHECKED_IN_CODE``): its refusals are OAuth's own error codes
(``invalid_request``, ``unsupported_grant_type``, RFC 6749), which no schema can choose.
"""

from __future__ import annotations

from emulator import limits
from emulator.spec import (
    NO_STORE,
    array,
    errors,
    integer,
    json_body,
    make_fragment,
    obj,
    ok,
    operation,
    query,
    ref,
    string,
)

CHECKED_IN_CODE = {"auth.oauth_token": "OAuth refusals carry RFC 6749 error codes (invalid_request, "
                                       "unsupported_grant_type, invalid_scope), chosen in the route"}


def token_response() -> dict:
    return obj({"access_token": string(description="An RS256 JWT"), "token_type": string(enum=["Bearer"]),
                "expires_in": integer(minimum=1), "scope": string(description="Space-separated"),
                "jti": string()}, "all")


def jwk() -> dict:
    return obj({"kty": string(enum=["RSA"]), "alg": string(enum=[limits.TOKEN_ALGORITHM]), "use": string(enum=["sig"]),
                "kid": string(), "n": string(), "e": string(),
                "value": string(description="The SPKI PEM of the key, newlines included")}, "all")


def paths() -> dict:
    tag = "Token service"
    token_ok = ok("An access token", ref("TokenResponse"), NO_STORE)
    form = obj({"grant_type": string(enum=["client_credentials"]), "client_id": string(), "client_secret": string(),
                "scope": string(description="Space-separated; narrows the token")}, closed=False)
    ttm_fields = {"appName": string(pattern=limits.APP_NAME_PATTERN),
                  "appVersion": string(pattern=limits.APP_VERSION_PATTERN),
                  "hostTenant": string(minLength=1, description="The credentials' tenant"),
                  "userTenant": string(minLength=1, description="The credentials' tenant")}
    return {
        "/oauth/token": {"post": operation(
            "auth.oauth_token", "Client credentials grant", {
                "200": token_ok,
                **errors("oauth", 400, 401, notes={
                    400: "invalid_request (no grant_type), unsupported_grant_type or invalid_scope",
                    401: "unauthorized: missing or bad client credentials"})},
            tag=tag, security=[{"basicAuth": []}, {}],
            description="Client authentication by HTTP Basic or by the form fields client_id/client_secret; "
                        "grant_type in the form body or in the query (Mendix's TokenURL).",
            params=[query("grant_type", string(enum=["client_credentials"]), empty_ok=False),
                    query("scope", string(), "Space-separated; narrows the token")],
            body=json_body(form, required=False, media="application/x-www-form-urlencoded"))},
        "/token_keys": {"get": operation(
            "auth.token_keys", "The token verification keys, current first",
            {"200": ok("Keys", obj({"keys": array(ref("JsonWebKey"), minItems=1)}, "all")), **errors("oauth")},
            tag=tag, security=[])},
        "/api/technicaltokenmanager/v3/oauth/token": {"post": operation(
            "auth.technical_token", "A technical token for app credentials", {
                "200": token_ok,
                **errors("core", 400, 401, 403, notes={
                    401: "Missing, malformed or bad credentials",
                    403: "hostTenant or userTenant is not the credentials' tenant"})},
            tag=tag, security=[{"spaceAuthKey": []}, {"basicAuth": []}],
            description="The four fields in the JSON body or, alternatively, in the query (not both).",
            params=[query(name, schema, empty_ok=False) for name, schema in ttm_fields.items()],
            body=json_body(obj(ttm_fields, "all", closed=False), required=False))},
    }


def fragment(admin_token: bool = False) -> dict:
    return make_fragment(paths(), {"TokenResponse": token_response(), "JsonWebKey": jwk()},
                         checked_in_code=CHECKED_IN_CODE, pattern_texts={
                             limits.APP_NAME_PATTERN: "must be 1-128 letters, digits or ._-",
                             limits.APP_VERSION_PATTERN: "must be 1-64 letters, digits or ._+-"})
