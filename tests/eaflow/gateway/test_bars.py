"""Bars from ticks, and UDF resolutions."""

from __future__ import annotations

import pytest

from eaflow.gateway.bars import Bar, aggregate, resolution_seconds


def test_bars_start_on_their_width_and_only_exist_with_ticks() -> None:
    ticks = [(60_100, 1.1), (60_900, 1.3), (61_000, 1.2), (125_000, 1.0)]
    assert aggregate(ticks, 1) == [
        Bar(60, 1.1, 1.3, 1.1, 1.3, 2),
        Bar(61, 1.2, 1.2, 1.2, 1.2, 1),
        Bar(125, 1.0, 1.0, 1.0, 1.0, 1),
    ]
    assert aggregate(ticks, 60) == [Bar(60, 1.1, 1.3, 1.1, 1.2, 3), Bar(120, 1.0, 1.0, 1.0, 1.0, 1)]
    assert aggregate([], 60) == []


def test_resolutions() -> None:
    assert [resolution_seconds(r) for r in ("1S", "1", "60", "1D", "D", "240")] == [
        1,
        60,
        3600,
        86400,
        86400,
        14400,
    ]
    with pytest.raises(ValueError, match="resolution: unknown '7X'"):
        resolution_seconds("7X")
