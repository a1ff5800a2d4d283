"""Which gunicorn worker holds a connection, read from /proc (Linux): the test sees which process served it.

A test of several workers must show that more than one of them served, without a hook in the product: the
server side of a loopback TCP connection is a socket in ``/proc/net/tcp`` (its local port the server's, its
remote port the client's), and the worker that holds it has that socket's inode among its file descriptors.
"""

from __future__ import annotations

import http.client
import time
from pathlib import Path

from emulator.testing import HAVE_PROC, child_pids

ESTABLISHED = "01"


def workers_of(master: int, count: int, timeout: float = 15.0) -> list[int]:
    """The master's ``count`` worker pids, waiting while gunicorn forks them (one by one, 0-100 ms apart)."""
    deadline = time.monotonic() + timeout
    pids = child_pids(master)
    while len(pids) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        pids = child_pids(master)
    assert len(pids) == count, f"gunicorn master {master} has children {pids}"
    return pids


def _server_inode(server_port: int, client_port: int) -> int | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            if (state == ESTABLISHED and int(local.rpartition(":")[2], 16) == server_port
                    and int(remote.rpartition(":")[2], 16) == client_port and inode):
                return inode
    return None


def holder(pids: list[int], inode: int) -> int | None:
    link = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if fd.readlink().as_posix() == link:
                    return pid
            except OSError:
                continue
    return None


def request_on_new_connection(port: int, path: str, headers: dict, pids: list[int]) -> tuple[int, int]:
    """GET ``path`` on a connection of its own; (the pid of the worker that served it, the status)."""
    pid, status, _ = exchange_on_new_connection(port, "GET", path, headers, pids)
    return pid, status


def exchange_on_new_connection(port: int, method: str, path: str, headers: dict, pids: list[int],
                               body: bytes | None = None) -> tuple[int, int, bytes]:
    """``method path`` on a connection of its own; (the pid of the worker that served it, the status, the body)."""
    assert HAVE_PROC, "needs /proc"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        content = resp.read()
        inode = _server_inode(port, conn.sock.getsockname()[1])  # kept alive: the worker still holds it
        assert inode is not None, f"no server side of the connection from port {conn.sock.getsockname()[1]}"
        pid = holder(pids, inode)
        assert pid is not None, f"no worker of {pids} holds socket {inode}"
        return pid, resp.status, content
    finally:
        conn.close()
        # a worker that has just served is awake and wins the next accept while the other still sleeps in its poll:
        # a pause lets both wait for the next connection on equal terms (200 in a row once went to one worker)
        time.sleep(0.02)
