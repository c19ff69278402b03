"""ticks:{symbol} entries: any bytes decode to a tick or are refused with the field and rule."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from model.tick import TickFormatError, decode_tick
from streams.codecs import JsonCodec
from streams.errors import DecodeError
from streams.ring import tick_array
from streams.table import TickFieldError, row_of, ticks_of
from tests.fuzz.conftest import assert_refusal
from tests.fuzz.strategies import FUZZ, json_values, near

tick_like = near(["time", "time_msc", "bid", "ask", "last", "volume", "volume_real", "flags"])


@FUZZ
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_the_simulator_and_router_decode_any_entry_or_name_the_field(raw: bytes) -> None:
    try:
        decode_tick(raw)
    except TickFormatError as error:
        assert_refusal(str(error))


@FUZZ
@given(tick=tick_like)
def test_the_tick_table_takes_any_object_or_names_the_field(tick: dict[str, Any]) -> None:
    raw = json.dumps(tick).encode()
    try:
        value = JsonCodec().decode(raw)
    except DecodeError as error:
        assert_refusal(str(error))
        return
    try:
        row = row_of(value)
    except TickFieldError as error:  # the ticks agent logs these and skips the entry
        assert_refusal(str(error))
        return
    assert len(row) == 6


FIELDS = ("time", "bid", "ask", "last", "volume", "time_msc", "flags", "volume_real")
complete_ticks = st.fixed_dictionaries(
    dict.fromkeys(FIELDS, st.integers() | st.floats() | st.booleans() | st.none() | st.text())
) | st.fixed_dictionaries(dict.fromkeys(FIELDS, st.integers(0, 2**33) | st.floats(0, 1e16)))


@FUZZ
@given(ticks=st.lists(complete_ticks | tick_like, max_size=4))
def test_tick_columns_are_the_rows_or_leave_the_ticks_to_rows(ticks: list[dict[str, Any]]) -> None:
    """The ticks agent decodes a batch by column (`ticks_of`) and falls back to `row_of`
    tick by tick when it declines: never a column that a row would not have given."""
    payloads = [json.dumps(tick).encode() for tick in ticks]
    found = ticks_of(payloads)
    if found is None:
        return
    rows = [row_of(orjson.loads(raw)) for raw in payloads]  # taken: each a good row
    assert found.tolist() == tick_array(rows).tolist()
