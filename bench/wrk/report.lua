-- Shared by every phase: shape the request, print one JSON line at the end.
-- No per-request or per-response callback: wrk then runs its request loop in C, so the load
-- generator stays far from being the bottleneck (it counts non-2xx answers by itself).
-- BENCH_METHOD, BENCH_BODY, BENCH_CONTENT_TYPE and BENCH_AUTH shape the request; BENCH_AUTH goes
-- in "Authorization: Bearer", or as it is in the header BENCH_AUTH_HEADER names (make bench-peers:
-- Flask-Security's Authentication-Token).
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json"
end
local auth = os.getenv("BENCH_AUTH")
local auth_header = os.getenv("BENCH_AUTH_HEADER")
if auth and auth ~= "" then
  if auth_header and auth_header ~= "" then
    wrk.headers[auth_header] = auth
  else
    wrk.headers["Authorization"] = "Bearer " .. auth
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d,' ..
    ' "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
