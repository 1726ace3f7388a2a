// Lua scripts of the fleet: compare-then-act on leases (acquire after INCR, batch renew, release) and fenced writes of an account's token record.

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
 * record, refreshed-at (ms, or '' to keep). The version is the fence of tokens: a refresh token can
 * only be rotated by the refresh that read its version, so the successor it produced is stored even
 * by a worker that lost its lease meanwhile (dropping a just-issued refresh token would lose the
 * account). Returns the new version, -2 (the version moved: re-read) or -3 (the account is gone).
 */
export const SAVE_TOKENS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
local v = tonumber(redis.call('HGET', KEYS[1], 'tokv') or '0')
if v ~= tonumber(ARGV[1]) then return -2 end
redis.call('HSET', KEYS[1], 'tok', ARGV[2], 'tokv', v + 1)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'refreshedAt', ARGV[3]) end
return v + 1`;

/**
 * A consent given with `botrun auth <bot> --account <jid>`. KEYS: account hash, consent set. ARGV:
 * expected version, sealed token record, JID. Compare-and-set like SAVE_TOKENS, and in the same step
 * the account is `ready` again and leaves the consent set (the set every worker reads each round).
 * Returns the new version, -2 (the version moved: re-read) or -3 (the account is gone).
 */
export const GRANT_CONSENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -3 end
local v = tonumber(redis.call('HGET', KEYS[1], 'tokv') or '0')
if v ~= tonumber(ARGV[1]) then return -2 end
redis.call('HSET', KEYS[1], 'tok', ARGV[2], 'tokv', v + 1, 'state', 'ready', 'reason', '')
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

/** Release the refresh lock. KEYS: lock. ARGV: our token. */
export const UNLOCK = RELEASE;

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
