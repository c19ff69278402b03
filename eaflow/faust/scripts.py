"""The transport's Lua scripts: each one round trip, atomic on the server.

Offsets are dense because every write goes through `PRODUCE` (`XADD key 0-*`, Redis ≥ 7.0);
compaction, retention, commits and the group's membership are scripts too, so two workers
never see half of a change.
"""

from __future__ import annotations

PRODUCE = """
-- KEYS[1] partition stream, KEYS[2] its latest-entry-per-key hash (compacted topics)
-- ARGV[1] '1' if the topic is compacted; then 5 per message: flags (1 key, 2 value,
-- 4 headers), key, value, timestamp ms, headers. Returns the new ids in order.
local compacting = ARGV[1] == '1'
local ids = {}
for i = 2, #ARGV, 5 do
  local flags = tonumber(ARGV[i])
  local fields = {'t', ARGV[i + 3]}
  local has_key = flags % 2 == 1
  if has_key then fields[#fields + 1] = 'k'; fields[#fields + 1] = ARGV[i + 1] end
  if math.floor(flags / 2) % 2 == 1 then
    fields[#fields + 1] = 'v'; fields[#fields + 1] = ARGV[i + 2]
  end
  if math.floor(flags / 4) % 2 == 1 then
    fields[#fields + 1] = 'h'; fields[#fields + 1] = ARGV[i + 4]
  end
  local id = redis.call('XADD', KEYS[1], '0-*', unpack(fields))
  if compacting and has_key then
    local old = redis.call('HGET', KEYS[2], ARGV[i + 1])
    if old then redis.call('XDEL', KEYS[1], old) end
    redis.call('HSET', KEYS[2], ARGV[i + 1], id)
  end
  ids[#ids + 1] = id
end
return ids
"""

OFFSETS = """
-- KEYS: partition streams. Returns per stream {earliest, highwater} as offsets: the first
-- entry kept and the next offset to be written ({0, 0} for a stream never written).
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then
    out[i] = {0, 0}
  else
    local info = redis.call('XINFO', 'STREAM', key)
    local last, first = '0-0', false
    for j = 1, #info, 2 do
      if info[j] == 'last-generated-id' then last = info[j + 1] end
      if info[j] == 'first-entry' then first = info[j + 1] end
    end
    local high = tonumber(string.match(last, '%-(%d+)$'))
    local low = high
    if first then low = tonumber(string.match(first[1], '%-(%d+)$')) - 1 end
    out[i] = {low, high}
  end
end
return out
"""

TRIM = """
-- KEYS[1] partition stream, KEYS[2] its latest-entry-per-key hash
-- ARGV[1] cutoff (ms): entries older are deleted, at most ARGV[2] of them per call.
-- Returns how many were deleted (ARGV[2]: call again).
local cutoff, most = tonumber(ARGV[1]), tonumber(ARGV[2])
local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', most)
local gone = {}
for _, entry in ipairs(entries) do
  local fields, ts, key = entry[2], nil, nil
  for j = 1, #fields, 2 do
    if fields[j] == 't' then ts = tonumber(fields[j + 1]) end
    if fields[j] == 'k' then key = fields[j + 1] end
  end
  if ts == nil or ts >= cutoff then break end
  gone[#gone + 1] = entry[1]
  if key and redis.call('HGET', KEYS[2], key) == entry[1] then
    redis.call('HDEL', KEYS[2], key)
  end
end
if #gone > 0 then redis.call('XDEL', KEYS[1], unpack(gone)) end
return #gone
"""

HEARTBEAT = """
-- KEYS[1] members, KEYS[2] epoch, KEYS[3] leader, KEYS[4] join
-- ARGV[1] member, ARGV[2] session ms, ARGV[3] '1' to ask for a new epoch (new subscription)
-- Returns {epoch, leader, members...}: expired members are dropped (and their join
-- metadata), a new or expired member or a new subscription bumps the epoch, and the
-- leader lease goes to this member when free (or is renewed when it holds it).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local session = tonumber(ARGV[2])
local bump = ARGV[3] == '1'
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then bump = true end
redis.call('ZADD', KEYS[1], now + session, ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
for _, gone in ipairs(expired) do
  redis.call('ZREM', KEYS[1], gone)
  redis.call('HDEL', KEYS[4], gone)
  if redis.call('GET', KEYS[3]) == gone then redis.call('DEL', KEYS[3]) end
  bump = true
end
if bump then redis.call('INCR', KEYS[2]) end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', session) == false then
  if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('PEXPIRE', KEYS[3], session) end
end
local out = {tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('GET', KEYS[3]) or ''}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do out[#out + 1] = member end
return out
"""

JOIN = """
-- KEYS[1] epoch, KEYS[2] join. ARGV[1] member, ARGV[2] epoch, ARGV[3] metadata.
-- The member's metadata for that epoch, unless the epoch has moved on (returns 0).
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
return 1
"""

EVICT = """
-- KEYS[1] members, KEYS[2] epoch, KEYS[3] join. ARGV: members that did not join in time.
for _, gone in ipairs(ARGV) do
  redis.call('ZREM', KEYS[1], gone)
  redis.call('HDEL', KEYS[3], gone)
end
return redis.call('INCR', KEYS[2])
"""

ASSIGN = """
-- KEYS[1] epoch, KEYS[2] assign, KEYS[3] leader. ARGV[1] leader member, ARGV[2] epoch,
-- then pairs field, value (member → assignment, o:{tp} → owner). Written only while the
-- epoch is the one assigned and the caller still leads (else 0).
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'gen', ARGV[2], unpack(ARGV, 3))
return 1
"""

COMMIT = """
-- KEYS[1] offsets, KEYS[2] assign. ARGV[1] member, ARGV[2] its generation, then pairs
-- tp field, offset. Fenced: written only if that generation is the one assigned and the
-- member owns every partition in it (1), else nothing (0: generation, -1: ownership).
if redis.call('HGET', KEYS[2], 'gen') ~= ARGV[2] then return 0 end
for i = 3, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], 'o:' .. ARGV[i]) ~= ARGV[1] then return -1 end
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""

LEAVE = """
-- KEYS[1] members, KEYS[2] epoch, KEYS[3] leader, KEYS[4] join. ARGV[1] member.
-- A member that stops leaves at once: the others rebalance without waiting for it to expire.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('INCR', KEYS[2]) end
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1
"""
