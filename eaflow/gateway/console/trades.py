"""An admin's trades from the console, through the signal path: close a position (or part of
it), set its SL/TP, move a pending order (its price, SL, TP) or cancel it, close everything
of a group or of every instance (or of one symbol in it).

The console publishes what an alert would: a `close` (with `volume` for a partial close),
`sltp`, `modify` or `cancel` signal for that ticket and instance, or a `close_all` for a
group or for every instance of the registry (named one by one), on `rtss`, under the
admin's source name, so the router and the executor handle it like any other (volume step
and minimum, price tick checked by the router) and each order ends in one result in `rtrs`
(closed, modified, cancelled, rejected or failed), which the page shows as it arrives. The
ticket must be an open position (close, SL/TP) or a pending order (modify, cancel) of the
instance's last snapshot, and a partial close at most its volume there (422 otherwise); a
group must have members (one result per member). Each request is recorded in `security`
with its actor and signal id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from eaflow.gateway.chart import state_of
from eaflow.gateway.console.actions import Actor, Gw, Name, members, refused
from eaflow.gateway.console.audit import record_action
from eaflow.gateway.context import Gateway
from eaflow.gateway.publish import publish
from model import PendingOrderState, PositionState, Signal
from model.enums import Action
from model.money import dec
from model.signal import NonNegative, Positive
from processors.router.copying import broker_symbol, signal_symbol
from processors.rules import Refusal

router = APIRouter(prefix="/console/api", tags=["console"])
Ticket = Annotated[int, Field(gt=0, lt=2**64)]


class Trade(BaseModel):
    """One ticket of one instance."""

    model_config = ConfigDict(extra="forbid")

    instance: Name
    ticket: Ticket


class Close(Trade):
    """A position to close: `volume` lots of it, or (none) all of it."""

    volume: Positive | None = None


class Stops(Trade):
    """New stops of a position: prices, 0 for none."""

    stop_loss: NonNegative
    take_profit: NonNegative


class Move(Trade):
    """A pending order's new price and, when given, its new stops (prices, 0 for none); a
    stop not given is kept."""

    price: Positive
    stop_loss: NonNegative | None = None
    take_profit: NonNegative | None = None


async def held(gw: Gateway, trade: Trade, pending: bool) -> PositionState | PendingOrderState:
    """The ticket's position (or pending order) in the instance's last snapshot; 422 when it
    holds none."""
    state = await state_of(gw, trade.instance)
    if state is None:
        raise refused(422, "instance", f"no account snapshot of '{trade.instance}' yet")
    held = state.orders if pending else state.positions
    for found in held:
        if found.ticket == trade.ticket:
            return found
    what = "pending order" if pending else "open position"
    raise refused(422, "ticket", f"{trade.ticket} is no {what} of {trade.instance}'s last snapshot")


async def sent(gw: Gateway, signal: Signal) -> dict[str, bool]:
    """Publish `signal` to `rtss` as the webhook does: held by the replicas the deployment
    asks for before the answer (decision 0019); `{"replicated": false}` when they were not
    in time, nothing to say without replicas."""
    replicated = await publish(
        gw.redis, gw.topics.rtss, [signal.model_dump(mode="json", exclude_none=True)], gw.durability
    )
    return {} if replicated is None else {"replicated": replicated}


async def signal_name(gw: Gateway, instance: str, broker_name: str) -> str:
    """The signal's name of `instance`'s broker symbol `broker_name` (EURUSD for EURUSD.m,
    XAUUSD for GOLD), so the router maps it back as it maps an alert's and the instance's
    `allowed_symbols` and per-symbol settings apply; the broker's name itself when no
    other name maps back to exactly it."""
    spec = await gw.registry.get(instance)
    known = await gw.registry.symbols(instance)
    info = known.get(broker_name)
    if spec is None or info is None:
        return broker_name
    name = signal_symbol(info, spec.config)
    if name is None:
        return broker_name
    try:
        mapped = broker_symbol(name, spec.config, known)
    except Refusal:
        return broker_name
    return name if mapped == broker_name else broker_name


async def send_trade(
    gw: Gateway, actor: str, action: Action, trade: Trade, symbol: str, **fields: Any
) -> dict[str, Any]:
    signal = Signal(
        action=action,
        symbol=await signal_name(gw, trade.instance, symbol),
        ticket=trade.ticket,
        instances=(trade.instance,),
        source=actor.removeprefix("source:"),
        comment=f"console {action.value}",
        **fields,
    )
    replicated = await sent(gw, signal)
    await record_action(
        gw,
        actor,
        action.value,
        instance=trade.instance,
        ticket=trade.ticket,
        signal_id=signal.signal_id,
        **{k: str(v) for k, v in fields.items()},
    )
    answer = {"signal_id": signal.signal_id, "instance": trade.instance, "ticket": trade.ticket}
    return answer | replicated


@router.post("/close", summary="Close one position, or `volume` lots of it (admins)")
async def close(body: Close, gw: Gw, actor: Actor) -> dict[str, Any]:
    position = await held(gw, body, pending=False)
    if body.volume is None:
        return await send_trade(gw, actor, Action.CLOSE, body, position.symbol)
    if body.volume > dec(position.volume):
        raise refused(
            422,
            "volume",
            f"{body.volume} lots is more than position {body.ticket} holds "
            f"({position.volume} lots in {body.instance}'s last snapshot)",
        )
    return await send_trade(gw, actor, Action.CLOSE, body, position.symbol, volume=body.volume)


@router.post("/sltp", summary="Set one position's SL/TP with an sltp signal (admins)")
async def sltp(body: Stops, gw: Gw, actor: Actor) -> dict[str, Any]:
    position = await held(gw, body, pending=False)
    stops = {"stop_loss": body.stop_loss, "take_profit": body.take_profit}
    return await send_trade(gw, actor, Action.SLTP, body, position.symbol, **stops)


@router.post(
    "/modify", summary="Move one pending order (price, SL/TP) with a modify signal (admins)"
)
async def modify(body: Move, gw: Gw, actor: Actor) -> dict[str, Any]:
    order = await held(gw, body, pending=True)
    given = {"stop_loss": body.stop_loss, "take_profit": body.take_profit}
    stops = {name: value for name, value in given.items() if value is not None}
    return await send_trade(gw, actor, Action.MODIFY, body, order.symbol, price=body.price, **stops)


@router.post("/cancel", summary="Cancel one pending order with a cancel signal (admins)")
async def cancel(body: Trade, gw: Gw, actor: Actor) -> dict[str, Any]:
    order = await held(gw, body, pending=True)
    return await send_trade(gw, actor, Action.CANCEL, body, order.symbol)


class CloseAll(BaseModel):
    """Every position and pending order of a group's instances or (`all: true`) of every
    instance, or only those of one symbol."""

    model_config = ConfigDict(extra="forbid")

    group: Name | None = None
    all: bool = False
    symbol: Annotated[str, Field(min_length=1, max_length=32)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> CloseAll:
        if (self.group is not None) == self.all:
            raise ValueError("give exactly one of group and all (true)")
        return self


@router.post(
    "/close_all", summary="Close all of a group or of every instance, or of a symbol (admins)"
)
async def close_all(body: CloseAll, gw: Gw, actor: Actor) -> dict[str, Any]:
    named = members(await gw.registry.all(), body.group)
    signal = Signal(  # every instance named: a broadcast would skip the halted ones
        action=Action.CLOSE_ALL,
        symbol=body.symbol,
        group=body.group,
        instances=tuple(named) if body.all else (),
        source=actor.removeprefix("source:"),
        comment="console close_all",
    )
    replicated = await sent(gw, signal)
    target = {"all": True} if body.all else {"group": body.group}
    await record_action(
        gw,
        actor,
        "close_all",
        **target,
        symbol=body.symbol,
        instances=named,
        signal_id=signal.signal_id,
    )
    return {"signal_id": signal.signal_id, **target, "instances": named} | replicated
