#!/usr/bin/python3
"""A database failover under load (issue 19): Patroni (Debian's patroni 3.0 with a one-node
etcd 3.4) manages a primary and a synchronous standby on this machine, each with its own data
folder and port; one admitd connects through a libpq multi-host connection string with
target_session_attrs=read-write. Eight clients register through the form and four doors check
tickets in through the API, continuously; the primary's postmaster is killed (kill -9); Patroni
fails over at once (primary_start_timeout 0: it prefers the synchronous standby to a restart);
admitd, untouched, reconnects to the new primary by itself. Then, on the new primary: every
registration that got its 303 is there, once; every scan that got a verdict is there; no
attendee registered or admitted twice; the seats add up to the capacity. The time without
service (from the kill to the first registration and the first scan answered after it) is
printed.

Labelled "slow" (once, in the normal build) and RUN_SERIAL; bounded (about a minute). Skipped,
with a message, where patroni or etcd is not installed (scripts/install-deps installs both).
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import harness
from harness import (Admitd, Browser, ScannerProcess, TicketSigner, add_device, api_call,
                     checkin_event, free_port, make_keys, new_nonce, open_form, psql, register_sql,
                     run_admit, wait_until)

PATRONI = shutil.which("patroni")
ETCD = shutil.which("etcd")
PG_BIN = next((d for d in sorted(
    ("/usr/lib/postgresql/%s/bin" % v for v in os.listdir("/usr/lib/postgresql")), reverse=True)
    if os.path.exists(d + "/initdb")), None) if os.path.isdir("/usr/lib/postgresql") else None

REGISTRANTS = 8
DOORS = 4
CAPACITY = 100000  # every registration gets a seat: what is counted is the seat bookkeeping
TICKETS = 2000     # registered before the run, scanned by the doors
STEADY = 3.0       # seconds of load before the kill and after the recovery
RECOVERY_LIMIT = 60.0
SCANNED = 400      # of the TICKETS, scanned by the admit scan door
SCAN_BUDGET_MS = 1500


def http_status(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


class Processes:
    """Processes this test started, stopped in reverse order at the end."""

    def __init__(self, folder):
        self.folder = folder
        self.started = []

    def start(self, name, cmd, as_postgres=False):
        log = open(os.path.join(self.folder, name + ".log"), "wb")
        if as_postgres and os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/")
        self.started.append((name, proc, log))
        return proc

    def log(self, name):
        with open(os.path.join(self.folder, name + ".log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop_all(self):
        for name, proc, log in reversed(self.started):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()


def patroni_config(folder, name, etcd_port, rest_port, pg_port):
    data = os.path.join(folder, name, "data")
    run = os.path.join(folder, name, "run")
    os.makedirs(run)
    return {
        "scope": "admit-failover",
        "name": name,
        "restapi": {"listen": "127.0.0.1:%d" % rest_port,
                    "connect_address": "127.0.0.1:%d" % rest_port},
        "etcd3": {"hosts": "127.0.0.1:%d" % etcd_port},
        "bootstrap": {
            "dcs": {
                # The smallest timings Patroni accepts (ttl >= loop_wait + 2 * retry_timeout).
                "ttl": 20, "loop_wait": 1, "retry_timeout": 5,
                "maximum_lag_on_failover": 1048576,
                # A commit is acknowledged only once the synchronous standby has it, and only
                # that standby may be promoted: no acknowledged transaction is lost.
                "synchronous_mode": True,
                # A crashed primary is failed over at once rather than restarted.
                "primary_start_timeout": 0,
                "postgresql": {"use_pg_rewind": False, "parameters": {
                    "max_connections": 100, "wal_level": "replica", "hot_standby": "on",
                    "max_wal_senders": 10, "max_replication_slots": 10,
                    "wal_keep_size": "128MB"}},
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
            "pg_hba": ["local all all trust", "host all all 127.0.0.1/32 trust",
                       "local replication all trust", "host replication all 127.0.0.1/32 trust"],
        },
        "postgresql": {
            "listen": "127.0.0.1:%d" % pg_port,
            "connect_address": "127.0.0.1:%d" % pg_port,
            "data_dir": data,
            "bin_dir": PG_BIN,
            "pgpass": os.path.join(folder, name, "pgpass"),
            "authentication": {"superuser": {"username": "postgres", "password": "unused"},
                               "replication": {"username": "postgres", "password": "unused"}},
            "parameters": {"unix_socket_directories": run},
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False,
                 "nosync": False},
    }


class Load:
    """The clients: REGISTRANTS registering through the form, DOORS scanning tickets, each
    recording (start, end, outcome) until stopped."""

    def __init__(self, server, slug, event_id, ticket_ids, signer, tokens, scanner=None):
        self.server, self.slug, self.event_id = server, slug, event_id
        self.signer, self.tokens = signer, tokens
        # The last SCANNED tickets are the admit scan door's, the rest the API doors'.
        self.ticket_ids = ticket_ids[:-SCANNED] if scanner else ticket_ids
        self.scanner_tickets = ticket_ids[-SCANNED:] if scanner else []
        self.scanner = scanner
        self.shown = []  # (when, answer) of every verdict the admit scan door showed
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.registrations = []  # (start, end, email, status)
        self.scans = []          # (start, end, registration id, nonce, status, verdict)
        self.threads = [threading.Thread(target=self.registrant, args=(i,))
                        for i in range(REGISTRANTS)]
        self.threads += [threading.Thread(target=self.door, args=(i,)) for i in range(DOORS)]
        if scanner:
            self.threads.append(threading.Thread(target=self.scan_door))

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def registrant(self, index):
        n = 0
        while not self.stop.is_set():
            n += 1
            email = "r%d-%d-%s@example.org" % (index, n, secrets.token_hex(3))
            start = time.monotonic()
            status = None
            try:
                browser = Browser(self.server)
                form = open_form(browser, self.slug).fields(email=email)
                status = browser.post("/events/%s/register" % self.slug, form).status
            except (OSError, AssertionError, ValueError):
                status = None
            with self.lock:
                self.registrations.append((start, time.monotonic(), email, status))
            if status != 303:
                time.sleep(0.05)

    def scan_door(self):
        """`admit scan` at a door: a ticket every 50 ms; it answers online, or offline while
        the database is away (within its budget), and uploads later."""
        for registration in self.scanner_tickets:
            if self.stop.is_set():
                return
            answer = self.scanner.scan(self.signer.ticket(self.event_id, registration, 0),
                                       timeout=30)
            with self.lock:
                self.shown.append((time.monotonic(), registration, answer))
            time.sleep(0.05)

    def door(self, index):
        mine = self.ticket_ids[index::DOORS]
        for registration in mine:
            payload = self.signer.ticket(self.event_id, registration, 0)
            nonce = new_nonce()
            # A door sends the same scan (same nonce) again until it gets a verdict.
            while not self.stop.is_set():
                start = time.monotonic()
                status, verdict = None, None
                try:
                    r, answer = api_call(self.server, "POST", "/api/v1/checkins",
                                         self.tokens[index],
                                         {"payload": payload, "list": "Day 1", "nonce": nonce},
                                         timeout=10)
                    status = r.status
                    verdict = answer.get("verdict") if r.status == 200 and answer else None
                except (OSError, ValueError):
                    pass
                with self.lock:
                    self.scans.append((start, time.monotonic(), registration, nonce, status,
                                       verdict))
                if verdict is not None:
                    break
                time.sleep(0.05)
            if self.stop.is_set():
                return


@unittest.skipUnless(PATRONI and ETCD and PG_BIN,
                     "patroni, etcd or PostgreSQL's server binaries are not installed (apt-get "
                     "install patroni etcd-server postgresql-15, or scripts/install-deps): the "
                     "failover test is skipped")
class Failover(unittest.TestCase):

    def setUp(self):
        harness.require_environment()
        self.folder = tempfile.mkdtemp(prefix="admit-fo-")
        self.addCleanup(shutil.rmtree, self.folder, True)
        self.procs = Processes(self.folder)
        self.addCleanup(self.procs.stop_all)
        self.pg_ports = [free_port(), free_port()]
        self.rest_ports = [free_port(), free_port()]
        etcd_port, peer_port = free_port(), free_port()
        self.procs.start("etcd", [
            ETCD, "--name", "e1", "--data-dir", os.path.join(self.folder, "etcd"),
            "--listen-client-urls", "http://127.0.0.1:%d" % etcd_port,
            "--advertise-client-urls", "http://127.0.0.1:%d" % etcd_port,
            "--listen-peer-urls", "http://127.0.0.1:%d" % peer_port,
            "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer_port,
            "--initial-cluster", "e1=http://127.0.0.1:%d" % peer_port])
        self.assertTrue(wait_until(lambda: http_status(
            "http://127.0.0.1:%d/health" % etcd_port) == 200, timeout=20),
            self.procs.log("etcd")[-2000:])
        for i, name in enumerate(("pg1", "pg2")):
            config = patroni_config(self.folder, name, etcd_port, self.rest_ports[i],
                                    self.pg_ports[i])
            path = os.path.join(self.folder, name + ".yml")
            with open(path, "w") as f:
                json.dump(config, f)  # JSON is YAML
            if os.geteuid() == 0:
                for d in (self.folder, os.path.join(self.folder, name),
                          os.path.join(self.folder, name, "run")):
                    shutil.chown(d, "postgres")
                shutil.chown(path, "postgres")
            self.procs.start(name, [PATRONI, path], as_postgres=True)
            role = "primary" if i == 0 else "sync"
            self.assertTrue(wait_until(lambda: http_status(
                "http://127.0.0.1:%d/%s" % (self.rest_ports[i], role)) == 200, timeout=60),
                "%s is not %s: %s" % (name, role, self.procs.log(name)[-3000:]))

    def dsn(self, node, db="admit", user="admit"):
        return "host=127.0.0.1 port=%d dbname=%s user=%s" % (self.pg_ports[node], db, user)

    def postmaster_pid(self, node):
        with open(os.path.join(self.folder, "pg%d" % (node + 1), "data", "postmaster.pid")) as f:
            return int(f.readline())

    def test_kill_the_primary_under_load(self):
        psql(self.dsn(0, "postgres", "postgres"), "CREATE ROLE admit LOGIN SUPERUSER")
        psql(self.dsn(0, "postgres", "postgres"), "CREATE DATABASE admit OWNER admit")
        primary = self.dsn(0)
        run_admit("migrate", "--db", primary)
        event_id, lists = checkin_event(primary, "fest", capacity=CAPACITY)
        ticket_ids = register_sql(primary, "fest", TICKETS, [lists["Day 1"]])
        tokens = [add_device(primary, "fest", "Door %d" % i) for i in range(DOORS)]
        keys = make_keys(os.path.join(self.folder, "keys"))
        both = ("host=127.0.0.1,127.0.0.1 port=%d,%d dbname=admit user=admit "
                "target_session_attrs=read-write" % tuple(self.pg_ports))
        server = Admitd(self.folder, both, keys, ("--threads", "4"))
        self.addCleanup(lambda: server.proc.poll() is None and server.stop())

        scanner = ScannerProcess(
            ["--server", server.url, "--list", "Day 1", "--color", "never", "--timeout",
             str(SCAN_BUDGET_MS), "--token", add_device(primary, "fest", "Door scan")],
            os.path.join(self.folder, "state"), self.folder)
        self.addCleanup(lambda: scanner.proc.poll() is None and scanner.kill9())
        load = Load(server, "fest", event_id, ticket_ids, TicketSigner(keys), tokens, scanner)
        load.start()
        self.addCleanup(load.finish)
        time.sleep(STEADY)
        killed_at = time.monotonic()
        os.kill(self.postmaster_pid(0), signal.SIGKILL)

        def answered_after(records, ok):
            return [r for r in records if r[0] > killed_at and ok(r)]
        recovered = wait_until(lambda: answered_after(load.registrations, lambda r: r[3] == 303)
                               and answered_after(load.scans, lambda r: r[5] is not None),
                               timeout=RECOVERY_LIMIT)
        self.assertTrue(recovered, "admitd did not recover within %ds: %s\n%s" % (
            RECOVERY_LIMIT, server.log_text()[-3000:], self.procs.log("pg2")[-3000:]))
        time.sleep(STEADY)
        load.finish()
        self.assertEqual(http_status("http://127.0.0.1:%d/primary" % self.rest_ports[1]), 200,
                         "pg2 is not the primary")

        registration_gap = min(r[1] for r in answered_after(
            load.registrations, lambda r: r[3] == 303)) - killed_at
        scan_gap = min(r[1] for r in answered_after(load.scans, lambda r: r[5] is not None)) \
            - killed_at
        acknowledged = [r[2] for r in load.registrations if r[3] == 303]
        verdicts = [r for r in load.scans if r[5] is not None]
        print("failover: %d registrations acknowledged, %d refused or unanswered; %d scans "
              "answered; without service: registrations %.1f s, door scans %.1f s"
              % (len(acknowledged), sum(1 for r in load.registrations if r[3] != 303),
                 len(verdicts), registration_gap, scan_gap), flush=True)
        self.assertGreater(len(acknowledged), REGISTRANTS)
        self.assertGreater(len(verdicts), DOORS)

        new = self.dsn(1)
        # Every acknowledged registration is there, once; nobody is there twice.
        stored = psql(new, "SELECT email, count(*) FROM registrations r JOIN events e ON "
                           "e.id = r.event_id WHERE e.slug = 'fest' GROUP BY email")
        counts = dict(line.split("|") for line in stored.splitlines())
        missing = [e for e in acknowledged if e not in counts]
        self.assertEqual(missing, [], "acknowledged registrations lost in the failover")
        self.assertEqual([e for e, n in counts.items() if n != "1"], [])
        # Every scan that got a verdict is stored, with that verdict; each ticket admitted once.
        stored = psql(new, "SELECT client_nonce, verdict FROM scans")
        by_nonce = dict(line.split("|") for line in stored.splitlines())
        lost = [r for r in verdicts if by_nonce.get(r[3]) != r[5]]
        self.assertEqual(lost, [], "scans answered but lost or changed in the failover")
        self.assertEqual(psql(new, "SELECT count(*) FROM (SELECT registration_id FROM admissions "
                                   "GROUP BY registration_id, list_id HAVING count(*) > 1) d")
                         .strip(), "0")
        valid = {r[2] for r in verdicts if r[5] == "valid"}
        admitted = set(int(x) for x in psql(new, "SELECT registration_id FROM admissions")
                       .split())
        self.assertLessEqual(valid, admitted)
        # The seats add up: confirmed + free = capacity.
        row = psql(new, "SELECT (SELECT count(*) FROM registrations WHERE event_id = e.id AND "
                        "status = 'confirmed'), (SELECT count(*) FROM registrations WHERE "
                        "event_id = e.id AND status = 'waitlisted'), (SELECT coalesce(sum(free), "
                        "0) FROM event_seats WHERE event_id = e.id), e.capacity FROM events e "
                        "WHERE e.id = %d" % event_id)
        confirmed, waitlisted, free, capacity = (int(v) for v in row.strip().split("|"))
        self.assertEqual(waitlisted, 0)
        self.assertEqual(confirmed + free, capacity)
        # The admit scan door gave a verdict for every ticket throughout, offline while the
        # database was away; once back it uploaded them, and every one is stored.
        shown = load.shown
        self.assertTrue(any(a["offline"] for _, _, a in shown), "the door never went offline")
        gaps = [b[0] - a[0] for a, b in zip(shown, shown[1:])]
        print("failover: the admit scan door showed %d verdicts (%d offline); longest wait "
              "between two %.2f s" % (len(shown), sum(1 for _, _, a in shown if a["offline"]),
                                      max(gaps)), flush=True)
        self.assertLess(max(gaps), SCAN_BUDGET_MS / 1000 + 1.5)
        self.assertTrue(scanner.wait_log(r"uploaded \d+ scans", timeout=60), scanner.log())
        scanner.finish()
        self.assertNotIn("not uploaded yet", scanner.log())
        stored = set(psql(new, "SELECT client_nonce FROM scans").split())
        self.assertEqual([a for _, _, a in shown if a["nonce"] not in stored], [])
        self.assertEqual(server.stop(), 0, server.log_text()[-2000:])


if __name__ == "__main__":
    harness.main()
