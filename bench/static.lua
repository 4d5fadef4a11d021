-- wrk script for the reference run: the same headers as the rights checks, a GET of a static
-- file of the same size as a rights-check response.
local token = os.getenv("OPENTP_TOKEN") or "x"
local headers = {}
function init(args)
  headers["Authorization"] = "Bearer " .. token
  headers["Content-Type"] = "application/json"
end
function request()
  return wrk.format("GET", "/response.json", headers)
end
function done(summary, latency, requests)
  io.write(string.format("p50_us %d\np99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
