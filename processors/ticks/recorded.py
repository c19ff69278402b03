"""Recorded real ticks shipped with the package, read as MT5 `Tick` records."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from brokers.mt5 import constants as mt5
from model.tick import Tick

BID_ASK = mt5.TICK_FLAG_BID | mt5.TICK_FLAG_ASK


def recorded_files() -> dict[str, Path]:
    """Symbol → shipped tick file (`eurusd_oanda_ticks_....csv.gz` → `EURUSD`)."""
    folder = resources.files("eaflow") / "data" / "ticks"
    return {
        entry.name.split("_")[0].upper(): Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".csv.gz")
    }


def read_ticks(path: Path) -> Iterator[Tick]:
    """`time_msc,time_utc,bid,ask` rows as ticks (flags: bid and ask changed)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows, [])
        try:
            at_msc, at_bid, at_ask = (header.index(c) for c in ("time_msc", "bid", "ask"))
        except ValueError:
            raise ValueError(
                f"{path.name}: needs columns time_msc, bid, ask; has {header}"
            ) from None
        for row in rows:
            msc = int(row[at_msc])
            yield Tick(
                msc // 1000, float(row[at_bid]), float(row[at_ask]), 0.0, 0, msc, BID_ASK, 0.0
            )
