"""Serving the app with a production WSGI server, and the banner a developer needs once it is up.

How it serves, and why: gunicorn manages the processes (a master, ``--workers`` workers, restarts), and inside each
worker waitress speaks HTTP (:class:`WaitressWorker`). waitress reads and buffers a whole request in its event loop
before a worker thread sees it, so slow or stalled clients hold a connection, not a thread: with gunicorn's own
threaded worker, eight connections that each sent one byte froze a worker for as long as they stayed open. The
in-thread server of the tests is waitress too, so the fixture and ``serve`` parse requests alike (their limits:
request line and headers at most ``HEADER_BYTES`` together, 431 beyond).

gunicorn serves on Linux and macOS: it runs several worker processes (``--workers``), which is what
a shared CI backend needs. Windows, where many Mendix developers work, has no gunicorn; there, and
for the in-thread pytest fixture, waitress serves (threads, one process).
"""

from __future__ import annotations

import base64
import functools
import gc
import os
import socket
import sys

from emulator import __version__, collector
from emulator.app import create_app
from emulator.runtime import KEY
from emulator.settings import DEFAULT_SECRET, Settings
from emulator.store import Store


def display_host(host: str) -> str:
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def base_url(settings: Settings, port: int) -> str:
    return f"http://{display_host(settings.host)}:{port}"


def banner(settings: Settings, port: int) -> str:
    base = base_url(settings, port)
    basic = base64.b64encode(f"{settings.client_id}:{settings.client_secret}".encode()).decode()
    return "\n".join([
        f"MindSphere emulator {__version__} is ready",
        f"  Base URL       {base}",
        f"  Port           {port}",
        f"  Tenant         {settings.tenant}",
        f"  Client ID      {settings.client_id}",
        f"  Client secret  {settings.client_secret}",
        f"  Database       {Store.describe_url(settings.effective_database_url)}",
        "",
        "  Mendix (MindSphere IIoT Authenticator constants):",
        f"    TokenURL     {base}/oauth/token?grant_type=client_credentials",
        f"    ClientID     {settings.client_id}",
        f"    ClientSecret {settings.client_secret}",
        "",
        "  Node SDK (@mindconnect/mindconnect-nodejs):",
        f'    new MindSphereSdk({{ gateway: "{base}", tenant: "{settings.tenant}", '
        f'basicAuth: "Basic {basic}" }})',
        "",
        f"  Dashboard      {base}/_emulator/ui/",
        f"  OData (Data Hub contracts, once published)  {base}/odata/{{contract}}/",
        f"  Health         {base}/_emulator/health",
        f"  Capabilities   {base}/_emulator/capabilities",
    ])


def security_warning(settings: Settings) -> str | None:
    if settings.is_loopback:
        return None
    lines = [f"WARNING: listening on {settings.host}, reachable from other machines."]
    if settings.client_secret == DEFAULT_SECRET:
        lines.append("WARNING: the client secret is the public default; set --client-secret (MDSP_EMU_CLIENT_SECRET).")
    if not settings.admin_token:
        lines.append("WARNING: the control plane /_emulator/ is open; set --admin-token (MDSP_EMU_ADMIN_TOKEN).")
    return "\n".join(lines)


