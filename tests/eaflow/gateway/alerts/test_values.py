"""Field values as TradingView renders them: numbers, words, names, placeholders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from eaflow.gateway.alerts.values import AlertError, integer, names, number, text, word


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0.1, Decimal("0.1")),
        (1, Decimal("1")),
        ("0.10", Decimal("0.10")),
        (" 2 ", Decimal("2")),
        ("1e-3", Decimal("0.001")),
        ("-5", Decimal("-5")),
        (".5", Decimal("0.5")),
    ],
)
def test_numbers(raw: object, expected: Decimal) -> None:
    assert number("volume", raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("50%", "not a percentage"),
        ("100$", "not a money amount"),
        ("$5", "not a money amount"),
        ("A", "must be a number"),
        ("1_000", "must be a number"),
        ("nan", "must be a number"),
        ("Infinity", "must be a number"),
        (True, "must be a number"),
        ([1], "must be text"),
        ("", "must not be empty"),
        ("{{close}}", "placeholder"),
        ("1e999999", "must be a number"),
    ],
)
def test_numbers_refused_name_the_field(raw: object, rule: str) -> None:
    with pytest.raises(AlertError) as refused:
        number("volume", raw)
    assert refused.value.field == "volume" and rule in refused.value.rule


def test_words_ignore_case_spaces_and_dashes() -> None:
    assert word("action", " Close-Long ") == "closelong"
    assert word("action", "BUY_LIMIT") == "buylimit"


def test_text_and_integer() -> None:
    assert text("account", 116437666) == "116437666"
    assert integer("ticket", "42") == 42
    with pytest.raises(AlertError, match="whole number"):
        integer("ticket", "4.2")
    with pytest.raises(AlertError, match="at most 200"):
        text("comment", "x" * 201)


def test_names() -> None:
    assert names("instances", "demo-1|demo-2") == ("demo-1", "demo-2")
    assert names("instances", ["a", "b,c"]) == ("a", "b", "c")
    assert names("instances", "all") == () == names("instances", "*")
    with pytest.raises(AlertError, match="stand alone"):
        names("instances", "a|all")
