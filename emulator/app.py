"""``create_app(settings)``: the one Flask application behind the fixture, the sandbox and CI.

The request chain (principle 6 of ARCHITECTURE.md, :mod:`emulator.middleware`) runs around every
route: control state, authentication, fault injection, then the journal. Errors of every kind are
rendered in the called API's envelope.
"""

from __future__ import annotations

import logging

from flask import Flask, request
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from emulator import context, errors, limits, middleware
from emulator.aggregates.routes import bp as aggregates_bp
from emulator.apis import api_of
from emulator.assets.routes import bp as assets_bp
from emulator.auth.keys import KeyRing
from emulator.auth.routes import bp as auth_bp
from emulator.auth.scopes import ALL_SCOPES
from emulator.auth.tokens import TokenService
from emulator.clock import Clock
from emulator.control.journal import Journal
from emulator.control.openapi import bp as openapi_bp
from emulator.control.plane import ControlPlane
from emulator.control.ratelimits import parse_setting as parse_rate_setting
from emulator.control.routes import bp as control_bp
from emulator.dashboard import bp as dashboard_bp
from emulator.jsonio import OrjsonProvider
from emulator.odata.routes import admin_bp as contracts_bp
from emulator.odata.routes import bp as odata_bp
from emulator.settings import Settings
from emulator.store import Store
from emulator.store.tenants import ClientSpec, ensure_tenant
from emulator.timeseries.routes import bp as timeseries_bp

log = logging.getLogger("emulator")


def init_state(settings: Settings, store: Store, clock: Clock) -> KeyRing:
    """First-start work, idempotent: schema, signing key, default tenant."""
    store.init_schema()
    ControlPlane(store, clock).ensure()
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
    control_plane = ControlPlane(store, clock)
    control_plane.sync()

    app = Flask(__name__, static_folder=None)
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = limits.MAX_REQUEST_BYTES
    app.url_map.strict_slashes = False
    app.extensions["mdsp"] = {
        "settings": settings, "store": store, "clock": clock, "keyring": keyring,
        "tokens": TokenService(keyring, clock, settings.token_lifetime, settings.token_cache_size),
        "tenant_cache": context.TenantCache(),
        "derived_cache": {},  # per tenant, keyed by version: see emulator.assets.types.catalog
        "control": control_plane,
        "journal": Journal(store, settings.journal_size),
        "rate_limit": parse_rate_setting(settings.rate_limit),
    }
    for bp in (auth_bp, assets_bp, timeseries_bp, aggregates_bp, odata_bp, contracts_bp, control_bp, openapi_bp):
        app.register_blueprint(bp)
    app.register_blueprint(dashboard_bp)  # /_emulator/ui/: the sandbox dashboard (HTML)

    app.before_request(middleware.before_request)
    app.after_request(middleware.after_request)  # after_request runs last-registered first:
    app.after_request(context.end_transaction)  # the transaction ends, then the journal records
    app.teardown_request(context.abandon_transaction)

    @app.errorhandler(errors.ApiError)
    def on_api_error(err: errors.ApiError):
        return errors.render(err, api_of(request.path).envelope)

    @app.errorhandler(errors.OAuthError)
    def on_oauth_error(err: errors.OAuthError):
        return errors.render_oauth(err)

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException):
        if exc.response is not None:  # a fault's own answer (middleware)
            return exc.response
        return errors.render(errors.from_http_exception(exc), api_of(request.path).envelope)

    @app.errorhandler(DataError)
    def on_data_error(exc: DataError):
        """PostgreSQL refuses a NUL character in any text, even to compare it (SQLite does not): a value of the
        request that no check refused earlier is the client's error, not the emulator's."""
        if "NUL" not in str(exc.orig):
            return on_unexpected(exc)
        err = errors.BadRequest("A value of the request holds a NUL character (\\u0000), which is not allowed")
        return errors.render(err, api_of(request.path).envelope)

    @app.errorhandler(OperationalError)
    def on_store_failure(exc: OperationalError):
        """The database is down, restarting or full: 503 (507) in the envelope, one line in the log."""
        err = errors.store_failure(exc)
        log.warning("store unavailable on %s %s: %s", request.method, request.path, err.message)
        return errors.render(err, api_of(request.path).envelope)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        err = errors.InternalError("An internal error occurred in the emulator; see its log")
        return errors.render(err, api_of(request.path).envelope)

    return app
