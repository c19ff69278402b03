"""Where simulated accounts live in Redis, and the atomic read-compute-write of one trade.

Keys (`{p}` is the prefix, e.g. `ea:`): `{p}sim:acct:{login}` hash (balance, currency, leverage,
hedging, connected, version, stop-out mode and levels, last rollover), `{p}sim:pos:{login}` and
`{p}sim:ord:{login}` hashes (ticket → record), `{p}sim:deals:{login}` and
`{p}sim:horders:{login}` sorted sets (score time_msc), `{p}sim:watch:{login}` hash (symbol →
trigger levels, present while the account has positions or orders there; `~priced` → the
symbols whose quotes value its positions, present while it has any: their ticks can stop it
out or charge swaps), `{p}sim:tickets` (the one ticket counter) and `{p}sim:closed` (closed
markets).
Records are orjson arrays in the MT5 record's field order.

A trade reads in one MULTI/EXEC round trip (plus one for ticks of other symbols held), then
commits with one Lua script that applies every write only if the account's `version` is still
the one read — optimistic locking like WATCH/MULTI, without holding a connection across the
computation. A losing writer reloads and recomputes (`Conflict`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import orjson
import redis
from redis.commands.core import Script

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal, TradeOrder, TradePosition
from brokers.sim.book import Account, Book
from brokers.sim.matching import levels
from brokers.sim.symbols import SymbolTable
from brokers.sim.ticks import queue_latest
from model.keys import Keys
from model.tick import Tick, newest_tick

PRICED = "~priced"
"""The watch hash's field of the symbols whose ticks move the account's equity."""

COMMIT = """
local version = redis.call('HGET', KEYS[1], 'version') or '0'
if version ~= ARGV[1] then return 0 end
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 1
"""


class AccountMissing(LookupError):
    """No simulated account has this login (open it with SimServer.open_account)."""


class Conflict(RuntimeError):
    """Another writer changed the account between load and commit; reload and retry."""


@dataclass(frozen=True)
class AccountKeys:
    """Redis keys of one account and the simulator's shared keys."""

    prefix: str
    login: int

    def _k(self, kind: str) -> str:
        return Keys(self.prefix).sim(kind, self.login)

    @property
    def account(self) -> str:
        return self._k("acct")

    @property
    def positions(self) -> str:
        return self._k("pos")

    @property
    def orders(self) -> str:
        return self._k("ord")

    @property
    def deals(self) -> str:
        return self._k("deals")

    @property
    def history(self) -> str:
        return self._k("horders")

    @property
    def watch(self) -> str:
        return self._k("watch")

    @property
    def tickets(self) -> str:
        return Keys(self.prefix).sim_tickets

    @property
    def closed(self) -> str:
        return Keys(self.prefix).sim_closed

    @property
    def all(self) -> list[str]:
        return [self.account, self.positions, self.orders, self.deals, self.history, self.watch]


def dump(record: tuple[Any, ...]) -> bytes:
    return orjson.dumps(list(record))


def parse_account(raw: dict[bytes, bytes]) -> Account:
    f = {k.decode(): v.decode() for k, v in raw.items()}
    return Account(
        login=int(f["login"]),
        name=f.get("name", ""),
        currency=f["currency"],
        leverage=int(f["leverage"]),
        hedging=f["hedging"] == "1",
        balance=float(f["balance"]),
        connected=f.get("connected", "1") == "1",
        version=int(f.get("version", "0")),
        margin_so_mode=int(f.get("margin_so_mode", mt5.ACCOUNT_STOPOUT_MODE_PERCENT)),
        margin_so_call=float(f.get("margin_so_call", "50")),
        margin_so_so=float(f.get("margin_so_so", "30")),
        rollover=int(f.get("rollover", "0")),
    )


def account_fields(account: Account) -> dict[str, str]:
    return {
        "login": str(account.login),
        "name": account.name,
        "currency": account.currency,
        "leverage": str(account.leverage),
        "hedging": "1" if account.hedging else "0",
        "balance": repr(account.balance),
        "connected": "1" if account.connected else "0",
        "margin_so_mode": str(account.margin_so_mode),
        "margin_so_call": repr(account.margin_so_call),
        "margin_so_so": repr(account.margin_so_so),
        "rollover": str(account.rollover),
    }


def load(
    client: redis.Redis,
    keys: AccountKeys,
    symbols: SymbolTable,
    quotes: Iterable[str],
    *,
    tickets: int = 0,
    market: str | None = None,
    ticks: dict[str, Tick] | None = None,
) -> Book:
    """The account as one consistent snapshot, with the latest ticks of every symbol it needs.

    `quotes` are fetched with the snapshot; `tickets` numbers are reserved from the counter;
    `market` is the symbol whose open/closed state matters; `ticks` override the streams.
    """
    wanted = [s for s in dict.fromkeys(quotes) if ticks is None or s not in ticks]
    pipe = client.pipeline(transaction=True)
    queue_account(pipe, keys)
    pipe.sismember(keys.closed, symbols.stream(market or ""))
    if tickets:
        pipe.incrby(keys.tickets, tickets)
    queue_latest(pipe, keys.prefix, wanted, symbols.streams)
    replies = pipe.execute()
    closed = replies[3]
    last = int(replies[4]) if tickets else 0
    known = dict(ticks or {})
    for symbol, reply in zip(wanted, replies[4 + bool(tickets) :], strict=True):
        tick = newest_tick(reply)
        if tick is not None:
            known[symbol] = tick
    source = ticket_source(client, keys, iter(range(last - tickets + 1, last + 1)))
    book = parse_book(keys, replies[:3], symbols, known, source)
    book.market_open = not closed
    held = {
        q for p in book.positions.values() for q in symbols.quote_symbols(p.symbol, book.currency)
    }
    fetch_ticks(client, keys.prefix, held - known.keys(), known, symbols)
    return book


