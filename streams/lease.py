"""Who consumes, whether they still live, and which stream an exclusive agent may work.

Consumer names say where they run: `{host}/{space}-{pid}-{token}`, the token drawn once per
process, `space` the process namespace the pid belongs to (`NAMESPACE`). A name of this
namespace whose process is gone (or whose pid is this process's, under another token: an
earlier process that had the same pid) is *known dead*: its work is taken over at once,
without waiting out an idle time. Elsewhere (another host, another container, a name without
a namespace) only time tells.

An exclusive agent (the router on `rtss`, the executor on `orders:{instance}`) works a
stream only while it holds the stream's lease, `{prefix}lease:{topic}:{group}`, a key naming
its consumer that expires `lease_ms` after its last renewal. So at most one live consumer of
the group works a stream, and its entries are handled in stream order. Taking a lease (free,
expired, or held by a known dead consumer) claims every entry of the stream still pending
under another consumer and deletes those consumers, in one script: a restarted worker
resumes what its predecessor held before anything newer. A holder that loses its lease
(renewals late, a failover that lost it) stops reading the stream, and its commits are
refused (`FENCE` in the commit script), so a consumer that no longer holds a lease cannot
write a result or ack an entry.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from streams.reader import text

HOST = socket.gethostname()


def namespace() -> str | None:
    """This process's pid namespace, named for the machine's boot (8 hex digits): two
    containers sharing a host name have different pid namespaces, two machines sharing one
    (the initial namespace's inode is the same everywhere) different boots. None where Linux's
    /proc does not say (Windows, macOS, a locked-down /proc): pids then judge nothing."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pids = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return hashlib.sha256(f"{boot} {pids}".encode()).hexdigest()[:8]


NAMESPACE = namespace()
_TOKEN = secrets.token_hex(3)


def _new_token() -> None:
    global _TOKEN
    _TOKEN = secrets.token_hex(3)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_token)


def consumer_name(suffix: str = "") -> str:
    """`{host}/{namespace}-{pid}-{token}{suffix}` (`{host}-{pid}-{token}{suffix}` where the
    namespace is unknown): unique per process (and suffix), readable in XINFO, and telling
    whether its process is still alive (`known_dead`)."""
    where = HOST if NAMESPACE is None else f"{HOST}/{NAMESPACE}"
    return f"{where}-{os.getpid()}-{_TOKEN}{suffix}"


@dataclass(frozen=True, slots=True)
class Holder:
    """Where a consumer name says its process runs (`space` None: a name without a namespace,
    from a host where it is unknown or from before names had one)."""

    host: str
    space: str | None
    pid: int
    token: str

    @classmethod
    def parse(cls, name: str) -> Holder | None:
        where, _, rest = name.rpartition("-")
        where, _, pid = where.rpartition("-")
        if not where or not pid.isdigit() or not rest:
            return None
        host, slash, space = where.rpartition("/")
        if not slash:
            host, space = where, ""
        return cls(host, space or None, int(pid), rest.split(".")[0])


def known_dead(name: str) -> bool:
    """Whether the consumer `name` certainly runs no more: it ran in this pid namespace (of
    this host, this boot) in a process that is gone, or under this process's pid with another
    token (an earlier process that had the same pid). A name of another host or namespace,
    without a namespace, or not of our form is never known dead: its pid says nothing here."""
    holder = Holder.parse(name)
    if holder is None or NAMESPACE is None:
        return False
    if holder.host != HOST or holder.space != NAMESPACE:
        return False
    if holder.pid == os.getpid():
        return holder.token != _TOKEN
    return not pid_alive(holder.pid)


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists in this pid namespace (unknown counts as alive). Only
    asked where the namespace is known, so on Linux: never on Windows, where `os.kill` would
    terminate the process."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_key(prefix: str, topic: str, group: str) -> str:
    """The lease of `group` on stream `topic` (a name relative to the prefix)."""
    return f"{prefix}lease:{topic}:{group}"


RENEW = """
local out = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  elseif not holder then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    out[i] = 2
  else
    out[i] = holder
  end
end
return out
"""
"""Renew the leases this consumer holds, take the free ones; name the holders of the rest
(1: renewed, 2: taken, else the holder's name)."""

TAKE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""
"""Take a lease from a known dead holder, unless someone else took it meanwhile."""

