"""Every MT5 retcode maps to one result status, with its name: none falls through by accident."""

from __future__ import annotations

import pytest

from brokers.mt5.retcodes import RETCODES, retcode
from model import Action, OrderStatus
from processors.executor.outcome import (
    FAILING_RETCODES,
    REJECTING_RETCODES,
    SUCCESS_RETCODES,
    SUCCESS_STATUS,
    status_for,
)


def test_success_rejection_and_failure_partition_every_known_retcode() -> None:
    groups = (SUCCESS_RETCODES, REJECTING_RETCODES, FAILING_RETCODES)
    assert set().union(*groups) == set(RETCODES)
    assert sum(len(g) for g in groups) == len(RETCODES)  # disjoint


def test_retryable_retcodes_fail_rather_than_reject() -> None:
    """After the retries, a transient refusal is a failure: the same order may work later."""
    assert {c for c, r in RETCODES.items() if r.retryable} <= FAILING_RETCODES


@pytest.mark.parametrize("code", sorted(RETCODES))
@pytest.mark.parametrize("action", sorted(SUCCESS_STATUS))
def test_each_retcode_gives_a_terminal_status_for_each_action(action: Action, code: int) -> None:
    status = status_for(action, code)
    assert status.is_terminal
    if code in SUCCESS_RETCODES:
        assert status is SUCCESS_STATUS[action]
    else:
        assert status in (OrderStatus.REJECTED, OrderStatus.FAILED)


def test_a_placed_pending_order_is_placed_not_filled() -> None:
    assert status_for(Action.OPEN, 10008, pending=True) is OrderStatus.PLACED
    assert status_for(Action.OPEN, 10009) is OrderStatus.FILLED
    assert status_for(Action.CLOSE, 10010) is OrderStatus.CLOSED  # partial: volume tells how much


def test_an_unknown_retcode_fails_with_a_readable_name() -> None:
    assert status_for(Action.OPEN, 10999) is OrderStatus.FAILED
    assert retcode(10999).name == "UNKNOWN_10999"
