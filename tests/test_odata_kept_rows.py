"""The OData rows kept per stored block (``emulator.odata.spliced``): bounded, least recently used first out, and
accounted exactly.

Why here and not through HTTP: an answer is the same whether its rows were kept or made afresh (the HTTP tests in
``test_odata_service.py`` read, overwrite and read again to show it), so only a worker's memory tells a bound that
leaks or evicts the wrong entry; ``make mutate`` found the accounting unguarded. The bound is lowered for the test
to a few blocks' worth.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest

from emulator.odata import spliced
from emulator.times import iso
from emulator.timeseries.blocks import Block, encode

QUICK = ('"v":',)


def block(first: int, n: int, *, holes: bool = False) -> Block:
    """A stored block of ``n`` records a second apart from ``first`` (ms); with ``holes`` one record lacks ``v``."""
    pairs = [(first + k * 1000, f'{{"_time":"{iso(first + k * 1000)}"' + ("" if holes and k == 1 else f',"v":{k}.5')
              + "}") for k in range(n)]
    (t_first, t_last, _n, times, ends, body), = encode(pairs)
    return Block(t_first, t_last, times, ends, body)


@pytest.fixture
def kept(monkeypatch):
    """An empty store of kept rows, restored after the test."""
    monkeypatch.setattr(spliced, "_kept", OrderedDict())
    monkeypatch.setattr(spliced, "_size", 0)
    return monkeypatch


def test_kept_rows_stay_within_their_bound_least_recently_used_first_out(kept):
    blocks = [block(1_700_000_000_000 + b * 100_000, 20) for b in range(4)]
    first = spliced.block_rows("a" * 32, blocks[0], QUICK)
    cost = spliced._size
    # what a kept block costs: its text (the key), its rows' text, and 8 for each row's end
    assert first is not None and cost == len(blocks[0].body) + len(first.data) + 8 * 20
    assert list(spliced._kept.values()) == [(first, cost)]
    kept.setattr(spliced, "KEPT_CHARS", 3 * cost)
    for b in blocks[1:3]:
        spliced.block_rows("a" * 32, b, QUICK)
    assert spliced._size == 3 * cost and len(spliced._kept) == 3
    assert spliced.block_rows("a" * 32, blocks[0], QUICK) is first  # kept: the same rows, now the latest used
    spliced.block_rows("a" * 32, blocks[3], QUICK)  # one too many: the least recently used goes (blocks[1])
    assert spliced._size == 3 * cost and len(spliced._kept) == 3
    assert [key[2] for key in spliced._kept] == [blocks[2].body, blocks[0].body, blocks[3].body]
    again = spliced.block_rows("a" * 32, blocks[1], QUICK)  # made again, equal to what was made before
    assert again is not None and again.data == spliced.Rows(spliced.spliced("a" * 32, blocks[1].times,
                                                                             blocks[1].body, QUICK)).data
    assert [key[2] for key in spliced._kept] == [blocks[0].body, blocks[3].body, blocks[1].body]


def test_a_block_that_cannot_be_spliced_is_kept_as_such_for_its_text_alone(kept):
    holed = block(1_700_000_000_000, 5, holes=True)
    assert spliced.block_rows("b" * 32, holed, QUICK) is None
    assert spliced._size == len(holed.body) and list(spliced._kept.values()) == [(None, len(holed.body))]
    assert spliced.block_rows("b" * 32, holed, QUICK) is None and len(spliced._kept) == 1


def test_a_piece_of_kept_rows_is_its_rows_in_either_order():
    rows = spliced.Rows(spliced.spliced("c" * 32, block(1_700_000_000_000, 6).times, block(1_700_000_000_000, 6).body,
                                        QUICK))
    each = rows.data.decode().split("},{")
    assert len(each) == 6
    whole = [("{" if k else "") + text + ("}" if k < 5 else "") for k, text in enumerate(each)]
    for i, j in ((0, 6), (0, 1), (2, 5), (5, 6)):
        assert bytes(rows.piece(i, j, False)) == ",".join(whole[i:j]).encode()
        assert bytes(rows.piece(i, j, True)) == ",".join(reversed(whole[i:j])).encode()


def test_pieces_of_rows_beyond_ascii_end_where_their_bytes_do():
    """The kept rows are bytes: a row's end is counted in bytes, not characters (a string value of two-byte and
    four-byte characters would otherwise cut its neighbours)."""
    whole = ['{"id":"a_1","s":"Pumpe Süd"}', '{"id":"a_2","s":"x"}', '{"id":"a_3","s":"🌊 Flut"}', '{"id":"a_4"}']
    rows = spliced.Rows(whole)
    assert rows.data == ",".join(whole).encode()
    for i, j in ((0, 4), (0, 1), (1, 3), (2, 4), (3, 4)):
        assert bytes(rows.piece(i, j, False)) == ",".join(whole[i:j]).encode()
        assert bytes(rows.piece(i, j, True)) == ",".join(reversed(whole[i:j])).encode()
