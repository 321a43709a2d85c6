-- wrk script for bench/fleetTraffic.ts: POST a list of prepared JSON bodies, one device
-- per line of a file, each request string built once in init() so the generator's cost per
-- request is a table lookup (https://github.com/wg/wrk/blob/master/SCRIPTING).
--
-- Arguments (after `--`): FILE PATH FIRST COUNT MODE THREADS [DOOR]
--   FILE     one request a line: a JSON body, or for DOOR nginx `SNI<TAB>escaped PEM`
--   PATH     request path (e.g. /v1/authorize)
--   FIRST    0-based index of the first line used; COUNT lines from there
--   MODE     cycle: round the lines for the whole run (warm devices);
--            once: each line once (cold devices, a storm); when a thread has sent its
--            share it repeats its last line until every answer came back, counted as
--            `extra` (at most its connections), and prints DONE then
--   THREADS  wrk's -t, so thread i takes lines i, i+THREADS, ...
--   DOOR     json (default): POST the line as the body; nginx: GET with the line's two
--            fields as NGINX's auth_request headers X-SSL-Server-Name and X-SSL-Client-Cert
-- Every answer other than 200 is counted as `bad` (an allow is expected for every device);
-- `errors` are wrk's socket errors and timeouts.
-- done() prints one line `WRK {json}` with wrk's totals and these counts; init() prints
-- `INITCPU seconds`, the process's CPU at the end of start-up (os.clock).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local requests = {}
local sent = 0
local mode = "cycle"

function init(args)
  local file, path = args[1], args[2]
  local first, total = tonumber(args[3]), tonumber(args[4])
  mode = args[5]
  local nthreads = tonumber(args[6])
  local nginx = args[7] == "nginx"
  local headers = { ["Content-Type"] = "application/json" }
  count = 0
  local line_no = 0
  for line in io.lines(file) do
    if line_no >= first + total then break end
    if line_no >= first and (line_no - first) % nthreads == id then
      count = count + 1
      if nginx then
        local tab = string.find(line, "\t", 1, true)
        requests[count] = wrk.format("GET", path, {
          ["X-SSL-Server-Name"] = string.sub(line, 1, tab - 1),
          ["X-SSL-Client-Cert"] = string.sub(line, tab + 1),
        }, nil)
      else
        requests[count] = wrk.format("POST", path, headers, line)
      end
    end
    line_no = line_no + 1
  end
  answered = 0
  bad = 0
  extra = 0
  -- The CPU the process spent so far (reading the file, building the requests): with -t1
  -- all of it is start-up, which the bench takes off the generator's CPU per request.
  io.write(string.format("INITCPU %.4f\n", os.clock()))
  io.flush()
end

function request()
  sent = sent + 1
  if mode == "cycle" then
    return requests[((sent - 1) % count) + 1]
  end
  if sent > count then
    extra = extra + 1
    return requests[count]
  end
  if sent == 1 then
    io.write("START " .. id .. "\n")
    io.flush()
  end
  return requests[sent]
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then bad = bad + 1 end
  if mode == "once" and answered == count then
    io.write("DONE " .. id .. "\n")
    io.flush()
  end
end

function done(summary, latency, requests)
  local bad_total, extra_total, lines = 0, 0, 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    extra_total = extra_total + t:get("extra")
    lines = lines + t:get("count")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"durationUs":%d,"bad":%d,"extra":%d,"lines":%d,"errors":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, bad_total, extra_total, lines,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
