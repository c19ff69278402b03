"""Risk rules: the broker's day and week, and refusals naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from model import TradingConfig, refusal_of
from model.risk import RiskRules


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_a_new_york_day_starts_at_17_00_local_in_summer_and_winter() -> None:
    rules = RiskRules(day_start="17:00", timezone="America/New_York")
    assert rules.periods(at("2026-07-06T20:59")) == ("2026-07-05", "2026-W27")  # 16:59 EDT
    assert rules.periods(at("2026-07-06T21:00")) == ("2026-07-06", "2026-W28")  # 17:00 EDT
    assert rules.periods(at("2026-12-07T21:59")) == ("2026-12-06", "2026-W49")  # 16:59 EST
    assert rules.next_start(at("2026-12-07T21:59")) == at("2026-12-07T22:00")


def test_a_utc_day_is_the_calendar_day() -> None:
    assert RiskRules().periods(at("2026-12-06T23:59")) == ("2026-12-06", "2026-W49")
    assert RiskRules().next_start(at("2026-12-06T00:00")) == at("2026-12-07T00:00")


@pytest.mark.parametrize(
    ("document", "field", "rule"),
    [
        ({"day_start": "24:00"}, "risk.day_start", "'24:00' must be HH:MM"),
        ({"timezone": "Mars/Olympus"}, "risk.timezone", "'Mars/Olympus' is not an IANA time zone"),
        ({"daily_loss_percent": 0}, "risk.daily_loss_percent", "Input should be greater than 0"),
        ({"on_limit": "active"}, "risk.on_limit", "Input should be 'reducing' or 'halted'"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    document: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        TradingConfig.model_validate({"risk": document})
    assert refusal_of(refused.value) == (field, rule)
