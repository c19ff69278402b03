"""The tick record and its `ticks:{symbol}` stream entry format."""

from __future__ import annotations

import orjson
import pytest

from model.tick import Tick, TickFormatError, decode_tick, encode_tick, entry_tick

# the first EURUSD tick of MetaQuotes' copy_ticks_from example (flags 134)
DOC_TICK = Tick(1578614400, 1.11051, 1.11069, 0.0, 0, 1578614400987, 134, 0.0)


def test_round_trip() -> None:
    assert decode_tick(encode_tick(DOC_TICK)) == DOC_TICK
    assert orjson.loads(encode_tick(DOC_TICK))["time_msc"] == 1578614400987


def test_minimal_entries_get_mt5_defaults() -> None:
    tick = decode_tick(b'{"time": 1399334400, "bid": 1.38742, "ask": 1.38755}')
    assert tick == Tick(1399334400, 1.38742, 1.38755, 0.0, 0, 1399334400000, 0, 0.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"time": 1, "ask": 1.1}', "field 'bid' is required"),
        (b'{"time": 1, "bid": "x", "ask": 1.1}', "not a number"),
    ],
)
def test_bad_entries_name_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(TickFormatError, match=message):
        decode_tick(raw)


def test_an_entry_with_unparsed_fields_reads_too() -> None:
    """redis-py's cluster client leaves XREVRANGE replies in a MULTI as flat lists."""
    raw = [[b"1578614400987-0", [b"d", encode_tick(DOC_TICK)]]]
    assert entry_tick(raw) == DOC_TICK
