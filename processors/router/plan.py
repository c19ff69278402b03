"""Turn one valid signal into an order for one instance, or a refusal naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from brokers.mt5.records import SymbolInfo
from model import (
    EXIT_ACTIONS,
    Action,
    InstanceSpec,
    Order,
    Side,
    Signal,
    StopsUnit,
    TradingConfig,
    TradingState,
)
from model.config import AlertSwitch
from model.money import dec
from model.tags import label_of
from model.tick import Tick
from processors.registry import UNREADABLE_SWITCH
from processors.router.admission import check_admission
from processors.router.copying import sized
from processors.router.entry import (
    check_account,
    check_spread,
    ladder_volumes,
    pending_price,
    plan_expiry,
    trailing_points,
)
from processors.router.sizing import LossPerLot, check_caps, size
from processors.router.stops import absolute_stop
from processors.rules import (
    Refusal,
    check_pending_price,
    check_price,
    check_stops,
    check_volume,
)

DEFAULT_SOURCE = "api"
"""The source of signals that name none (`eaflow send`, plugins): its ids stay as given."""


@dataclass(frozen=True)
class Market:
    """What the router knows of an instance when it plans: symbol specs, tick, balance, the
    operator's global kill switch, the instance's alert switch (eaoff/eaon) and its latest
    account figures (balance, equity, margin_free, margin_level) for account filters."""

    info: SymbolInfo | None
    tick: Tick | None
    balance: Decimal | None
    global_state: TradingState
    switch: AlertSwitch | None = None
    loss_per_lot: LossPerLot | None = None  # live, from sizing.live_loss, when quotes allow
    account: Mapping[str, Decimal] | None = None


def order_id_of(signal: Signal) -> str:
    """The signal's order id scoped to its source, `source/order_id`: the order records
    that make an order id once-only are per instance, and one source's id must never match
    (and silently swallow) another's. '/' is in no source name or id, so the scopes never
    meet; the default source's ids stay as they are."""
    order_id = signal.effective_order_id
    return order_id if signal.source == DEFAULT_SOURCE else f"{signal.source}/{order_id}"


def check_trading_state(
    signal: Signal,
    spec: InstanceSpec,
    global_state: TradingState,
    switch: AlertSwitch | None = None,
) -> None:
    """The operator's states (global and the instance's configuration), then the alert's
    switch: an order goes out only while all of them allow it."""
    if signal.action in (Action.HALT, Action.RESUME):
        return
    for scope, state in (("global", global_state), (spec.instance_id, spec.config.trading_state)):
        if state is TradingState.HALTED:
            raise Refusal("trading_state", f"trading is halted ({scope})")
        if state is TradingState.REDUCING and signal.action not in EXIT_ACTIONS:
            raise Refusal("trading_state", f"only exits are allowed while reducing ({scope})")
    if switch is not None and switch.state is TradingState.HALTED:
        if switch is UNREADABLE_SWITCH:
            raise Refusal("trading_state", f"trading is halted ({spec.instance_id}'s alert "
                          "switch is unreadable; an eaon alert rewrites it)")  # fmt: skip
        raise Refusal(
            "trading_state",
            f"trading is halted by an eaoff alert of source {switch.source} "
            f"({spec.instance_id}); an eaon alert lifts it",
        )


def plan_switch(
    signal: Signal, spec: InstanceSpec, global_state: TradingState, now: float
) -> AlertSwitch:
    """An eaoff/eaon alert's switch for `spec`. The instance's `allowed_sources` apply as to
    every action; an eaon never lifts an operator's halt (global or the instance's
    configured `trading_state`): only a configuration change does, recorded in its
    history."""
    check_admission(signal, spec.config, now)
    if signal.action is Action.RESUME:
        for scope, state in (
            ("global", global_state),
            (spec.instance_id, spec.config.trading_state),
        ):
            if state is TradingState.HALTED:
                raise Refusal(
                    "trading_state",
                    f"halted by an operator ({scope}): an eaon alert does not lift it, "
                    "a configuration change does",
                )
    state = TradingState.HALTED if signal.action is Action.HALT else TradingState.ACTIVE
    return AlertSwitch(
        state=state,
        source=signal.source,
        signal_id=signal.signal_id,
        order_id=order_id_of(signal),
        at=now,
    )


