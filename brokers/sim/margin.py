"""Margin, profit and currency conversion by MT5's formulas for each `trade_calc_mode`.

The formulas of the MQL5 reference (ENUM_SYMBOL_CALC_MODE), margin rate 1. Margin, in the
margin currency: Forex `lots*contract/leverage`, Forex No Leverage `lots*contract`, CFD
`lots*contract*price`, CFD Index `lots*contract*price*tick_value/tick_size`, CFD Leverage
`lots*contract*price/leverage`, Futures `lots*margin_initial`. Profit, in the profit currency:
`(close-open)*contract*lots` (Forex, Forex No Leverage and the CFDs), `(close-open)*lots*
tick_value/tick_size` (Futures), negated for sells. Conversion to the account currency goes
through other symbols' prices, the way MT5's tick values do: gains at the rate that makes them
smaller, losses and margin at the rate that makes them larger (e.g. USD → EUR divides a gain by
EURUSD's ask, a loss by its bid). Money is rounded to cents half away from zero, as MT5 rounds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo
from brokers.sim.symbols import Leg, SymbolTable
from model.tick import Tick

CURRENCY_DIGITS = 2
CENTS = 100  # 10 ** CURRENCY_DIGITS
HALF = 0.5 + 1e-7  # a half cent, with room for the float noise of an exact decimal tie


class PricingError(ValueError):
    """The simulator does not price this symbol (its calc mode or a conversion is missing)."""


def margin(
    info: SymbolInfo, volume: float, price: float, leverage: int, contract: float | None = None
) -> float:
    """Initial margin of `volume` lots at `price`, in the symbol's margin currency;
    `contract` replaces the contract size (a hedged volume is charged with `margin_hedged`)."""
    mode = info.trade_calc_mode
    notional = volume * (info.trade_contract_size if contract is None else contract)
    if mode == mt5.SYMBOL_CALC_MODE_FOREX:
        return notional / leverage
    if mode == mt5.SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE:
        return notional
    if mode == mt5.SYMBOL_CALC_MODE_CFD:
        return notional * price
    if mode == mt5.SYMBOL_CALC_MODE_CFDINDEX and info.trade_tick_size > 0:
        return notional * price * info.trade_tick_value / info.trade_tick_size
    if mode == mt5.SYMBOL_CALC_MODE_CFDLEVERAGE:
        return notional * price / leverage
    if mode == mt5.SYMBOL_CALC_MODE_FUTURES and info.margin_initial > 0:
        return volume * info.margin_initial
    raise PricingError(f"{info.name}: trade_calc_mode {mode} is not simulated")


def profit(info: SymbolInfo, is_buy: bool, volume: float, price_open: float, close: float) -> float:
    """Profit of closing `volume` lots opened at `price_open`, in the symbol's profit currency."""
    move = close - price_open if is_buy else price_open - close
    if info.trade_calc_mode == mt5.SYMBOL_CALC_MODE_FUTURES and info.trade_tick_size > 0:
        return move * volume * info.trade_tick_value / info.trade_tick_size
    return move * info.trade_contract_size * volume


def convert(
    amount: float,
    legs: Sequence[Leg],
    ticks: Mapping[str, Tick],
    *,
    cost: bool = False,
    trade: tuple[str, float] | None = None,
) -> float | None:
    """`amount` through `legs` at the latest ticks (None when a tick is missing).

    A gain (`amount >= 0`, not `cost`) takes the lower rate, a loss or a cost the higher one;
    a leg through the `trade` symbol takes the trade's price.
    """
    small = amount >= 0 and not cost
    for leg in legs:
        if trade is not None and leg.symbol == trade[0]:
            bid = ask = trade[1]
        else:
            tick = ticks.get(leg.symbol)
            if tick is None:
                return None
            bid, ask = tick.bid, tick.ask
        if bid <= 0 or ask <= 0:
            return None
        if leg.multiply:
            amount *= bid if small else ask
        else:
            amount /= ask if small else bid
    return amount


def to_account(
    amount: float,
    currency: str,
    account_currency: str,
    symbols: SymbolTable,
    ticks: Mapping[str, Tick],
    *,
    cost: bool = False,
    trade: tuple[str, float] | None = None,
) -> float:
    """`amount` in `currency` converted to the account currency; PricingError when impossible.

    `trade` is (symbol, price) of the trade being valued: a conversion through that symbol
    uses that price, as MT5 does (buy USDJPY 1 lot 108.183 → 108.483 earns 30000 JPY =
    30000 / 108.483 = 276.54 USD in MetaQuotes' order_calc_profit example).
    """
    legs = symbols.path(currency, account_currency)
    converted = None if legs is None else convert(amount, legs, ticks, cost=cost, trade=trade)
    if converted is None:
        raise PricingError(f"no price converts {currency} to {account_currency}")
    return converted


def tick_values(
    info: SymbolInfo, account_currency: str, symbols: SymbolTable, ticks: Mapping[str, Tick]
) -> tuple[float, float]:
    """Value of a one-tick move for one lot in the account currency: (as a gain, as a loss).

    (0.0, 0.0) when no price converts the profit currency yet.
    """
    move = info.trade_tick_size * info.trade_contract_size
    try:
        gain = to_account(move, info.currency_profit, account_currency, symbols, ticks)
        loss = -to_account(-move, info.currency_profit, account_currency, symbols, ticks)
    except PricingError:
        return (0.0, 0.0)
    return (gain, loss)


def money(amount: float) -> float:
    """Round to the account currency's cents as MT5 books deals and balances: half away from
    zero (0.125 → 0.13, -0.125 → -0.13; Python's round() gives 0.12), on the amount's decimal
    value, so float noise (0.00499999999992 for a 0.005 move) does not decide a tie."""
    cents = int(abs(amount) * CENTS + HALF)
    return (cents if amount >= 0 else -cents) / CENTS
