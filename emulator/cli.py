"""The ``mindsphere-emulator`` command.

``serve`` runs the emulator; ``token`` prints an access token of a client straight from the store
(handy for curl). Unknown flags and bad values stop with a one-line reason and a non-zero exit.
"""

from __future__ import annotations

import argparse
import os
import sys

from emulator import __version__
from emulator.commands import contract as contract_commands
from emulator.errors import ApiError
from emulator.settings import SERVE_FLAGS, SettingsError, env_name, from_sources
from emulator.store import StoreVersionError


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    for flag, kind, help_text in SERVE_FLAGS:
        options = {"action": argparse.BooleanOptionalAction} if kind is bool else {"type": kind}
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
    snapshot = sub.add_parser("snapshot", help="export one tenant to a file, or import one, in the database")
    snapshot.add_argument("action", choices=("export", "import"))
    snapshot.add_argument("--file", required=True, help="the snapshot file (JSON)")
    _add_settings_flags(snapshot)
    seed = sub.add_parser("seed", help="build a fleet of simulated pumps: enterprise, sites, pump stations, pumps")
    seed.add_argument("--pumps", type=int, default=5, help="how many pumps (default 5); more later adds to the fleet")
    seed.add_argument("--scenario", action="append", metavar="FILE",
                      help="a scenario (a built-in name such as cavitation, or a file) for the next pump; repeatable")
    _add_settings_flags(seed)
    contract_commands.add_parser(sub, _add_settings_flags)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    own = ("command", "base_url", "action", "file", *contract_commands.OWN_ARGS)
    values = {k: v for k, v in vars(args).items() if k not in own}
    if args.command == "serve" and values.get("pump") is None and env_name("pump") not in os.environ:
        values["pump"] = True  # the sandbox has a pump unless told otherwise
    try:
        settings = from_sources(values)
        if args.command == "serve":
            from emulator.server import serve

            serve(settings)
        elif args.command == "token":
            print(_mint_token(settings, args.base_url))
        elif args.command == "snapshot":
            print(_snapshot(settings, args.action, args.file))
        elif args.command == "seed":
            print(_seed(settings, args.pumps, args.scenario or []))
        elif args.command == "contract":
            print(contract_commands.run(settings, args))
    except (SettingsError, StoreVersionError, ApiError) as exc:
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
    from emulator.store import Store
    from emulator.store.models import clients

    store = Store(settings.effective_database_url)
    clock = Clock()
    keyring = init_state(settings, store, clock)
    with store.transaction() as conn:
        client = conn.execute(select(clients).where(clients.c.client_id == settings.client_id)
                              ).mappings().first()
    if client is None:
        raise SettingsError(f"no client {settings.client_id!r} in {store.describe()}")
    tokens = TokenService(keyring, clock, settings.token_lifetime)
    return tokens.issue(client_id=client["client_id"], tenant=client["tenant_id"], scopes=list(client["scopes"]),
                        base_url=base_url)["access_token"]


def _snapshot(settings, action: str, path: str) -> str:
    """Export ``--tenant`` to ``--file`` or import ``--file``, straight in the database (no server needed,
    no request size limit)."""
    import orjson

    from emulator.app import init_state
    from emulator.clock import Clock
    from emulator.control.plane import ControlPlane
    from emulator.store import Store

    store = Store(settings.effective_database_url)
    clock = Clock()
    init_state(settings, store, clock)
    plane = ControlPlane(store, clock)
    if action == "export":
        doc = plane.export_snapshot(settings.tenant, settings.seed)
        with open(path, "wb") as out:
            out.write(orjson.dumps(doc))
        return f"exported tenant {settings.tenant} to {path}"
    try:
        with open(path, "rb") as source:
            doc = orjson.loads(source.read())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SettingsError(f"cannot read snapshot {path}: {exc}") from None
    name = plane.import_snapshot(doc)
    return f"imported tenant {name} from {path}"


def _seed(settings, pumps: int, scenario_files: list[str]) -> str:
    """Build (or complete) a fleet of simulated pumps in ``--tenant``, straight in the database; a running
    server's feeder picks the new pumps up within seconds."""
    from emulator.app import init_state
    from emulator.clock import Clock
    from emulator.control.plane import ControlPlane
    from emulator.devices import fleet
    from emulator.store import Store

    if pumps < 1 or pumps > 10_000:
        raise SettingsError(f"--pumps must be between 1 and 10000, not {pumps}")
    store = Store(settings.effective_database_url)
    clock = Clock()
    init_state(settings, store, clock)
    ControlPlane(store, clock).sync()  # the virtual clock: scenario times count from its now
    try:
        made = fleet.seed_fleet(store, settings.tenant, pumps, settings.seed, clock.time(), scenario_files)
    except ValueError as exc:  # a scenario file that cannot be used
        raise SettingsError(str(exc)) from None
    finally:
        store.dispose()
    return (f"seeded tenant {settings.tenant} with seed {settings.seed}: {pumps} pumps "
            f"({made['pumps']} new, {made['sites']} new sites, {made['areas']} new pump stations)")


if __name__ == "__main__":
    sys.exit(main())
