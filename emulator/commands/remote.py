"""A running emulator, reached through its HTTP API: what the data commands call when given ``--url``.

The commands go through the same routes a client uses (``/oauth/token``, ``/_emulator/contracts``,
``/_emulator/snapshots``, ``/_emulator/tenants/{name}/fleet``), so they see what the server sees, under its clock
and its settings. Every failure is one line: no server at the URL, something else than an emulator there, or an
answer in one of the emulator's error envelopes, whose message is shown.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import jwt
import requests

from emulator.commands import CommandError
from emulator.settings import LOOPBACK_HOSTS, Settings

TIMEOUT = 60  # seconds: a fleet or a snapshot of a large tenant takes a while


def reason(resp: requests.Response) -> str:
    """The message of an answer in any of the emulator's four error envelopes, else the start of its text."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:200] or resp.reason
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"] and isinstance(body["errors"][0], dict):
            return str(body["errors"][0].get("message"))
        if isinstance(body.get("error"), dict):
            return str(body["error"].get("message"))
        if "error_description" in body or "message" in body:
            return str(body.get("error_description") or body.get("message"))
    return resp.text.strip()[:200]


class Remote:
    """The emulator at ``url``: admin calls carry ``--admin-token``, tenant calls the token of ``--client-id``."""

    def __init__(self, url: str, settings: Settings):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CommandError(f"--url {url!r} is not an http:// or https:// URL")
        self.url = url.rstrip("/")
        self.settings = settings
        self.session = requests.Session()
        self.session.trust_env = parts.hostname not in LOOPBACK_HOSTS and not parts.hostname.startswith("127.")
        self._token: str | None = None
        self._checked = False

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, path: str, *, auth: str = "admin", basic: tuple[str, str] | None = None,
                expected=(200,), **kw) -> requests.Response:
        """``auth``: ``admin`` (the admin token, if any), ``tenant`` (a bearer token of the client) or ``none``
        (``basic``: HTTP Basic credentials)."""
        self._check_emulator()
        headers = dict(kw.pop("headers", {}))
        if auth == "admin" and self.settings.admin_token:
            headers["Authorization"] = f"Bearer {self.settings.admin_token}"
        elif auth == "tenant":
            headers["Authorization"] = f"Bearer {self.token()}"
        resp = self._send(method, path, headers=headers, auth=basic, **kw)
        if resp.status_code not in expected:
            hint = ""
            if resp.status_code == 401 and auth == "admin":
                hint = " (give the server's admin token with --admin-token or MDSP_EMU_ADMIN_TOKEN)"
            raise CommandError(f"{method} {self.url}{path} answered {resp.status_code}: {reason(resp)}{hint}")
        return resp

    def token(self) -> str:
        """An access token of ``--client-id`` by the client credentials grant, as any client gets one."""
        if self._token is None:
            settings = self.settings
            resp = self.request("POST", "/oauth/token", auth="none", basic=(settings.client_id, settings.client_secret),
                                data={"grant_type": "client_credentials"})
            self._token = resp.json()["access_token"]
        return self._token

    def token_tenant(self) -> str:
        """The tenant of the client's token (its ``ten`` claim; the server verified it when it signed it)."""
        return jwt.decode(self.token(), options={"verify_signature": False})["ten"]

    def _send(self, method: str, path: str, **kw) -> requests.Response:
        try:
            return self.session.request(method, self.url + path, timeout=TIMEOUT, **kw)
        except requests.ConnectionError:
            raise CommandError(
                f"no emulator answers at {self.url}: start one (mindsphere-emulator serve), name the one you mean "
                "with --url or MDSP_EMU_URL, or work on a store with --data-dir or --database-url") from None
        except requests.RequestException as exc:
            raise CommandError(f"{method} {self.url}{path} failed: {exc}") from None

    def _check_emulator(self) -> None:
        if self._checked:
            return
        resp = self._send("GET", "/_emulator/health")
        try:
            healthy = resp.status_code == 200 and resp.json().get("status") == "ok"
        except ValueError:
            healthy = False
        if not healthy:
            raise CommandError(f"{self.url} is not a MindSphere emulator that is ready "
                               f"(GET /_emulator/health answered {resp.status_code})")
        self._checked = True
