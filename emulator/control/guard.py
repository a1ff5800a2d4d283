"""The control plane's admin token: with ``--admin-token`` set, every control-plane route but the open ones
requires ``Authorization: Bearer <admin token>``. Each blueprint under ``/_emulator/`` registers this one check."""

from __future__ import annotations

import hmac

from flask import request

from emulator import errors
from emulator.runtime import runtime

OPEN_ENDPOINTS = {"control.health", "control.capabilities"}


def require_admin_token():
    expected = runtime().settings.admin_token
    if not expected or request.endpoint in OPEN_ENDPOINTS:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise errors.Unauthorized("The control plane requires 'Authorization: Bearer <admin token>'")
