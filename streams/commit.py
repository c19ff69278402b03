"""The commit: one atomic Redis round trip per batch, writing outputs and acking their entries.

A batch commits as *units* (one per event, or one per batch for batch agents). A unit's
commands run only if every key they write holds the right type, and its entry is acked
only if they all succeed; a unit that fails is reported and not acked, and the later units
of its stream are skipped (left pending) so a stream's order holds. Everything runs in one
Lua script, so no other client sees half a batch.

Why not MULTI/EXEC: Redis does not roll back a transaction whose command fails while it
runs (e.g. XADD to a key holding a string answers WRONGTYPE) — the other commands,
XACK included, still apply, and the entry would be acked without its output. The script
checks types first, stops a unit at its first error and acks last, so an entry is never
acked without its output. A command that still fails mid-unit (a wrong argument) leaves
that unit's earlier commands applied: they are redone with the retry (at least once).
A key's type is read once per commit and remembered as the unit's writes set it. On Redis 7
the user's permission for every command of a unit is checked first too (ACL), so a unit a
least-privilege user may not run writes nothing, instead of writing its record and failing
after it (a retry would then meet the record's `ONCE` guard and ack the entry silently).

`EXPECT key field value` makes a unit conditional: it applies only if the hash field holds
`value` ("" for absent) when the unit runs; otherwise nothing of it applies and it is
refused with an error beginning `CONFLICT` (optimistic locking, e.g. on a simulated
account's version that another writer may have moved since it was read).

`ACKS stream group ids` is XACK with the ids joined by spaces in one argument: a batch of
thousands of new entries (a "columns" agent's) acks without redis-py packing each id.

`FENCE lease holder stream first` makes a unit of an exclusive agent (streams/lease.py) its
lease holder's alone: it applies only if key `lease` still names `holder` (else it is
refused with `LEASE`), and, when `stream` is given, only if no entry of `stream` older than
`first` is pending in the group but those this commit acks before it (else `ORDER`): the
entries of a stream are finished in stream order, whoever read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from streams.types import Arg, Command

SKIPPED = None
"""Status of a unit left pending because an earlier unit of its stream failed."""

SCRIPT = """
local needs = {
  XADD='stream', XACK='stream', ACKS='stream', XDEL='stream', XTRIM='stream', XCLAIM='stream',
  HSET='hash', HSETNX='hash', HMSET='hash', HINCRBY='hash', HINCRBYFLOAT='hash', HDEL='hash',
  INCR='string', INCRBY='string', INCRBYFLOAT='string', DECR='string', DECRBY='string',
  APPEND='string', SETRANGE='string', SETBIT='string',
  ONCE='hash', EXPECT='hash', SADD='set', SREM='set', ZADD='zset', ZREM='zset', ZINCRBY='zset',
  LPUSH='list', RPUSH='list', LPUSHX='list', RPUSHX='list', LTRIM='list', LREM='list',
  LSET='list', LPOP='list', RPOP='list'
}
local group = ARGV[1]
local units = tonumber(ARGV[2])
local pos = 3
local failed, acks, streams, out, types, acked = {}, {}, {}, {}, {}, {}
local allowed = redis.acl_check_cmd  -- Redis 7: permissions checked before anything runs
for unit = 1, units do
  local stream, ack, ncmd = ARGV[pos], ARGV[pos + 1], tonumber(ARGV[pos + 2])
  pos = pos + 3
  local cmds = {}
  for c = 1, ncmd do
    local argc = tonumber(ARGV[pos])
    cmds[c] = {unpack(ARGV, pos + 1, pos + argc)}
    pos = pos + 1 + argc
  end
  local err
  if stream ~= '' and failed[stream] then
    out[#out + 1] = unit - 1
    out[#out + 1] = 0
  else
    for _, cmd in ipairs(cmds) do
      if allowed then
        local as = cmd
        if cmd[1] == 'ONCE' then as = {#cmd == 4 and 'HSETNX' or 'HSET', cmd[2], cmd[3], cmd[4]}
        elseif cmd[1] == 'EXPECT' then as = {'HGET', cmd[2], cmd[3]}
        elseif cmd[1] == 'FENCE' then as = {'GET', cmd[2]}
        elseif cmd[1] == 'ACKS' then as = {'XACK', cmd[2], cmd[3], '0-1'} end
        if not allowed(unpack(as)) then
          err = 'NOPERM this user has no permission to run ' .. as[1] .. ' on ' .. tostring(as[2])
          break
        end
      end
      local want = needs[string.upper(cmd[1])]
      if want and cmd[2] then
        local have = types[cmd[2]]
        if not have then
          have = redis.call('TYPE', cmd[2])['ok']
          types[cmd[2]] = have
        end
        if have ~= 'none' and have ~= want then
          err = 'WRONGTYPE ' .. cmd[2] .. ' holds a ' .. have .. ', ' .. cmd[1]
            .. ' needs a ' .. want
          break
        end
      end
      if cmd[1] == 'FENCE' then
        local holder = redis.call('GET', cmd[2])
        if holder ~= cmd[3] then
          err = 'LEASE ' .. cmd[2] .. ' is held by ' .. tostring(holder or 'nobody')
            .. ', not ' .. cmd[3]
          break
        end
        if cmd[4] ~= '' then
          local mine = acked[cmd[4]] or {}
          local older = redis.call(
            'XPENDING', cmd[4], group, '-', '(' .. cmd[5], (mine.n or 0) + 1)
          for _, row in ipairs(older) do
            if not mine[row[1]] then
              err = 'ORDER ' .. cmd[4] .. ' ' .. row[1] .. ' of ' .. row[2]
                .. ' is pending before ' .. cmd[5]
              break
            end
          end
          if err then break end
        end
      end
      if cmd[1] == 'EXPECT' then
        local have = redis.call('HGET', cmd[2], cmd[3])
        if (cmd[4] == '' and have) or (cmd[4] ~= '' and have ~= cmd[4]) then
          err = 'CONFLICT ' .. cmd[2] .. ' ' .. cmd[3] .. ' is ' .. tostring(have or 'absent')
            .. ', expected ' .. (cmd[4] == '' and 'absent' or cmd[4])
          break
        end
      end
    end
    if not err then
      for _, cmd in ipairs(cmds) do
        local reply
        if cmd[1] == 'EXPECT' or cmd[1] == 'FENCE' then
          reply = 1
        elseif cmd[1] == 'ACKS' then
          local ids = {}
          for id in string.gmatch(cmd[4], '[^ ]+') do ids[#ids + 1] = id end
          for i = 1, #ids, 1000 do
            reply = redis.pcall('XACK', cmd[2], cmd[3], unpack(ids, i, math.min(i + 999, #ids)))
            if type(reply) == 'table' and reply['err'] then break end
          end
        elseif cmd[1] == 'ONCE' then
          if #cmd == 4 then
            reply = redis.pcall('HSETNX', cmd[2], cmd[3], cmd[4])
            if reply == 0 then break end
          else
            local have, free = redis.call('HGET', cmd[2], cmd[3]), false
            for i = 5, #cmd do free = free or have == cmd[i] end
            if have and not free then break end
            reply = redis.pcall('HSET', cmd[2], cmd[3], cmd[4])
          end
        else
          reply = redis.pcall(unpack(cmd))
        end
        if type(reply) == 'table' and reply['err'] then
          err = reply['err']
          break
        end
      end
    end
    if not err then
      for _, cmd in ipairs(cmds) do
        local want = needs[string.upper(cmd[1])]
        if want and cmd[2] and cmd[1] ~= 'EXPECT' then types[cmd[2]] = want end
      end
    end
    if err then
      if stream ~= '' then failed[stream] = true end
      out[#out + 1] = unit - 1
      out[#out + 1] = err
    elseif ack ~= '' then
      if not acks[stream] then
        acks[stream] = {}
        streams[#streams + 1] = stream
      end
      local ids = acks[stream]
      ids[#ids + 1] = ack
      local mine = acked[stream]
      if not mine then
        mine = {n = 0}
        acked[stream] = mine
      end
      mine[ack] = true
      mine.n = mine.n + 1
    end
  end
end
for _, stream in ipairs(streams) do
  local ids = acks[stream]
  for i = 1, #ids, 1000 do
    redis.call('XACK', stream, group, unpack(ids, i, math.min(i + 999, #ids)))
  end
end
return out
"""


@dataclass(slots=True)
class Unit:
    """Commands that commit together; entry `ack` of `stream` is acked if they all succeed.

    `stream` also orders units: after a failed unit, later units of that stream are skipped.
    Leave `ack` empty for units that ack nothing (failure records) or ack through their own
    XACK commands (a whole batch).
    """

    stream: str
    ack: str = ""
    commands: list[Command] = field(default_factory=list)


class Committer:
    """Runs the commit script for one consumer group."""

    def __init__(self, redis: Redis, group: str) -> None:
        self.group = group
        self._script = redis.register_script(SCRIPT)

    async def commit(self, units: Sequence[Unit]) -> dict[int, str | None]:
        """Commit `units` atomically; returns the index → error (or SKIPPED) of those that
        did not commit. Those left out committed: outputs written, entries acked."""
        if not units:
            return {}
        key = routing_key(units)
        reply = await self._script(keys=[key] if key else [], args=flatten(self.group, units))
        return parse_reply(reply)


def flatten(group: str, units: Sequence[Unit]) -> list[Arg]:
    """The script's ARGV: group, unit count, then per unit its header and commands."""
    args: list[Arg] = [group, len(units)]
    for unit in units:
        args += (unit.stream, unit.ack, len(unit.commands))
        for command in unit.commands:
            args.append(len(command))
            args += command
    return args


def routing_key(units: Sequence[Unit]) -> str | bytes:
    """A key the script touches, so a cluster client sends it to the node holding them all
    (the script itself reads only ARGV)."""
    for unit in units:
        if unit.stream:
            return unit.stream
        for command in unit.commands:
            if len(command) > 1:
                key = command[1]
                return key if isinstance(key, str | bytes) else str(key)
    return ""


def parse_reply(reply: Sequence[int | bytes | str]) -> dict[int, str | None]:
    """Pairs (index, status) → {index: error text, or SKIPPED}."""
    refused: dict[int, str | None] = {}
    for index, status in zip(reply[::2], reply[1::2], strict=True):
        if isinstance(status, int):
            refused[int(index)] = SKIPPED
        else:
            refused[int(index)] = status.decode() if isinstance(status, bytes) else status
    return refused
