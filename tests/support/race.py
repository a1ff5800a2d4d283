"""Requests sent at the same moment, each on a connection of its own, for the tests of concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable

import requests

from emulator.testing import ApiSession


def client(base_url: str, token: str) -> ApiSession:
    """A session of its own (its own connection) with the given ``Authorization`` header."""
    session = ApiSession(base_url)
    session.headers["Authorization"] = token
    return session


def at_once(base_url: str, token: str, count: int, send: Callable[[ApiSession, int], requests.Response]) -> list:
    """The answers of ``count`` calls of ``send(session, i)``, released together by a barrier (each thread has its
    own session, so its own connection), in the order they were started."""
    answers: list = [None] * count
    barrier = threading.Barrier(count)

    def one(i: int) -> None:
        with client(base_url, token) as session:
            barrier.wait()
            answers[i] = send(session, i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
