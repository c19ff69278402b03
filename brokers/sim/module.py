"""The simulator in place of the `MetaTrader5` package: run your own MetaTrader5 scripts on it.

A `SimTerminal` is a module look-alike: every function of the package (with its signature,
record types, numpy dtypes and `last_error()` codes), every constant, the record types
(`from MetaTrader5 import TradePosition`), `__version__`, `__author__` and the package's
`Buy`/`Sell`/`Close` helpers. Installed as `MetaTrader5`, scripts written for a real terminal
run unchanged::

    import sys
    from brokers.sim import mt5_module
    sys.modules["MetaTrader5"] = mt5_module("redis://localhost:6379/0", login=5_000_001)
    import MetaTrader5 as mt5
    mt5.initialize()            # the terminal's last account: 5_000_001

or from a shell, a script as it is::

    python -m brokers.sim --redis redis://localhost:6379/0 --login 5000001 script.py

The account must exist (`SimServer.open_account`, or `--open` here: 10,000 USD at 1:100,
hedging) and quotes come from the tick streams the tick feed writes (`eaflow worker ticks`,
`eaflow run`).
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from collections.abc import Sequence

import redis

from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from streams.clients import sync_client

DEFAULT_URL = "redis://localhost:6379/0"


def mt5_module(
    client: str | redis.Redis | None = None,
    prefix: str = "ea:",
    login: int | None = None,
) -> SimTerminal:
    """A terminal on the simulator whose last account is `login` (so `initialize()` without
    arguments logs in to it, as a terminal that logged in before does). `client` is a Redis URL
    or client; by default `EAFLOW_REDIS_URL`, else redis://localhost:6379/0."""
    if client is None or isinstance(client, str):
        client = sync_client(client or os.environ.get("EAFLOW_REDIS_URL", DEFAULT_URL))
    return SimTerminal(client, prefix=prefix, account=login)


def install(module: SimTerminal) -> None:
    """Make `import MetaTrader5` (and `from MetaTrader5 import ...`) give `module`."""
    sys.modules["MetaTrader5"] = module  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m brokers.sim",
        description="Run a MetaTrader5 script against eaflow's simulator.",
    )
    parser.add_argument("--redis", default=None, help="Redis URL (default: EAFLOW_REDIS_URL)")
    parser.add_argument("--prefix", default="ea:", help="key prefix (default ea:)")
    parser.add_argument("--login", type=int, required=True, help="the terminal's account")
    parser.add_argument(
        "--open", action="store_true", help="open the account first if it does not exist"
    )
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    options = parser.parse_args(argv)
    module = mt5_module(options.redis, options.prefix, options.login)
    if options.open and not SimServer(module.redis, options.prefix).account_exists(options.login):
        SimServer(module.redis, options.prefix).open_account(options.login)
    install(module)
    sys.argv = [options.script, *options.args]
    runpy.run_path(options.script, run_name="__main__")
    return 0
