"""ticks:{symbol} entries: any bytes decode to a tick or are refused with the field and rule."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from model.tick import TickFormatError, decode_tick
from streams.codecs import JsonCodec
from streams.errors import DecodeError
from streams.table import TickFieldError, row_of
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
