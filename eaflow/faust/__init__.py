"""faust-streaming on Redis Streams (`pip install 'eaflow[faust]'`, docs/faust.md).

`faust.App("strategy", broker="redis://localhost:6379/0")` finds this package's transport
through the `faust.transports` entry point (schemes `redis` and `rediss`). Each partition
of a topic is one stream whose entries carry dense ids `0-1, 0-2, …` (offset o is id
`0-(o+1)`); workers of one app share partitions through a group kept in Redis and Faust's
own assignor (decision 0014). At least once: exactly-once processing is refused.

Beside the driver: `EaflowFeed` copies eaflow's ticks and results into Faust topics, and
`SignalSender` sends signals into eaflow's `rtss` through the checks of an alert source.
"""

from __future__ import annotations

try:
    import faust as _faust  # noqa: F401
except ImportError as error:  # pragma: no cover - only without the extra
    from model.errors import MissingExtra

    raise MissingExtra("faust-streaming is not installed: pip install 'eaflow[faust]'") from error

from eaflow.faust.layout import DEFAULT_PREFIX, Layout, id_of, offset_of
from eaflow.faust.transport import Consumer, Producer, Transport

__all__ = [
    "DEFAULT_PREFIX",
    "Consumer",
    "Layout",
    "Producer",
    "Transport",
    "id_of",
    "offset_of",
]
