"""Redis ACL users per role: which commands each eaflow worker may run on which keys.

Every worker connects as the user of its role, so a leaked gateway password lets an attacker
queue signals (which the router still validates) but not read results, write orders or
touch accounts. `eaflow acl` renders these rules as an ACL file for `redis-server --aclfile`.
Keys are patterns under the deployment's prefix; each grant becomes one ACL selector, so a
role may append to one stream while only reading another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from model.keys import NAMES, SANDBOX_ROOT
from streams.lease import lease_key


class Role(StrEnum):
    """Who connects: one Redis user per role."""

    GATEWAY = "gateway"  # webhook intake: queues signals, reports refusals
    VIEWER = "viewer"  # the chart page, UDF datafeed and dashboards: reads, never writes
    ROUTER = "router"  # `eaflow worker rtss`
    EXECUTOR = "executor"  # `eaflow worker orders`, with its brokers (the simulator included)
    TICKS = "ticks"  # `eaflow worker ticks`: tick feed, tick tables, simulator fills, trailing
    SINKS = "sinks"  # `eaflow worker rtrs`: DuckDB and ClickHouse
    ADMIN = "admin"  # the CLI of an operator: everything under the prefix
    REPLICA = "replica"  # a Redis replica's link to its primary; also PING for healthchecks
    SENTINEL = "sentinel"  # Redis Sentinel's link to the primary and replicas: watch, promote


Access = Literal["R", "W", "RW"]


@dataclass(frozen=True, slots=True)
class Grant:
    """Commands allowed on keys (patterns relative to the prefix): one ACL selector."""

    commands: tuple[str, ...]
    keys: tuple[str, ...] = ()
    access: Access = "RW"

    def rules(self, prefix: str) -> list[str]:
        marker = "~" if self.access == "RW" else f"%{self.access}~"
        return [*self.commands, *(f"{marker}{escape(prefix)}{key}" for key in self.keys)]


# Every role: log in, PING, find cluster slots, MULTI/EXEC; nothing that reads other clients.
BASE = ("resetkeys", "resetchannels", "-@all", "+@connection", "-@dangerous", "+multi",
        "+exec", "+discard", "+cluster|slots", "+cluster|shards", "+cluster|nodes")  # fmt: skip
SCRIPTS = ("+evalsha", "+eval", "+script|load", "+script|exists")
# A consumer group's reading of a stream (the runtime's reader, claimer and reaper).
CONSUME = ("+xreadgroup", "+xack", "+xautoclaim", "+xclaim", "+xpending", "+xinfo|stream",
           "+xinfo|groups", "+xinfo|consumers", "+xgroup|create", "+xgroup|createconsumer",
           "+xgroup|delconsumer", "+xlen", "+type", *SCRIPTS)  # fmt: skip
# Appending to a stream; the runtime's commit script checks the key's TYPE first.
APPEND = ("+xadd", "+type")
READ = ("+get", "+mget", "+exists", "+type", "+hget", "+hmget", "+hgetall", "+hexists", "+hlen",
        "+hkeys", "+hscan", "+smembers", "+sismember", "+zrange", "+zrangebyscore", "+xrange",
        "+xrevrange", "+xlen", "+xread", "+xinfo|stream")  # fmt: skip
# Records a role owns (order records, latest states, symbol specs).
RECORD = (*READ, "+set", "+del", "+hset", "+hsetnx", "+hdel", "+hincrby", "+incr", "+incrby",
          "+expire", "+watch", "+unwatch")  # fmt: skip
# A data set a role owns outright (the simulator's accounts), minus what reaches beyond it.
OWN = ("+@read", "+@write", "+@transaction", *SCRIPTS, "-@dangerous", "-scan", "-randomkey")
SUBSCRIPTIONS = ("+zadd", "+zrem", "+zremrangebyscore", "+zrangebyscore", "+zrange", "+type")
# A failure record, written by the runtime's commit script (EVALSHA routed by its key).
FAILS = ("+hget", "+hmget", "+hgetall", "+hincrby", "+hset", "+hdel", "+type", *SCRIPTS)
# An exclusive agent's lease on a stream (streams/lease.py): taken, renewed, given up in
# scripts; read by the commit script's FENCE.
LEASE = ("+get", "+set", "+pexpire", "+del", "+type", *SCRIPTS)
# What Redis Sentinel runs on the nodes it watches (Redis's own list for a Sentinel user).
SENTINEL = ("+ping", "+info", "+role", "+multi", "+exec", "+slaveof", "+replicaof",
            "+config|rewrite", "+client|setname", "+client|kill", "+script|kill",
            "+subscribe", "+publish", "&__sentinel__:hello")  # fmt: skip
# Key patterns relative to the prefix, from the one key layout (model.keys): "*" for an id.
K = NAMES
ANY = "*"
# The registry and configuration (written by the admin CLI): instances, their status, the
# kill switch, config versions; and the alerts' eaoff/eaon switches (written by the router).
CONFIG = (K.instances, K.key("instances:*"), K.trading_state, K.key("config:*"), K.switch(ANY))
# Where `eaflow replay` re-runs signals: throwaway prefixes beside the deployment's.
REPLAY_SANDBOXES = f"{SANDBOX_ROOT}*"
# Order records (effectively-once), reconciliation, states, symbol specs, and the instance
# manager's status, applied config versions and books of open trades.
EXECUTOR_RECORDS = (K.order_records(ANY), K.sent_orders(ANY), K.comments(ANY), K.external(ANY),
                    K.state(ANY), K.symbols(ANY), K.instances_status, K.config_applied,
                    K.trades_open)  # fmt: skip


def consume(topics: tuple[str, ...], group: str) -> tuple[Grant, ...]:
    """Read `topics` as consumer group `group`, with its failure records and dead letters."""
    return (
        Grant(CONSUME, topics),
        Grant(FAILS, tuple(K.fails(topic, group) for topic in topics)),
        Grant(APPEND, tuple(K.dlq(topic) for topic in topics)),
    )


def lease(topic: str, group: str) -> Grant:
    """The lease of exclusive consumer group `group` on `topic` (relative to the prefix)."""
    return Grant(LEASE, (lease_key("", topic.removeprefix(K.prefix), group),))


GRANTS: dict[Role, tuple[Grant, ...]] = {
    Role.GATEWAY: (
        Grant(("+xadd",), (K.rtss, K.security), "W"),
        # Secrets are read; HSETNX creates the first source but never overwrites one.
        Grant(("+hget", "+hgetall", "+hlen", "+hsetnx"), (K.sources,)),
        Grant(("+incr", "+incrby", "+expire"), (K.key("gateway:rate:*"),)),
        Grant(READ, CONFIG, "R"),
    ),
    Role.VIEWER: (
        Grant(
            ("+scan", *READ),
            (K.rtrs, K.rts, K.trades, K.ris, K.state(ANY), K.ticks(ANY), K.symbols(ANY)),
            "R",
        ),
        Grant(READ, CONFIG, "R"),
        Grant(("+hlen",), (K.sources,), "R"),  # whether sources exist, not their secrets
    ),
    Role.ROUTER: (
        *consume((K.rtss,), "router"),
        lease(K.rtss, "router"),
        Grant(APPEND, (K.orders(ANY), K.rtrs, K.security)),
        # Its rejections' records: created, never overwritten (the commit's ONCE guard).
        Grant(("+hsetnx", "+type"), (K.order_records(ANY),)),
        # An eaoff/eaon alert's switch: its own key, never the registry (the operator's).
        Grant(("+set",), (K.switch(ANY),), "W"),
        # Risk periods (processors/router/risk.py): starting equity, opens counted, breaches.
        Grant(("+hgetall", "+hsetnx", "+hincrby", "+hdel"), (K.risk(ANY),)),
        Grant(APPEND, (K.ris,)),
        # An alert's own trailing stop, for the ticks agent (by the order's comment).
        Grant(("+hset",), (K.alert_trailing(ANY),), "W"),
        Grant(READ, (*CONFIG, K.symbols(ANY), K.state(ANY), K.ticks(ANY)), "R"),
    ),
    Role.EXECUTOR: (
        *consume((K.orders(ANY),), "executor"),
        lease(K.orders(ANY), "executor"),
        Grant(APPEND, (K.rtrs, K.rts, K.trades, K.ris)),
        Grant((*RECORD, *SCRIPTS), EXECUTOR_RECORDS),  # mark_sent is one script
        Grant(READ, (*CONFIG, K.ticks(ANY)), "R"),
        Grant(OWN, (K.key("sim:*"),)),
    ),
    Role.TICKS: (
        *consume((K.ticks(ANY),), "ticks"),
        Grant(("+xadd", "+xtrim", *READ), (K.ticks(ANY),)),
        Grant(SUBSCRIPTIONS, (K.tick_subscriptions,)),
        Grant(APPEND, (K.rtrs,)),
        Grant(READ, (*CONFIG, K.symbols(ANY), K.state(ANY)), "R"),
        Grant(OWN, (K.key("sim:*"),)),
        Grant(("+hgetall", "+hdel"), (K.alert_trailing(ANY),)),
    ),
    Role.SINKS: (
        *consume((K.rtrs, K.trades, K.rts), "*"),
        *consume((K.ris,), "notify"),  # `eaflow worker notify`: instance events too
        # Loss-limit transitions into the configuration history (eaflow/config/risk.py).
        *consume((K.ris,), "config-history"),
        Grant(("+xtrim", *READ), (K.rtrs,)),
        Grant(READ, (K.trades, K.rts), "R"),  # their sinks' lag (XREVRANGE, XRANGE)
    ),
    # The CLI: everything under the prefix, and the sandboxes of `eaflow replay`.
    Role.ADMIN: (Grant(("+@all", "allchannels", f"~{REPLAY_SANDBOXES}"), ("*",)),),
    Role.REPLICA: (Grant(("+psync", "+replconf", "+ping")),),
    Role.SENTINEL: (Grant(SENTINEL),),
}


def escape(prefix: str) -> str:
    """The prefix as a literal inside a Redis glob pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix)


