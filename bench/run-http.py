#!/usr/bin/env python3
"""Load benchmarks of admitd over HTTP, each against its baseline in the same run (bench/README.md:
"Registrations through HTTP vs pgbench", "Event page vs nginx").

From a checkout: builds admitd and admit in Release (a build folder of its own, build-bench by
default), starts a private PostgreSQL in a temporary folder (scripts/pg), migrates, creates a
ticket-signing key and three events, then measures in rounds, candidate and baseline interleaved
(their order changes from round to round):

  event page     wrk GET /events/SLUG, 64 connections: admitd (--threads 2 by default) against
                 nginx (as many workers) serving the very bytes admitd rendered, as a static file,
                 with the same security headers.
  registrations  admitd (--threads 64 by default, one per connection), wrk POSTing distinct valid
                 registrations (bench/register.lua), 64 connections, to an event with seats to
                 spare and to one whose 2,000 seats fill in the first seconds (then everything
                 goes to the waiting list, through the slow path of admit_seat_take); against
                 pgbench running the bare INSERT of a registration row into the same table (64
                 clients, and 1 client for scale) and admit_register() called directly, with
                 synchronous_commit on.

Prints medians over the rounds and the median of the per-round ratios, the CPU time each party
spent per request, checks that every registration was answered 303 and that capacity was exact,
reports admitd's peak memory (VmHWM), stops everything and deletes the temporary folder. wrk,
admitd, PostgreSQL, pgbench and nginx all run on this machine and share its cores: the absolute
figures are for scale, the ratios are the result. Python 3 standard library only.
"""

import argparse
import datetime
import glob
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(TOP, "bench")

CONNECTIONS = 64
WRK_THREADS = 2
REGISTER_TARGET = 0.5
PAGE_TARGET = 0.8
MEMORY_TARGET_MB = 32
OPEN_CAPACITY = 1000000  # the largest an event may have: never reached by a run
# Seconds each pgbench run goes before it is measured (see Bench.pgbench).
PGBENCH_WARMUP = 3

# The baseline transaction: one registration row, the columns admit_register fills, distinct
# token, nonce and email (the unique indexes are maintained as for a real registration).
PGBENCH_SCRIPT = """\
INSERT INTO registrations (event_id, token, form_nonce, status, given_name, family_name, email,
    organisation, organisation_type, country, dietary, accessibility, consent_at, source,
    confirmed_at)
VALUES (%d, gen_random_uuid()::text, gen_random_uuid()::text, 'confirmed', 'Ada', 'Lovelace',
    gen_random_uuid()::text || '@example.org', 'Analytical Engines', 'research', 'BE', '', '',
    now(), 'web', now());
"""

# The business transaction itself, without HTTP: what admitd asks PostgreSQL for each post
# (sql/queries/register.sql), with the same distinct values. Its rate is the ceiling of any
# front end on this machine; admitd / this is what the HTTP layer costs.
PGBENCH_REGISTER = """\
SELECT outcome, registration_id, token, status
FROM admit_register('bench-open', gen_random_uuid()::text, gen_random_uuid()::text, 'Ada',
    'Lovelace', gen_random_uuid()::text || '@example.org', 'Analytical Engines',
    'research'::organisation_type, 'BE', '', '', '{%s}'::integer[], 'web');
"""

NGINX_CONF = """\
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon on;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    types {{ }}
    default_type "text/html; charset=utf-8";
    server {{
        listen 127.0.0.1:{port};
        root {dir}/root;
        location / {{
            add_header Content-Security-Policy "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            add_header X-Content-Type-Options nosniff;
            add_header Referrer-Policy no-referrer;
            add_header X-Frame-Options DENY;
            add_header Cache-Control no-store;
        }}
    }}
}}
"""


def say(*parts):
    print("run-http:", *parts, file=sys.stderr, flush=True)


def die(message):
    say(message)
    sys.exit(1)


def run(cmd, env=None, check=True):
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if check and proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        die("failed: %s" % " ".join(cmd))
    return proc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    die("nothing listens on port %d" % port)


def quantile(values, q):
    """Interpolated quantile, as in bench/ticket_bench.c."""
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def median(values):
    return quantile(values, 0.5)


def pg_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p)], reverse=True)
    if not found:
        die("PostgreSQL server binaries not found (apt-get install postgresql-15)")
    bindir = os.path.dirname(found[0])
    if not os.access(os.path.join(bindir, "pgbench"), os.X_OK):
        die("pgbench not found next to %s" % found[0])
    return bindir


