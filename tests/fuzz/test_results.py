"""rtrs entries for the sinks: any entry is stored or refused alone with the field and rule.

Regression: a result with a retcode, ticket or time the results table cannot hold decoded
fine and then failed every batch of the sinks (which retry forever), blocking all results
behind it; such results are now refused when decoded, and dead-lettered one by one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import OrderStatus, Result
from sinks.batch import results_table
from sinks.duckdb import DuckDbStore
from streams.codecs import ModelCodec
from streams.errors import DecodeError
from tests.fuzz.conftest import assert_refusal
from tests.fuzz.strategies import FUZZ, numbers, result_like

CODEC = ModelCodec(Result)
NUMBERS = ["retcode", "order_ticket", "deal_ticket", "position_ticket", "price", "volume"]
NUMBERS += ["requested_price", "received_at", "routed_at", "sent_at", "done_at"]
VALID = {"result_id": "r", "order_id": "o", "signal_id": "s", "instance": "i", "status": "filled"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDbStore]:
    store = DuckDbStore(tmp_path / "eaflow.duckdb")
    yield store
    store.close()


def stored_or_refused(store: DuckDbStore, raw: bytes) -> None:
    try:
        result = CODEC.decode(raw)
    except DecodeError as error:
        assert_refusal(str(error))
        return
    assert store.write(results_table([("1-0", result)])) in (0, 1)


@FUZZ
@given(body=result_like)
def test_any_result_shaped_entry(store: DuckDbStore, body: dict[str, Any]) -> None:
    stored_or_refused(store, json.dumps(body).encode())


@FUZZ
@given(
    field=st.sampled_from(NUMBERS),
    value=numbers,
    status=st.sampled_from(OrderStatus),
    result_id=st.text(min_size=1, max_size=20),
)
def test_valid_results_with_any_number(
    store: DuckDbStore, field: str, value: Any, status: OrderStatus, result_id: str
) -> None:
    body = {**VALID, "result_id": result_id, "status": status.value, field: value}
    stored_or_refused(store, json.dumps(body).encode())


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes(store: DuckDbStore, raw: bytes) -> None:
    stored_or_refused(store, raw)
