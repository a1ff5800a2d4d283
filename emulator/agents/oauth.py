"""The agent's own OAuth (mindconnect-api.md section 3): dynamic client registration with the initial access
token, key rotation with the registration access token, and agent tokens for HS256 client assertions.

No Flask here: the routes (``oauth_routes``) pass in the signing and verifying functions of the emulator's key.
Every refusal is an IAM-style :class:`errors.OAuthError` (``{"error", "error_description"}``).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable

import jwt
from jwt.algorithms import RSAAlgorithm

from emulator import errors, limits
from emulator.agents.models import agents, clients, used_assertions
from emulator.agents.service import ONBOARDED, get_row
from emulator.store import TenantScope

IAT_CATEGORY = "initial-access-token:v1"
RAT_CATEGORY = "registration-access-token:v1"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def unauthorized(description: str = "") -> errors.OAuthError:
    return errors.OAuthError(401, "token_validation_failed", f"[{uuid.uuid4().hex}] {description}".strip())


def bad_request(description: str) -> errors.OAuthError:
    return errors.OAuthError(400, "invalid_request", f"[{uuid.uuid4().hex}] {description}")


def bearer_claims(header: str | None, verify: Callable[[str], dict], category: str) -> dict:
    """The claims of ``Authorization: Bearer <emulator-signed token of this category>``; 401 otherwise."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("Full authentication is required")
    try:
        claims = verify(token.strip())
    except jwt.PyJWTError:
        raise unauthorized("The token is invalid or expired") from None
    if claims.get("cat") != category or not isinstance(claims.get("ten"), str) or not isinstance(
            claims.get("sub"), str):
        raise unauthorized("The token is not a token of this kind")
    return claims


def _jwks(profile: str, body: dict) -> dict | None:
    jwks = body.get("jwks")
    if profile == "SHARED_SECRET":
        if jwks is not None:
            raise bad_request("A SHARED_SECRET agent registers without jwks")
        return None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise bad_request("An RSA_3072 agent registers its public key: jwks.keys")
    for key in jwks["keys"]:
        if not isinstance(key, dict) or key.get("kty") != "RSA" or not all(
                isinstance(key.get(k), str) and key.get(k) for k in ("n", "e", "kid")):
            raise bad_request("Each key needs kty RSA, n, e and kid")
    return {"keys": [{k: key[k] for k in ("kty", "n", "e", "kid")} for key in jwks["keys"]]}


def _identifier(agent_id: str, profile: str, secret: str | None, expires: int, rat: str, base_url: str) -> dict:
    body = {"client_id": agent_id, "token_endpoint_auth_method":
            "client_secret_jwt" if profile == "SHARED_SECRET" else "private_key_jwt",
            "grant_types": ["client_credentials"], "client_secret_expires_at": expires,
            "registration_access_token": rat,
            "registration_client_uri": f"{base_url.rstrip('/')}/api/agentmanagement/v3/register/{agent_id}"}
    if secret is not None:
        body["client_secret"] = secret
    return body


def _rat(sign: Callable[[dict], str], tenant: str, agent_id: str, now: float) -> tuple[str, str]:
    jti = uuid.uuid4().hex
    return jti, sign({"jti": jti, "sub": agent_id, "ten": tenant, "cat": RAT_CATEGORY, "iat": int(now)})


def register(scope: TenantScope, claims: dict, body: dict, *, now: float, base_url: str,
             sign: Callable[[dict], str]) -> dict:
    """Onboarding: the initial access token is the agent's current one and used once; the agent is ONBOARDED."""
    agent = scope.get(agents, claims["sub"])
    if agent is None or agent["iat_jti"] != claims.get("jti"):
        raise unauthorized()  # deleted, offboarded, replaced or already used (ISS #106/#82: the same answer)
    jwks = _jwks(agent["security_profile"], body)
    secret = secrets.token_urlsafe(32) if jwks is None else None
    expires = int(now) + limits.AGENT_SECRET_SECONDS
    rat_jti, rat = _rat(sign, scope.tenant, agent["agent_id"], now)
    # the token is used up first, conditionally: of two registrations racing with one token, one wins
    if scope.update(agents, agents.c.agent_id == agent["agent_id"], agents.c.iat_jti == claims["jti"],
                    boarding_status=ONBOARDED, iat_jti="used-" + claims["jti"][:27]) != 1:
        raise unauthorized()
    scope.delete(clients, clients.c.client_id == agent["agent_id"])
    scope.insert(clients, client_id=agent["agent_id"], secret=secret, jwks=jwks, secret_expires_at=expires,
                 rat_jti=rat_jti, rat_prev_jti=None)
    return _identifier(agent["agent_id"], agent["security_profile"], secret, expires, rat, base_url)


def _client_for_rat(scope: TenantScope, claims: dict, client_id: str):
    client = scope.get(clients, client_id)
    if client is None or claims["sub"] != client_id or claims.get("jti") not in (client["rat_jti"],
                                                                                 client["rat_prev_jti"]):
        raise unauthorized()
    return client


def read_registration(scope: TenantScope, claims: dict, client_id: str, base_url: str) -> dict:
    client = _client_for_rat(scope, claims, client_id)
    agent = get_row(scope, client_id)
    body = _identifier(client_id, agent["security_profile"], client["secret"], client["secret_expires_at"],
                       "", base_url)
    body.pop("registration_access_token")
    return body


