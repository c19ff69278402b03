"""One Faust app's workers as a group in Redis: membership, leader, assignment, fencing.

Like Kafka's eager protocol. Every member heartbeats (`HEARTBEAT`): a join, a leave, an
expired member or a new subscription bumps the group's epoch. A member that sees a new
epoch gives up its partitions (Faust commits what it processed), then joins that epoch
with its assignor metadata. The leader (a lease) waits until every live member has joined,
runs Faust's own `PartitionAssignor` (actives and standbys, sticky) and writes the
assignment for that epoch, which becomes the generation; members apply their share.
Members that have not joined within the rebalance timeout are evicted. A commit is
accepted only from the generation assigned and for partitions the member owns in it, so a
worker that was presumed dead cannot move offsets (`COMMIT`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka.coordinator.protocol import (
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)
from faust.types import TP
from mode import get_logger
from redis.asyncio import Redis

from eaflow.faust import scripts
from eaflow.faust.layout import Layout, tp_field

logger = get_logger(__name__)


class Assignor(Protocol):
    """What the group needs of Faust's `PartitionAssignor`."""

    def metadata(self, topics: set[str]) -> ConsumerProtocolMemberMetadata: ...

    def assign(
        self, cluster: Any, member_metadata: Mapping[str, ConsumerProtocolMemberMetadata]
    ) -> Mapping[str, ConsumerProtocolMemberAssignment]: ...

    def on_assignment(self, assignment: ConsumerProtocolMemberAssignment) -> None: ...


@dataclass
class Cluster:
    """The partitions of each topic, as the assignor asks for them."""

    partitions: Mapping[str, int]

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        count = self.partitions.get(topic)
        return None if not count else set(range(count))


@dataclass
class Timing:
    """Seconds: heartbeat, session (a silent member expires), rebalance (joining)."""

    heartbeat: float = 3.0
    session: float = 60.0
    rebalance: float = 60.0
    poll: float = 0.1  # how often a rebalance in progress is looked at


@dataclass
class GroupState:
    """What this member knows: the epoch seen, the one joined, the generation held."""

    epoch: int = 0
    joined: int = -1
    generation: int | None = None
    assigned: set[TP] = field(default_factory=set)
    leader: bool = False
    members: list[str] = field(default_factory=list)


