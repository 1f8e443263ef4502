-- wrk script: POSTs distinct, valid registrations to /events/SLUG/register, as one browser
-- that fetched the form once (bench/run-http.py fetches it and passes what it found).
--
--   wrk ... -s bench/register.lua URL -- SLUG COOKIE CSRF_TOKEN LISTS RUN
--
-- SLUG: the event; COOKIE: the value of the admit_csrf cookie the page set; CSRF_TOKEN: the
-- form's csrf_token (valid for every post of that browser); LISTS: check-in list ids, comma
-- separated; RUN: 4 characters of [A-Za-z0-9_-], different for every wrk run against the same
-- event, so that no two requests of a benchmark share a form nonce or an email address.
--
-- Every request carries a fresh form_nonce (22 base64url characters whose last one is A, as
-- admit_token_valid wants: RUN, the wrk thread's number, a counter, "A") and a distinct email.
-- At the end, one line "WRK_RESULT {json}" gives the figures the driver reads.

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local threads = {}
local next_thread = 0

function setup(thread)
    thread:set("thread_number", next_thread)
    next_thread = next_thread + 1
    table.insert(threads, thread)
end

local path, headers, csrf, lists, run, counter

-- n in base64url, width digits.
local function digits(n, width)
    local out = {}
    for i = width, 1, -1 do
        local d = n % 64
        out[i] = alphabet:sub(d + 1, d + 1)
        n = (n - d) / 64
    end
    return table.concat(out)
end

function init(args)
    local slug = args[1]
    path = "/events/" .. slug .. "/register"
    headers = {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Cookie"] = "admit_csrf=" .. args[2],
    }
    csrf = args[3]
    lists = ""
    for id in string.gmatch(args[4], "[^,]+") do
        lists = lists .. "&lists=" .. id
    end
    run = args[5]
    assert(#run == 4, "RUN must be 4 characters")
    counter = 0
end

function request()
    counter = counter + 1
    -- 4 + 2 + 15 + 1 = 22 characters.
    local nonce = run .. digits(thread_number, 2) .. digits(counter, 15) .. "A"
    local body = "csrf_token=" .. csrf .. "&form_nonce=" .. nonce ..
                 "&given_name=Ada&family_name=Lovelace&email=b-" .. run .. "-" .. thread_number ..
                 "-" .. counter .. "%40example.org&organisation=Analytical+Engines" ..
                 "&organisation_type=research&country=BE&dietary=&accessibility=" .. lists ..
                 "&consent=yes"
    return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
        '"max_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
