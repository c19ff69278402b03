"""Result bounds: what the results table cannot hold is refused when decoded, naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from model import Result, Signal, refusal_of

VALID = {"result_id": "r", "order_id": "o", "signal_id": "s", "instance": "i", "status": "filled"}


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("retcode", 2**31, "less than 2147483648"),
        ("order_ticket", -1, "greater than or equal to 0"),
        ("deal_ticket", 2**63, "less than 9223372036854775808"),
        ("done_at", float("inf"), "finite number"),
        ("received_at", 1e12, "less than 100000000000"),
    ],
)
def test_out_of_range_numbers_are_refused(field: str, value: object, rule: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Result.model_validate({**VALID, field: value})
    where, why = refusal_of(refused.value)
    assert where == field and rule in why


def test_every_time_a_signal_carries_fits_its_results() -> None:
    with pytest.raises(ValidationError) as refused:
        Signal.model_validate({"symbol": "EURUSD", "order_type": "buy", "created_at": -1})
    assert refusal_of(refused.value)[0] == "created_at"
    assert Result.model_validate({**VALID, "retcode": 10009, "order_ticket": 2**63 - 1})
