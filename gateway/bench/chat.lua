-- wrk script for the gateway benchmark (gateway/bench/run.sh).
-- env: BENCH_STREAM=1 for SSE calls; BENCH_RATE=<req/s over all connections> paces each
-- connection to one request every connections/rate seconds (started at random offsets), so the
-- load is a near-constant rate rather than wrk's default closed loop; unset = closed loop.
local stream = os.getenv("BENCH_STREAM") == "1"
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local conns = tonumber(os.getenv("BENCH_CONNECTIONS") or "1")
local threads = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer kmain.s3cretmain"
wrk.body = '{"model":"glm-4-flash","messages":[{"role":"user","content":"hi"}]'
  .. (stream and ',"stream":true' or '') .. '}'

function setup(thread)
  table.insert(threads, thread)
end

local interval_ms = rate > 0 and (conns * 1000.0 / rate) or 0
local first = true

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function delay()
  if interval_ms == 0 then return 0 end
  if first then
    first = false
    return math.random() * interval_ms
  end
  return interval_ms
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.1f rate=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
