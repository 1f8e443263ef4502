-- wrk script for GET benchmarks (the event page through admitd, the same bytes from nginx): the
-- request is wrk's own; this only prints, at the end, one line "WRK_RESULT {json}" with the
-- figures bench/run-http.py reads.

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,' ..
        '"p99_us":%d,"max_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,' ..
        '"timeout":%d}}\n',
        summary.requests, summary.duration, summary.bytes, latency:percentile(50),
        latency:percentile(90), latency:percentile(99), latency.max, e.connect, e.read, e.write,
        e.status, e.timeout))
end
