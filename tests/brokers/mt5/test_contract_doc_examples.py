"""The MQL5 reference's own example scripts, run unchanged with the simulator imported as
`MetaTrader5` (tests/data/mt5/examples, as printed on the reference's pages).

What they print is checked against figures worked by hand: a 0.1-lot buy's margin on a USD
account at 1:100 is 100 units of the base currency at the ask (EUR and GBP through the traded
symbol's own price, EURJPY's EUR through EURUSD's ask as a cost), USDJPY's is 100 USD.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from brokers.mt5 import constants as mt5
from brokers.sim import mt5_module
from brokers.sim.server import SimServer
from brokers.sim.symbols import SymbolTable, default_symbols
from brokers.sim.terminal import SimTerminal
from model.keys import Keys
from model.tick import Tick, encode_tick
from tests.conftest import DATA

EXAMPLES = DATA / "mt5" / "examples"
PREFIX = "ea:"
LOGIN = 7_200_001
QUOTES = {
    "EURUSD": (1.10000, 1.10010),
    "GBPUSD": (1.25000, 1.25020),
    "USDJPY": (150.000, 150.020),
    "EURJPY": (165.000, 165.030),
}


@pytest.fixture
def market(redis_client: redis.Redis) -> redis.Redis:
    SimServer(redis_client, PREFIX).open_account(LOGIN, balance=10_000, currency="USD")
    for symbol, (bid, ask) in QUOTES.items():
        tick = Tick(1_700_000_000, bid, ask, time_msc=1_700_000_000_000, flags=6)
        redis_client.xadd(Keys(PREFIX).ticks(symbol), {"d": encode_tick(tick)})
    return redis_client


@pytest.fixture
def installed() -> Iterator[list[SimTerminal]]:
    """The modules a test installs as `MetaTrader5` (`run`): put back as they were after it."""
    modules: list[SimTerminal] = []
    saved = sys.modules.get("MetaTrader5")
    yield modules
    for module in modules:
        module.redis.close()
    if saved is None:
        sys.modules.pop("MetaTrader5", None)
    else:
        sys.modules["MetaTrader5"] = saved


def run(module: SimTerminal, script: str) -> None:
    sys.modules["MetaTrader5"] = module  # type: ignore[assignment]
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")


def test_the_order_calc_margin_example(
    market: redis.Redis,
    redis_url: str,
    installed: list[SimTerminal],
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = mt5_module(redis_url, PREFIX, login=LOGIN)  # a terminal used before: initialize()
    installed.append(module)
    assert module.initialize() and module.symbol_select("GBPUSD", False)
    module.shutdown()
    run(module, "order_calc_margin.py.txt")
    printed = capsys.readouterr().out.splitlines()
    assert printed[:4] == [
        f"MetaTrader5 package author:  {module.__author__}",
        "MetaTrader5 package version:  5.0.6231",
        "Account currency: USD",
        "Symbols to check margin: ('EURUSD', 'GBPUSD', 'USDJPY', 'USDCHF', 'EURJPY', 'GBPJPY')",
    ]
    assert printed[4:] == [
        "   EURUSD buy 0.1 lot margin: 110.01 USD",  # 100 EUR × 1.10010
        "GBPUSD is not visible, trying to switch on",  # taken out of Market Watch above
        "   GBPUSD buy 0.1 lot margin: 125.02 USD",  # 100 GBP × 1.25020
        "   USDJPY buy 0.1 lot margin: 100.0 USD",
        "USDCHF not found, skipped",
        "   EURJPY buy 0.1 lot margin: 110.01 USD",  # 100 EUR × EURUSD ask 1.10010
        "GBPJPY not found, skipped",
    ]


def test_the_order_send_example_meets_the_fill_policy_of_a_market_execution_symbol(
    market: redis.Redis,
    redis_url: str,
    installed: list[SimTerminal],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The shipped USDJPY is a market-execution symbol that fills IOC only: the example's
    ORDER_FILLING_RETURN is refused with 10030, as on such a broker's terminal, and the script
    takes its own failure path (prints the result, shuts down, quits)."""
    module = mt5_module(redis_url, PREFIX, login=LOGIN)
    installed.append(module)
    with pytest.raises(SystemExit):
        run(module, "order_send.py.txt")
    out = capsys.readouterr().out
    assert "1. order_send(): by USDJPY 0.1 lots at 150.02 with deviation=20 points" in out
    assert "2. order_send failed, retcode=10030" in out
    assert "       traderequest: comment=python script open" in out
    assert "shutdown() and quit" in out
    assert module.account_info() is None  # the script shut the connection down


def test_the_order_send_example_opens_and_closes_on_an_instant_execution_symbol(
    market: redis.Redis,
    installed: list[SimTerminal],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With USDJPY under instant execution (where RETURN is allowed, as on MetaQuotes-Demo's
    Forex), the script runs to its end: a buy at the ask 150.020 with SL/TP 100 points away,
    then, two seconds later, the close at the bid 150.000."""
    usdjpy = default_symbols().get("USDJPY")
    assert usdjpy is not None
    instant = usdjpy._replace(trade_exemode=mt5.SYMBOL_TRADE_EXECUTION_INSTANT, filling_mode=1)
    table = SymbolTable([instant, *(s for s in default_symbols() if s.name != "USDJPY")])
    module = SimTerminal(market, PREFIX, symbols=table, account=LOGIN)
    installed.append(module)
    run(module, "order_send.py.txt")
    out = capsys.readouterr().out
    assert "2. order_send done, " in out
    assert "4. position #" in out and "closed" in out
    assert module.initialize()
    deals = module.history_deals_get(0, 2**31) or ()
    opened, closed = [d for d in deals if d.symbol == "USDJPY"]
    assert (opened.price, opened.comment, opened.magic) == (150.02, "python script open", 234000)
    assert (closed.price, closed.entry, closed.comment) == (150.0, 1, "python script close")
    # -0.020 × 100,000 × 0.1 = -200 JPY / 150.000 = -1.3333 USD
    assert closed.profit == -1.33


def test_python_m_brokers_sim_runs_a_script_as_it_is(redis_url: str, tmp_path: Path) -> None:
    """`python -m brokers.sim --login N --open script.py`: the script imports MetaTrader5 and
    finds the account it was given (opened here: 10,000 USD)."""
    script = tmp_path / "script.py"
    script.write_text(
        "import sys\nimport MetaTrader5 as mt5\n"
        "assert mt5.initialize(), mt5.last_error()\n"
        "info = mt5.account_info()\nprint(info.login, info.balance, info.currency, sys.argv[1:])\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "brokers.sim", "--redis", redis_url, "--login", "7200009",
         "--open", str(script), "one", "two"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["7200009 10000.0 USD ['one', 'two']"]
