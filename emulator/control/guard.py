"""The control plane's guards, registered by every blueprint under ``/_emulator/`` (control routes, pumps, the
dashboard): one mechanism for all.

* ``check_browser_reach``: the control plane is open by default on loopback, so a web page must not reach it.
  A request whose ``Host`` is a name other than ``localhost`` or one of ``--allowed-hosts`` answers 421 (DNS
  rebinding: an attacker's name resolving to 127.0.0.1); IP addresses are no rebinding and always pass. A write
  (any method but GET, HEAD, OPTIONS) whose ``Origin`` is not this server answers 403 (cross-site requests:
  a form post to ``/_emulator/reset`` once wiped every tenant). Bodies must be JSON (emulator.httpio.json_object).
* ``require_admin_token``: with ``--admin-token`` set, every route but the open ones requires
  ``Authorization: Bearer <admin token>`` (the dashboard has its own cookie for it).
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import request

from emulator import errors
from emulator.runtime import runtime

OPEN_ENDPOINTS = {"control.health", "control.capabilities"}
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_allowed(host: str, names: frozenset[str]) -> bool:
    """``localhost`` (and its subdomains), an IP address, or a name of ``--allowed-hosts``; the port aside."""
    name = urlsplit("//" + host).hostname or ""
    if name == "localhost" or name.endswith(".localhost") or name.rstrip(".") in names:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def check_browser_reach():
    names = runtime().settings.host_names
    if not host_allowed(request.host, names):
        raise errors.ApiError(f"This emulator does not answer to the host name {request.host!r}; start it with "
                              "--allowed-hosts NAME to allow it", status=421, code="misdirectedRequest")
    origin = request.headers.get("Origin")
    if request.method not in READS and origin is not None and urlsplit(origin).netloc != request.host:
        raise errors.Forbidden(f"The control plane takes no requests from web pages of another origin ({origin})")


def require_admin_token():
    expected = runtime().settings.admin_token
    if not expected or request.endpoint in OPEN_ENDPOINTS:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise errors.Unauthorized("The control plane requires 'Authorization: Bearer <admin token>'")
