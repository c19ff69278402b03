"""An mt5linux-style server for tests: RPyC classic, with the simulator as `MetaTrader5`.

mt5linux serves `import MetaTrader5` from a Windows Python under Wine; here the module is a
SimTerminal on the test's Redis, so the client's wire protocol is exercised for real.
Usage: python -m tests.brokers.mt5.mt5linux_server REDIS_URL PREFIX PORT
"""

from __future__ import annotations

import sys

import redis
from rpyc.core.service import ClassicService  # type: ignore[import-untyped]
from rpyc.utils.server import ThreadedServer  # type: ignore[import-untyped]

from brokers.sim.terminal import SimTerminal


def main(redis_url: str, prefix: str, port: str) -> None:
    sys.modules["MetaTrader5"] = SimTerminal(redis.Redis.from_url(redis_url), prefix=prefix)  # type: ignore[assignment]
    server = ThreadedServer(ClassicService, hostname="127.0.0.1", port=int(port), reuse_addr=True)
    server.start()


if __name__ == "__main__":
    main(*sys.argv[1:4])