def vm_status(pid, field):
    """A memory figure of /proc/PID/status in kB ("VmHWM", "VmRSS")."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(parent pid, own CPU seconds, reaped children's CPU seconds) of a process."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    children = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    return int(fields[1]), own, children


def machine_busy():
    """CPU seconds the machine spent busy, all cores, since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / CLOCK_TICKS


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = None
        self.admitd = None
        self.admitd_log = None
        self.nginx_pid = None
        self.pg_dir = None
        self.bindir = pg_bindir()
        self.build = os.path.abspath(os.path.join(TOP, args.build_dir))

    # ---- setting up ----------------------------------------------------------------------

    def build_release(self):
        if self.args.no_build:
            return
        say("building admitd and admit (Release) in %s" % self.build)
        run(["cmake", "-S", TOP, "-B", self.build, "-DCMAKE_BUILD_TYPE=Release",
             "-DADMIT_SANITIZE=OFF", "-DADMIT_FUZZ=OFF"])
        run(["cmake", "--build", self.build, "-j", str(os.cpu_count() or 2), "--target",
             "admitd", "admit-cli"])

    def psql(self, sql):
        return run([os.path.join(self.bindir, "psql"), "-h", self.pg_run, "-U", "admit", "-d",
                    "admit", "-XtAc", sql]).stdout.strip()

    def admit(self, *args):
        return run([os.path.join(self.build, "cli", "admit")] + list(args),
                   env=dict(os.environ, ADMIT_DATABASE_URL=self.dsn)).stdout

    def create_event(self, slug, name, capacity):
        start = datetime.date.today() + datetime.timedelta(days=300)
        out = self.admit(
            "event", "create", "--slug", slug, "--name", name, "--capacity", str(capacity),
            "--starts", "%s 09:00" % start, "--ends",
            "%s 17:30" % (start + datetime.timedelta(days=1)), "--tz", "Europe/Brussels",
            "--venue", "Museum of Natural Sciences", "--address",
            "Rue Vautier 29, 1000 Brussels, Belgium", "--organiser", "The TERRA consortium",
            "--contact", "events@terra-project.example", "--description",
            "Three years of research on soil health across Europe: results, open data and what "
            "comes next.", "--list", "Day 1 – plenary@%s" % start, "--list",
            "Day 2 – plenary@%s" % (start + datetime.timedelta(days=1)))
        m = re.search(r"event (\d+) created", out)
        if not m:
            die("admit event create said: %r" % out)
        return int(m.group(1))

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="admit-bench-")
        os.chmod(self.tmp, 0o755)  # nginx's workers (user nobody) read the page below it
        self.pg_dir = os.path.join(self.tmp, "pg")
        say("starting PostgreSQL in %s" % self.pg_dir)
        self.dsn = run([os.path.join(TOP, "scripts", "pg"), "start", self.pg_dir]).stdout.strip()
        self.pg_run = os.path.join(self.pg_dir, "run")
        self.admit("migrate")
        keys = os.path.join(self.tmp, "keys")
        self.admit("keygen", "--dir", keys)
        self.events = {
            "open": self.create_event("bench-open", "Benchmark conference (seats free)",
                                      OPEN_CAPACITY),
            "full": self.create_event("bench-full", "Benchmark conference (waiting list)",
                                      self.args.waitlist_capacity),
            "pgbench": self.create_event("bench-pgbench", "pgbench baseline rows", 0),
        }
        self.pgbench_script = os.path.join(self.tmp, "insert.sql")
        with open(self.pgbench_script, "w") as f:
            f.write(PGBENCH_SCRIPT % self.events["pgbench"])
        os.chmod(self.pgbench_script, 0o644)
        self.settings = {name: self.psql("SHOW %s" % name) for name in
                         ["server_version", "synchronous_commit", "fsync", "wal_sync_method",
                          "shared_buffers", "max_connections", "commit_delay"]}
        if self.settings["synchronous_commit"] != "on" or self.settings["fsync"] != "on":
            die("the cluster must run with synchronous_commit and fsync on: %r" % self.settings)

        self.keys = keys
        # The page, and one browser: its CSRF cookie and token (valid for every form post of
        # this browser, with any admitd that has these keys) and each event's list ids.
        self.start_admitd(self.args.page_threads if self.args.only != "registrations"
                          else self.args.threads, "first")
        self.cookie = None
        self.forms = {}
        for kind in ("open", "full"):
            headers = {"Cookie": "admit_csrf=" + self.cookie} if self.cookie else {}
            status, hdrs, body = self.get("/events/bench-%s" % kind, headers)
            if status != 200:
                die("GET /events/bench-%s answered %d" % (kind, status))
            if self.cookie is None:
                m = re.search(r"admit_csrf=([A-Za-z0-9_-]{22})", hdrs.get("Set-Cookie", ""))
                if not m:
                    die("the event page set no CSRF cookie")
                self.cookie = m.group(1)
                self.page = body
            token = re.search(rb'name="csrf_token" value="([A-Za-z0-9_-]+)"', body)
            lists = re.findall(rb'name="lists" value="(\d+)"', body)
            if not token or not lists:
                die("no registration form on /events/bench-%s" % kind)
            self.forms[kind] = (token.group(1).decode(), ",".join(x.decode() for x in lists))
        self.register_script = os.path.join(self.tmp, "register.sql")
        with open(self.register_script, "w") as f:
            f.write(PGBENCH_REGISTER % self.forms["open"][1])
        os.chmod(self.register_script, 0o644)

    def start_admitd(self, threads, name):
        """Starts admitd with --threads threads (and the extra --admitd-arg arguments); its log
        goes to admitd-NAME.log."""
        self.port = free_port()
        self.admitd_log = os.path.join(self.tmp, "admitd-%s.log" % name)
        say("starting admitd --threads %d on port %d" % (threads, self.port))
        with open(self.admitd_log, "w") as log:
            self.admitd = subprocess.Popen(
                [os.path.join(self.build, "server", "admitd"), "--listen",
                 "127.0.0.1:%d" % self.port, "--db", self.dsn, "--keys", self.keys,
                 "--templates", os.path.join(TOP, "templates"), "--threads", str(threads)]
                + self.args.admitd_arg, stdout=subprocess.DEVNULL, stderr=log)
        wait_port(self.port)

    def stop_admitd(self):
        """Stops admitd; returns its peak memory (VmHWM) in kB."""
        hwm = vm_status(self.admitd.pid, "VmHWM")
        self.admitd.send_signal(signal.SIGTERM)
        try:
            self.admitd.wait(30)
        except subprocess.TimeoutExpired:
            self.admitd.kill()
            self.admitd.wait()
        return hwm

    def get(self, path, headers=None, port=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (port or self.port, path),
                                     headers=headers or {})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()

    def start_nginx(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.access(nginx, os.X_OK):
            die("nginx not found (apt-get install nginx-light)")
        d = os.path.join(self.tmp, "nginx")
        os.makedirs(os.path.join(d, "root", "events"))
        os.makedirs(os.path.join(d, "tmp"))
        for sub in ("", "root", "root/events"):
            os.chmod(os.path.join(d, sub), 0o755)
        page = os.path.join(d, "root", "events", "bench-open")
        with open(page, "wb") as f:
            f.write(self.page)
        os.chmod(page, 0o644)
        self.nginx_port = free_port()
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=d, port=self.nginx_port, workers=self.args.page_threads))
        say("starting nginx on port %d" % self.nginx_port)
        run([nginx, "-c", conf, "-p", d, "-e", os.path.join(d, "error.log")])
        wait_port(self.nginx_port)
        with open(os.path.join(d, "nginx.pid")) as f:
            self.nginx_pid = int(f.read().strip())
        status, _, body = self.get("/events/bench-open", port=self.nginx_port)
        if status != 200 or body != self.page:
            die("nginx does not serve the page admitd rendered")
        self.nginx_version = run([nginx, "-v"]).stderr.strip().split("/")[-1]

    def stop_nginx(self):
        if self.nginx_pid is not None:
            try:
                os.kill(self.nginx_pid, signal.SIGQUIT)
            except ProcessLookupError:
                pass
            self.nginx_pid = None

    def stop(self):
        if self.admitd is not None and self.admitd.returncode is None:
            self.admitd.send_signal(signal.SIGTERM)
            try:
                self.admitd.wait(30)
            except subprocess.TimeoutExpired:
                self.admitd.kill()
        self.stop_nginx()
        if self.pg_dir is not None:
            run([os.path.join(TOP, "scripts", "pg"), "stop", self.pg_dir], check=False)
        if self.tmp is not None:
            if self.args.keep:
                say("kept %s" % self.tmp)
            else:
                time.sleep(0.5)  # nginx's workers finish their quit
                shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- measuring -----------------------------------------------------------------------

    def cpu(self, client_pid=None):
        """CPU seconds used so far by PostgreSQL (the postmaster, its live processes and the
        ones it reaped: pgbench's backends), admitd, nginx, the client (this driver's finished
        children, wrk and pgbench, or the running process client_pid) and the machine."""
        with open(os.path.join(self.pg_dir, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        _, own, reaped = proc_stat(postmaster)
        pg = own + reaped
        nginx = 0.0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                ppid, own, _ = proc_stat(int(entry))
            except (OSError, ValueError, IndexError):
                continue
            if ppid == postmaster:
                pg += own
            elif self.nginx_pid is not None and ppid == self.nginx_pid:
                nginx += own
        if client_pid is None:
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            client = children.ru_utime + children.ru_stime
        else:
            client = proc_stat(client_pid)[1]
        return {"postgres": pg, "admitd": proc_stat(self.admitd.pid)[1], "nginx": nginx,
                "client": client, "machine": machine_busy()}

    @staticmethod
    def cpu_per_request(before, after, requests):
        """CPU µs each party used per request between two self.cpu() snapshots."""
        n = max(requests, 1)
        out = {k: (after[k] - before[k]) * 1e6 / n for k in before}
        out["others"] = out["machine"] - sum(out[k] for k in ("postgres", "admitd", "nginx",
                                                                "client"))
        return out

    def measured(self, fn, *args):
        """fn(*args) with, added unless fn measured it itself, the CPU time each party used
        per request or transaction (µs)."""
        before = self.cpu()
        r = fn(*args)
        after = self.cpu()
        if "cpu_us" not in r:
            r["cpu_us"] = self.cpu_per_request(before, after, r["requests"])
        return r

    def wrk(self, url, script, script_args, seconds):
        # A long timeout: a slow answer is a latency to report, not an error to drop.
        cmd = ["wrk", "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", "%gs" % seconds,
               "--timeout", "60s", "--latency", "-s", os.path.join(BENCH, script), url]
        if script_args:
            cmd += ["--"] + script_args
        out = run(cmd).stdout
        m = re.search(r"^WRK_RESULT (\{.*\})$", out, re.M)
        if not m:
            die("wrk printed no result:\n" + out)
        r = json.loads(m.group(1))
        r["rate"] = r["requests"] / (r["duration_us"] / 1e6)
        r["errors_total"] = sum(r["errors"].values())
        return r

    def pgbench(self, clients, seconds, script=None):
        """pgbench for PGBENCH_WARMUP + seconds; the figures are those of the last seconds
        only (from its per-second log), when its 64 new backends have loaded their caches and
        planned their statements, as admitd's long-lived connections have."""
        env = dict(os.environ, PGOPTIONS="-c synchronous_commit=on")
        logdir = tempfile.mkdtemp(prefix="pgbench-", dir=self.tmp)
        total = PGBENCH_WARMUP + seconds
        cmd = [os.path.join(self.bindir, "pgbench"), "-h", self.pg_run, "-U", "admit", "-n",
               "-M", "prepared", "-f", script or self.pgbench_script, "-c", str(clients),
               "-j", str(min(clients, WRK_THREADS)), "-T", str(total + 1), "--log",
               "--log-prefix", os.path.join(logdir, "pgbench"), "--aggregate-interval", "1",
               "admit"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        began = time.time()
        time.sleep(PGBENCH_WARMUP)
        t1, cpu1 = time.time(), self.cpu(proc.pid)
        time.sleep(max(0.0, began + total - time.time()))
        t2, cpu2 = time.time(), self.cpu(proc.pid)
        out, err = proc.communicate()
        if proc.returncode != 0:
            die("pgbench failed:\n" + out + err)
        # Aggregated log lines: interval start (epoch s), transactions, sum of latencies (µs).
        a, b = int(t1) + 1, int(t2)
        n = lat = 0
        for name in os.listdir(logdir):
            with open(os.path.join(logdir, name)) as f:
                for line in f:
                    fields = line.split()
                    if a <= int(fields[0]) < b:
                        n += int(fields[1])
                        lat += int(fields[2])
        shutil.rmtree(logdir, ignore_errors=True)
        failed = re.search(r"^number of failed transactions: (\d+)", out, re.M)
        done = re.search(r"^number of transactions actually processed: (\d+)", out, re.M)
        if not done or n == 0 or b <= a:
            die("pgbench logged no transactions:\n" + out + err)
        rate = n / (b - a)
        return {"rate": rate, "requests": int(done.group(1)), "latency_avg_us": lat / n,
                "failed": int(failed.group(1)) if failed else 0,
                "cpu_us": self.cpu_per_request(cpu1, cpu2, rate * (t2 - t1))}

    def register(self, kind, run_id, seconds):
        token, lists = self.forms[kind]
        return self.wrk("http://127.0.0.1:%d" % self.port, "register.lua",
                        ["bench-" + kind, self.cookie, token, lists, run_id], seconds)

    def page_round(self, name):
        port = self.port if name == "admitd" else self.nginx_port
        return self.wrk("http://127.0.0.1:%d/events/bench-open" % port, "page.lua", None,
                        self.args.page_seconds)

    def measure_pages(self):
        a = self.args
        say("event page: %d rounds of %g s, admitd and nginx interleaved" % (a.rounds,
                                                                              a.page_seconds))
        self.page_round("admitd")  # warm-up: connections, caches
        self.page_round("nginx")
        rows = {"admitd": [], "nginx": []}
        for r in range(a.rounds):
            order = ["admitd", "nginx"] if r % 2 == 0 else ["nginx", "admitd"]
            for name in order:
                rows[name].append(self.measured(self.page_round, name))
            say("  round %d: admitd %.0f/s, nginx %.0f/s" % (r + 1, rows["admitd"][-1]["rate"],
                                                             rows["nginx"][-1]["rate"]))
        return rows

    def measure_registrations(self):
        a = self.args
        s = a.register_seconds
        say("registrations: %d rounds of %g s per measurement, interleaved" % (a.rounds, s))
        self.counts = {"open": 0, "full": 0, "pgbench": 0, "wrk_runs_open": 1, "wrk_runs_full": 0}
        # Warm-up: admitd's and pgbench's connections, plans, the first pages of the indexes.
        self.counts["open"] += self.register("open", "W00o", 2)["requests"]
        self.pgbench(CONNECTIONS, 2)

        def admitd(kind, r):
            res = self.register(kind, "R%02d%s" % (r, kind[0]), s)
            self.counts[kind] += res["requests"]
            self.counts["wrk_runs_" + kind] += 1
            return res

        def register_sql(r):
            res = self.pgbench(CONNECTIONS, s, self.register_script)
            self.counts["pgbench"] += res["requests"]
            return res

        runs = {
            "admitd_open": lambda r: admitd("open", r),
            "admitd_full": lambda r: admitd("full", r),
            "pgbench_64": lambda r: self.pgbench(CONNECTIONS, s),
            "pgbench_1": lambda r: self.pgbench(1, s),
            "pgbench_register_64": register_sql,
        }
        items = list(runs)
        rows = {name: [] for name in items}
        for r in range(a.rounds):
            # Each round in another order, so that a drift favours none.
            order = items[r % len(items):] + items[:r % len(items)]
            if r % 2:
                order.reverse()
            for name in order:
                rows[name].append(self.measured(runs[name], r))
            say("  round %d: " % (r + 1) + ", ".join(
                "%s %.0f/s" % (n, rows[n][-1]["rate"]) for n in items))
        return rows

    def check_registrations(self):
        """Every post answered 303; every answered registration stored; capacity exact."""
        statuses = {}
        with open(self.admitd_log, errors="replace") as f:
            for line in f:
                if "route=/events/:slug/register " in line:
                    m = re.search(r" status=(\d+)", line)
                    statuses[m.group(1)] = statuses.get(m.group(1), 0) + 1
        checks = {"statuses": statuses}
        for kind in ("open", "full"):
            row = self.psql(
                "SELECT e.capacity, count(r.id) FILTER (WHERE r.status = 'confirmed'), "
                "count(r.id) FILTER (WHERE r.status = 'waitlisted'), count(r.id), "
                "(SELECT sum(free) FROM event_seats s WHERE s.event_id = e.id) "
                "FROM events e LEFT JOIN registrations r ON r.event_id = e.id "
                "WHERE e.slug = 'bench-%s' GROUP BY e.id" % kind)
            capacity, confirmed, waitlisted, total, free = (int(x) for x in row.split("|"))
            by_pgbench = self.counts["pgbench"] if kind == "open" else 0
            # Posts still in flight when a wrk run stopped are stored but not counted by wrk:
            # at most one per connection and run.
            in_flight = total - self.counts[kind] - by_pgbench
            checks[kind] = {
                "capacity": capacity, "confirmed": confirmed, "waitlisted": waitlisted,
                "stored": total, "answered_by_admitd": self.counts[kind],
                "by_pgbench": by_pgbench, "in_flight_at_stops": in_flight, "free_seats": free,
                "exact": confirmed + free == capacity and confirmed == min(capacity, total)
                and 0 <= in_flight <= CONNECTIONS * self.counts["wrk_runs_" + kind]}
        checks["all_303"] = set(statuses) == {"303"}
        return checks

    # ---- reporting -----------------------------------------------------------------------

    def summary(self, page_rows, reg_rows, checks):
        def figures(rows):
            out = {"median_per_sec": median([x["rate"] for x in rows]),
                   "runs_per_sec": [round(x["rate"], 1) for x in rows],
                   "cpu_us_per_request": {k: round(median([x["cpu_us"][k] for x in rows]), 1)
                                          for k in rows[0]["cpu_us"]}}
            if "p50_us" in rows[0]:
                out["median_p50_ms"] = median([x["p50_us"] for x in rows]) / 1000
                out["median_p99_ms"] = median([x["p99_us"] for x in rows]) / 1000
                out["errors"] = sum(x["errors_total"] for x in rows)
            else:
                out["median_latency_avg_ms"] = median([x["latency_avg_us"] for x in rows]) / 1000
                out["failed"] = sum(x["failed"] for x in rows)
            return out

        def ratio(cand, base):
            rs = [c["rate"] / b["rate"] for c, b in zip(cand, base)]
            return {"median": median(rs), "p25": quantile(rs, 0.25), "p75": quantile(rs, 0.75),
                    "rounds": [round(x, 3) for x in rs]}

        res = {"benchmark": "run-http", "cores": os.cpu_count(), "admitd_threads":
               self.args.threads, "page_threads": self.args.page_threads,
               "admitd_args": self.args.admitd_arg,
               "connections": CONNECTIONS, "wrk_threads": WRK_THREADS,
               "rounds": self.args.rounds, "postgresql": self.settings,
               "nginx": self.nginx_version, "page_bytes": len(self.page),
               "load_average_at_start": self.load_at_start}
        if page_rows:
            g = res["page"] = {"admitd": figures(page_rows["admitd"]),
                               "nginx": figures(page_rows["nginx"]),
                               "ratio": ratio(page_rows["admitd"], page_rows["nginx"]),
                               "target": PAGE_TARGET, "seconds": self.args.page_seconds}
            g["target_met"] = g["ratio"]["median"] >= PAGE_TARGET
        if reg_rows:
            g = res["registrations"] = {name: figures(rows) for name, rows in reg_rows.items()}
            g["seconds"] = self.args.register_seconds
            base = reg_rows["pgbench_64"]
            for name in reg_rows:
                if name != "pgbench_64":
                    g[name]["ratio"] = ratio(reg_rows[name], base)
            # What the HTTP layer costs: admitd against the same SQL called directly.
            g["admitd_open"]["ratio_to_register_64"] = ratio(reg_rows["admitd_open"],
                                                             reg_rows["pgbench_register_64"])
            g["target"] = REGISTER_TARGET
            g["target_met"] = g["admitd_open"]["ratio"]["median"] >= REGISTER_TARGET
            g["checks"] = checks
        res["admitd_vmhwm_mb"] = {k: round(v / 1024, 1) for k, v in self.hwm.items()}
        res["memory_target_mb"] = MEMORY_TARGET_MB
        res["memory_target_met"] = all(v / 1024 < MEMORY_TARGET_MB for v in self.hwm.values())
        return res

    def print_table(self, res):
        p = print
        head = "%-34s %9s %7s %7s %7s %-13s %6s | %6s %6s %6s %6s" % (
            "name", "median/s", "p50 ms", "p99 ms", "ratio", "(p25-p75)", "target", "pg",
            "admitd", "client", "other")

        def row(label, f, ratio=None, target="", lat=None):
            r = f.get("ratio") if ratio is None else ratio
            cpu = f["cpu_us_per_request"]
            if lat is None:
                lat = ("%7.2f %7.2f" % (f["median_p50_ms"], f["median_p99_ms"])
                       if "median_p50_ms" in f else "avg%4.1f %7s" % (
                           f["median_latency_avg_ms"], ""))
            p("%-34s %9.0f %s %7s %-13s %6s | %6.0f %6.0f %6.0f %6.0f" % (
                label, f["median_per_sec"], lat,
                "%.3f" % r["median"] if r else "1",
                "(%.3f-%.3f)" % (r["p25"], r["p75"]) if r else "(baseline)", target,
                cpu["postgres"], cpu["admitd"] + cpu["nginx"], cpu["client"], cpu["others"]))

        p("run-http: admitd against its baselines. wrk, admitd, PostgreSQL %s, pgbench and "
          "nginx" % res["postgresql"]["server_version"].split()[0])
        p("all run on this machine and share its %d cores (load average at start: %s)."
          % (res["cores"], res["load_average_at_start"]))
        p("%d rounds, candidates and baselines interleaved; medians over rounds; ratio = median of "
          "the per-round ratios (p25-p75)." % res["rounds"])
        p("%d connections (wrk -t%d) or pgbench clients; PostgreSQL synchronous_commit=%s, "
          "wal_sync_method=%s, shared_buffers=%s." % (
              res["connections"], res["wrk_threads"], res["postgresql"]["synchronous_commit"],
              res["postgresql"]["wal_sync_method"], res["postgresql"]["shared_buffers"]))
        p("Right of |: CPU microseconds per request or transaction, medians: PostgreSQL, the "
          "server (admitd or nginx), the client (wrk or pgbench), anything else on the machine.")
        if "registrations" in res:
            g = res["registrations"]
            p("\nRegistrations, %g s per measurement: admitd --threads %d%s, POST "
              "/events/SLUG/register (distinct valid forms),\nagainst pgbench INSERT of a "
              "registration row" % (g["seconds"], res["admitd_threads"],
                                    " " + " ".join(res["admitd_args"]) if res["admitd_args"]
                                    else ""))
            p(head)
            row("pgbench INSERT, 64 clients", g["pgbench_64"])
            row("pgbench INSERT, 1 client", g["pgbench_1"])
            row("pgbench admit_register(), 64 cl.", g["pgbench_register_64"])
            row("admitd, seats free", g["admitd_open"], target=">=%.2f" % g["target"])
            row("admitd, waiting list (slow path)", g["admitd_full"])
            c = g["checks"]
            p("registrations / pgbench INSERT 64: %.3f (target >= %.2f)%s; admitd / "
              "admit_register() called by pgbench: %.3f" % (
                  g["admitd_open"]["ratio"]["median"], g["target"],
                  "" if g["target_met"] else "  BELOW TARGET",
                  g["admitd_open"]["ratio_to_register_64"]["median"]))
            for kind in ("open", "full"):
                k = c[kind]
                p("  %s event: capacity %d: confirmed %d + free seats %d; waitlisted %d; stored %d "
                  "= %d answered 303 by admitd + %d by pgbench + %d in flight when wrk stopped: "
                  "%s" % (kind, k["capacity"], k["confirmed"], k["free_seats"], k["waitlisted"],
                          k["stored"], k["answered_by_admitd"], k["by_pgbench"],
                          k["in_flight_at_stops"], "exact" if k["exact"] else "NOT EXACT"))
            p("  admitd's answers to the posts: %s%s" % (
                ", ".join("%s x%d" % kv for kv in sorted(c["statuses"].items())),
                "" if c["all_303"] else "  (NOT ALL 303)"))
            errs = g["admitd_open"]["errors"] + g["admitd_full"]["errors"]
            failed = sum(g[n]["failed"] for n in g if n.startswith("pgbench"))
            if errs or failed:
                p("  socket errors or failed transactions: wrk %d, pgbench %d" % (errs, failed))
        if "page" in res:
            g = res["page"]
            p("\nEvent page, %g s per measurement: GET /events/SLUG, %d bytes, admitd --threads %d%s "
              "against nginx\nworker_processes %d; no cookie sent, so every answer of admitd "
              "carries a new CSRF cookie, token and nonce" % (
                  g["seconds"], res["page_bytes"], res["page_threads"],
                  " " + " ".join(res["admitd_args"]) if res["admitd_args"] else "",
                  res["page_threads"]))
            p(head)
            row("nginx %s, static file" % res["nginx"], g["nginx"])
            row("admitd", g["admitd"], ratio=g["ratio"], target=">=%.2f" % g["target"])
            p("event page / nginx: %.3f (target >= %.2f)%s" % (
                g["ratio"]["median"], g["target"], "" if g["target_met"] else "  BELOW TARGET"))
            if g["admitd"]["errors"] or g["nginx"]["errors"]:
                p("  socket errors: admitd %d, nginx %d" % (g["admitd"]["errors"],
                                                             g["nginx"]["errors"]))
        p("\nadmitd peak memory (VmHWM): %s (target < %d MB)%s" % (
            ", ".join("%.1f MB in the %s benchmark (--threads %d)" % (
                v, k, res["page_threads"] if k == "page" else res["admitd_threads"])
                for k, v in res["admitd_vmhwm_mb"].items()), res["memory_target_mb"],
            "" if res["memory_target_met"] else "  ABOVE TARGET"))

    def main(self):
        a = self.args
        self.build_release()
        self.load_at_start = "%.2f %.2f %.2f" % os.getloadavg()
        try:
            self.start()
            page_rows = reg_rows = checks = None
            self.hwm = {}
            if a.only != "registrations":
                self.start_nginx()
                page_rows = self.measure_pages()
                self.stop_nginx()
                self.hwm["page"] = self.stop_admitd()
                self.admitd = None
            if a.only != "page":
                if self.admitd is None:
                    self.start_admitd(a.threads, "registrations")
                reg_rows = self.measure_registrations()
                checks = self.check_registrations()
                self.hwm["registrations"] = self.stop_admitd()
            res = self.summary(page_rows, reg_rows, checks)
        finally:
            self.stop()
        if a.json_out:
            with open(a.json_out, "w") as f:
                json.dump(res, f)
        if a.json:
            print(json.dumps(res, indent=None))
        else:
            self.print_table(res)
        reg = res.get("registrations", {})
        ok = (res.get("page", {}).get("target_met", True) and reg.get("target_met", True)
              and res["memory_target_met"] and reg.get("checks", {}).get("all_303", True)
              and all(reg.get("checks", {}).get(k, {}).get("exact", True)
                      for k in ("open", "full")))
        return 0 if ok or not a.strict else 1


def parse_args():
    p = argparse.ArgumentParser(
        description="Load benchmarks of admitd over HTTP against pgbench and nginx, in one run "
                    "(see bench/README.md).")
    p.add_argument("--rounds", type=int, default=5,
                   help="rounds of each interleaved measurement (default 5)")
    p.add_argument("--register-seconds", type=int, default=8,
                   help="seconds of each registration and pgbench measurement (default 8)")
    p.add_argument("--page-seconds", type=float, default=5,
                   help="seconds of each event page measurement (default 5)")
    p.add_argument("--threads", type=int, default=64,
                   help="admitd --threads for the registrations: worker threads, each with its "
                        "own PostgreSQL connection (default 64, one per client connection)")
    p.add_argument("--page-threads", type=int, default=os.cpu_count() or 2,
                   help="admitd --threads and nginx worker_processes for the event page "
                        "(default: the number of cores, %(default)s here)")
    p.add_argument("--admitd-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for admitd, e.g. --admitd-arg=--connection-memory=16384 "
                        "(repeatable)")
    p.add_argument("--waitlist-capacity", type=int, default=2000,
                   help="capacity of the waiting-list event (default 2000)")
    p.add_argument("--only", choices=["page", "registrations"],
                   help="run one of the two benchmarks")
    p.add_argument("--build-dir", default="build-bench",
                   help="build folder, relative to the checkout (default build-bench)")
    p.add_argument("--no-build", action="store_true", help="use the build folder as it is")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary folder (logs, cluster) for a look afterwards")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--json-out", metavar="FILE", help="also write that JSON object to FILE")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when a target is missed or a registration was refused")
    a = p.parse_args()
    if (a.rounds < 1 or a.register_seconds <= 0 or a.page_seconds <= 0 or a.threads < 1
            or a.page_threads < 1):
        p.error("rounds, seconds and threads must be positive")
    return a


if __name__ == "__main__":
    import stat
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        # initdb and the servers write to it; a program that renames a finished file over its
        # output path replaces it with a regular file when told to write to /dev/null as root.
        die("/dev/null is not the null device any more (a program renamed a file over it); as "
            "root: rm /dev/null && mknod -m 666 /dev/null c 1 3")
    for tool in ("wrk", "cmake"):
        if shutil.which(tool) is None:
            die("%s not found (apt-get install %s)" % (tool, tool))
    sys.exit(Bench(parse_args()).main())
