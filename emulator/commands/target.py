"""Which emulator a data command acts on: the running server the user means, or a store named explicitly.

``contract``, ``seed``, ``snapshot`` and ``token`` act on data. They once opened ``./.emulator-data`` of whatever
folder they ran in, creating an empty store there and answering as if all were well. Now:

* by default they go through the HTTP API of the running emulator at ``--url`` (``MDSP_EMU_URL``, else
  http://127.0.0.1:8080, where ``make run`` serves), so they see what the server sees, and a server that is not
  there is a one-line error;
* direct access to a store needs ``--data-dir`` or ``--database-url`` (or their ``MDSP_EMU_*`` variables). A
  command that reads (``token``, ``snapshot export``, ``contract``) refuses a store that does not exist rather
  than create one; ``seed`` and ``snapshot import`` may create it, as ``serve`` does, to fill it before serving.

The command line wins over the environment; naming both a URL and a store at the same level is an error.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from emulator.commands import CommandError
from emulator.settings import SERVE_FLAGS, Settings, env_name
from emulator.store import Store, holds_store

if TYPE_CHECKING:
    from emulator.commands.remote import Remote


def __getattr__(name: str):
    """``target.Remote``, imported on first use (PEP 562), and with it ``requests`` (25 ms): ``serve`` never needs
    them, and every start of it paid for them."""
    if name == "Remote":
        from emulator.commands.remote import Remote

        return Remote
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

DEFAULT_URL = "http://127.0.0.1:8080"
URL_ENV = "MDSP_EMU_URL"
STORE_FLAGS = ("data-dir", "database-url")
# the settings a data command takes: where the data is, whose it is, and how to get in
DATA_FLAGS = (*STORE_FLAGS, "tenant", "client-id", "client-secret", "seed", "token-lifetime", "admin-token")


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None,
                        help=f"the running emulator to act on (default {DEFAULT_URL}) [env {URL_ENV}]")
    for flag, kind, help_text in SERVE_FLAGS:
        if flag in DATA_FLAGS:
            extra = "; a store to work on directly, instead of --url" if flag in STORE_FLAGS else ""
            parser.add_argument(f"--{flag}", default=None, type=kind, help=f"{help_text}{extra} [env {env_name(flag)}]")


def given(args: argparse.Namespace, flag: str, environ=None) -> bool:
    """Whether the user set ``flag`` (on the command line or in its ``MDSP_EMU_*`` variable)."""
    environ = os.environ if environ is None else environ
    return getattr(args, flag.replace("-", "_"), None) is not None or bool(environ.get(env_name(flag)))


@dataclass
class Local:
    """A store named by ``--data-dir`` / ``--database-url``."""

    settings: Settings

    def open(self, create: bool = False) -> Store:
        """The store; unless ``create``, one that does not exist yet is an error, not a new empty store."""
        from emulator.registry import load

        url = self.settings.effective_database_url
        if not create:
            require_store(url, self.settings)
        store = Store(url)
        try:
            store.init_schema(load().schema_parts())  # a store of another schema version is refused, not read
        except BaseException:
            store.dispose()
            raise
        return store


def require_store(url: str, settings: Settings) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise CommandError(f"--database-url {url} is a store in memory: only the process that serves it can read "
                           "it; use --url to reach that server")
    try:
        found = holds_store(url)
    except OperationalError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0]
        raise CommandError(f"cannot open {Store.describe_url(url)}: {first}") from None
    if found:
        return
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database).expanduser().is_file():
        where = (f"--data-dir {settings.data_dir}" if not settings.database_url
                 else f"--database-url {Store.describe_url(url)}")
        raise CommandError(f"no emulator store at {Path(parsed.database).expanduser()} ({where}): "
                           "serve it once to create it, or use --url for a running emulator")
    raise CommandError(f"{Store.describe_url(url)} holds no emulator store: serve it once to create it, "
                       "or use --url for a running emulator")


def choose(args: argparse.Namespace, settings: Settings, environ=None) -> Remote | Local:
    """The running emulator or the store the user named (see the module's docstring)."""
    from emulator.commands.remote import Remote

    environ = os.environ if environ is None else environ
    on_line = [f"--{flag}" for flag in STORE_FLAGS if getattr(args, flag.replace("-", "_"), None) is not None]
    if args.url and on_line:
        raise CommandError(f"give --url (a running emulator) or {' / '.join(on_line)} (a store), not both")
    if args.url:
        return Remote(args.url, settings)
    if on_line:
        return Local(settings)
    in_env = [env_name(flag) for flag in STORE_FLAGS if environ.get(env_name(flag))]
    if environ.get(URL_ENV) and in_env:
        raise CommandError(f"{URL_ENV} and {' / '.join(in_env)} are both set: say which emulator you mean with "
                           "--url or --data-dir / --database-url")
    if in_env:
        return Local(settings)
    return Remote(environ.get(URL_ENV) or DEFAULT_URL, settings)
