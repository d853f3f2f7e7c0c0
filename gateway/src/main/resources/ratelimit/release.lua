-- Ends a lease and settles the token estimate against the actual count.
-- KEYS: as admit.lua. ARGV: lease_id, taken_tokens_scope0, taken_tokens_scope1, actual_tokens,
-- tpm_scope0, tpm_scope1. actual < 0 keeps the estimate.
local lease = ARGV[1]
local actual = tonumber(ARGV[4])
for s = 0, 1 do
  redis.call('ZREM', KEYS[3 + s * 3], lease)
  local tpm = tonumber(ARGV[5 + s])
  local taken = tonumber(ARGV[2 + s])
  if tpm > 0 and actual >= 0 and redis.call('EXISTS', KEYS[2 + s * 3]) == 1 then
    local lv = tonumber(redis.call('HGET', KEYS[2 + s * 3], 't')) or tpm
    lv = lv + taken - actual
    if lv > tpm then lv = tpm end
    if lv < -tpm then lv = -tpm end
    redis.call('HSET', KEYS[2 + s * 3], 't', tostring(lv))
  end
end
return 1
