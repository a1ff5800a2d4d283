"""``create_app(settings)``: the one Flask application behind the fixture, the sandbox and CI.

The request chain (principle 6 of ARCHITECTURE.md) runs before every route in this order:
authentication (bearer check and scopes); fault injection, rate limiting and the journal join it
as the control plane grows. Errors of every kind are rendered in the called API's envelope.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from emulator import context, errors, limits
from emulator.aggregates.routes import bp as aggregates_bp
from emulator.apis import api_of
from emulator.assets.routes import bp as assets_bp
from emulator.auth.guard import check_bearer
from emulator.auth.keys import KeyRing
from emulator.auth.routes import bp as auth_bp
from emulator.auth.scopes import ALL_SCOPES
from emulator.auth.tokens import TokenService
from emulator.clock import Clock
from emulator.control.routes import bp as control_bp
from emulator.jsonio import OrjsonProvider
from emulator.settings import Settings
from emulator.store import Store
from emulator.store.tenants import ClientSpec, ensure_tenant
from emulator.timeseries.routes import bp as timeseries_bp

log = logging.getLogger("emulator")


def init_state(settings: Settings, store: Store, clock: Clock) -> KeyRing:
    """First-start work, idempotent: schema, signing key, default tenant."""
    store.init_schema()
    keyring = KeyRing(store, settings.token_lifetime)
    keyring.ensure(clock.time())
    ensure_tenant(store, settings.tenant,
                  ClientSpec(settings.client_id, settings.client_secret, ALL_SCOPES),
                  now=clock.time(), seed=settings.seed)
    return keyring


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    settings = (settings or Settings()).validate()
    store = store or Store(settings.effective_database_url)
    clock = Clock()
    keyring = init_state(settings, store, clock)

    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = limits.MAX_REQUEST_BYTES
    app.url_map.strict_slashes = False
    app.extensions["mdsp"] = {
        "settings": settings, "store": store, "clock": clock, "keyring": keyring,
        "tokens": TokenService(keyring, clock, settings.token_lifetime, settings.token_cache_size),
        "tenant_cache": context.TenantCache(),
        "derived_cache": {},  # per tenant, keyed by version: see emulator.assets.types.catalog
    }
    for bp in (auth_bp, assets_bp, timeseries_bp, aggregates_bp, control_bp):
        app.register_blueprint(bp)

    @app.before_request
    def request_chain():
        check_bearer(api_of(request.path))

    app.after_request(context.end_transaction)
    app.teardown_request(context.abandon_transaction)

    @app.errorhandler(errors.ApiError)
    def on_api_error(err: errors.ApiError):
        return errors.render(err, api_of(request.path).envelope)

    @app.errorhandler(errors.OAuthError)
    def on_oauth_error(err: errors.OAuthError):
        return errors.render_oauth(err)

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException):
        return errors.render(errors.from_http_exception(exc), api_of(request.path).envelope)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        err = errors.InternalError("An internal error occurred in the emulator; see its log")
        return errors.render(err, api_of(request.path).envelope)

    return app
