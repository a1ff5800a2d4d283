"""The ``mindsphere-emulator`` command.

``serve`` runs the emulator; ``token`` prints an access token of a client straight from the store
(handy for curl). Unknown flags and bad values stop with a one-line reason and a non-zero exit.
"""

from __future__ import annotations

import argparse
import sys

from emulator import __version__
from emulator.settings import SERVE_FLAGS, SettingsError, env_name, from_sources
from emulator.store import StoreVersionError


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    for flag, kind, help_text in SERVE_FLAGS:
        options = {"action": "store_true"} if kind is bool else {"type": kind}
        parser.add_argument(f"--{flag}", default=None, help=f"{help_text} [env {env_name(flag)}]", **options)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="mindsphere-emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mindsphere-emulator {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    serve = sub.add_parser("serve", help="run the emulator")
    _add_settings_flags(serve)
    token = sub.add_parser("token", help="print an access token of the default client (or --client-id)")
    _add_settings_flags(token)
    token.add_argument("--base-url", default="http://127.0.0.1:8080", help="issuer base URL written into the token")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    values = {k: v for k, v in vars(args).items() if k not in ("command", "base_url")}
    try:
        settings = from_sources(values)
        if args.command == "serve":
            from emulator.server import serve

            serve(settings)
        elif args.command == "token":
            print(_mint_token(settings, args.base_url))
    except (SettingsError, StoreVersionError) as exc:
        print(f"mindsphere-emulator: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mindsphere-emulator: error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _mint_token(settings, base_url: str) -> str:
    from sqlalchemy import select

    from emulator.app import init_state
    from emulator.auth.tokens import TokenService
    from emulator.clock import Clock
    from emulator.store import Store, models

    store = Store(settings.effective_database_url)
    clock = Clock()
    keyring = init_state(settings, store, clock)
    with store.transaction() as conn:
        client = conn.execute(select(models.clients).where(models.clients.c.client_id == settings.client_id)
                              ).mappings().first()
    if client is None:
        raise SettingsError(f"no client {settings.client_id!r} in {store.describe()}")
    tokens = TokenService(keyring, clock, settings.token_lifetime)
    return tokens.issue(client_id=client["client_id"], tenant=client["tenant_id"], scopes=list(client["scopes"]),
                        base_url=base_url)["access_token"]


if __name__ == "__main__":
    sys.exit(main())
