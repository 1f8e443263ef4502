#!/usr/bin/env python3
"""CSV export: time and memory at 10,000 and 100,000 rows (see bench/README.md, "CSV export:
time and memory").

Sets up a private PostgreSQL (scripts/pg, in a temporary folder), one event per size with that
many confirmed registrations on one check-in list (names with commas, quotes and formula-looking
organisations, so that quoting and neutralisation do their work), an admin, and admitd. Then, per
size and round, interleaved (baseline first in even rounds, candidates first in odd ones):

  baseline   psql \\copy of the very query the export runs (sql/queries/export_*.sql), as CSV,
             to /dev/null: PostgreSQL's own CSV writer, no HTTP
  http       GET /admin/events/SLUG/registrations.csv (and attendance.csv) over HTTP from a
             logged-in session, read to the end: wall time, and admitd's peak RSS during the
             export (VmHWM, reset through /proc/PID/clear_refs before each export: needs root or
             the same user)
  cli        admit export --what registrations -o - (stdout on /dev/null): wall time and peak
             RSS (GNU time)

and prints medians, the ratio to the baseline, and whether 100,000 rows took under a second.
Figures mean something only from a Release build without sanitizers:

    cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel -j
    bench/export_bench.py --build build-rel [--rounds 5] [--json]
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = (10000, 100000)
PASSWORD = "benchmark password"


def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise SystemExit("%s failed: %s" % (" ".join(cmd[:3]), done.stderr.strip()))
    return done.stdout


def psql(dsn, sql):
    return run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql])


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit("no %s in /proc/%d/status" % (field, pid))


def reset_peak(pid):
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


GNU_TIME = "/usr/bin/time"


def timed_child(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (seconds, peak RSS in KiB) of that one child. The peak comes from GNU
    time (Debian package "time"), a small C program: wait4 on a child forked by Python would
    count the Python image the child was before exec (about 20 MiB)."""
    use_time = os.access(GNU_TIME, os.X_OK)
    full = [GNU_TIME, "-f", "peak-kib=%M"] + cmd if use_time else cmd
    start = time.monotonic()
    proc = subprocess.Popen(full, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("%s failed: %s" % (" ".join(cmd[:3]), err.strip()))
    m = re.search(r"peak-kib=(\d+)", err)
    return seconds, int(m.group(1)) if m else usage.ru_maxrss


class Admitd:
    def __init__(self, build, dsn, keys, log):
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([os.path.join(build, "server", "admitd"), "--db", dsn,
                                      "--keys", keys, "--listen", "127.0.0.1:0",
                                      "--templates", os.path.join(TOP, "templates")],
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(log) as f:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.05)
        raise SystemExit("admitd did not start: see %s" % log)

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r, conn

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def login(server):
    r, conn = server.request("GET", "/admin/login")
    page = r.read().decode()
    cookies = {c.split("=", 1)[0]: c.split("=", 1)[1].split(";")[0]
               for c in r.headers.get_all("Set-Cookie")}
    conn.close()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": "bench@example.org",
                                   "password": PASSWORD, "next": "/admin"})
    r, conn = server.request("POST", "/admin/login", body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join("%s=%s" % kv for kv in cookies.items())})
    r.read()
    for c in r.headers.get_all("Set-Cookie"):
        name, rest = c.split("=", 1)
        cookies[name] = rest.split(";")[0]
    conn.close()
    if r.status != 303:
        raise SystemExit("login failed: %d" % r.status)
    return "; ".join("%s=%s" % kv for kv in cookies.items())