RELEASE = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0
"""

CLAIM_FROM = """
local function claim_from(stream, group, to, from, left)
  local claimed = 0
  for _ = 1, 1000 do
    if left <= 0 then break end
    local rows = redis.call('XPENDING', stream, group, '-', '+', 1000, from)
    if #rows == 0 then break end
    local args = {stream, group, to, 0}
    for _, r in ipairs(rows) do args[#args + 1] = r[1] end
    args[#args + 1] = 'JUSTID'
    redis.call('XCLAIM', unpack(args))
    claimed = claimed + #rows
    left = left - #rows
  end
  redis.call('XGROUP', 'DELCONSUMER', stream, group, from)
  return claimed
end
"""
"""Lua shared by the claiming scripts: consumer `to` takes every entry consumer `from`
holds (at most `left`, when known), then `from` is deleted; how many entries."""

SWEEP = (
    CLAIM_FROM
    + """
if redis.call('GET', ARGV[3]) ~= ARGV[2] then return -1 end
local claimed = 0
for _, row in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #row, 2 do info[row[i]] = row[i + 1] end
  if info['name'] ~= ARGV[2] then
    claimed = claimed + claim_from(KEYS[1], ARGV[1], ARGV[2], info['name'], info['pending'])
  end
end
return claimed
"""
)
"""The lease holder takes every entry of the stream pending under another consumer (they
are dead, or lost the lease) and deletes those consumers: -1 if it holds no lease. The lease
key is an argument, not a key: under ACL selectors a script's keys must all match one."""

CLAIM_DEAD = (
    CLAIM_FROM
    + """
local claimed = 0
for n = 3, #ARGV do
  claimed = claimed + claim_from(KEYS[1], ARGV[1], ARGV[2], ARGV[n], math.huge)
end
return claimed
"""
)
"""Take every entry of the known dead consumers named after the group and this consumer,
and delete them."""


@dataclass
class LeaseRound:
    """What one renewal found: streams held now, newly taken, lost, and who holds the rest."""

    held: set[str]
    taken: set[str]
    lost: set[str]
    others: dict[str, str]


class Leases:
    """The leases of one exclusive agent on its streams (`keys`: stream → lease key)."""

    def __init__(self, redis: Redis, consumer: str, keys: dict[str, str], ttl_ms: int) -> None:
        self.redis = redis
        self.consumer = consumer
        self.keys = keys
        self.ttl_ms = ttl_ms
        self.held: set[str] = set()
        self._renew = redis.register_script(RENEW)
        self._take = redis.register_script(TAKE)
        self._release = redis.register_script(RELEASE)
        self._sweep = redis.register_script(SWEEP)

    def fence(self, stream: str) -> tuple[str, str]:
        """(lease key, holder) that a write on `stream`'s behalf must still find."""
        return self.keys[stream], self.consumer

    async def renew(self) -> LeaseRound:
        """Renew what is held, take what is free or held by a known dead consumer."""
        streams = list(self.keys)
        replies = await self._renew(
            keys=[self.keys[s] for s in streams], args=[self.consumer, self.ttl_ms]
        )
        held: set[str] = set()
        others: dict[str, str] = {}
        for stream, reply in zip(streams, replies, strict=True):
            if isinstance(reply, int):
                held.add(stream)
            else:
                others[stream] = text(reply, "replace")
        for stream, holder in list(others.items()):
            if known_dead(holder) and await self._take(
                keys=[self.keys[stream]], args=[holder, self.consumer, self.ttl_ms]
            ):
                held.add(stream)
                del others[stream]
        before, self.held = self.held, held
        return LeaseRound(held, held - before, before - held, others)

    def drop(self, stream: str) -> None:
        """Forget a lease Redis says is lost (a refused commit): renewal may take it again."""
        self.held.discard(stream)

    async def sweep(self, stream: str, group: str) -> int:
        """Claim the stream's entries pending under other consumers and delete those; -1 if
        the lease is not ours (any more)."""
        args = [group, self.consumer, self.keys[stream]]
        return int(await self._sweep(keys=[stream], args=args))

    async def release(self) -> None:
        """Give up every lease held (a graceful stop): a standby takes over at once."""
        if self.keys:
            await self._release(keys=list(self.keys.values()), args=[self.consumer])
        self.held = set()


@dataclass(frozen=True, slots=True)
class Others:
    """A stream's other consumers as one XINFO CONSUMERS found them."""

    dead: list[str]  # known dead: their entries are taken at once
    idle: dict[str, int]  # the rest, name → idle ms (deleted when long idle, owning nothing)


class DeadClaimer:
    """Takes the entries of known dead consumers at once and deletes those consumers
    (agents that are not exclusive; the others after `claim_min_idle_ms`)."""

    def __init__(self, redis: Redis, group: str, consumer: str) -> None:
        self.redis = redis
        self.group = group
        self.consumer = consumer
        self._claim = redis.register_script(CLAIM_DEAD)

    async def others(self, streams: Sequence[str]) -> dict[str, Others]:
        """stream → its other consumers, known dead or not (one pipelined XINFO CONSUMERS
        for all the streams; a stream without the group yet is left out)."""
        pipe = self.redis.pipeline(transaction=False)
        for stream in streams:
            pipe.xinfo_consumers(stream, self.group)
        found: dict[str, Others] = {}
        for stream, rows in zip(streams, await pipe.execute(raise_on_error=False), strict=True):
            if isinstance(rows, Exception):
                continue  # no group yet (created at the agent's next read)
            idle = {text(row["name"], "replace"): int(row["idle"]) for row in rows}
            idle.pop(self.consumer, None)
            dead = [name for name in idle if known_dead(name)]
            found[stream] = Others(dead, {n: i for n, i in idle.items() if n not in dead})
        return found

    async def claim(self, stream: str, names: Sequence[str]) -> int:
        """Claim everything `names` hold on `stream` and delete them; how many entries."""
        reply = await self._claim(keys=[stream], args=[self.group, self.consumer, *names])
        return int(reply)
