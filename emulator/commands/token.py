"""``mindsphere-emulator token``: an access token of a client, for curl and friends.

Over ``--url`` it is what any client gets: ``POST /oauth/token`` with the client's credentials (``--client-id``,
``--client-secret``; the default tenant's technical user by default). On a store (``--data-dir``,
``--database-url``) it is signed with the store's key for ``--base-url``, so a server on that store accepts it.
"""

from __future__ import annotations

import argparse

from emulator.commands import CommandError, target

LOCAL_BASE_URL = "http://127.0.0.1:8080"
OWN_ARGS = ("base_url",)


def add_parser(sub) -> None:
    token = sub.add_parser("token", help="print an access token of the default client (or --client-id)")
    target.add_flags(token)
    token.add_argument("--base-url", default=None,
                       help=f"on a store: the issuer base URL written into the token (default {LOCAL_BASE_URL})")


def run(where, args: argparse.Namespace) -> str:
    if isinstance(where, target.Remote):
        if args.base_url is not None:
            raise CommandError("--base-url is for a store; over --url the server writes its own URL into the token")
        return where.token()
    return _mint(where, args.base_url or LOCAL_BASE_URL)


def _mint(local: target.Local, base_url: str) -> str:
    from sqlalchemy import select

    from emulator.auth.keys import KeyRing
    from emulator.auth.tokens import TokenService
    from emulator.clock import Clock
    from emulator.control.plane import ControlPlane
    from emulator.store.models import clients, tenants

    settings = local.settings
    store = local.open()
    try:
        clock = Clock()
        ControlPlane(store, clock).sync()  # the store's virtual clock: the token's times follow it
        keyring = KeyRing(store, settings.token_lifetime)
        keyring.reload()
        with store.transaction() as conn:
            client = conn.execute(select(clients, tenants.c.instance)
                                  .join(tenants, tenants.c.name == clients.c.tenant_id)
                                  .where(clients.c.client_id == settings.client_id)).mappings().first()
        if client is None:
            raise CommandError(f"no client {settings.client_id!r} in {store.describe()}")
        tokens = TokenService(keyring, clock, settings.token_lifetime)
        return tokens.issue(client_id=client["client_id"], tenant=client["tenant_id"], instance=client["instance"],
                            scopes=list(client["scopes"]), base_url=base_url)["access_token"]
    finally:
        store.dispose()