def http_export(server, cookie, path):
    """Seconds to read the whole export, its size, and admitd's peak RSS (KiB) meanwhile."""
    reset_peak(server.proc.pid)
    start = time.monotonic()
    r, conn = server.request("GET", path, headers={"Cookie": cookie})
    size = 0
    while True:
        chunk = r.read(1 << 16)
        if not chunk:
            break
        size += len(chunk)
    seconds = time.monotonic() - start
    conn.close()
    if r.status != 200:
        raise SystemExit("%s: %d" % (path, r.status))
    return seconds, size, status_kb(server.proc.pid, "VmHWM")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(TOP, "build-rel"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    admit = os.path.join(args.build, "cli", "admit")
    work = tempfile.mkdtemp(prefix="admit-export-bench-")
    pg_dir = os.path.join(work, "pg")
    server = None
    try:
        dsn = run([os.path.join(TOP, "scripts", "pg"), "start", pg_dir]).strip()
        run([admit, "migrate", "--db", dsn])
        run([admit, "keygen", "--dir", os.path.join(work, "keys")])
        slugs = {}
        for n in SIZES:
            slug = "bench-%d" % n
            slugs[n] = slug
            run([admit, "event", "create", "--db", dsn, "--slug", slug, "--name", "Bench",
                 "--starts", "2099-10-29 09:00", "--ends", "2099-10-30 17:00", "--capacity",
                 str(n), "--list", "Day 1@2099-10-29"])
            psql(dsn, "INSERT INTO registrations (event_id, token, form_nonce, status,"
                      " given_name, family_name, email, organisation, organisation_type,"
                      " country, dietary, consent_at, confirmed_at)"
                      " SELECT e.id, '%s-' || lpad(i::text, 16, '0'), 'nonce-' || lpad(i::text,"
                      " 16, '0'), 'confirmed', 'Given ' || i, 'Family, \"' || i || '\"',"
                      " 'person' || i || '@example.org', '=Org ' || (i %% 97), 'research', 'BE',"
                      " CASE WHEN i %% 10 = 0 THEN 'No nuts,' || chr(10) || 'please' ELSE '' END,"
                      " now(), now() FROM events e, generate_series(1, %d) i WHERE e.slug = '%s'"
                      % (slug, n, slug))
            psql(dsn, "INSERT INTO registration_lists SELECT r.id, l.id FROM registrations r"
                      " JOIN checkin_lists l ON l.event_id = r.event_id JOIN events e ON"
                      " e.id = r.event_id WHERE e.slug = '%s'" % slug)
            psql(dsn, "INSERT INTO scans (event_id, registration_id, list_id, gate, direction,"
                      " scanned_at, verdict, client_nonce, source) SELECT r.event_id, r.id, l.id,"
                      " 'A', 'entry', now(), 'valid', 'bench-nonce-' || r.id, 'manual' FROM"
                      " registrations r JOIN checkin_lists l ON l.event_id = r.event_id JOIN"
                      " events e ON e.id = r.event_id WHERE e.slug = '%s' AND r.id %% 2 = 0"
                      % slug)
            psql(dsn, "INSERT INTO admissions (registration_id, list_id, event_id, first_scan_id,"
                      " first_at, first_gate) SELECT s.registration_id, s.list_id, s.event_id,"
                      " s.id, s.scanned_at, s.gate FROM scans s JOIN events e ON e.id ="
                      " s.event_id WHERE e.slug = '%s'" % slug)
        psql(dsn, "VACUUM ANALYZE")
        done = subprocess.run([admit, "admin", "add", "--db", dsn, "--email",
                               "bench@example.org"], input=PASSWORD + "\n", text=True,
                              capture_output=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        server = Admitd(args.build, dsn, os.path.join(work, "keys"),
                        os.path.join(work, "admitd.log"))
        cookie = login(server)
        idle_kb = status_kb(server.proc.pid, "VmRSS")
        queries = {kind: open(os.path.join(TOP, "sql", "queries", "export_%s.sql" % kind))
                   .read() for kind in ("registrations", "attendance")}

        results = {}
        for n in SIZES:
            slug = slugs[n]
            event_id = psql(dsn, "SELECT id FROM events WHERE slug = '%s'" % slug).strip()
            sample = {"baseline_s": [], "http_s": [], "http_peak_kb": [], "cli_s": [],
                      "cli_peak_kb": [], "attendance_http_s": [], "attendance_peak_kb": []}
            lines = [l for l in queries["registrations"].splitlines()
                     if not l.startswith("--")]
            query = " ".join(lines).replace("$1::integer", event_id)
            for r in range(args.rounds):
                def baseline():
                    s, _ = timed_child(["psql", "-X", "-q", "-d", dsn, "-c",
                                        "\\copy (%s) TO STDOUT WITH (FORMAT csv, HEADER)"
                                        % query])
                    sample["baseline_s"].append(s)

                def candidates():
                    s, size, peak = http_export(server, cookie,
                                                "/admin/events/%s/registrations.csv" % slug)
                    sample["http_s"].append(s)
                    sample["http_peak_kb"].append(peak)
                    sample["bytes"] = size
                    s, _, peak = http_export(server, cookie,
                                             "/admin/events/%s/attendance.csv" % slug)
                    sample["attendance_http_s"].append(s)
                    sample["attendance_peak_kb"].append(peak)
                    s, peak = timed_child([admit, "export", "--db", dsn, "--event", slug,
                                           "--what", "registrations", "-o", "-"])
                    sample["cli_s"].append(s)
                    sample["cli_peak_kb"].append(peak)
                if r % 2 == 0:
                    baseline()
                    candidates()
                else:
                    candidates()
                    baseline()
            med = {k: statistics.median(v) for k, v in sample.items() if isinstance(v, list)}
            med["bytes"] = sample["bytes"]
            med["http_ratio"] = med["http_s"] / med["baseline_s"]
            med["cli_ratio"] = med["cli_s"] / med["baseline_s"]
            results[n] = med
        results["admitd_idle_kb"] = idle_kb
        big = results[SIZES[-1]]
        results["target_met"] = big["http_s"] < 1.0 and big["cli_s"] < 1.0
        if args.json:
            print(json.dumps(results))
            return
        print("admitd idle RSS: %.1f MiB" % (idle_kb / 1024))
        print("%-8s %-26s %10s %12s %8s" % ("rows", "what", "seconds", "peak RSS", "ratio"))
        for n in SIZES:
            m = results[n]
            print("%-8d %-26s %10.3f %12s %8s" % (n, "psql \\copy (baseline)", m["baseline_s"],
                                                 "", "1"))
            print("%-8d %-26s %10.3f %9.1f MiB %8.2f" % (n, "HTTP registrations.csv",
                                                         m["http_s"], m["http_peak_kb"] / 1024,
                                                         m["http_ratio"]))
            print("%-8d %-26s %10.3f %9.1f MiB" % (n, "HTTP attendance.csv",
                                                    m["attendance_http_s"],
                                                    m["attendance_peak_kb"] / 1024))
            print("%-8d %-26s %10.3f %9.1f MiB %8.2f" % (n, "admit export", m["cli_s"],
                                                         m["cli_peak_kb"] / 1024,
                                                         m["cli_ratio"]))
        print("registrations.csv of %d rows: %.1f MB" % (SIZES[-1], big["bytes"] / 1e6))
        print("100,000 rows under a second (HTTP and shell): %s"
              % ("met" if results["target_met"] else "NOT met"))
    finally:
        if server is not None:
            server.stop()
        subprocess.run([os.path.join(TOP, "scripts", "pg"), "destroy", pg_dir],
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
