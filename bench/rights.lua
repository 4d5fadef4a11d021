-- wrk script: rights checks with card data drawn at random from a file of request bodies
-- (one JSON object per line, made by `opentp cards`). Token and file come from the
-- environment: OPENTP_TOKEN, OPENTP_CARDS.
local bodies = {}
local token = os.getenv("OPENTP_TOKEN")
local headers = {}

function init(args)
  for line in io.lines(os.getenv("OPENTP_CARDS")) do
    bodies[#bodies + 1] = line
  end
  headers["Authorization"] = "Bearer " .. token
  headers["Content-Type"] = "application/json"
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  return wrk.format("POST", "/api/v1/rights/check", headers, bodies[math.random(#bodies)])
end

local statuses = {}
function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("p50_us %d\np99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
