"""``GET /_emulator/openapi.json``: the OpenAPI 3.0 document of every route the emulator serves, merged from the
fragments the API packages write beside their routes.

Why it exists: clients and tests should not have to read the README to know the emulator's shapes, and a
property-based tester (schemathesis) can only probe what is described accurately. So the document describes what
*this* emulator does (its paths, parameter constraints, bodies, status codes and each API's error envelope), not
the whole MindSphere API; ``shared/reference/contract.openapi.yaml`` was the starting point for the shapes.

Each API writes its contract once, in its package's ``spec.py`` (its descriptor's ``spec``, see
:mod:`emulator.spec`); this module only merges them: every fragment of the registry, the shared components
(error envelopes, headers), and what belongs to the whole document (info, tags, security schemes, servers). Two
fragments may not describe the same path nor give one component name two meanings; every ``$ref`` must resolve.
The same merged document is what requests are validated from (:func:`request_checks`).
``tests/test_openapi.py`` checks the document against the Flask URL map both ways and validates real answers.

The route lives in its own blueprint, registered with the control plane's, so that it is open like
``/_emulator/health`` even when an admin token guards the rest of the control plane.
"""

from __future__ import annotations

import json
from functools import lru_cache

from flask import Blueprint, jsonify, request

from emulator import __version__, validation
from emulator.registry import load as load_registry
from emulator.runtime import runtime
from emulator.spec import OPENAPI_VERSION, PATTERN_TEXTS, shared_components

bp = Blueprint("openapi", __name__, url_prefix="/_emulator")

TAGS = [
    {"name": "Token service", "description": "OAuth client credentials, token keys, the technical token manager"},
    {"name": "Asset Management v3", "description": "Core error envelope"},
    {"name": "IoT Time Series v3", "description": "Errors as {id, message}"},
    {"name": "TS Aggregates", "description": "v4: core error envelope; v3: {id, message}"},
    {"name": "Data Hub", "description": "Contract administration under /_emulator/contracts (the tenant's token, "
                                        "scopes mdsp.core.am.r/w/d; core error envelope) and the read-only OData "
                                        "v4 service of each published contract under /odata/{contract}/ (scope "
                                        "mdsp.datahub.r; OData error envelope)"},
    {"name": "Control plane", "description": "The emulator's own API: tenants, keys, faults, rate limits, clock, "
                                             "journal, reset, snapshots, the Data Hub catalogue"},
]

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "An access token of POST /oauth/token or of the technical token manager"},
    "basicAuth": {"type": "http", "scheme": "basic", "description": "client_id:client_secret"},
    "spaceAuthKey": {"type": "apiKey", "in": "header", "name": "X-SPACE-AUTH-KEY",
                     "description": "`Basic base64(client_id:client_secret)` of the app credentials"},
    "adminToken": {"type": "http", "scheme": "bearer",
                   "description": "The control plane's admin token (--admin-token / MDSP_EMU_ADMIN_TOKEN)"},
}

DESCRIPTION = """A local emulator of Siemens MindSphere (Insights Hub) APIs. Errors come in each API's envelope:
core `{"errors": [{"code", "logref", "message"}]}` (Asset Management, Aggregates v4, token manager, Data Hub
contract administration, control plane), time series `{"id", "message"}` (IoT Time Series, Aggregates v3), OAuth
`{"error", "error_description"}` (`/oauth/token`) and OData `{"error": {"code", "message", "target"}}` (the Data Hub
OData services under `/odata/`). Unknown paths answer 404 and wrong methods 405 (with `Allow`) in the envelope of
the API the path belongs to; bodies over 16 MB answer 413, and a NUL character (`%00`) in a path or query 400. With
`--allow-fault-header`, any data-plane request may carry `X-Emulator-Fault: <status>|delay=MS|drop` (not listed per
operation)."""

COMPONENT_KINDS = ("schemas", "parameters", "headers")


class MergeError(ValueError):
    """Two fragments claim one path or one component name, or a reference points nowhere."""


def merge(fragments: list[tuple[str, dict]], references: bool = True) -> tuple[dict, dict, dict, dict]:
    """(paths, components, checked in code, pattern texts) of ``(API name, fragment)`` pairs and the shared
    components; with ``references``, every ``$ref`` is checked to name a component (the served document and its
    tests do: a reading of the whole document, a tenth of the app's making, that a start's checks need not repeat)."""
    paths: dict = {}
    owners: dict[tuple[str, str], str] = {}
    components: dict[str, dict] = {kind: {} for kind in COMPONENT_KINDS}
    in_code: dict[str, str] = {}
    texts: dict[str, str] = dict(PATTERN_TEXTS)

    def claim(kind: str, name: str, value, owner: str) -> None:
        if (kind, name) in owners:
            raise MergeError(f"{owner} and {owners[kind, name]} both define the {kind[:-1]} {name!r}")
        owners[kind, name] = owner
        (paths if kind == "paths" else components[kind])[name] = value

    for kind, items in shared_components().items():
        for name, value in items.items():
            claim(kind, name, value, "emulator.spec")
    for owner, part in fragments:
        for name, item in part["paths"].items():
            claim("paths", name, item, owner)
        for kind in ("schemas", "parameters"):
            for name, value in part[kind].items():
                claim(kind, name, value, owner)
        in_code.update(part["checked_in_code"])
        for pattern, text in part["pattern_texts"].items():
            if texts.setdefault(pattern, text) != text:
                raise MergeError(f"{owner} says the pattern {pattern} means {text!r}, another {texts[pattern]!r}")
    if references:
        _check_references({"paths": paths, "components": components})
    return paths, components, in_code, texts


def _check_references(doc: dict) -> None:
    text = json.dumps(doc)
    for kind in COMPONENT_KINDS:
        for name in set(_refs(text, kind)) - set(doc["components"][kind]):
            raise MergeError(f"#/components/{kind}/{name} is referred to but no fragment defines it")


def _refs(text: str, kind: str):
    marker = f'"#/components/{kind}/'
    start = text.find(marker)
    while start != -1:
        end = text.index('"', start + len(marker))
        yield text[start + len(marker):end]
        start = text.find(marker, end)


def _fragments(admin_token: bool) -> list[tuple[str, dict]]:
    return [(api.name, api.spec(admin_token)) for api in load_registry().apis if api.spec is not None]


def build(base_url: str, admin_token: bool = False) -> dict:
    """The whole document; ``base_url`` is how the client called us, ``admin_token`` whether one guards
    the control plane (the only setting that changes what a client must send)."""
    paths, components, _, _ = merge(_fragments(admin_token))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "mindsphere-emulator", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": base_url.rstrip("/")}],
        "tags": TAGS,
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES, **components},
    }


@lru_cache(maxsize=1)
def request_checks() -> dict[tuple[str, str], validation.OperationCheck]:
    """(Flask endpoint, method) -> the compiled checks of its operation's query and JSON body: compiled once per
    process (the admin token changes what a client must send, not what a request may hold). The references are
    checked where the document is built (a reference to nothing would fail the checks' compiling here anyway)."""
    paths, components, in_code, texts = merge(_fragments(False), references=False)
    return validation.compile_operations(paths, components, texts, skip=in_code)


@bp.get("/openapi.json")
def document():
    """Open like ``/_emulator/health`` (its own blueprint escapes the control plane's admin token)."""
    settings = runtime().settings
    return jsonify(build(f"{request.scheme}://{request.host}", bool(settings.admin_token)))
