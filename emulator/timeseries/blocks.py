"""Time series records kept in time blocks: the storage under :mod:`emulator.timeseries.service` and the rollups.

Why blocks: with one row per record, a 2000-record read stepped 2000 rows, and SQLite's own loop over them
(0.56 ms) cost four times the static floor's whole request. Kept in blocks of up to ``BLOCK_RECORDS`` records,
already encoded as the answer's text, the same read is 8 or 9 rows and a few string slices (0.03 ms), and a
1000-record write is a handful of rows instead of a thousand.

A block holds consecutive records of one series (tenant, asset, aspect):

* ``times``: each record's time, epoch milliseconds as little-endian int64, strictly increasing;
* ``ends``: where each record's text ends in ``body`` (character offsets, little-endian uint32);
* ``body``: the records' JSON texts (each exactly as GET answers it) joined with commas, the inside of a JSON
  array, so a page is the join of slices of bodies. Each text begins with its time in MindSphere's 24-character
  form, ``{"_time":"2026-01-01T00:00:00.000Z"`` (writes store that form; a snapshot import checks it), which the
  OData rows are spliced on;
* ``t_first`` (the key) and ``t_last``: its first and last record's times, ``n``: how many.

The blocks of a series never overlap in time. A write merges the new records into the blocks it overlaps (a
record at an existing time replaces it) and into a block before them that is not full (so appends fill blocks),
and writes them back cut into blocks again. Every function runs in the caller's transaction, through the
driver (``fast_rows``); writers of a series are serialised by the caller (``service.serialize``).
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate, islice, pairwise, repeat
from operator import add, sub

from emulator.store.engine import fast_execute, fast_executemany, fast_rows, fast_scalar, kept_while_unchanged

BLOCK_RECORDS = 256  # records a block holds at most; a 2000-record page is 8 or 9 blocks
BLOCK_CHARS = 65_536  # text a block holds at most (at least one record): big strings make smaller blocks
MIN_T = -(2**63)  # below every time: "no lower bound"
_SWAP = sys.byteorder != "little"  # the stored arrays are little-endian whatever the machine
_OFFSET = "I" if array("I").itemsize == 4 else "L"  # an unsigned 32-bit array code

Series = tuple[str, str, str]  # (tenant, asset id, aspect)

_KEY = "tenant_id = ? AND asset_id = ? AND aspect = ?"
_COLUMNS = "t_first, t_last, times, ends, body"
# the start of the block that holds a time or ends before it: the last one starting at or before it (or NULL)
_START_AT_OR_BEFORE = f"(SELECT max(t_first) FROM ts_blocks WHERE {_KEY} AND t_first <= ?)"
# the blocks from the one that may hold records just after ``after`` (from the first block when there is none)
_FROM = f"t_first >= COALESCE({_START_AT_OR_BEFORE}, ?)"
_ASCENDING = (f"SELECT {_COLUMNS} FROM ts_blocks WHERE {_KEY} AND {_FROM} AND t_first > ? AND t_first <= ? "
              "ORDER BY t_first LIMIT ?")
_DESCENDING = (f"SELECT {_COLUMNS} FROM ts_blocks WHERE {_KEY} AND {_FROM} AND t_first <= ? "
               "ORDER BY t_first DESC LIMIT ?")
_AROUND = f"SELECT {_COLUMNS} FROM ts_blocks WHERE {_KEY} AND {_FROM} AND t_first <= ? ORDER BY t_first"
_AT = f"SELECT {_COLUMNS} FROM ts_blocks WHERE {_KEY} AND t_first = {_START_AT_OR_BEFORE}"
_NEWEST = f"SELECT {_COLUMNS} FROM ts_blocks WHERE {_KEY} ORDER BY t_first DESC LIMIT 1"
_INSIDE = f"{_KEY} AND t_first > ? AND t_first <= ? AND t_last <= ?"  # blocks wholly in (after, upto]
_COUNT_INSIDE = f"SELECT COALESCE(sum(n), 0) FROM ts_blocks WHERE {_INSIDE}"
_DELETE_INSIDE = f"DELETE FROM ts_blocks WHERE {_INSIDE}"
_DELETE_SPAN = f"DELETE FROM ts_blocks WHERE {_KEY} AND t_first >= ? AND t_first <= ?"
# the newest block's end, not max(t_last): that stepped every block of the series (t_last is not in the key)
_LAST = f"SELECT t_last FROM ts_blocks WHERE {_KEY} ORDER BY t_first DESC LIMIT 1"
_EXTENT = f"SELECT (SELECT min(t_first) FROM ts_blocks WHERE {_KEY}), ({_LAST})"
_ROW = ("tenant_id", "asset_id", "aspect", "t_first", "t_last", "n", "times", "ends", "body")
_INSERT = ("INSERT INTO ts_blocks (tenant_id, asset_id, aspect, t_first, t_last, n, times, ends, body) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _pack(values: Iterable[int], code: str) -> bytes:
    packed = array(code, values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _unpack(raw: bytes, code: str) -> array:
    values = array(code)
    values.frombytes(raw)
    if _SWAP:
        values.byteswap()
    return values


class Block:
    """One stored block, decoded: its times and text offsets as arrays, its body as text."""

    __slots__ = ("first", "last", "times", "ends", "body")

    def __init__(self, first: int, last: int, times: bytes, ends: bytes, body: str):
        self.first, self.last, self.body = first, last, body
        self.times, self.ends = _unpack(times, "q"), _unpack(ends, _OFFSET)

    def full(self) -> bool:
        return len(self.times) >= BLOCK_RECORDS or len(self.body) >= BLOCK_CHARS

    def span(self, after: int, upto: int) -> tuple[int, int]:
        """Indexes ``[i, j)`` of the records in ``(after, upto]``."""
        return bisect_right(self.times, after), bisect_right(self.times, upto)

    def _start(self, i: int) -> int:
        return self.ends[i - 1] + 1 if i else 0

    def text(self, i: int, j: int) -> str:
        """Records ``[i, j)`` (i < j) as one text, joined with commas, as stored."""
        return self.body[self._start(i):self.ends[j - 1]]

    def texts(self, i: int, j: int) -> list[str]:
        """Records ``[i, j)`` as a text each."""
        body, ends = self.body, self.ends
        starts = [0, *(e + 1 for e in ends[:-1])]
        return [body[starts[k]:ends[k]] for k in range(i, j)]

    def pairs(self, i: int = 0, j: int | None = None) -> list[tuple[int, str]]:
        j = len(self.times) if j is None else j
        return list(zip(self.times[i:j], self.texts(i, j), strict=True))


def encode(pairs: list[tuple[int, str]]) -> Iterator[tuple]:
    """(t_first, t_last, n, times, ends, body) of the blocks that hold ``pairs`` ((time, text), in time order, no
    time twice): filled in order, each up to ``BLOCK_RECORDS`` records and ``BLOCK_CHARS`` characters (at least one
    record). Cut with C loops: ``reach[k]``, the characters records ``[0, k)`` take with a comma after each, gives
    a block's length and its offsets by subtraction."""
    if not pairs:
        return
    times, texts = zip(*pairs, strict=True)
    reach = [0, *map(add, accumulate(map(len, texts)), range(1, len(texts) + 1))]
    start, n = 0, len(texts)
    while start < n:
        fits = bisect_right(reach, reach[start] + BLOCK_CHARS + 1, start + 1, min(start + BLOCK_RECORDS, n) + 1) - 1
        end = max(fits, start + 1)
        yield (times[start], times[end - 1], end - start, _pack(times[start:end], "q"),
               _pack(map(sub, islice(reach, start + 1, end + 1), repeat(reach[start] + 1)), _OFFSET),
               ",".join(texts[start:end]))
        start = end


