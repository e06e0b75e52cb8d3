-- wrk script used by bench/http.sh (wrk 4.x, LuaJIT). Settings come from the environment,
-- because wrk loads this file once per thread plus once in the main thread:
--
--   WRK_STOP_AFTER=N   each thread stops after N responses (fixed request count; wrk
--                      itself only knows durations). 0 or unset: run for wrk's -d.
--   WRK_DONE_DIR=DIR   with WRK_STOP_AFTER: a thread that has stopped creates DIR/done.<n>.
--                      Debian's wrk 4.1 keeps its main thread asleep for the whole -d even
--                      when every thread has stopped, so http.sh waits for one file per
--                      thread and then sends wrk SIGINT, which ends the run with results.
--   WRK_EXPECT=CODE    count responses whose status is not CODE (e.g. 200 for the home
--                      page, where a 302 back to /login means the session was refused).
--                      wrk alone counts only statuses >= 400.
--
-- done() prints one machine-readable line that http.sh parses:
--   WRKRESULT requests=.. duration_us=.. p50_us=.. p99_us=.. status_errors=.. unexpected=.. socket_errors=..

local stop_after = tonumber(os.getenv("WRK_STOP_AFTER") or "") or 0
local expect     = tonumber(os.getenv("WRK_EXPECT") or "")
local done_dir   = os.getenv("WRK_DONE_DIR")

-- Per-thread counters: globals, so that the main thread can read them with thread:get().
-- "id" is set by setup() below.
seen, unexpected, id = 0, 0, 0

-- Defining response() makes wrk hand every response to Lua, which costs time; so it is
-- defined only when one of the two settings asks for it.
if stop_after > 0 or expect then
    function response(status, headers, body)
        seen = seen + 1
        if expect and status ~= expect then
            unexpected = unexpected + 1
        end
        if stop_after > 0 and seen == stop_after then
            wrk.thread:stop()          -- ends this thread's event loop
            if done_dir then
                local f = io.open(done_dir .. "/done." .. id, "w")
                if f then f:close() end
            end
        end
    end
end

-- Main thread: remember every worker thread to collect its counters in done().
local threads = {}
function setup(thread)
    table.insert(threads, thread)
    thread:set("id", #threads)         -- 1, 2, ...: names the thread's done file
end

function done(summary, latency, requests)
    local unexp = 0
    for _, t in ipairs(threads) do
        unexp = unexp + (t:get("unexpected") or 0)
    end
    local e = summary.errors
    io.write(string.format(
        "WRKRESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d unexpected=%d socket_errors=%d\n",
        summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99),   -- microseconds
        e.status, unexp, e.connect + e.read + e.write + e.timeout))
end
