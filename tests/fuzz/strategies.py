"""Hypothesis strategies shared by the fuzz tests: JSON values near and far from valid input."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from model import Action, OrderStatus, OrderType, Result, Signal, SizingMode, StopsUnit

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Bounded so the whole fuzz suite stays in seconds on CI."""

SYMBOLS = ["EURUSD", "XAUUSD", "NZDUSD", "GBPUSD", "NOPE", ""]
WORDS = [
    *SYMBOLS,
    *(a.value for a in Action),
    *(t.value for t in OrderType),
    *(s.value for s in SizingMode),
    *(u.value for u in StopsUnit),
    *(s.value for s in OrderStatus),
    "buy",
    "sell",
    "long",
    "short",
    "demo-1",
    "*",
    "0.01",
    "0.015",
    "-1",
    "1e400",
    "NaN",
    "Infinity",
]

numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["0.01", "0.10", "1", "0", "-0.5", "1e-9", "12345678901234567890.5"]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.sampled_from(WORDS), st.text(max_size=20))
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def near(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects keyed mostly by a model's own fields, with values of any JSON type."""
    keys = st.sampled_from(fields) | st.text(max_size=10)
    return st.dictionaries(keys, json_values | st.sampled_from(WORDS), max_size=12)


signal_like = near(list(Signal.model_fields))
result_like = near(list(Result.model_fields))