def as_records(row) -> list[dict]:
    """A stored block (a row's mapping) as one row per record: the form records take in a snapshot."""
    block = Block(row["t_first"], row["t_last"], row["times"], row["ends"], row["body"])
    series = {"tenant_id": row["tenant_id"], "asset_id": row["asset_id"], "aspect": row["aspect"]}
    return [{**series, "t": t, "body": text} for t, text in block.pairs()]


def from_records(rows: list[dict]) -> list[dict]:
    """Rows of records (``as_records``' form) as stored blocks; ValueError names a time given twice."""
    by_series: dict[tuple, list[tuple[int, str]]] = {}
    for r in rows:
        by_series.setdefault((r["tenant_id"], r["asset_id"], r["aspect"]), []).append((r["t"], r["body"]))
    out = []
    for series, pairs in by_series.items():
        pairs.sort(key=lambda pair: pair[0])
        for (t, _), (u, _) in pairwise(pairs):
            if t == u:
                raise ValueError(f"asset {series[1]!r}, aspect {series[2]!r} has two records at {t}")
        out += [dict(zip(_ROW, (*series, *block), strict=True)) for block in encode(pairs)]
    return out


# --- reading -------------------------------------------------------------------------------------------------


def _blocks(conn, series: Series, after: int, upto: int, descending: bool, batch: int = 16) -> Iterator[Block]:
    """The blocks that may hold records of ``(after, upto]``, in the asked order, read ``batch`` at a time."""
    cursor = upto if descending else MIN_T
    while True:
        if descending:
            rows = fast_rows(conn, _DESCENDING, *series, *series, after, MIN_T, cursor, batch)
        else:
            rows = fast_rows(conn, _ASCENDING, *series, *series, after, MIN_T, cursor, upto, batch)
        for row in rows:
            yield Block(*row)
        if len(rows) < batch:
            return
        cursor = rows[-1][0] - 1 if descending else rows[-1][0]