def bind(settings: Settings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def serving_app(settings: Settings):
    """The app ``serve`` answers with, made once in the parent process before any worker exists (gunicorn's
    ``preload_app``): the first-start work (schema, signing key, default tenant), the routes and the compiled
    request checks are done once and every forked worker inherits them, where each worker made its own app again
    while it booted (a tenth of a second of every start). The parent's connections are closed once it is made: no
    connection crosses the fork, each worker opens its own."""
    app = create_app(settings)
    app.extensions[KEY].store.release()
    return app


def freeze_heap() -> None:
    """Take what exists now (the app, its libraries, their caches: about 80,000 objects) out of the
    garbage collector's reach, as the standard library advises before forking workers (``gc.freeze``). A worker's
    full collection walked all of it: a pause of 30 ms every few thousand records written, in the middle of a
    request. The frozen pages also stay shared between the master and its workers instead of being written to
    by each worker's collector."""
    gc.freeze()


def provision_pump(settings: Settings) -> None:
    """With ``--pump``: the default tenant's pump on first start, before any worker answers, so it is there
    when the server does (its data follows from the feeder)."""
    from emulator.devices import feeder

    store = Store(settings.effective_database_url)
    try:
        feeder.configure_logging()
        feeder.provision(settings, store)
    finally:
        store.dispose()


def serve(settings: Settings, out=sys.stdout) -> None:
    app = serving_app(settings)
    sock = bind(settings)
    if settings.pump:
        provision_pump(settings)
    freeze_heap()
    collector.resume()  # paused by the command (emulator.cli): what is made from here on is collected as usual
    port = sock.getsockname()[1]
    warning = security_warning(settings)
    if warning:
        print(warning, file=sys.stderr, flush=True)

    def announce():
        print(banner(settings, port), file=out, flush=True)

    if os.name == "nt":
        _serve_waitress(app, settings, sock, announce)
    else:
        _serve_gunicorn(app, settings, sock, announce)


def _serve_waitress(app, settings: Settings, sock: socket.socket, announce) -> None:
    server = create_server(app, 8, sockets=[sock])
    announce()
    if settings.pump:  # one process: the feeder is a thread of it
        from emulator.devices import feeder

        feeder.start_thread(settings)
    server.run()


HEADER_BYTES = 256 * 1024  # waitress' default: the request line and headers together
CHANNEL_TIMEOUT = 60  # seconds a connection may stay silent (mid-request or idle) before it is closed
CONNECTIONS = 1000  # open connections per worker; each costs a buffer, not a thread


def waitress_options(threads: int) -> dict:
    """The options of every waitress server of the emulator (``serve``'s workers and the tests' thread): bodies
    are refused by the app (413 in the API's envelope), so waitress' own cap sits above it."""
    from emulator import limits

    return {"threads": threads, "ident": "mindsphere-emulator", "clear_untrusted_proxy_headers": True,
            "channel_timeout": CHANNEL_TIMEOUT, "connection_limit": CONNECTIONS,
            "max_request_header_size": HEADER_BYTES, "max_request_body_size": 4 * limits.MAX_REQUEST_BYTES,
            # a streamed answer (a snapshot export) waits for a slow reader beyond this, not held in memory
            "outbuf_high_watermark": 2 * 1024 * 1024}


def create_server(app, threads: int, **kw):
    """A waitress server of the emulator (``serve``'s workers and Windows' ``serve``, the tests' thread), with
    :func:`waitress_options`; ``kw`` as waitress' ``create_server`` takes it (``map``, ``sockets``, ``host``...).
    Its own refusals, of requests it cannot read and so never hands to the app (a request target with bytes
    outside ASCII, headers past ``HEADER_BYTES``, a malformed chunk), are answered in the API's error envelope as
    the app's are, not as waitress' plain text: its connections are :func:`_envelope_channel`'s."""
    from waitress.server import BaseWSGIServer
    from waitress.server import create_server as waitress_server

    channels = kw.pop("map", None)
    channels = {} if channels is None else channels
    server = waitress_server(app, map=channels, **waitress_options(threads), **kw)
    for dispatcher in list(channels.values()):  # one server per socket
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = _envelope_channel()
    return server


def refusal(request) -> tuple[str, list[tuple[str, str]], bytes]:
    """The status line, headers and body of waitress' refusal of ``request`` (its ``error``: status ``code``,
    ``reason`` and a ``body`` that says why) in the envelope of the API the request's target names (the target is
    known when its bytes were the fault; past the header limit waitress has read none of it: the root's)."""
    from emulator import errors
    from emulator.registry import api_of

    error = request.error
    path = (getattr(request, "request_uri", None) or "/").split("?", 1)[0]
    message = f"The request could not be read: {error.body}" if error.code < 500 else \
        "The server could not answer the request"
    answer = errors.render(errors.by_status(error.code)(message, status=error.code), api_of(path).envelope)
    headers = [(key, value) for key, value in answer.headers.items() if key.lower() != "content-length"]
    return f"{error.code} {error.reason}", headers, answer.get_data()


@functools.cache
def _envelope_channel():
    """waitress' connection whose error answers are :func:`refusal`'s, and which stays open after an answer
    without a body (made on first use: waitress is imported only where it serves).

    waitress closes an HTTP/1.1 connection after any answer that carries no ``Content-Length``, and it drops that
    header from a 204 or 304, so every ``DELETE`` answered 204 (and every 304 to ``If-None-Match``) cost its client
    a new connection: a test's teardown reconnected, every time. Such an answer ends with its headers (RFC 9112
    6.3), so the connection is kept unless the client asked to close it."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask, WSGITask

    class BodilessKeptAliveTask(WSGITask):
        building = False

        def build_response_header(self):
            self.building = not self.has_body and self.version == "1.1"
            try:
                return super().build_response_header()
            finally:
                self.building = False

        def set_close_on_finish(self) -> None:
            if self.building and self.request.headers.get("CONNECTION", "").lower() != "close":
                return  # the answer's end is known without a length: keep the connection
            super().set_close_on_finish()

    class EnvelopeErrorTask(ErrorTask):
        def execute(self) -> None:
            self.status, headers, body = refusal(self.request)
            self.response_headers.extend(headers)
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class EnvelopeChannel(HTTPChannel):
        task_class = BodilessKeptAliveTask
        error_task_class = EnvelopeErrorTask

    return EnvelopeChannel


def waitress_worker_class():
    """A gunicorn worker whose HTTP is waitress' (see the module's docstring); made on first use, since gunicorn
    exists only where it serves (not on Windows)."""
    from gunicorn.workers.base import Worker
    from waitress import wasyncore

    class WaitressWorker(Worker):
        def run(self) -> None:
            channels: dict = {}
            server = create_server(self.wsgi, self.cfg.threads, map=channels, sockets=[s.sock for s in self.sockets])
            try:
                while self.alive and self.ppid == os.getppid():  # the master's heartbeat, and its death
                    self.notify()
                    wasyncore.loop(timeout=1.0, map=channels, use_poll=True, count=1)
            finally:
                server.task_dispatcher.shutdown()
                wasyncore.close_all(channels)

    return WaitressWorker


def _serve_gunicorn(app, settings: Settings, sock: socket.socket, announce) -> None:
    """gunicorn's master forks the workers, each with ``app`` (made in the master: :func:`serving_app`); the pump
    feeder (one for all workers) is a child process the master starts once it is ready and ends when it exits (see
    emulator.devices.feeder)."""
    from gunicorn.app.base import BaseApplication

    children = []

    def when_ready(_server):
        announce()
        if settings.pump:
            from emulator.devices import feeder

            children.append(feeder.spawn_process(settings))

    def on_exit(_server):
        for child in children:
            if child.poll() is None:
                child.terminate()

    class Server(BaseApplication):
        def load_config(self):
            options = {
                "bind": [f"fd://{sock.fileno()}"], "workers": settings.workers,
                "worker_class": waitress_worker_class(), "threads": 8, "timeout": 120, "graceful_timeout": 5,
                "accesslog": None, "loglevel": "warning", "when_ready": when_ready, "on_exit": on_exit,
                "proc_name": "mindsphere-emulator", "preload_app": True,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()
