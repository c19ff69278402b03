"""What the router knows of each account beyond its spec: the broker's name of a signal's
symbol, its account currency, and the quotes that value one lot's loss live.

Kept apart from the router's agent so the per-account copying rules have one home: the
agent asks for a name (`copying.broker_symbol`), the ticks a signal needs, and a `Market`
whose loss per lot is valued on live quotes (`sizing.live_loss`) once the account's
currency is known from its state snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from brokers.mt5.records import SymbolInfo
from brokers.sim.symbols import SymbolTable
from model import InstanceSpec, Signal, TradingConfig, TradingState
from model.config import AlertSwitch
from model.tick import Tick
from processors.router.copying import broker_symbol, signal_symbol
from processors.router.plan import Market
from processors.router.prices import LatestTicks
from processors.router.sizing import live_loss
from processors.rules import Refusal

Name = str | Refusal | None
"""An instance's name of a signal's symbol, why it has none, or None (no symbol)."""


class Accounts:
    """Example: ``names = accounts.names(signal, targets, symbols)``;
    ``ticks = await accounts.ticks(names, symbols)``; ``accounts.market(...)``."""

    def __init__(self, prices: LatestTicks) -> None:
        self.prices = prices
        self.currencies: dict[str, str] = {}  # instance → its account currency
        self._tables: dict[str, SymbolTable] = {}  # instance → its symbols for conversions

    def published(self) -> None:
        """The symbols were read again: conversion tables are rebuilt when next needed."""
        self._tables = {}

    def read_states(self, snapshots: Mapping[str, Any]) -> None:
        """Account currencies from the latest state snapshots, as JSON decoded them (an
        account's currency does not change: each is kept once known)."""
        known = self.currencies
        found = {i: known.get(i) or _currency(s) for i, s in snapshots.items()}
        self.currencies = {i: c for i, c in found.items() if c is not None}

    def names(
        self,
        signal: Signal,
        targets: list[InstanceSpec],
        symbols: Mapping[str, Mapping[str, SymbolInfo]],
    ) -> dict[str, Name]:
        """Each target's name of the signal's symbol, or the refusal of it."""
        names: dict[str, Name] = {}
        for spec in targets:
            if signal.symbol is None:
                names[spec.instance_id] = None
                continue
            try:
                known = symbols.get(spec.instance_id, {})
                names[spec.instance_id] = broker_symbol(signal.symbol, spec.config, known)
            except Refusal as refusal:
                names[spec.instance_id] = refusal
        return names

    async def ticks(
        self,
        names: Mapping[str, Name],
        symbols: Mapping[str, Mapping[str, SymbolInfo]],
        base: str | None = None,
    ) -> dict[str, Tick]:
        """The newest tick of each instance's symbol, and of the symbols converting its
        profit into the account currency, by the brokers' names. A broker's name without a
        stream of its own is quoted by `base`, the signal's symbol (EURUSD.m by ticks:EURUSD:
        the feed names symbols as signals do)."""
        wanted: set[str] = set()
        fallback: dict[str, str] = {}  # a broker's name of the signal's symbol → that symbol
        for instance, name in names.items():
            if isinstance(name, str):
                currency = self.currencies.get(instance)
                table = self.table(instance, symbols)
                wanted |= {name} if currency is None else set(table.quote_symbols(name, currency))
                if base is not None and name != base:
                    fallback[name] = base
        found = {n: await self.prices.get(n) for n in wanted}
        for name, symbol in fallback.items():
            if found.get(name) is None:
                found[name] = await self.prices.get(symbol)
        return {n: t for n, t in found.items() if t is not None}

    def market(
        self,
        instance: str,
        name: str | None,
        symbols: Mapping[str, Mapping[str, SymbolInfo]],
        ticks: Mapping[str, Tick],
        balance: Decimal | None,
        global_state: TradingState,
        switch: AlertSwitch | None,
        figures: Mapping[str, Decimal] | None = None,
    ) -> Market:
        """What planning needs of one instance, one lot's loss valued on live quotes when
        its account currency is known (`figures`: its latest balance, equity and free margin,
        for an alert's account filter)."""
        info = symbols.get(instance, {}).get(name or "")
        currency = self.currencies.get(instance)
        loss = None
        if info is not None and currency is not None and ticks:
            loss = live_loss(info, currency, self.table(instance, symbols), ticks)
        return Market(
            info, ticks.get(name or ""), balance, global_state, switch, loss, account=figures
        )

    async def quotes(
        self,
        instance: str,
        config: TradingConfig,
        info: SymbolInfo,
        currency: str,
        symbols: Mapping[str, Mapping[str, SymbolInfo]],
    ) -> dict[str, Tick]:
        """The newest tick of a held symbol and of the symbols converting its profit into
        `currency`, by the broker's names; a name without a stream of its own is quoted by
        its signal's symbol, as `ticks` quotes it (EURUSD.m by ticks:EURUSD)."""
        names = self.table(instance, symbols).quote_symbols(info.name, currency)
        found = {n: await self.prices.get(n) for n in names}
        base = signal_symbol(info, config)
        if found.get(info.name) is None and base is not None:
            found[info.name] = await self.prices.get(base)
        return {n: t for n, t in found.items() if t is not None}

    def table(self, instance: str, symbols: Mapping[str, Mapping[str, SymbolInfo]]) -> SymbolTable:
        """The instance's symbols for conversions, built once per publication."""
        table = self._tables.get(instance)
        if table is None:
            table = self._tables[instance] = SymbolTable(symbols.get(instance, {}).values())
        return table


def _currency(snapshot: Any) -> str | None:
    """The account currency of a snapshot (None: unknown, sizing uses tick values)."""
    currency = snapshot.get("currency") if isinstance(snapshot, dict) else None
    return currency if isinstance(currency, str) and currency else None