def pieces(conn, series: Series, after: int, upto: int, limit: int, descending: bool,
           skip: int = 0) -> tuple[list[tuple[Block, int, int]], bool]:
    """The first ``limit`` records of ``(after, upto]`` in the asked order after ``skip`` of them, as (block, i, j)
    pieces (blocks in the asked order, records ``[i, j)`` of each), and whether more records follow in the range."""
    out: list[tuple[Block, int, int]] = []
    room = limit
    for block in _blocks(conn, series, after, upto, descending, batch=(skip + limit) // BLOCK_RECORDS + 2):
        i, j = block.span(after, upto)
        if skip and i < j:  # records passed over: the first of the range, in the asked order
            passed = min(skip, j - i)
            skip -= passed
            i, j = (i, j - passed) if descending else (i + passed, j)
        if i == j:
            continue
        if room == 0:
            return out, True
        if j - i > room:
            out.append((block, j - room, j) if descending else (block, i, i + room))
            return out, True
        out.append((block, i, j))
        room -= j - i
    return out, False


def joined(found: list[tuple[Block, int, int]], descending: bool) -> tuple[str, int | None]:
    """The pieces' records as one text (the inside of a JSON array) and the time of its last record."""
    if not found:
        return "", None
    if not descending:
        block, _i, j = found[-1]
        return ",".join(b.text(i, j) for b, i, j in found), block.times[j - 1]
    block, i, _j = found[-1]
    return ",".join(",".join(reversed(b.texts(i, j))) for b, i, j in found), block.times[i]


def times_of(found: list[tuple[Block, int, int]], descending: bool) -> list[int]:
    """The times of the pieces' records, in the asked order."""
    out: list[int] = []
    for b, i, j in found:
        out += reversed(b.times[i:j]) if descending else b.times[i:j]
    return out


def listed(found: list[tuple[Block, int, int]], descending: bool) -> tuple[list[str], list[int]]:
    """The pieces' records as (texts, times), in the asked order."""
    texts: list[str] = []
    for b, i, j in found:
        texts += reversed(b.texts(i, j)) if descending else b.texts(i, j)
    return texts, times_of(found, descending)


def records(conn, series: Series, after: int, upto: int, descending: bool = False) -> Iterator[tuple[int, str]]:
    """Every record of ``(after, upto]`` as (time, text), in the asked order, read a few blocks at a time."""
    for block, i, j in slices(conn, series, after, upto, descending):
        found = block.pairs(i, j)
        yield from reversed(found) if descending else found


def slices(conn, series: Series, after: int, upto: int, descending: bool = False) -> Iterator[tuple[Block, int, int]]:
    """The blocks holding records of ``(after, upto]``, in the asked order, each with the indexes ``[i, j)`` of
    those records: for readers that need the times of all and the texts of some (the rollups)."""
    for block in _blocks(conn, series, after, upto, descending):
        i, j = block.span(after, upto)
        if i < j:
            yield block, i, j


def newest(conn, series: Series) -> tuple[int, str] | None:
    """The series' newest record as (time, text), or None."""
    rows = fast_rows(conn, _NEWEST, *series)
    if not rows:
        return None
    block = Block(*rows[0])
    return block.pairs(len(block.times) - 1)[0]


def last_time(conn, series: Series) -> int | None:
    """The time of the series' newest record (None when it has none): one probe of the key."""
    return fast_scalar(conn, _LAST, *series)


def extent(conn, series: Series) -> tuple[int | None, int | None]:
    """The times of the series' oldest and newest records (None, None when it has none)."""
    first, last = fast_rows(conn, _EXTENT, *series, *series)[0]
    return first, last


# The live assets (``a``) of some types whose series of an aspect has a block reaching into (after, upto]: as blocks
# never overlap, one does if and only if the last block starting at or before ``upto`` ends after ``after``. One
# index probe per asset, so a set of hundreds of assets costs one statement.
_TYPED_HOLDING = ("SELECT a.asset_id FROM assets a WHERE a.tenant_id = ? AND a.deleted IS NULL AND a.type_id IN "
                  "({types}){one} AND (SELECT b.t_last FROM ts_blocks b WHERE b.tenant_id = a.tenant_id AND "
                  "b.asset_id = a.asset_id AND b.aspect = ? AND b.t_first <= ? ORDER BY b.t_first DESC LIMIT 1) > ? "
                  "ORDER BY a.asset_id")


def typed_holding(conn, tenant: str, type_ids: list[str], asset_id: str | None, aspect: str, after: int,
                  upto: int) -> tuple[str, ...]:
    """The ids of the tenant's live assets of ``type_ids`` (only ``asset_id``, if given and one of them) that may
    hold records of ``aspect`` in ``(after, upto]``, in id order, in one statement: the others need not be read.
    Kept while the store is unchanged (``kept_while_unchanged``): the statement probes every asset of the types
    (300 assets: a fifth of a Data Hub set's page of 2000 records), and grids page the same set again and again."""
    if not type_ids:
        return ()
    sql = _TYPED_HOLDING.format(types=", ".join("?" * len(type_ids)), one="" if asset_id is None else
                                " AND a.asset_id = ?")
    one = () if asset_id is None else (asset_id,)
    key = ("typed_holding", tenant, tuple(type_ids), asset_id, aspect, after, upto)
    return kept_while_unchanged(conn, key, lambda: tuple(
        r[0] for r in fast_rows(conn, sql, tenant, *type_ids, *one, aspect, upto, after)))


def _edges(conn, series: Series, after: int, upto: int) -> list[Block]:
    """The blocks that hold records of ``(after, upto]`` but are not wholly inside it: at most the one holding
    ``after + 1`` and the one holding ``upto``."""
    out: dict[int, Block] = {}
    for edge in (after, upto):
        for row in fast_rows(conn, _AT, *series, *series, edge):
            block = Block(*row)
            i, j = block.span(after, upto)
            if i < j and not (block.first > after and block.last <= upto):
                out[block.first] = block
    return list(out.values())


def count(conn, series: Series, after: int, upto: int) -> int:
    """How many records ``(after, upto]`` holds: the blocks wholly inside by their ``n``, the edges by their times."""
    inside = fast_scalar(conn, _COUNT_INSIDE, *series, after, upto, upto) or 0
    return int(inside) + sum(j - i for i, j in (b.span(after, upto) for b in _edges(conn, series, after, upto)))


# --- writing -------------------------------------------------------------------------------------------------


def write(conn, series: Series, pairs: list[tuple[int, str]]) -> None:
    """Store records ((time, text), in time order, no time twice), replacing any at the same times."""
    if not pairs:
        return
    low, high = pairs[0][0], pairs[-1][0]
    found = [Block(*row) for row in fast_rows(conn, _AROUND, *series, *series, low, MIN_T, high)]
    if found and found[0].last < low and found[0].full():
        found.pop(0)  # a full block before the new records stays as it is
    if not found:
        merged = pairs
    elif found[-1].last < low:  # the usual append: after the last block, which is not full
        merged = found[-1].pairs() + pairs
    else:
        by_time = {t: text for block in found for t, text in block.pairs()}
        by_time.update(pairs)
        merged = sorted(by_time.items())
    if found:
        fast_execute(conn, _DELETE_SPAN, *series, found[0].first, found[-1].first)
    fast_executemany(conn, _INSERT, [(*series, *block) for block in encode(merged)])


def delete(conn, series: Series, after: int, upto: int) -> int:
    """Delete the records of ``(after, upto]``; how many there were. Blocks wholly inside go; the edges are written
    back without the records in the range."""
    removed = int(fast_scalar(conn, _COUNT_INSIDE, *series, after, upto, upto) or 0)
    edges = _edges(conn, series, after, upto)
    fast_execute(conn, _DELETE_INSIDE, *series, after, upto, upto)
    kept: list[tuple[int, str]] = []
    for block in edges:
        i, j = block.span(after, upto)
        removed += j - i
        kept += block.pairs(0, i) + block.pairs(j)
        fast_execute(conn, _DELETE_SPAN, *series, block.first, block.first)
    if kept:
        fast_executemany(conn, _INSERT, [(*series, *block) for block in encode(sorted(kept))])
    return removed