def username(role: Role, user_prefix: str = "eaflow-") -> str:
    return f"{user_prefix}{role.value}"


def role_rules(role: Role, prefix: str) -> list[str]:
    """The ACL rules of `role` after its password: root permissions, then one selector per
    further grant."""
    first, *rest = GRANTS[role]
    rules = [*BASE, *first.rules(prefix)]
    rules += [f"({' '.join(grant.rules(prefix))})" for grant in rest]
    return rules


def password_hash(password: str) -> str:
    """What an ACL file stores instead of the password (`#` + SHA-256 hex)."""
    return "#" + hashlib.sha256(password.encode()).hexdigest()


def acl_file(prefix: str, passwords: Mapping[Role, str], user_prefix: str = "eaflow-") -> str:
    """The ACL file of a deployment: one user per role given, the `default` user switched off.

    Passwords are stored as SHA-256 hashes. Redis reads no comments in an ACL file.
    """
    lines = ["user default off resetpass resetkeys resetchannels -@all"]  # no comments allowed
    for role, password in passwords.items():
        rules = " ".join(role_rules(role, prefix))
        lines.append(f"user {username(role, user_prefix)} on {password_hash(password)} {rules}")
    return "\n".join(lines) + "\n"


def roles_named(names: Iterable[str]) -> list[Role]:
    """Roles from their names; an unknown name is refused with the known ones."""
    known = {role.value: role for role in Role}
    roles = []
    for name in names:
        if name not in known:
            raise ValueError(f"role: unknown role {name!r} (known: {', '.join(known)})")
        roles.append(known[name])
    return roles
