"""The rows of an OData time series set, spliced from the stored records' texts, and kept per block by content.

Why: a ``TS_`` page of 2000 records answered by parsing and encoding each record cost seven times the REST read
of the same records; spliced from the texts on every read, it still cost three times (each record is cut and
glued in Python). A stored block's rows depend on nothing but the asset, the set's variable names and the
block's text, so they are spliced once per block and kept, keyed by exactly those, as one text with each row's
end (the block's own form, :mod:`emulator.timeseries.blocks`): a later page over the block is a dictionary
lookup (one hash of the text) and a slice, as the REST read is.

Keyed by content, not by a version number, every worker agrees with the store without asking it: a rewritten
block has another text, hence another key, and the old entry ages out. At most ``KEPT_CHARS`` characters of
texts and rows are kept per process (the least recently used go first), so a worker's memory stays bounded.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from itertools import accumulate

KEPT_CHARS = 8_000_000  # what is kept at most: the blocks' texts (the keys), their rows, 8 per row's end

_kept: OrderedDict[tuple, tuple[Rows | None, int]] = OrderedDict()  # key -> (the block's rows, their cost)
_size = 0
_lock = threading.Lock()


def spliced(asset_id: str, times, text: str, quick: tuple[str, ...]) -> list[str] | None:
    """The OData rows of one asset's stored records (``text``: their texts joined with commas, ``times`` their
    times), spliced without parsing them: each ``{"_time":"<ISO>",`` becomes ``{"id":..,"assetId":..,
    "timestamp":..,``. Every stored text begins with its time in the 24-character form
    (``emulator.timeseries.blocks``). None (parse them instead) when a record lacks a variable (its row must show
    it as null) or a string value holds ``},{`` (the records are split there): each variable's ``"name":``
    (``quick``) occurs once per record that holds it, as no string value can hold it (JSON escapes the quotes)."""
    n = len(times)
    if any(text.count(key) != n for key in quick):
        return None
    inners = text[1:-1].split("},{")
    if len(inners) != n:
        return None
    head, middle = f'{{"id":"{asset_id}_', f'","assetId":"{asset_id}","timestamp":"'
    return [f'{head}{t}{middle}{inner[9:28] if inner[28:32] == ".000" else inner[9:32]}"{inner[34:]}}}'
            for t, inner in zip(times, inners, strict=True)]


class Rows:
    """A block's rows, encoded and joined with commas, and where each ends (as a stored block's texts). Kept as
    bytes, a page's pieces are views of them: the answer is written once, where slicing, joining and encoding
    text made four copies of a 435 KB page (and the allocator's fresh pages for each)."""

    __slots__ = ("data", "ends")

    def __init__(self, rows: list[str]):
        text = ",".join(rows)
        self.data = text.encode()
        lengths = (len(r) for r in rows) if len(self.data) == len(text) else (len(r.encode()) for r in rows)
        self.ends = array("L", accumulate(n + 1 for n in lengths))  # each row's end in bytes, plus one (its comma)

    def piece(self, i: int, j: int, descending: bool) -> memoryview | bytes:
        """Rows ``[i, j)`` joined with commas (a view of the kept bytes); the last first when ``descending``."""
        start, view = self.ends[i - 1] if i else 0, memoryview(self.data)
        if not descending:
            return view[start:self.ends[j - 1] - 1]
        return b",".join(view[self.ends[k - 1] if k else 0:self.ends[k] - 1] for k in range(j - 1, i - 1, -1))


def block_rows(asset_id: str, block, quick: tuple[str, ...]) -> Rows | None:
    """:func:`spliced` of a whole stored block (``emulator.timeseries.blocks.Block``), joined, kept."""
    global _size
    key = (asset_id, quick, block.body)
    with _lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
            return found[0]
    rows = spliced(asset_id, block.times, block.body, quick)
    kept = None if rows is None else Rows(rows)
    cost = len(block.body) + (0 if kept is None else len(kept.data) + 8 * len(rows))
    with _lock:
        if key not in _kept:
            _kept[key] = (kept, cost)
            _size += cost
            while _size > KEPT_CHARS:
                _size -= _kept.popitem(last=False)[1][1]
    return kept
