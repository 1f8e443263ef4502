#!/usr/bin/env python3
"""The festival-scale run (bench/README.md, "Festival scale"): N registrations (50,000 by
default) through two admitd behind nginx, then D doors (20) checking everyone in through the
API, on this machine, each phase against its pgbench baseline in the same run, with the memory
of every process.

From a checkout: builds admitd, admit and checkin_load in Release (build-bench, as
bench/run-http.py), starts a private PostgreSQL in a temporary folder (scripts/pg: durable
commits), migrates, makes a key and an event of capacity N with one list, starts two admitd
(--threads T each, --trusted-proxy) and nginx (its own configuration: the upstream settings of
deploy/nginx/admit.conf, plain HTTP: TLS is not measured), then:

  registrations  wrk (bench/register.lua, 64 connections) POSTs distinct registrations through
                 nginx, in runs of a few seconds, until the event is full; the rate is the
                 requests answered over the time taken. Baseline: pgbench calling
                 admit_register() directly (64 clients) on another event, as run-http.py does.
  check-ins      checkin_load with D threads, one device token each, scans every registration
                 of the event once through nginx (the waiting-list overshoot answers
                 "waitlisted"). Baseline: pgbench inserting the bare check-in row (D clients),
                 as bench/checkin_online.sh does.

Then checks: every request answered 303 or a verdict, confirmed + free seats = capacity,
confirmed = N, one admission per person. Prints a table (or --json) and deletes everything
(--keep keeps the folder). Python 3 standard library; wrk, nginx and pgbench as run-http.py.
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("run_http", os.path.join(TOP, "bench",
                                                                         "run-http.py"))
rh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rh)

NGINX = """\
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon on;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    keepalive_requests 100000000;
    upstream admit {{
{servers}        keepalive 128;
        keepalive_requests 100000000;
        keepalive_timeout 25s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 64k;
        location / {{
            proxy_pass http://admit;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""

CHECKIN_BASELINE = """\
\\set r random(1, 2000000000)
INSERT INTO checkin_baseline VALUES (:r, 1, now(), 'Door') ON CONFLICT DO NOTHING;
"""


class Festival:
    def __init__(self, args):
        self.args = args
        self.build = os.path.join(TOP, args.build)
        self.bindir = rh.pg_bindir()
        self.admitd = []
        self.nginx_dir = None

    def sh(self, *cmd):
        return rh.run(list(cmd)).stdout

    def admit(self, *args):
        return self.sh(os.path.join(self.build, "cli", "admit"), *args, "--db", self.dsn)

    def psql(self, sql):
        return self.sh("psql", "-XqAt", "-v", "ON_ERROR_STOP=1", "-d", self.dsn, "-c", sql).strip()

    def setup(self):
        if not os.path.exists(os.path.join(self.build, "CMakeCache.txt")):
            self.sh("cmake", "-S", TOP, "-B", self.build, "-DCMAKE_BUILD_TYPE=Release")
        self.sh("cmake", "--build", self.build, "-j2", "--target", "admitd", "admit-cli",
                "checkin_load")
        self.tmp = tempfile.mkdtemp(prefix="admit-festival-")
        os.chmod(self.tmp, 0o755)
        self.dsn = self.sh(os.path.join(TOP, "scripts", "pg"), "start",
                           os.path.join(self.tmp, "pg")).strip()
        self.pg_run = os.path.join(self.tmp, "pg", "run")
        self.admit("migrate")
        self.keys = os.path.join(self.tmp, "keys")
        rh.run([os.path.join(self.build, "cli", "admit"), "keygen", "--dir", self.keys])
        for slug, capacity in (("festival", self.args.registrations), ("baseline", 1000000)):
            self.admit("event", "create", "--slug", slug, "--name", "Festival " + slug,
                       "--starts", "2099-07-01 10:00", "--ends", "2099-07-03 23:00",
                       "--capacity", str(capacity), "--list", "Gate")
        self.event_id = int(self.psql("SELECT id FROM events WHERE slug = 'festival'"))
        self.psql("CREATE TABLE checkin_baseline (registration_id integer NOT NULL, list_id "
                  "integer NOT NULL, first_at timestamptz NOT NULL, first_gate text NOT NULL, "
                  "PRIMARY KEY (registration_id, list_id))")
        for i in range(2):
            port = rh.free_port()
            log = open(os.path.join(self.tmp, "admitd-%d.log" % i), "wb")
            proc = subprocess.Popen(
                [os.path.join(self.build, "server", "admitd"), "--db", self.dsn, "--keys",
                 self.keys, "--listen", "127.0.0.1:%d" % port, "--threads",
                 str(self.args.threads), "--trusted-proxy", "127.0.0.1"],
                stdout=subprocess.DEVNULL, stderr=log)
            self.admitd.append((proc, port))
            rh.wait_port(port)
        self.start_nginx()

    def start_nginx(self):
        self.nginx_dir = os.path.join(self.tmp, "nginx")
        for d in ("", "tmp"):
            os.makedirs(os.path.join(self.nginx_dir, d), exist_ok=True)
        self.port = rh.free_port()
        servers = "".join("        server 127.0.0.1:%d;\n" % p for _, p in self.admitd)
        conf = os.path.join(self.nginx_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX.format(dir=self.nginx_dir, servers=servers, port=self.port))
        self.sh("nginx", "-c", conf, "-p", self.nginx_dir)
        rh.wait_port(self.port)

    def form(self, slug):
        """One browser's CSRF cookie and token, and the event's list ids, through nginx."""
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/events/%s" % (self.port, slug)) as r:
            cookie = re.search(r"admit_csrf=([A-Za-z0-9_-]{22})", r.headers["Set-Cookie"])
            body = r.read().decode()
        token = re.search(r'name="csrf_token" value="([A-Za-z0-9_-]+)"', body).group(1)
        lists = ",".join(re.findall(r'name="lists" value="(\d+)"', body))
        return cookie.group(1), token, lists

    def confirmed(self):
        return int(self.psql("SELECT count(*) FROM registrations WHERE event_id = %d AND "
                             "status = 'confirmed'" % self.event_id))

    def register_all(self):
        cookie, token, lists = self.form("festival")
        url = "http://127.0.0.1:%d" % self.port
        requests = duration_us = errors = 0
        p99 = []
        n = 0
        began = time.time()
        while self.confirmed() < self.args.registrations:
            n += 1
            r = rh.Bench.wrk(None, url, "register.lua", ["festival", cookie, token, lists,
                                                         "F%03d" % n], self.args.chunk)
            requests += r["requests"]
            duration_us += r["duration_us"]
            errors += r["errors_total"]
            p99.append(r["p99_us"])
            if time.time() - began > self.args.limit:
                rh.die("the event did not fill in %d s" % self.args.limit)
        return {"requests": requests, "seconds": duration_us / 1e6,
                "rate": requests / (duration_us / 1e6), "errors": errors,
                "p99_ms_worst_run": max(p99) / 1000, "wrk_runs": n}

    def pgbench(self, script_text, clients, seconds):
        script = os.path.join(self.tmp, "script-%d.sql" % clients)
        with open(script, "w") as f:
            f.write(script_text)
        os.chmod(script, 0o644)
        env = dict(os.environ, PGOPTIONS="-c synchronous_commit=on")
        out = rh.run([os.path.join(self.bindir, "pgbench"), "-h", self.pg_run, "-U", "admit", "-n",
                      "-M", "prepared", "-f", script, "-c", str(clients), "-j", "2", "-T",
                      str(seconds), "admit"], env=env).stdout
        return float(re.search(r"^tps = ([\d.]+)", out, re.M).group(1))

    def check_in_all(self):
        tokens = os.path.join(self.tmp, "tokens")
        with open(tokens, "w") as f:
            for i in range(self.args.doors):
                f.write(self.admit("device", "add", "--event", "festival", "--name",
                                   "Gate %d" % (i + 1)))
        first, last = (int(x) for x in self.psql(
            "SELECT min(id), max(id) FROM registrations WHERE event_id = %d"
            % self.event_id).split("|"))
        out = self.sh(os.path.join(self.build, "bench", "checkin_load"), "--url",
                      "http://127.0.0.1:%d" % self.port, "--tokens", tokens, "--key",
                      os.path.join(self.keys, "ticket-signing.key"), "--event",
                      str(self.event_id), "--first", str(first), "--count",
                      str(last - first + 1), "--threads", str(self.args.doors), "--seconds",
                      str(self.args.limit), "--list", "Gate", "--json")
        return json.loads(out.strip().splitlines()[-1])

    def memory(self):
        """Peak resident memory (VmHWM, MiB) of each admitd, nginx's workers, PostgreSQL."""
        mib = lambda kb: round((kb or 0) / 1024, 1)  # noqa: E731
        figures = {"admitd_%d" % i: mib(rh.vm_status(p.pid, "VmHWM"))
                   for i, (p, _) in enumerate(self.admitd)}
        with open(os.path.join(self.nginx_dir, "nginx.pid")) as f:
            master = int(f.read())
        workers = [int(x) for x in self.sh("pgrep", "-P", str(master)).split()]
        figures["nginx_workers"] = [mib(rh.vm_status(w, "VmHWM")) for w in workers]
        with open(os.path.join(self.tmp, "pg", "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        backends = [int(x) for x in self.sh("pgrep", "-P", str(postmaster)).split()]
        figures["postgres_largest_process"] = max(mib(rh.vm_status(b, "VmHWM"))
                                                  for b in backends + [postmaster])
        return figures

    def checks(self, reg, doors):
        confirmed = self.confirmed()
        free = int(self.psql("SELECT coalesce(sum(free), 0) FROM event_seats WHERE event_id = %d"
                             % self.event_id))
        admissions = int(self.psql("SELECT count(*) FROM admissions a JOIN registrations r ON "
                                   "r.id = a.registration_id WHERE r.event_id = %d"
                                   % self.event_id))
        return {"confirmed": confirmed, "capacity_exact": confirmed + free
                == self.args.registrations and confirmed == self.args.registrations,
                "registration_errors": reg["errors"], "scan_errors": doors["errors"],
                "admissions": admissions, "admitted_once": admissions == doors["valid"]
                == confirmed}

    def stop(self):
        if self.nginx_dir and os.path.exists(os.path.join(self.nginx_dir, "nginx.pid")):
            rh.run(["nginx", "-c", os.path.join(self.nginx_dir, "nginx.conf"), "-p",
                    self.nginx_dir, "-s", "stop"], check=False)
        for proc, _ in self.admitd:
            proc.terminate()
            proc.wait(timeout=30)
        rh.run([os.path.join(TOP, "scripts", "pg"), "stop", os.path.join(self.tmp, "pg")],
               check=False)
        if not self.args.keep:
            rh.run([os.path.join(TOP, "scripts", "pg"), "destroy", os.path.join(self.tmp, "pg")],
                   check=False)
            shutil.rmtree(self.tmp, ignore_errors=True)

    def main(self):
        try:
            self.setup()
            rh.say("festival: %d registrations through nginx and two admitd"
                   % self.args.registrations)
            reg = self.register_all()
            cookie, token, lists = self.form("baseline")
            reg_base = self.pgbench(rh.PGBENCH_REGISTER.replace("bench-open", "baseline")
                                    % lists, 64, self.args.baseline_seconds)
            rh.say("festival: %d doors checking everyone in" % self.args.doors)
            doors = self.check_in_all()
            door_base = self.pgbench(CHECKIN_BASELINE, self.args.doors,
                                     self.args.baseline_seconds)
            result = {"registrations": reg, "register_pgbench_tps": reg_base,
                      "register_ratio": reg["rate"] / reg_base, "checkins": doors,
                      "checkin_pgbench_tps": door_base,
                      "checkin_ratio": doors["scans_per_s"] / door_base,
                      "memory_mib": self.memory(), "checks": self.checks(reg, doors),
                      "settings": vars(self.args)}
        finally:
            self.stop()
        if self.args.json:
            print(json.dumps(result, indent=1))
        else:
            r, d, m, c = result["registrations"], result["checkins"], result["memory_mib"], \
                result["checks"]
            print("registrations: %d answered in %.1f s = %.0f/s (p99 of the worst wrk run "
                  "%.1f ms); pgbench admit_register() %.0f tps; ratio %.3f"
                  % (r["requests"], r["seconds"], r["rate"], r["p99_ms_worst_run"], reg_base,
                     result["register_ratio"]))
            print("check-ins: %d scans by %d doors in %.1f s = %.0f/s (p50 %.2f ms, p99 %.2f "
                  "ms); pgbench bare insert %.0f tps; ratio %.3f"
                  % (d["scans"], d["threads"], d["seconds"], d["scans_per_s"], d["p50_ms"],
                     d["p99_ms"], door_base, result["checkin_ratio"]))
            print("memory (peak, MiB): %s" % json.dumps(m))
            print("checks: %s" % json.dumps(c))
        ok = result["checks"]["capacity_exact"] and result["checks"]["admitted_once"] and \
            not result["checks"]["registration_errors"] and not result["checks"]["scan_errors"]
        return 0 if ok else 1


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build-bench", help="Release build folder (build-bench)")
    p.add_argument("--registrations", type=int, default=50000)
    p.add_argument("--doors", type=int, default=20)
    p.add_argument("--threads", type=int, default=32, help="--threads of each admitd (32)")
    p.add_argument("--chunk", type=float, default=5, help="seconds of each wrk run (5)")
    p.add_argument("--baseline-seconds", type=int, default=8)
    p.add_argument("--limit", type=int, default=900, help="give up after this many seconds")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--json", action="store_true")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(Festival(parse_args()).main())