def queue_account(pipe: Any, keys: AccountKeys) -> None:
    """Queue the reads of an account (`parse_book` takes their three replies) on a sync or
    asyncio pipeline, inside a MULTI for one consistent snapshot."""
    pipe.hgetall(keys.account)
    pipe.hgetall(keys.positions)
    pipe.hgetall(keys.orders)


def parse_book(
    keys: AccountKeys,
    replies: Sequence[dict[bytes, bytes]],
    symbols: SymbolTable,
    ticks: dict[str, Tick],
    next_ticket: Callable[[], int],
) -> Book:
    """The Book of `queue_account`'s replies, pricing with `ticks` (kept by reference)."""
    raw_account, raw_positions, raw_orders = replies
    if not raw_account:
        raise AccountMissing(f"simulated account {keys.login} does not exist")
    return Book(
        account=parse_account(raw_account),
        positions={int(k): TradePosition(*orjson.loads(v)) for k, v in raw_positions.items()},
        orders={int(k): TradeOrder(*orjson.loads(v)) for k, v in raw_orders.items()},
        symbols=symbols,
        ticks=ticks,
        next_ticket=next_ticket,
    )


def fetch_ticks(
    client: redis.Redis,
    prefix: str,
    wanted: set[str],
    into: dict[str, Tick],
    symbols: SymbolTable,
) -> None:
    """Add the latest tick of each wanted symbol (named as `symbols` name it) to `into`
    (one round trip, none if empty)."""
    if not wanted:
        return
    order = sorted(wanted)
    pipe = client.pipeline(transaction=False)
    queue_latest(pipe, prefix, order, symbols.streams)
    for symbol, reply in zip(order, pipe.execute(), strict=True):
        tick = newest_tick(reply)
        if tick is not None:
            into[symbol] = tick


def ticket_source(
    client: redis.Redis, keys: AccountKeys, reserved: Iterator[int]
) -> Callable[[], int]:
    """Hand out the reserved tickets first, then reserve blocks that double each time."""
    block = 8

    def next_ticket() -> int:
        nonlocal reserved, block
        ticket = next(reserved, None)
        if ticket is None:
            last = int(client.incrby(keys.tickets, block))
            reserved = iter(range(last - block + 1, last + 1))
            block *= 2
            ticket = next(reserved)
        return ticket

    return next_ticket


def dry_tickets() -> Callable[[], int]:
    """Stand-in ticket numbers for a trade that is only checked, never written."""
    numbers = count(-1, -1)
    return lambda: next(numbers)


def writes(book: Book, keys: AccountKeys) -> list[list[Any]]:
    """The Redis commands that persist the Book's changes."""
    ops: list[list[Any]] = []
    if book.balance_changed:
        ops.append(["HSET", keys.account, "balance", repr(book.account.balance)])
    if book.account_changed:
        fields = account_fields(book.account)
        changed = sorted(book.account_changed)
        ops.append(["HSET", keys.account, *[x for f in changed for x in (f, fields[f])]])
    for key, saved, dropped, table in (
        (keys.positions, book.saved_positions, book.dropped_positions, book.positions),
        (keys.orders, book.saved_orders, book.dropped_orders, book.orders),
    ):
        if saved:
            ops.append(["HSET", key, *[x for t in saved for x in (t, dump(table[t]))]])
        if dropped:
            ops.append(["HDEL", key, *dropped])
    for key, rows in ((keys.deals, book.deals), (keys.history, book.history)):
        if rows:
            ops.append(["ZADD", key, *[x for r in rows for x in (_score(r), dump(r))]])
    for symbol in book.touched:
        held = [p for p in book.positions.values() if p.symbol == symbol]
        pending = [o for o in book.orders.values() if o.symbol == symbol]
        if held or pending:
            ops.append(["HSET", keys.watch, symbol, dump(levels(held, pending))])
        else:
            ops.append(["HDEL", keys.watch, symbol])
    if book.touched:
        priced = sorted(
            {
                q
                for p in book.positions.values()
                for q in book.symbols.quote_symbols(p.symbol, book.currency)
            }
        )
        if priced:
            ops.append(["HSET", keys.watch, PRICED, orjson.dumps(priced)])
        else:
            ops.append(["HDEL", keys.watch, PRICED])
    return ops


def _score(row: TradeDeal | TradeOrder) -> int:
    return row.time_msc if isinstance(row, TradeDeal) else row.time_done_msc


def commit(script: Script, keys: AccountKeys, version: int, ops: list[list[Any]]) -> None:
    """Apply `ops` atomically if the account is still at `version`; Conflict otherwise.

    `script` is `client.register_script(COMMIT)`, made once per client.
    """
    args: list[Any] = [str(version)]
    for op in ops:
        args += [len(op), *op]
    if not script(keys=keys.all, args=args):
        raise Conflict(f"account {keys.login} changed during the trade")
