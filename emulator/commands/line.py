"""The command line of ``mindsphere-emulator`` (:mod:`emulator.cli`): its parser, and each command's run.

``serve`` runs the emulator. The data commands (``token``, ``seed``, ``snapshot``, ``contract``; see
:mod:`emulator.commands`) act on the running emulator at ``--url`` through its HTTP API, or on a store named with
``--data-dir`` / ``--database-url``. Unknown flags and bad values stop with a one-line reason and a non-zero exit.

It is entered with the garbage collector paused (:mod:`emulator.collector`): what it imports and makes before the
command's own work lives as long as the process. ``serve`` resumes the collector once its app is made (before its
workers fork), a data command once it has found its target.
"""

from __future__ import annotations

import argparse
import os
import sys

from emulator import __version__, collector
from emulator.commands import CommandError, target
from emulator.commands import contract as contract_command
from emulator.commands import seed as seed_command
from emulator.commands import snapshot as snapshot_command
from emulator.commands import token as token_command
from emulator.errors import ApiError
from emulator.settings import SERVE_FLAGS, SettingsError, env_name, from_sources
from emulator.store import StoreVersionError

DATA_COMMANDS = {"token": token_command, "seed": seed_command, "snapshot": snapshot_command,
                 "contract": contract_command}


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    for flag, kind, help_text in SERVE_FLAGS:
        options = {"action": argparse.BooleanOptionalAction} if kind is bool else {"type": kind}
        parser.add_argument(f"--{flag}", default=None, help=f"{help_text} [env {env_name(flag)}]", **options)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="mindsphere-emulator", description="The ``mindsphere-emulator`` command.")
    parser.add_argument("--version", action="version", version=f"mindsphere-emulator {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    serve = sub.add_parser("serve", help="run the emulator")
    _add_settings_flags(serve)
    for command in DATA_COMMANDS.values():
        command.add_parser(sub)
    return parser


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = DATA_COMMANDS.get(args.command)
    own = ("command", "url", *(command.OWN_ARGS if command else ()))
    values = {k: v for k, v in vars(args).items() if k not in own}
    if args.command == "serve" and values.get("pump") is None and env_name("pump") not in os.environ:
        values["pump"] = True  # the sandbox has a pump unless told otherwise
    try:
        settings = from_sources(values)
        if command is None:
            from emulator.server import serve

            serve(settings)
            return 0
        where = target.choose(args, settings)
        collector.resume()
        try:
            print(command.run(where, args))
        finally:
            if isinstance(where, target.Remote):
                where.close()
    except (SettingsError, CommandError, StoreVersionError, ApiError) as exc:
        print(f"mindsphere-emulator: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mindsphere-emulator: error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
