"""eaflow's MT5 constants and retcode table are the MetaTrader5 package's own, name for name."""

from __future__ import annotations

import ast

import pytest

from brokers.mt5 import constants
from brokers.mt5.retcodes import RETCODES, retcode
from tests.conftest import DATA

WHEEL_CONSTANTS = DATA / "mt5" / "metatrader5_init_constants.txt"


def wheel_constants() -> dict[str, int]:
    """`NAME = value` lines extracted from the MetaTrader5 5.0.6231 wheel's `__init__.py`."""
    found: dict[str, int] = {}
    for line in WHEEL_CONSTANTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split(" = ")
            found[name] = ast.literal_eval(value)
    return found


def ours() -> dict[str, object]:
    return {n: getattr(constants, n) for n in dir(constants) if n.isupper()}


def test_the_fixture_holds_every_constant_of_the_package() -> None:
    assert len(wheel_constants()) == 223  # every constant of the 5.0.6231 wheel


def test_every_constant_has_the_packages_name_and_value() -> None:
    wheel = wheel_constants()
    assert set(ours()) == set(wheel)
    assert {n: v for n, v in ours().items() if wheel[n] != v} == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRADE_ACTION_DEAL", 1),
        ("TRADE_ACTION_PENDING", 5),
        ("TRADE_ACTION_SLTP", 6),
        ("TRADE_ACTION_MODIFY", 7),
        ("TRADE_ACTION_REMOVE", 8),
        ("TRADE_ACTION_CLOSE_BY", 10),
        ("ORDER_FILLING_FOK", 0),
        ("ORDER_FILLING_RETURN", 2),
        ("TIMEFRAME_H1", 16385),
        ("RES_E_INTERNAL_FAIL_TIMEOUT", -10005),
    ],
)
def test_spot_values_a_terminal_answers_with(name: str, value: int) -> None:
    assert getattr(constants, name) == value == wheel_constants()[name]


def test_the_retcode_table_names_every_trade_retcode_of_the_package() -> None:
    wheel = {v: n for n, v in wheel_constants().items() if n.startswith("TRADE_RETCODE_")}
    assert set(wheel) <= set(RETCODES)
    # MQL5's documentation adds HEDGE_PROHIBITED, which this package version does not define.
    assert set(RETCODES) - set(wheel) == {10046}
    assert {code: retcode(code).name for code in wheel} == wheel
