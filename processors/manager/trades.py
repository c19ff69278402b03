"""Trade states from account polls: each instance's positions compared with the last poll's,
and the deals of every trade that opened, changed or closed, become `trades` entries.

The open trades last reported live in the `trades:open` hash, written in the same round trip
as the entries, so a restarted manager neither repeats a transition nor misses one (a trade
closed while it was down is reported as closed, with its deals, when it comes back). A trade
opened and closed between two polls (500 ms) is not seen (docs/decisions/0016).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson
import structlog
from redis.asyncio import Redis

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal
from brokers.mt5.terminal import Terminal
from brokers.types import Broker
from model import AccountState, PositionState
from model.tags import label_in
from model.topics import Topics
from model.trade import TradeEvent, TradeState, TradeStatus
from streams.types import Command

log = structlog.get_logger(__name__)

Book = dict[int, TradeState]
"""An instance's open trades by ticket: the last entry written for each."""
CLOSING = (mt5.DEAL_ENTRY_OUT, mt5.DEAL_ENTRY_INOUT, mt5.DEAL_ENTRY_OUT_BY)
CLOSE_WAIT = 10.0
"""Seconds a vanished position's closing deal may take to reach the terminal's history: its
CLOSED entry waits for it so long, rather than report a profit the deals do not show yet."""


@dataclass
class Changes:
    """What one poll found: the commands that report it, and the books they leave."""

    commands: list[Command] = field(default_factory=list)
    books: dict[str, Book] = field(default_factory=dict)


@dataclass(frozen=True)
class DealTotals:
    """A trade's deals added up."""

    closed_volume: float = 0.0
    realized_profit: float = 0.0
    commission: float = 0.0
    swap: float = 0.0
    fee: float = 0.0
    close_price: float | None = None
    opened_at: float | None = None
    closed_at: float | None = None


def deal_totals(deals: Iterable[TradeDeal]) -> DealTotals:
    ordered = sorted(deals, key=lambda d: d.time_msc)
    closing = [d for d in ordered if d.entry in CLOSING]
    return DealTotals(
        closed_volume=round(sum(d.volume for d in closing), 8),
        realized_profit=round(sum(d.profit for d in ordered), 8),
        commission=round(sum(d.commission for d in ordered), 8),
        swap=round(sum(d.swap for d in ordered), 8),
        fee=round(sum(d.fee for d in ordered), 8),
        close_price=closing[-1].price if closing else None,
        opened_at=ordered[0].time_msc / 1000 if ordered else None,
        closed_at=closing[-1].time_msc / 1000 if closing else None,
    )


def event_of(last: TradeState | None, position: PositionState) -> TradeEvent | None:
    """What changed since the last entry; None when nothing the stream reports did."""
    if last is None:
        return TradeEvent.OPENED
    if position.volume < last.volume:
        return TradeEvent.PARTIALLY_CLOSED
    now = (position.volume, _stop(position.sl), _stop(position.tp), _side(position.type))
    if now != (last.volume, last.stop_loss, last.take_profit, last.side):
        return TradeEvent.MODIFIED  # a netting account's reversal changes the side
    return None


def open_entry(
    instance: str,
    position: PositionState,
    last: TradeState | None,
    event: TradeEvent,
    deals: DealTotals,
    ts: float,
) -> TradeState:
    seq = 1 if last is None else last.seq + 1
    return TradeState(
        state_id=f"{instance}:{position.ticket}:{seq}",
        trade_id=position.ticket,
        instance=instance,
        seq=seq,
        event=event,
        status=TradeStatus.OPEN,
        symbol=position.symbol,
        side=_side(position.type),
        volume=position.volume,
        closed_volume=deals.closed_volume,
        entry_price=position.price_open,
        stop_loss=_stop(position.sl),
        take_profit=_stop(position.tp),
        close_price=deals.close_price,
        profit=position.profit,
        realized_profit=deals.realized_profit,
        commission=deals.commission,
        swap=deals.swap,
        fee=deals.fee,
        magic=position.magic,
        comment=position.comment,
        strategy=label_in(position.comment) or None,
        opened_at=last.opened_at if last is not None else (deals.opened_at or ts),
        ts=ts,
    )


def closed_entry(last: TradeState, deals: DealTotals, ts: float) -> TradeState:
    seq = last.seq + 1
    return last.model_copy(
        update={
            "state_id": f"{last.instance}:{last.trade_id}:{seq}",
            "seq": seq,
            "event": TradeEvent.CLOSED,
            "status": TradeStatus.CLOSED,
            "closed_volume": deals.closed_volume,
            "close_price": deals.close_price,
            "profit": deals.realized_profit,
            "realized_profit": deals.realized_profit,
            "commission": deals.commission,
            "swap": deals.swap,
            "fee": deals.fee,
            "closed_at": deals.closed_at or ts,
            "ts": ts,
        }
    )


