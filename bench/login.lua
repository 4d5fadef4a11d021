-- wrk script: sign-ins of the demo member (password only: members may skip TOTP), so that
-- every request costs a real argon2id verification. OPENTP_LOGIN, OPENTP_PASSWORD.
local body
function init(args)
  body = string.format('{"login":"%s","password":"%s"}', os.getenv("OPENTP_LOGIN"),
                       os.getenv("OPENTP_PASSWORD"))
end
function request()
  return wrk.format("POST", "/api/v1/auth/login", {["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  io.write(string.format("p50_us %d\np99_us %d\n", latency:percentile(50), latency:percentile(99)))
end