class Group:
    """One member of group `name`. `subscription` is read at each join; `revoke` and
    `assign` are the consumer's callbacks (Faust's rebalance path)."""

    def __init__(
        self,
        redis: Redis,
        layout: Layout,
        name: str,
        member: str,
        assignor: Assignor,
        topic_partitions: Callable[[], Awaitable[Mapping[str, int]]],
        timing: Timing,
    ) -> None:
        self.redis = redis
        self.name = name
        self.member = member
        self.assignor = assignor
        self.topic_partitions = topic_partitions
        self.timing = timing
        self.state = GroupState()
        self.subscription: set[str] = set()
        self.changed = asyncio.Event()  # the epoch moved, or an assignment may be waiting
        self._resubscribe = False
        self._waiting_since: tuple[int, float] | None = None
        self.keys = [layout.group(name, k) for k in ("members", "epoch", "leader", "join")]
        self.assign_key = layout.group(name, "assign")
        self.offsets_key = layout.group(name, "offsets")
        self._heartbeat = redis.register_script(scripts.HEARTBEAT)
        self._join = redis.register_script(scripts.JOIN)
        self._evict = redis.register_script(scripts.EVICT)
        self._assign = redis.register_script(scripts.ASSIGN)
        self._commit = redis.register_script(scripts.COMMIT)
        self._leave = redis.register_script(scripts.LEAVE)

    def resubscribe(self, topics: Iterable[str]) -> None:
        """A new subscription: the next heartbeat asks for a new epoch."""
        topics = set(topics)
        if topics != self.subscription:
            self.subscription = topics
            self._resubscribe = True

    @property
    def rebalancing(self) -> bool:
        return self.state.generation != self.state.epoch

    async def heartbeat(self) -> None:
        """Stay a member; lead the assignment when this member holds the lease."""
        session_ms = int(self.timing.session * 1000)
        bump, self._resubscribe = self._resubscribe, False
        try:
            reply = await self._heartbeat(
                keys=self.keys, args=[self.member, session_ms, "1" if bump else "0"]
            )
        except BaseException:
            self._resubscribe = self._resubscribe or bump
            raise
        epoch, leader, *members = reply
        self.state.epoch = int(epoch)
        self.state.leader = _text(leader) == self.member
        self.state.members = sorted(_text(m) for m in members)
        if self.rebalancing:
            self.changed.set()
            if self.state.leader:
                await self.lead()

    async def join(self) -> bool:
        """Join the epoch last seen with this member's metadata (False: it moved on)."""
        epoch = self.state.epoch
        metadata = self.assignor.metadata(self.subscription).encode()
        done = await self._join(
            keys=[self.keys[1], self.keys[3]], args=[self.member, epoch, metadata]
        )
        if done:
            self.state.joined = epoch
        return bool(done)

    async def lead(self) -> None:
        """Assign the current epoch once every live member has joined it; evict those that
        have not after the rebalance timeout."""
        epoch = self.state.epoch
        raw: Any = await self.redis.hgetall(self.keys[3])
        joined: dict[str, ConsumerProtocolMemberMetadata] = {}
        for member, value in raw.items():
            at, _, metadata = value.partition(b"|")
            if int(at) == epoch:
                joined[_text(member)] = ConsumerProtocolMemberMetadata.decode(metadata)
        missing = [m for m in self.state.members if m not in joined]
        if missing:
            if self._waiting_since is None or self._waiting_since[0] != epoch:
                self._waiting_since = (epoch, time.monotonic())
            elif time.monotonic() - self._waiting_since[1] > self.timing.rebalance:
                logger.warning("group %s: evicting %s (did not join in time)", self.name, missing)
                await self._evict(keys=[self.keys[0], self.keys[1], self.keys[3]], args=missing)
            return
        if await self.redis.hget(self.assign_key, "gen") == str(epoch).encode():
            return
        cluster = Cluster(await self.topic_partitions())
        assignments = self.assignor.assign(cluster, joined)
        args: list[Any] = []
        for member, assignment in assignments.items():
            args += [member, assignment.encode()]
            for tp in _actives(assignment):  # owners commit; standbys only read
                args += [f"o:{tp_field(tp.topic, tp.partition)}", member]
        done = await self._assign(
            keys=[self.keys[1], self.assign_key, self.keys[2]], args=[self.member, epoch, *args]
        )
        if done:
            logger.info("group %s: generation %s assigned to %s", self.name, epoch, sorted(joined))

    async def assignment(self) -> ConsumerProtocolMemberAssignment | None:
        """This member's assignment if the epoch it joined has been assigned."""
        gen, raw = await self.redis.hmget(self.assign_key, ["gen", self.member])
        if gen is None or int(gen) != self.state.joined or raw is None:
            return None
        return ConsumerProtocolMemberAssignment.decode(raw)

    async def commit(self, offsets: Mapping[TP, int]) -> int:
        """1 written; 0 the generation moved on; -1 a partition is not this member's."""
        if self.state.generation is None:
            return 0
        args: list[Any] = [self.member, self.state.generation]
        for tp, offset in offsets.items():
            args += [tp_field(tp.topic, tp.partition), offset]
        return int(await self._commit(keys=[self.offsets_key, self.assign_key], args=args))

    async def committed(self, tps: Iterable[TP]) -> dict[TP, int]:
        tps = list(tps)
        if not tps:
            return {}
        values = await self.redis.hmget(
            self.offsets_key, [tp_field(t.topic, t.partition) for t in tps]
        )
        return {tp: int(v) for tp, v in zip(tps, values, strict=True) if v is not None}

    async def leave(self) -> None:
        await self._leave(keys=self.keys, args=[self.member])


def _actives(assignment: ConsumerProtocolMemberAssignment) -> set[TP]:
    """The active partitions of an assignment, from Faust's metadata in its user data."""
    from faust.assignor.client_assignment import ClientMetadata
    from faust.assignor.partition_assignor import PartitionAssignor

    metadata = ClientMetadata.loads(PartitionAssignor._decompress(assignment.user_data))
    return set(metadata.assignment.active_tps)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
