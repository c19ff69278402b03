"""Demo instances for the default run: simulated accounts on the embedded Redis."""

from __future__ import annotations

from brokers.sim.server import SimServer
from model import InstanceSpec, TradingConfig
from processors.registry import InstanceRegistry
from streams.clients import sync_client

FIRST_LOGIN = 5_000_001


async def seed_demo(
    registry: InstanceRegistry, redis_url: str, prefix: str, count: int
) -> list[str]:
    """Create `demo-1`..`demo-N` (10,000 USD, 1:100, hedging) unless instances exist."""
    existing = await registry.all()
    if existing:
        return sorted(existing)
    server = SimServer(sync_client(redis_url), prefix=prefix)
    specs = []
    for n in range(1, count + 1):
        login = FIRST_LOGIN + n - 1
        if not server.account_exists(login):
            server.open_account(
                login, balance=10_000, currency="USD", leverage=100, name=f"demo-{n}"
            )
        specs.append(
            InstanceSpec(
                instance_id=f"demo-{n}",
                broker="sim://",
                login=login,
                groups=("demo", "odd" if n % 2 else "even"),
                magic=login % 1_000_000,
                config=TradingConfig(),
            )
        )
    await registry.put(*specs)
    return [s.instance_id for s in specs]
