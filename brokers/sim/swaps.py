"""Swaps: what holding a position over the server's daily rollover costs or earns.

The rollover is at 00:00 server time (UTC in the simulator). The rollover that ends a weekday,
Monday to Friday, charges one day's swap, and the one ending the symbol's `swap_rollover3days`
weekday charges three (Wednesday for the shipped symbols, paying for the weekend's value
dates); the rollovers ending Saturday and Sunday charge nothing. A week held is seven days'
swap. A position is charged at a rollover it was open at (opened before it).

One day's swap of `lots` by the symbol's `swap_mode` (MQL5 reference, ENUM_SYMBOL_SWAP_MODE),
with `swap` the symbol's `swap_long` or `swap_short`:

| mode | amount | currency |
|---|---|---|
| POINTS | swap × point × contract × lots | profit |
| CURRENCY_SYMBOL | swap × lots | base |
| CURRENCY_MARGIN | swap × lots | margin |
| CURRENCY_DEPOSIT | swap × lots | the account's |
| INTEREST_CURRENT | price × contract × lots × swap / 100 / 360 (price now) | profit |
| INTEREST_OPEN | the same at the position's open price | profit |

converted to the account currency at the rollover's quotes (a charge at the rate that makes it
larger, a credit at the one that makes it smaller) and rounded to cents. The REOPEN modes
(MT5 closes and reopens the position at a shifted price) are not simulated: no swap.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo, TradePosition
from brokers.sim.book import Book
from brokers.sim.margin import PricingError, money
from brokers.sim.matching import close_price

DAY = 86_400
INTEREST_DAYS = 360


class Charge(NamedTuple):
    """One day's swap of a position, before conversion: `amount` in `currency`."""

    amount: float
    currency: str


def last_rollover(seconds: float) -> int:
    """The newest rollover (a midnight) at or before `seconds`."""
    return int(seconds // DAY * DAY)


def weekday(rollover: int) -> int:
    """The ENUM_DAY_OF_WEEK (0 Sunday .. 6 Saturday) of the day this rollover ends."""
    day = datetime.fromtimestamp(rollover - DAY, UTC)
    return (day.weekday() + 1) % 7


def days(info: SymbolInfo, rollover: int) -> int:
    """How many days' swap this rollover charges: 0 after a weekend day, 3 after the triple
    day, else 1."""
    ended = weekday(rollover)
    if ended in (mt5.DAY_OF_WEEK_SUNDAY, mt5.DAY_OF_WEEK_SATURDAY):
        return 0
    return 3 if ended == info.swap_rollover3days else 1


def rollovers(after: int, until: float) -> Iterator[int]:
    """The rollovers later than `after` and not later than `until`, oldest first."""
    moment = last_rollover(after) + DAY
    while moment <= until:
        yield moment
        moment += DAY


def daily(info: SymbolInfo, position: TradePosition, price: float, account: str) -> Charge | None:
    """One day's swap of `position` by its symbol's swap mode (None: no swap in this mode);
    `price` is where the position would close now (INTEREST_CURRENT)."""
    buy = position.type == mt5.POSITION_TYPE_BUY
    rate = info.swap_long if buy else info.swap_short
    lots = position.volume
    mode = info.swap_mode
    if mode == mt5.SYMBOL_SWAP_MODE_POINTS:
        return Charge(rate * info.point * info.trade_contract_size * lots, info.currency_profit)
    if mode == mt5.SYMBOL_SWAP_MODE_CURRENCY_SYMBOL:
        return Charge(rate * lots, info.currency_base)
    if mode == mt5.SYMBOL_SWAP_MODE_CURRENCY_MARGIN:
        return Charge(rate * lots, info.currency_margin)
    if mode == mt5.SYMBOL_SWAP_MODE_CURRENCY_DEPOSIT:
        return Charge(rate * lots, account)
    if mode in (mt5.SYMBOL_SWAP_MODE_INTEREST_CURRENT, mt5.SYMBOL_SWAP_MODE_INTEREST_OPEN):
        basis = price if mode == mt5.SYMBOL_SWAP_MODE_INTEREST_CURRENT else position.price_open
        notional = basis * info.trade_contract_size * lots
        return Charge(notional * rate / 100 / INTEREST_DAYS, info.currency_profit)
    return None


def charge_due(book: Book, now_ms: int) -> bool:
    """Charge the swaps of every rollover since the account's last one, up to `now_ms`, into
    its positions' `swap` (converted at the quotes the book holds now); True when a rollover
    was passed. An account without a rollover yet starts at the latest one, charging nothing."""
    now = now_ms / 1000
    if book.account.rollover <= 0:
        book.set_rollover(last_rollover(now))
        return True
    due = list(rollovers(book.account.rollover, now))
    if not due:
        return False
    for moment in due:
        for position in list(book.positions.values()):
            info = book.symbols.get(position.symbol)
            if info is None or position.time >= moment:
                continue
            count = days(info, moment)
            tick = book.ticks.get(position.symbol)
            if not count or tick is None:
                continue
            charge = daily(
                info, position, close_price(position.type, tick, info.digits), book.currency
            )
            if charge is None or not charge.amount:
                continue
            try:
                amount = book.to_account(charge.amount, charge.currency)
            except PricingError:
                continue
            swap = money(position.swap + money(amount * count))
            book.put_position(position._replace(swap=swap))
    book.set_rollover(due[-1])
    return True
