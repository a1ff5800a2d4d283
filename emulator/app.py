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
from werkzeug.routing import Rule

from emulator import context, errors, limits, middleware, validation
from emulator.apis import Registry
from emulator.auth.clients import ClientSpec
from emulator.auth.keys import KeyRing, PendingPair
from emulator.auth.tokens import TokenService
from emulator.clock import Clock
from emulator.context import TenantCache
from emulator.control import openapi
from emulator.control.journal import Journal
from emulator.control.plane import ControlPlane
from emulator.dashboard import bp as dashboard_bp
from emulator.jsonio import OrjsonProvider
from emulator.registry import load as load_registry
from emulator.runtime import KEY, Runtime
from emulator.settings import Settings, parse_rate_limit
from emulator.store import Store
from emulator.store.engine import surely_new
from emulator.tenants import Tenants

log = logging.getLogger("emulator")


def init_state(settings: Settings, store: Store, clock: Clock, registry: Registry | None = None,
               pending: PendingPair | None = None) -> KeyRing:
    """First-start work, idempotent: schema, signing key (``pending``'s, if one is being made), default tenant."""
    registry = registry or load_registry()
    store.init_schema(registry.schema_parts())
    ControlPlane(store, clock).ensure()
    keyring = KeyRing(store, settings.token_lifetime)
    keyring.ensure(clock.time(), pending)
    Tenants(store, registry).ensure(settings.tenant, ClientSpec(settings.client_id, settings.client_secret,
                                                                registry.all_scopes),
                                    now=clock.time(), seed=settings.seed)
    return keyring


class _Rule(Rule):
    """A URL rule whose builder (what ``url_for`` calls) is compiled on its first use. werkzeug compiles two
    builder functions from Python source for every rule as it is added: 57 ms of every start for the emulator's
    ~150 rules, of which ``url_for`` builds a handful."""

    def _compile_builder(self, *args, **kwargs):
        compile_now = super()._compile_builder
        compiled = []

        def build(rule, *values, **options):
            if not compiled:
                compiled.append(compile_now(*args, **kwargs))
            return compiled[0](rule, *values, **options)

        return build


class _App(Flask):
    """Flask, with each view and hook's sync check made once: Flask's own (``inspect``) ran on every call, six times
    per request, a tenth of a small GET's time. ``ensure_sync`` is the documented place to change it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ensured: dict = {}

    def ensure_sync(self, func):
        found = self._ensured.get(func)
        if found is None:
            found = self._ensured[func] = super().ensure_sync(func)
        return found


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    settings = (settings or Settings()).validate()
    # a store that cannot hold a key yet: its first key is made while the store and the routes are set up (the
    # routes come first, the first-start work that waits for the key last)
    pending = PendingPair() if store is None and surely_new(settings.effective_database_url) else None
    store = store or Store(settings.effective_database_url)
    registry = load_registry()

    app = _App(__name__, static_folder=None)
    app.url_rule_class = _Rule
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = limits.MAX_REQUEST_BYTES
    app.url_map.strict_slashes = False
    for api in registry.apis:
        for bp in api.blueprints:
            app.register_blueprint(bp)
    validation.install(app, openapi.request_checks())  # each documented route checks its request from its schema
    app.register_blueprint(dashboard_bp)  # /_emulator/ui/: the sandbox dashboard (HTML), not an API

    app.before_request(middleware.before_request)
    app.after_request(middleware.after_request)  # after_request runs last-registered first:
    app.after_request(context.end_transaction)  # the transaction ends, then the journal records
    app.teardown_request(context.abandon_transaction)

    clock = Clock()
    keyring = init_state(settings, store, clock, registry, pending)
    control_plane = ControlPlane(store, clock)
    control_plane.sync()
    app.extensions[KEY] = Runtime(
        settings=settings, store=store, clock=clock, registry=registry, keyring=keyring,
        tokens=TokenService(keyring, clock, settings.token_lifetime, settings.token_cache_size, registry.roles),
        control=control_plane, journal=Journal(store, settings.journal_size), tenant_cache=TenantCache(),
        rate_limit=parse_rate_limit(settings.rate_limit),
    )

    @app.errorhandler(errors.ApiError)
    def on_api_error(err: errors.ApiError):
        return errors.render(err, context.envelope())

    @app.errorhandler(errors.OAuthError)
    def on_oauth_error(err: errors.OAuthError):
        return errors.render_oauth(err)

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException):
        if exc.response is not None:  # a fault's own answer (middleware)
            return exc.response
        return errors.render(errors.from_http_exception(exc), context.envelope())

    @app.errorhandler(DataError)
    def on_data_error(exc: DataError):
        """PostgreSQL refuses a NUL character in any text, even to compare it (SQLite does not): a value of the
        request that no check refused earlier is the client's error, not the emulator's."""
        if "NUL" not in str(exc.orig):
            return on_unexpected(exc)
        err = errors.BadRequest("A value of the request holds a NUL character (\\u0000), which is not allowed")
        return errors.render(err, context.envelope())

    @app.errorhandler(OperationalError)
    def on_store_failure(exc: OperationalError):
        """The database is down, restarting or full: 503 (507) in the envelope, one line in the log."""
        err = errors.store_failure(exc)
        log.warning("store unavailable on %s %s: %s", request.method, request.path, err.detail)
        return errors.render(err, context.envelope())

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        err = errors.InternalError("An internal error occurred in the emulator; see its log")
        return errors.render(err, context.envelope())

    return app