def strategy_of(signal: Signal) -> str:
    """The tag of the signal's orders: its strategy, else (for an entry) its comment's start;
    an exit targets a strategy only when it names one."""
    return label_of(signal.strategy, signal.comment if signal.action is Action.OPEN else "")


def plan_orders(signal: Signal, spec: InstanceSpec, market: Market, now: float) -> list[Order]:
    """The orders for `spec`, with absolute, checked prices and checked volumes: one, or one
    per level of a take-profit ladder (order ids `ID.tp1`, `ID.tp2`…)."""
    check_trading_state(signal, spec, market.global_state, market.switch)
    config = spec.config.for_symbol(signal.symbol)
    check_admission(signal, config, now)
    legs: list[tuple[str, dict[str, object]]] = [("", {})]
    if signal.symbol is not None:
        if config.allowed_symbols and signal.symbol not in config.allowed_symbols:
            raise Refusal("symbol", f"{signal.symbol} is not allowed on {spec.instance_id}")
        if market.info is None:
            raise Refusal("symbol", f"{signal.symbol} is not traded by {spec.instance_id}")
    if signal.action is Action.OPEN:
        check_account(signal, market.account)
        legs = _plan_open(signal, config, market, now)
    elif signal.action in (Action.MODIFY, Action.SLTP):
        legs = [("", _plan_stops_change(signal, market, now))]
    elif signal.action is Action.CLOSE and signal.volume is not None and market.info is not None:
        legs = [("", {"volume": check_volume(signal.volume, market.info)})]
    order_id = order_id_of(signal)
    digits = market.info.digits if market.info is not None else None
    return [
        Order(
            order_id=order_id + suffix,
            signal_id=signal.signal_id,
            instance=spec.instance_id,
            action=signal.action,
            symbol=signal.symbol,
            order_type=signal.order_type,
            side=signal.side,
            ticket=signal.ticket,
            deviation=spec.config.deviation(signal.symbol, digits),
            magic=spec.magic,
            comment=signal.comment,
            strategy=strategy_of(signal),
            close_percent=signal.close_percent,
            source=signal.source,
            received_at=signal.created_at,
            routed_at=now,
            **fields,
        )
        for suffix, fields in legs
    ]


def _plan_open(
    signal: Signal, config: TradingConfig, market: Market, now: float
) -> list[tuple[str, dict[str, object]]]:
    info, tick = market.info, market.tick
    assert info is not None and signal.order_type is not None
    if tick is None:
        raise Refusal("symbol", f"no price for {info.name} yet")
    is_buy = signal.order_type.is_buy
    ask, bid = dec(tick.ask), dec(tick.bid)
    max_spread = config.max_spread
    if max_spread is not None and (ask - bid) / dec(info.point) > max_spread:
        raise Refusal("max_spread", f"spread {(ask - bid) / dec(info.point)} > {max_spread} points")
    check_spread(signal, info, tick)
    if signal.order_type.is_pending:
        price: Decimal | None = pending_price(signal, info, tick)
        assert price is not None
        check_pending_price(signal.order_type, price, info, tick)
        stop_limit = (
            check_price(signal.stop_limit, info, "stop_limit") if signal.stop_limit else None
        )
        entry = stop_limit or price
        reference = entry
    else:
        price, stop_limit = None, None
        entry = ask if is_buy else bid
        reference = bid if is_buy else ask  # a buy closes at the bid, a sell at the ask
    type_time, expiration = plan_expiry(signal, info, now) if price else (None, 0)
    sl = _stop(signal.stop_loss, signal, entry, is_buy, True, info, "stop_loss")
    levels = [signal.take_profit] if not signal.take_profits else [
        leg.take_profit for leg in signal.take_profits
    ]  # fmt: skip
    tps = [_stop(level, signal, entry, is_buy, False, info, "take_profit") for level in levels]
    for tp in tps:
        check_stops(is_buy, reference, sl, tp, info)
    loss, balance = market.loss_per_lot, market.balance
    volume, rule = sized(
        signal, config, info, lambda: size(signal, config, info, entry, sl, balance, loss)
    )
    check_caps(volume, entry, sl, config, info, balance, loss)
    trailing = None if signal.trailing is None else trailing_points(signal.trailing, info)
    common: dict[str, object] = {
        "sizing": rule,
        "price": price,
        "stop_limit": stop_limit,
        "stop_loss": sl,
        "type_time": type_time,
        "expiration": expiration,
        "trailing": trailing,
    }
    if not signal.take_profits:
        return [("", {**common, "volume": volume, "take_profit": tps[0]})]
    volumes = ladder_volumes(signal, volume, info)
    return [
        (f".tp{n}", {**common, "volume": leg_volume, "take_profit": tp})
        for n, (leg_volume, tp) in enumerate(zip(volumes, tps, strict=True), 1)
    ]


