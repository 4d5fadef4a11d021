-- wrk script: claims (POST /api/v1/claims) for beneficiaries drawn at random from a file of
-- claim bodies without their invoice number (one JSON object per line, made by bench/claims.sh
-- from `opentp cards`); each request gets an invoice number of its own, so every one is a new
-- claim computed, stored and fsynced. Token and file come from the environment: OPENTP_TOKEN,
-- OPENTP_CLAIMS.
local bodies = {}
local token = os.getenv("OPENTP_TOKEN")
local headers = {}
local prefix
local n = 0

function init(args)
  for line in io.lines(os.getenv("OPENTP_CLAIMS")) do
    bodies[#bodies + 1] = line:sub(2) -- without the opening brace
  end
  headers["Authorization"] = "Bearer " .. token
  headers["Content-Type"] = "application/json"
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
  -- Invoice numbers unique across threads and runs: a random prefix per thread.
  prefix = string.format("B%08x", math.random(0, 0x7fffffff))
end

function request()
  n = n + 1
  local body = '{"invoice":"' .. prefix .. "-" .. n .. '",' .. bodies[math.random(#bodies)]
  return wrk.format("POST", "/api/v1/claims", headers, body)
end

local statuses = {}
function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("p50_us %d\np99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