def rotate(scope: TenantScope, claims: dict, client_id: str, body: dict, *, now: float, base_url: str,
           sign: Callable[[dict], str]) -> dict:
    """Key rotation: a new secret (or the keys sent) and a new registration access token; the one presented
    stays valid beside the new one (observed grace, mindconnect-api.md 3b)."""
    client = _client_for_rat(scope, claims, client_id)
    if body.get("client_id") != client_id:
        raise bad_request("client_id in the body must be the client's id")
    agent = get_row(scope, client_id)
    jwks = _jwks(agent["security_profile"], body)
    secret = secrets.token_urlsafe(32) if jwks is None else None
    expires = max(int(now) + limits.AGENT_SECRET_SECONDS, client["secret_expires_at"])
    rat_jti, rat = _rat(sign, scope.tenant, client_id, now)
    scope.update(clients, clients.c.client_id == client_id, secret=secret, jwks=jwks, secret_expires_at=expires,
                 rat_jti=rat_jti, rat_prev_jti=claims["jti"])
    return _identifier(client_id, agent["security_profile"], secret, expires, rat, base_url)


def assertion_claims_unverified(form: dict) -> dict:
    """The form's checks and the assertion's claims, not yet verified (they name the tenant and the client)."""
    if form.get("grant_type") != "client_credentials":
        raise errors.OAuthError(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise bad_request(f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion") or ""
    if not assertion or len(assertion) > limits.AGENT_ASSERTION_MAX_LENGTH:
        raise bad_request("client_assertion is missing or too long")
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise unauthorized("client_assertion is not a JWT") from None
    if not isinstance(claims.get("ten"), str) or not isinstance(claims.get("iss"), str):
        raise unauthorized("The client assertion names no tenant or issuer")
    return claims


def agent_token(scope: TenantScope, assertion: str, *, now: float, issue: Callable[[str], dict]) -> dict:
    """Verify a client assertion strictly (the signature: HS256 with the current secret, RS256/RS384 with the
    registered key; iss = sub = an onboarded client, aud southgate, nbf/iat/exp, an unused jti) and answer an agent
    token."""
    unverified = jwt.decode(assertion, options={"verify_signature": False})
    client_id = unverified["iss"]
    client = scope.get(clients, client_id) if len(client_id) <= limits.AGENT_ID_MAX else None
    agent = scope.get(agents, client_id) if client is not None else None
    if client is None or agent is None or agent["boarding_status"] != ONBOARDED:
        raise unauthorized("Unknown client")
    if client["secret_expires_at"] <= now:
        raise bad_request("The client secret has expired; rotate it")  # MCL: 400 means "rotate your key"
    if client["secret"] is not None:  # SHARED_SECRET: HMAC with the secret's bytes as they are
        keys, algorithms = [client["secret"]], ["HS256"]
    else:  # RSA_3072: the registered public key(s); Node signs RS384, MCL RS256 (no kid)
        keys, algorithms = _public_keys(client["jwks"]), ["RS256", "RS384"]
    claims = None
    for key in keys:
        try:
            claims = jwt.decode(assertion, key, algorithms=algorithms, audience=limits.AGENT_ASSERTION_AUDIENCE,
                                options={"require": ["exp", "iat", "jti", "sub", "iss", "aud"], "verify_iat": False,
                                         "verify_exp": False, "verify_nbf": False})  # times: below, emulator's clock
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise unauthorized(f"The client assertion is invalid: {type(exc).__name__}") from None
    if claims is None:
        raise unauthorized("The client assertion's signature does not verify")
    if claims["sub"] != client_id:
        raise unauthorized("sub must equal iss")
    skew = limits.AGENT_ASSERTION_SKEW_SECONDS
    times = [claims["iat"], claims["exp"], claims.get("nbf", claims["iat"])]
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
        raise unauthorized("iat, nbf and exp must be numbers")
    if claims["iat"] > now + skew or times[2] > now + skew or claims["exp"] <= now - skew:
        raise unauthorized("The client assertion is not valid now")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > 128:
        raise unauthorized("The client assertion's jti is invalid")
    scope.delete(used_assertions, used_assertions.c.expires_at < now)
    if scope.get(used_assertions, f"{client_id}:{jti}"[:128]) is not None:
        raise unauthorized("The client assertion was used before")
    scope.insert(used_assertions, jti=f"{client_id}:{jti}"[:128], client_id=client_id,
                 expires_at=float(claims["exp"]))
    online = client["token_issued_at"] is not None and client["token_issued_at"] + limits.AGENT_TOKEN_SECONDS > now
    scope.update(clients, clients.c.client_id == client_id, token_issued_at=now,
                 online_since=client["online_since"] if online else now)
    return issue(client_id)


def _public_keys(jwks: dict | None) -> list:
    out = []
    for key in (jwks or {}).get("keys", []):
        try:
            out.append(RSAAlgorithm.from_jwk(json.dumps(key)))
        except (ValueError, TypeError, jwt.PyJWTError):
            continue  # a registered key that is no RSA key verifies nothing
    return out