def _plan_stops_change(signal: Signal, market: Market, now: float) -> dict[str, object]:
    """New SL/TP (or a pending order's price): prices, or for `newsltp…` distances from the
    current price on the position's closing side (the bid for longs, the ask for shorts)."""
    info = market.info
    assert info is not None
    fields: dict[str, object] = {}
    if signal.price is not None:
        fields["price"] = check_price(signal.price, info)
    if signal.stop_limit is not None:
        fields["stop_limit"] = check_price(signal.stop_limit, info, "stop_limit")
    if signal.action is Action.MODIFY:
        type_time, expiration = plan_expiry(signal, info, now)
        if type_time is not None:
            fields.update(type_time=type_time, expiration=expiration)
    if signal.stops_unit is not StopsUnit.PRICE and (signal.stop_loss or signal.take_profit):
        return {**fields, **_distances(signal, market)}
    for name in ("stop_loss", "take_profit"):
        value = getattr(signal, name)
        if value is not None:
            if value and signal.stops_unit is not StopsUnit.PRICE:  # 0 removes it: any unit
                raise Refusal(name, "must be a price when changing an existing order")
            fields[name] = check_price(value, info, name) if value else Decimal(0)
    return fields


def _distances(signal: Signal, market: Market) -> dict[str, object]:
    info, tick = market.info, market.tick
    assert info is not None
    name = "stop_loss" if signal.stop_loss else "take_profit"
    if signal.action is not Action.SLTP:
        raise Refusal(name, "must be a price when changing a pending order")
    if signal.side is None:
        raise Refusal(
            "side",
            f"a distance in {signal.stops_unit} needs the positions' side "
            "(newsltplong or newsltpshort)",
        )
    if tick is None:
        raise Refusal("symbol", f"no price for {info.name} yet")
    is_buy = signal.side is Side.LONG
    reference = dec(tick.bid) if is_buy else dec(tick.ask)
    sl = _stop(signal.stop_loss, signal, reference, is_buy, True, info, "stop_loss")
    tp = _stop(signal.take_profit, signal, reference, is_buy, False, info, "take_profit")
    check_stops(is_buy, reference, sl, tp, info)
    fields: dict[str, object] = {}
    if signal.stop_loss is not None:
        fields["stop_loss"] = sl or Decimal(0)
    if signal.take_profit is not None:
        fields["take_profit"] = tp or Decimal(0)
    return fields


def _stop(
    value: Decimal | None,
    signal: Signal,
    entry: Decimal,
    is_buy: bool,
    is_loss: bool,
    info: SymbolInfo,
    field: str,
) -> Decimal | None:
    price = absolute_stop(value, signal.stops_unit, entry, is_buy, is_loss, info)
    return check_price(price, info, field) if price else None
