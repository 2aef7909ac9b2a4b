-- SPDX-License-Identifier: MIT
-- wrk script for tests/bench/bench.py: one scenario's requests, pre-built once per thread.
--   wrk ... -s scenario.lua URL -- MODE KEYFILE [BADFILE BADEVERY]
-- MODE: verify (GET /rest/verify, X-API-Key), credit (POST /rest/credit), soap-credit
-- (CreditRemaining, the key in SessionIDHeader), soap-login (Login; KEYFILE holds
-- "user:password"). KEYFILE holds one credential a line; with BADFILE, every BADEVERY-th request
-- carries one of BADFILE's instead. done() prints one parseable "BENCH ..." line.

local mode, keyfile, badfile, badevery = nil, nil, nil, 0
local reqs, n, i = {}, 0, 0

local function lines(path)
  local t = {}
  local f = assert(io.open(path, "r"))
  for l in f:lines() do
    if #l > 0 then t[#t + 1] = l end
    if #t >= 10000 then break end
  end
  f:close()
  return t
end

local NS = "http://TrackService.TrackRoad.com/"
local ENV = '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'

local function build(cred)
  if mode == "verify" then
    return wrk.format("GET", "/rest/verify", { ["X-API-Key"] = cred }, nil)
  elseif mode == "credit" then
    return wrk.format("POST", "/rest/credit", { ["X-API-Key"] = cred }, "")
  elseif mode == "soap-credit" then
    local body = ENV .. '<soap:Header><SessionIDHeader xmlns="' .. NS .. '"><SessionID>' ..
      cred .. '</SessionID></SessionIDHeader></soap:Header><soap:Body><CreditRemaining xmlns="' ..
      NS .. '"/></soap:Body></soap:Envelope>'
    return wrk.format("POST", "/TrackService.asmx", {
      ["Content-Type"] = "text/xml; charset=utf-8",
      ["SOAPAction"] = '"' .. NS .. 'CreditRemaining"' }, body)
  elseif mode == "soap-login" then
    local user, pw = cred:match("^([^:]+):(.*)$")
    local body = ENV .. '<soap:Body><Login xmlns="' .. NS .. '"><userName>' .. user ..
      '</userName><password>' .. pw .. '</password></Login></soap:Body></soap:Envelope>'
    return wrk.format("POST", "/TrackService.asmx", {
      ["Content-Type"] = "text/xml; charset=utf-8",
      ["SOAPAction"] = '"' .. NS .. 'Login"' }, body)
  end
  error("unknown mode " .. tostring(mode))
end

function init(args)
  mode, keyfile, badfile, badevery = args[1], args[2], args[3], tonumber(args[4] or "0")
  local good = lines(keyfile)
  local bad = badfile and lines(badfile) or {}
  assert(#good > 0, "no credentials in " .. keyfile)
  -- A fixed cycle of up to 1000 requests; with a bad file, every badevery-th is a bad one.
  local total = math.min(1000, math.max(#good, 100))
  local g, b = 0, 0
  for k = 1, total do
    if badevery > 0 and #bad > 0 and k % badevery == 0 then
      b = b % #bad + 1
      reqs[k] = build(bad[b])
    else
      g = g % #good + 1
      reqs[k] = build(good[g])
    end
  end
  n = total
  -- Threads start at different places in the cycle.
  i = math.random(0, n - 1)
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d " ..
    "max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
