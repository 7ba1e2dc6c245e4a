-- bench/http: wrk script. Every request carries a session cookie taken from a pool of ids, and
-- every response ("<id> <counter>") is checked and counted per id.
-- Arguments (after --): id prefix, pool size, mode, number of wrk threads.
--   mode "own":    each thread uses its own slice of the pool and never sends a request for an id
--                  that has one in flight, so no two requests wait for the same session lock.
--   mode "shared": every thread picks any id of the pool, concurrent requests on one id allowed
--                  (a small pool measures lock contention).
-- done() prints one "RESULT" line (requests, errors, latency percentiles in µs) and one "ID" line
-- per id: 200 responses seen, requests still in flight when wrk stopped (their writes may or may
-- not have landed), non-200 responses, and responses that repeated a counter value already seen.
local threads = {}
local nthread = 0

function setup(thread)
  thread:set("tid", nthread)
  nthread = nthread + 1
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
  pool = tonumber(args[2])
  exclusive = args[3] == "own"
  local nthreads = tonumber(args[4])
  ids = {}
  for i = 0, pool - 1 do
    if not exclusive or i % nthreads == tid then
      table.insert(ids, string.format("%s%026d", prefix, i))
    end
  end
  seen, inflight, bad, dup, values = {}, {}, 0, {}, {}
  for _, id in ipairs(ids) do
    seen[id], inflight[id], dup[id], values[id] = 0, 0, 0, {}
  end
  math.randomseed(12345 + tid)
end

function request()
  local id
  for _ = 1, 1000 do
    id = ids[math.random(#ids)]
    if not exclusive or inflight[id] == 0 then break end
  end
  inflight[id] = inflight[id] + 1
  return wrk.format("GET", "/", { ["Cookie"] = "PHPSESSID=" .. id })
end

function response(status, headers, body)
  local id, n = string.match(body, "^(%S+) (%d+)$")
  if status ~= 200 or id == nil or seen[id] == nil then
    -- Without an id in the body the request cannot be matched: its id stays "in flight".
    bad = bad + 1
    if id ~= nil and inflight[id] ~= nil then inflight[id] = inflight[id] - 1 end
    return
  end
  inflight[id] = inflight[id] - 1
  seen[id] = seen[id] + 1
  if values[id][n] then dup[id] = dup[id] + 1 end
  values[id][n] = true
end

function done(summary, latency, requests)
  local e = summary.errors
  local badTotal = 0
  for _, t in ipairs(threads) do badTotal = badTotal + t:get("bad") end
  io.write(string.format("RESULT requests=%d seconds=%.3f p50=%d p90=%d p99=%d max=%d bad=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    badTotal, e.connect, e.read, e.write, e.status, e.timeout))
  for _, t in ipairs(threads) do
    local s, f, d = t:get("seen"), t:get("inflight"), t:get("dup")
    for id, c in pairs(s) do
      io.write(string.format("ID %s %d %d %d\n", id, c, f[id], d[id]))
    end
  end
end
