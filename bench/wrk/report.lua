-- wrk script of the CareerRelay benchmark. BENCH_PATHS (a file with one path per line) spreads
-- the requests over many links, as a mail-out of personal links does; the summary is printed as
-- one JSON line that bench/run.py parses (latencies in microseconds).
local paths = {}
local file = os.getenv("BENCH_PATHS")
if file then
  for line in io.lines(file) do
    if #line > 0 then paths[#paths + 1] = line end
  end
end

wrk.headers["User-Agent"] =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 " ..
  "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
wrk.headers["Accept"] = "text/html,application/xhtml+xml"
wrk.headers["Accept-Language"] = "ja-JP,ja;q=0.9"
wrk.headers["X-Forwarded-Proto"] = "https"

local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(7919 * (id + 1))
end

function request()
  if #paths > 0 then
    return wrk.format("GET", paths[math.random(#paths)])
  end
  return wrk.format("GET")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "rps": %.3f, "p50_us": %d, ' ..
    '"p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors_connect": %d, ' ..
    '"errors_read": %d, "errors_write": %d, "errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
