"""Tenants made through the control plane (``POST /_emulator/tenants``) for the tests that need one of their own.

Tests that want a second tenant, a client with narrower scopes or a tenant on a server of their own used to
write the request, its check and its clean-up by hand each; they differed in whether they checked the answer
at all. Here the request is made once: :func:`create_tenant` asserts the 201 and returns the created body
(``name``, ``rootAssetId``, ``tokenUrl``, ``clients`` with ``clientId``, ``clientSecret``, ``scopes``,
``bindingKeys``), :func:`temporary_tenant` also deletes the tenant afterwards, asserting that the delete
answered 204 (or 404: the test removed it itself). Tests *about* the tenant endpoint (validation, conflicts,
the exact answer of the creation) keep writing their requests themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from emulator.testing import ApiSession, fetch_token
from tests.support.paths import TENANTS


def create_tenant(admin: ApiSession, name: str | None = None, *, clients: list[dict] | None = None,
                  scopes: list[str] | None = None, prefix: str = "t") -> dict:
    """A new tenant, named ``name`` or ``prefix`` and a random suffix. ``clients`` as the endpoint takes them;
    ``scopes`` alone asks for one client with generated credentials and those scopes. The created body."""
    if scopes is not None:
        assert clients is None, "give clients or scopes, not both"
        clients = [{"scopes": scopes}]
    body: dict = {"name": name or prefix + uuid.uuid4().hex[:12]}
    if clients is not None:
        body["clients"] = clients
    resp = admin.post(TENANTS, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def delete_tenant(admin: ApiSession, name: str) -> None:
    """Remove the tenant; 404 counts too (the test already removed it)."""
    resp = admin.delete(f"{TENANTS}/{name}")
    assert resp.status_code in (204, 404), resp.text


@contextmanager
def temporary_tenant(admin: ApiSession, name: str | None = None, **kwargs) -> Iterator[dict]:
    """:func:`create_tenant` (same arguments) for the block; deleted after it."""
    created = create_tenant(admin, name, **kwargs)
    try:
        yield created
    finally:
        delete_tenant(admin, created["name"])


def tenant_session(url: str, created: dict) -> ApiSession:
    """A session on the server at ``url`` with a token of the created tenant's (first) client."""
    client = created["clients"][0]
    return ApiSession(url, fetch_token(url, client["clientId"], client["clientSecret"]))
