// Lua scripts of the fleet: compare-then-act on leases (acquire after INCR, batch renew, release), fenced writes of an account's token record and the in-flight mark of a refresh token being spent.

/**
 * Acquire. KEYS: lease, generation. ARGV: holder prefix (`<worker>:<epoch>`), ttl ms.
 * Takes the lease only when nobody holds it: INCR the generation, then SET NX PX with the new
 * generation in the value. Returns the lease value, or false when held.
 */
export const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local gen = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. ':' .. gen
redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2])
return value`;

/**
 * Batch renew. KEYS: leases. ARGV: ttl ms, then the expected value of each lease.
 * Extends each lease still holding its expected value; returns a 1/0 list (0: lost, never extended).
 */
export const RENEW = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

/** Release. KEYS: lease. ARGV: expected value. Deletes the lease only if it is still ours. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Compare-and-set of the token record. KEYS: account hash. ARGV: expected version, sealed token
 * record, refreshed-at (ms, or '' to keep), fingerprint of the refresh token written. The version is
 * the fence of tokens: a refresh token can only be rotated by the refresh that read its version, so
 * the successor it produced is stored even by a worker that lost its lease meanwhile (dropping a
 * just-issued refresh token would lose the account). An in-flight mark (`spend`, see SPEND) on
 * another refresh token is cleared: that token is no longer the stored one, nobody will send it.
 * Returns the new version, -2 (the version moved: re-read) or -3 (the account is gone).
 */
export const SAVE_TOKENS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
local v = tonumber(redis.call('HGET', KEYS[1], 'tokv') or '0')
if v ~= tonumber(ARGV[1]) then return -2 end
redis.call('HSET', KEYS[1], 'tok', ARGV[2], 'tokv', v + 1)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'refreshedAt', ARGV[3]) end
local mark = redis.call('HGET', KEYS[1], 'spend')
if mark and string.match(mark, '^[^|]*|([^|]*)|') ~= ARGV[4] then redis.call('HDEL', KEYS[1], 'spend') end
return v + 1`;

/**
 * Mark a refresh token as being spent (the in-flight mark; no TTL). KEYS: account hash, lease.
 * ARGV: expected token-record version, mark id, fingerprint of the refresh token, our lease value
 * ('' = not checked), abandon-after ms, a mark whose holder is known dead ('' = none). The mark is
 * `<id>|<fingerprint>|<redis ms>`. Only the lease holder may mark, only on the version it read, and
 * only if no unresolved mark on the same token is younger than abandon-after (by Redis' clock, the
 * same for every worker), unless it is exactly the mark given as dead. Returns {1, now} (marked),
 * {2, age} (marked over an abandoned mark), {3, age} (over a dead holder's), {-1, age, mark}
 * (another spend of this token is in flight: wait), {-2} (the version moved: re-read), {-3}
 * (account gone), {-4} (the lease is not ours).
 */
export const SPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-3} end
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[4] then return {-4} end
local v = tonumber(redis.call('HGET', KEYS[1], 'tokv') or '0')
if v ~= tonumber(ARGV[1]) then return {-2} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {1, now}
local mark = redis.call('HGET', KEYS[1], 'spend')
if mark then
  local fp, at = string.match(mark, '^[^|]*|([^|]*)|(%d+)$')
  if fp == ARGV[3] and at then
    local age = now - tonumber(at)
    if mark == ARGV[6] then
      out = {3, age}
    elseif age < tonumber(ARGV[5]) then
      return {-1, age, mark}
    else
      out = {2, age}
    end
    redis.call('HINCRBY', KEYS[1], 'abandoned', 1)
  end
end
redis.call('HSET', KEYS[1], 'spend', ARGV[2] .. '|' .. ARGV[3] .. '|' .. now)
return out`;

/** Clear our in-flight mark (the request was never sent, or answered without a new token). KEYS: account hash. ARGV: mark id. 1 if cleared. */
export const UNSPEND = `
local mark = redis.call('HGET', KEYS[1], 'spend')
if mark and string.sub(mark, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then return redis.call('HDEL', KEYS[1], 'spend') end
return 0`;

/**
 * Store the tokens a spend got (KEYS: account hash. ARGV: our mark id, sealed token record, refreshed
 * at ms): only while the in-flight mark is still ours, whatever the version (a sibling's save of the
 * same or an older token may have moved it meanwhile; ours is the newest, and the only copy). Clears
 * the mark. Returns the new version, -2 (the mark is not ours: a consent replaced the grant, or the
 * mark was abandoned and taken over) or -3 (the account is gone).
 */
export const SAVE_SPENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
local mark = redis.call('HGET', KEYS[1], 'spend')
if not mark or string.sub(mark, 1, #ARGV[1] + 1) ~= ARGV[1] .. '|' then return -2 end
local v = tonumber(redis.call('HGET', KEYS[1], 'tokv') or '0')
redis.call('HSET', KEYS[1], 'tok', ARGV[2], 'tokv', v + 1, 'refreshedAt', ARGV[3])
redis.call('HDEL', KEYS[1], 'spend')
return v + 1`;

/**
 * A consent given with `botrun auth <bot> --account <jid>`. KEYS: account hash, consent set. ARGV:
 * expected version, sealed token record, JID. Compare-and-set like SAVE_TOKENS, and in the same step
 * the account is `ready` again and leaves the consent set (the set every worker reads each round);
 * an in-flight mark of the old grant is cleared (a new grant's refresh token was never sent).
 * Returns the new version, -2 (the version moved: re-read) or -3 (the account is gone).
 */
export const GRANT_CONSENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
local v = tonumber(redis.call('HGET', KEYS[1], 'tokv') or '0')
if v ~= tonumber(ARGV[1]) then return -2 end
redis.call('HSET', KEYS[1], 'tok', ARGV[2], 'tokv', v + 1, 'state', 'ready', 'reason', '')
redis.call('HDEL', KEYS[1], 'spend')
redis.call('SREM', KEYS[2], ARGV[3])
return v + 1`;

/**
 * Fenced state change. KEYS: lease, account hash, consent set. ARGV: our lease value, state, reason,
 * JID. Writes the state and keeps the consent set in step; 1 if written, 0 if the lease is not ours.
 */
export const SET_STATE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'reason', ARGV[3])
if ARGV[2] == 'consent' then redis.call('SADD', KEYS[3], ARGV[4]) else redis.call('SREM', KEYS[3], ARGV[4]) end
return 1`;

/**
 * Reclaim after a Redis restart lost the keys. KEYS: lease, generation. ARGV: our lease value, its
 * generation, ttl ms. Puts our lease back only if nobody holds it, and keeps the generation counter
 * at least at ours (fencing numbers never go back). 1 if reclaimed or still ours, 0 if someone else holds it.
 */
export const RECLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return 1 end
if cur then return 0 end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;
