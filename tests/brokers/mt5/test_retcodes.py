"""The retcode table: every code of the MetaTrader5 package, its names and retryability."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from brokers.mt5 import constants
from brokers.mt5.retcodes import RETCODES, retcode

CSV = Path(__file__).parents[2] / "data" / "mt5" / "mt5_trade_retcodes.csv"


def test_every_code_of_the_csv_is_known() -> None:
    with CSV.open(encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    assert len(rows) == len(RETCODES) == 41
    for row in rows:
        known = retcode(int(row["code"]))
        assert (known.name, known.short, known.description) == (
            row["constant"],
            row["short_name"],
            row["description"],
        )


def test_names_match_the_package_constants() -> None:
    for code, known in RETCODES.items():
        if hasattr(constants, known.name):
            assert getattr(constants, known.name) == code


def test_done_and_its_server_comment() -> None:
    done = retcode(10009)
    assert (done.name, done.short, done.description) == (
        "TRADE_RETCODE_DONE",
        "DONE",
        "Request completed",
    )
    assert done.comment == "Request executed"  # what servers write in result.comment
    assert not done.retryable
    assert retcode(10030).comment == "Unsupported filling mode"
    assert retcode(10014).comment == "Invalid volume in the request"  # no observed comment


@pytest.mark.parametrize("code", [10004, 10020, 10021, 10012, 10031, 10024, 10028, 10011])
def test_transient_codes_are_retryable(code: int) -> None:
    assert retcode(code).retryable


@pytest.mark.parametrize("code", [10013, 10014, 10015, 10016, 10018, 10019, 10030, 10036])
def test_mistakes_are_not_retryable(code: int) -> None:
    assert not retcode(code).retryable


def test_unknown_codes() -> None:
    unknown = retcode(10099)
    assert (unknown.code, unknown.name, unknown.short) == (10099, "UNKNOWN_10099", "UNKNOWN_10099")
    assert not unknown.retryable
    assert 10099 not in RETCODES
