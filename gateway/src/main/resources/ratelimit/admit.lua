-- Atomically admits one request against the key (scope 0) and tenant (scope 1) limits.
-- KEYS: per scope s (0,1): rpm bucket, tpm bucket, concurrency lease set -> 6 keys.
-- ARGV: need_tokens, lease_id, lease_ttl_ms, then per scope: rpm, tpm, max_concurrency.
-- Returns {1, hdr_scope, req_left, tok_left} when admitted,
--         {0, scope, kind, retry_after_ms, req_left, tok_left} when denied.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local need = tonumber(ARGV[1])
local lease = ARGV[2]
local lease_ttl = tonumber(ARGV[3])
local req_left = {0, 0}
local tok_left = {0, 0}

local function level(key, cap)
  local v = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(v[1]) or cap
  local ts = tonumber(v[2]) or now
  if now > ts then tokens = tokens + (now - ts) * cap / 60000 end
  if tokens > cap then tokens = cap end
  return tokens
end

for s = 0, 1 do
  local rpm = tonumber(ARGV[4 + s * 3])
  local tpm = tonumber(ARGV[5 + s * 3])
  local conc = tonumber(ARGV[6 + s * 3])
  if rpm > 0 then
    local lv = level(KEYS[1 + s * 3], rpm)
    if lv < 1 then
      return {0, s, 'requests', math.ceil((1 - lv) * 60000 / rpm), 0, 0}
    end
    req_left[s + 1] = lv
  end
  if tpm > 0 then
    local n = math.min(need, tpm)
    local lv = level(KEYS[2 + s * 3], tpm)
    if lv < n then
      return {0, s, 'tokens', math.ceil((n - lv) * 60000 / tpm), math.floor(req_left[s + 1]), math.floor(math.max(lv, 0))}
    end
    tok_left[s + 1] = lv
  end
  if conc > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 + s * 3], '-inf', now)
    if redis.call('ZCARD', KEYS[3 + s * 3]) >= conc then
      return {0, s, 'concurrency', 1000, math.floor(req_left[s + 1]), math.floor(math.max(tok_left[s + 1], 0))}
    end
  end
end

local hdr = -1
for s = 0, 1 do
  local rpm = tonumber(ARGV[4 + s * 3])
  local tpm = tonumber(ARGV[5 + s * 3])
  local conc = tonumber(ARGV[6 + s * 3])
  if rpm > 0 then
    req_left[s + 1] = req_left[s + 1] - 1
    redis.call('HSET', KEYS[1 + s * 3], 't', tostring(req_left[s + 1]), 'ts', now)
    redis.call('PEXPIRE', KEYS[1 + s * 3], 120000)
  end
  if tpm > 0 then
    tok_left[s + 1] = tok_left[s + 1] - math.min(need, tpm)
    redis.call('HSET', KEYS[2 + s * 3], 't', tostring(tok_left[s + 1]), 'ts', now)
    redis.call('PEXPIRE', KEYS[2 + s * 3], 120000)
  end
  if conc > 0 then
    redis.call('ZADD', KEYS[3 + s * 3], now + lease_ttl, lease)
    redis.call('PEXPIRE', KEYS[3 + s * 3], lease_ttl + 60000)
  end
  if hdr < 0 and (rpm > 0 or tpm > 0) then hdr = s end
end
if hdr < 0 then hdr = 0 end
return {1, hdr, math.floor(math.max(req_left[hdr + 1], 0)), math.floor(math.max(tok_left[hdr + 1], 0))}
