// The Lua scripts of the Redis limit store. Each runs atomically on the server, on the
// server's clock (TIME), so that processes with different clocks count in the same windows.
// A counter is a hash {e: the end of its window in ms, n: its value}; a cooldown is a hash
// {f: failures in a row, u: skipped until (ms), s: seconds of a cooldown}.

// A script may write after reading TIME because Redis 5 and later replicate a script's
// effects, not the script: Redis 5 or later is needed.
const PREAMBLE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: counters; ARGV: amount, limit, window (ms) per counter. Adds all or none. */
export const RESERVE: string = `${PREAMBLE}
local refused, refusedUsed, refusedEnd = 0, 0, 0
local ends, fresh = {}, {}
for i = 1, #KEYS do
  local amount = tonumber(ARGV[i * 3 - 2])
  local limit = tonumber(ARGV[i * 3 - 1])
  local window = tonumber(ARGV[i * 3])
  local finish = now - (now % window) + window
  local state = redis.call('HMGET', KEYS[i], 'e', 'n')
  local used = 0
  if tonumber(state[1]) == finish then used = tonumber(state[2]) or 0 else fresh[i] = true end
  ends[i] = finish
  if used + amount > limit and (refused == 0 or finish > refusedEnd) then
    refused, refusedUsed, refusedEnd = i, used, finish
  end
end
if refused > 0 then return {0, refused - 1, refusedUsed, refusedEnd - now} end
for i = 1, #KEYS do
  local amount = tonumber(ARGV[i * 3 - 2])
  if fresh[i] then
    redis.call('HSET', KEYS[i], 'e', ends[i], 'n', amount)
    redis.call('PEXPIREAT', KEYS[i], ends[i] + 60000)
  else
    redis.call('HINCRBY', KEYS[i], 'n', amount)
  end
end
return {1, now}
`;

/** KEYS: counters; ARGV: the reservation's time, then delta, window (ms) per counter. */
export const SETTLE: string = `
local at = tonumber(ARGV[1])
for i = 1, #KEYS do
  local delta = tonumber(ARGV[i * 2])
  local window = tonumber(ARGV[i * 2 + 1])
  local finish = at - (at % window) + window
  if tonumber(redis.call('HGET', KEYS[i], 'e')) == finish then
    if redis.call('HINCRBY', KEYS[i], 'n', delta) < 0 then redis.call('HSET', KEYS[i], 'n', 0) end
  end
end
return 1
`;

/** KEYS: counters; ARGV: window (ms) per counter. Gives value, ms to the window's end, each. */
export const READ: string = `${PREAMBLE}
local out = {}
for i = 1, #KEYS do
  local window = tonumber(ARGV[i])
  local finish = now - (now % window) + window
  local state = redis.call('HMGET', KEYS[i], 'e', 'n')
  local used = 0
  if tonumber(state[1]) == finish then used = tonumber(state[2]) or 0 end
  out[#out + 1] = used
  out[#out + 1] = finish - now
end
return out
`;

/** KEYS[1]: a cooldown. 1 while it cools down; the first caller after its end gets 0. */
export const COOLING: string = `
local state = redis.call('HMGET', KEYS[1], 'u', 's')
local untilMs = tonumber(state[1]) or 0
if untilMs == 0 then return 0 end
${PREAMBLE}
if now < untilMs then return 1 end
redis.call('HSET', KEYS[1], 'u', now + math.floor((tonumber(state[2]) or 0) * 1000))
return 0
`;

/** KEYS[1]: a cooldown; ARGV: threshold, seconds. Counts a failure in a row. */
export const FAILURE: string = `${PREAMBLE}
local failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
local threshold = tonumber(ARGV[1])
local seconds = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 's', ARGV[2])
if threshold > 0 and failures >= threshold then
  redis.call('HSET', KEYS[1], 'u', now + math.floor(seconds * 1000))
end
redis.call('EXPIRE', KEYS[1], 86400 + math.ceil(seconds))
return failures
`;
