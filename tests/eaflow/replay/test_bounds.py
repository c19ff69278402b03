"""`--from` / `--to`: stream ids and times become XRANGE bounds; mistakes name the option."""

from __future__ import annotations

import pytest

from eaflow.replay.bounds import check_order, stream_bound


@pytest.mark.parametrize(
    ("text", "end", "bound"),
    [
        (None, False, "-"),
        (None, True, "+"),
        ("1715000000000-3", False, "1715000000000-3"),
        ("1715000000000", True, "1715000000000"),
        ("2024-05-06T12:53:20Z", False, "1715000000000"),
        ("2024-05-06T14:53:20+02:00", True, "1715000000999"),  # the whole second
        ("2024-05-06 12:53:20.5", False, "1715000000500"),  # no zone: UTC
        ("2024-05-06 12:53:20.5", True, "1715000000599"),  # the whole tenth
        ("2024-05-06T12:53:20.123Z", True, "1715000000123"),
        ("2024-05-06T12:53Z", True, "1715000039999"),  # the whole minute 12:53
        ("2024-05-06T12", True, str(1714996800000 + 3_600_000 - 1)),  # the whole hour
        ("2024-05-06", True, str(1714953600000 + 86_400_000 - 1)),  # the whole day
    ],
)
def test_bounds(text: str | None, end: bool, bound: str) -> None:
    assert stream_bound(text, "--from", end=end) == bound


def test_a_bound_that_is_neither_id_nor_time_names_the_option() -> None:
    with pytest.raises(ValueError, match=r"--to: 'yesterday' is neither a stream id"):
        stream_bound("yesterday", "--to", end=True)


def test_a_range_must_not_end_before_it_starts() -> None:
    check_order("1715000000000-5", "1715000000000")  # the whole millisecond: includes -5
    check_order("-", "1")
    with pytest.raises(ValueError, match="--to: 1715000000000-4 is before --from 1715000000000-5"):
        check_order("1715000000000-5", "1715000000000-4")
