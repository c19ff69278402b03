"""The simulated broker's costs beside a raw Redis round trip, on one local redis-server.

- PING: one round trip of the synchronous client (the floor of everything below);
- order_send open then close on an account holding nothing else (two order_sends);
- order_send market: load (MULTI/EXEC with quotes) + commit (EVALSHA), a new position each
  (the account grows to n positions, and each trade values them all);
- order_check: the same without the commit;
- order_send close: close one of the positions opened above;
- on_tick, nothing crossed: the positions are valued (stop-out, decision 0013): one HMGET of
  the account's levels and priced symbols, and a load, no commit;
- on_tick, SL hit: look, load, close the position, commit;
- positions_get with 100 positions open.

    python -m bench.bench_sim [--n 2000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import redis

from bench.common import percentiles, redis_server, report, smoke_mode
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model.keys import Keys
from model.tick import Tick, encode_tick
from tests.redis_server import free_port

PREFIX = "bench:"
LOGIN = 9_000_001
QUOTE = Tick(time=1399334400, bid=1.38742, ask=1.38755, time_msc=1399334400158)


def timed(n: int, call: Callable[[int], Any]) -> dict[str, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="calls per row (more than 100)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    n = 150 if smoke_mode(args.smoke) else max(args.n, 101)
    with redis_server(free_port()) as url:
        client = redis.Redis.from_url(url)
        SimServer(client, PREFIX).open_account(LOGIN, balance=10_000_000)
        client.xadd(Keys(PREFIX).ticks("EURUSD"), {"d": encode_tick(QUOTE)})
        mt5 = SimTerminal(client, PREFIX)
        assert mt5.initialize(login=LOGIN)
        deal = {"action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "sl": 1.38}
        tickets: list[int] = []

        def send(_: int) -> None:
            result = mt5.order_send(deal)
            assert result is not None and result.retcode == 10009, result
            tickets.append(result.order)

        def close(i: int) -> None:
            request = {**deal, "type": 1, "sl": 0.0, "position": tickets[i]}
            result = mt5.order_send(request)
            assert result is not None and result.retcode == 10009, result

        def open_close(_: int) -> None:
            send(0)
            close(len(tickets) - 1)
            tickets.pop()

        quiet = QUOTE._replace(bid=1.38750)
        rows = [
            {"what": "PING", **timed(n, lambda _: client.ping())},
            {"what": "order_send open + close, flat account", **timed(n, open_close)},
            {"what": "order_check market", **timed(n, lambda _: mt5.order_check(deal))},
            {"what": "order_send market (open)", **timed(n, send)},
            {
                "what": "on_tick, nothing crossed (n positions valued)",
                **timed(n, lambda _: mt5.on_tick("EURUSD", quiet)),
            },
            {"what": "order_send market (close)", **timed(n - 100, close)},
            {"what": "positions_get, 100 open", **timed(200, lambda _: mt5.positions_get())},
        ]
        hit = QUOTE._replace(bid=1.37990)
        samples = []
        for _ in range(5):
            while (mt5.positions_total() or 0) < 100:
                send(0)
            start = time.perf_counter()
            assert len(mt5.on_tick("EURUSD", hit)) == 100
            samples.append(time.perf_counter() - start)
        rows.append({"what": "on_tick, SL closes 100 positions", **percentiles(samples)})
        report("sim", "simulated broker, one account (ms)", rows, {"n": n})


if __name__ == "__main__":
    main()