class TradeTracker:
    """Keeps each hosted instance's book (loaded from `trades:open` on first sight) and turns
    polls into entries; `commit` adopts the books once the entries are written."""

    def __init__(
        self, redis: Redis, topics: Topics, timeout: float = 10.0, close_wait: float = CLOSE_WAIT
    ) -> None:
        self.redis = redis
        self.topics = topics
        self.timeout = timeout  # seconds a broker gets to answer for the deals
        self.close_wait = close_wait
        self.books: dict[str, Book] = {}
        self._vanished: dict[tuple[str, int], float] = {}  # → when first seen gone (monotonic)

    async def changes(
        self, states: Sequence[AccountState], brokers: Mapping[str, Broker]
    ) -> Changes:
        """The entries and book writes of this poll (nothing for an instance whose book or
        deals cannot be read now: it is compared again at the next poll)."""
        await self._load([s.instance for s in states if s.instance not in self.books])
        moved = [
            (s, diff)
            for s in states
            if s.instance in self.books and s.instance in brokers and (diff := self._diff(s))
        ]
        found = await asyncio.gather(
            *(self._entries(s, brokers[s.instance], *diff) for s, diff in moved)
        )
        changes = Changes()
        for (state, _), (entries, book) in zip(moved, found, strict=True):
            if not entries:
                continue
            topic = self.topics.trades
            changes.commands += [topic.xadd(topic.encode(e)) for e in entries]
            raw = orjson.dumps([t.model_dump(mode="json") for t in book.values()])
            changes.commands.append(("HSET", self.topics.keys.trades_open, state.instance, raw))
            changes.books[state.instance] = book
        return changes

    def commit(self, changes: Changes) -> None:
        """The entries reached Redis: their books are the ones to compare with from now."""
        self.books.update(changes.books)

    def forget(self) -> None:
        """Redis may have lost what was written: read the books from it again."""
        self.books.clear()

    async def _load(self, instances: list[str]) -> None:
        if not instances:
            return
        try:
            raws = await self.redis.hmget(self.topics.keys.trades_open, instances)
        except Exception as error:  # Redis away: state sync reports it; try again next poll
            log.warning("trade_books_unread", error=str(error))
            return
        for instance, raw in zip(instances, raws, strict=True):
            trades = orjson.loads(raw) if raw else []
            self.books[instance] = {
                t.trade_id: t for t in (TradeState.model_validate(x) for x in trades)
            }

    def _diff(self, state: AccountState) -> tuple[dict[int, TradeEvent], list[int]] | None:
        """The tickets whose trades opened or changed, and those gone; None for neither (most
        instances at most polls: no broker call, no task)."""
        book = self.books[state.instance]
        events: dict[int, TradeEvent] = {}
        for p in state.positions:
            event = event_of(book.get(p.ticket), p)
            if event is not None:
                events[p.ticket] = event
        if not events and len(book) == len(state.positions):
            return None  # every position is in the book, unchanged, and nothing else is
        held = {p.ticket for p in state.positions}
        gone = [t for t in book if t not in held]
        return (events, gone) if events or gone else None

    async def _entries(
        self,
        state: AccountState,
        broker: Broker,
        events: dict[int, TradeEvent],
        gone: list[int],
    ) -> tuple[list[TradeState], Book]:
        """Read the deals of the trades that moved, and make their entries and new book."""
        book = self.books[state.instance]
        held = {p.ticket: p for p in state.positions}
        try:
            deals = await asyncio.wait_for(
                broker.run(lambda terminal: _deals_of(terminal, [*events, *gone])), self.timeout
            )
        except Exception as error:  # the broker is away: compare again at the next poll
            log.warning("trade_deals_unread", instance=state.instance, error=str(error))
            return [], book
        entries = [
            open_entry(state.instance, held[t], book.get(t), e, deals[t], state.ts)
            for t, e in events.items()
        ]
        waiting = set()
        for t in gone:
            since = self._vanished.setdefault((state.instance, t), time.monotonic())
            if deals[t].closed_at is None and time.monotonic() - since < self.close_wait:
                waiting.add(t)  # no closing deal in the history yet: ask again next poll
            else:
                del self._vanished[(state.instance, t)]
                entries.append(closed_entry(book[t], deals[t], state.ts))
        new_book = {t: e for t, e in book.items() if t in held or t in waiting}
        new_book.update((e.trade_id, e) for e in entries if e.status is TradeStatus.OPEN)
        return entries, new_book


def _deals_of(terminal: Terminal, tickets: list[int]) -> dict[int, DealTotals]:
    """In the terminal's thread: each trade's deals, added up."""
    return {t: deal_totals(terminal.position_deals(t)) for t in tickets}


def _side(position_type: int) -> str:
    return "buy" if position_type == mt5.POSITION_TYPE_BUY else "sell"


def _stop(price: float) -> float | None:
    """MT5's 0.0 (no stop) as None."""
    return price or None
