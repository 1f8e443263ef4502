#!/usr/bin/env python3
"""Slow clients, one connection at a time (issue 14, item 1; server/conn_guard.h): a request's
headers and its body must arrive within deadlines counted from a fixed point, however steadily
the bytes trickle in (libmicrohttpd's own timer, --timeout, restarts with every byte); a kept-
alive connection between requests is closed after a short idle time; near the connection limit
the oldest idle keep-alive connection, or else the oldest incomplete request, is closed to make
room for a new client, and a request being answered never is.

The floods of thousands of connections are test_slow_connection_floods.py.
"""

import os
import select
import subprocess
import threading
import time

import harness
from harness import (ServerTestCase, TicketSigner, add_device, api_call, checkin_event,
                     new_nonce, register_sql, wait_until)


def trickle(sock, data, interval, limit):
    """Sends data one byte every interval seconds until the server closes the connection or
    limit seconds pass; returns (seconds until the close or None, bytes the server sent)."""
    start = time.monotonic()
    received = b""
    i = 0
    while time.monotonic() - start < limit:
        if i < len(data):
            try:
                sock.sendall(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start, received
            i += 1
        ready, _, _ = select.select([sock], [], [], interval)
        if ready:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return time.monotonic() - start, received
            received += chunk
    return None, received


def closed_within(sock, seconds):
    """Seconds until the server closes sock (reading and dropping what it sends), or None."""
    return trickle(sock, b"", 0.05, seconds)[0]


class Deadlines(ServerTestCase):
    """Deadlines of 2 s (headers, body) and 1 s (keep-alive), with libmicrohttpd's idle timer at
    30 s: a close within a few seconds can only come from the deadlines."""

    def setUp(self):
        super().setUp()
        self.server = self.start_admitd("--header-timeout", "2", "--body-timeout", "2",
                                        "--keepalive-timeout", "1", "--timeout", "30")

    def test_headers_deadline_counts_from_the_connect(self):
        headers = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
        with self.server.socket() as s:
            took, answer = trickle(s, headers, 0.2, 15)
        self.assertIsNotNone(took, "a byte every 0.2 s kept the connection open for 15 s")
        self.assertGreater(took, 1.5)
        self.assertLess(took, 5)
        self.assertEqual(answer, b"")
        # An honest slow client within the deadline is answered.
        with self.server.socket() as s:
            for piece in [b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"]:
                s.sendall(piece)
                time.sleep(0.3)
            answer = s.recv(65536)
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer[:100])

    def test_headers_deadline_of_a_later_request_counts_from_its_request_line(self):
        with self.server.socket() as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            first = s.recv(65536)
            self.assertTrue(first.startswith(b"HTTP/1.1 200"), first[:100])
            time.sleep(0.5)  # idle, within the keep-alive limit
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            took, answer = trickle(s, b"Host: x\r\nX-Slow: " + b"a" * 200, 0.2, 15)
        self.assertIsNotNone(took)
        self.assertGreater(took, 1.3)
        self.assertLess(took, 5)
        self.assertEqual(answer, b"")

    def test_body_deadline_counts_from_the_headers(self):
        head = (b"POST /tickets/resend HTTP/1.1\r\nHost: x\r\nContent-Type: "
                b"application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
        with self.server.socket() as s:
            s.sendall(head)
            took, answer = trickle(s, b"email=" + b"a" * 994, 0.2, 15)
        self.assertIsNotNone(took, "a body byte every 0.2 s kept the connection open for 15 s")
        self.assertGreater(took, 1.5)
        self.assertLess(took, 5)
        self.assertEqual(answer, b"")
        lines = self.server.wait_request_lines(lambda l: l.get("end") == "body-deadline", 1)
        self.assertEqual(len(lines), 1, self.server.log_text())
        self.assertEqual(lines[0]["route"], "/tickets/resend")
        # A body that comes slowly but in time is read (this route needs a CSRF token: 403).
        with self.server.socket() as s:
            s.sendall(head[:-2] + b"Connection: close\r\n\r\n")
            body = b"email=" + b"a" * 994
            for i in range(0, len(body), 250):
                time.sleep(0.3)
                s.sendall(body[i:i + 250])
            answer = harness.read_until_close(s, 10)
        self.assertTrue(answer.startswith(b"HTTP/1.1 403"), answer[:100])

    def test_keep_alive_idle_limit(self):
        with self.server.socket() as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            start = time.monotonic()
            data = harness.read_until_close(s, 10)
            took = time.monotonic() - start
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
        self.assertGreater(took, 0.7)
        self.assertLess(took, 4)
        # Idle on arrival is the same as a slow request line: the header deadline (2 s).
        with self.server.socket() as s:
            took = closed_within(s, 15)
        self.assertIsNotNone(took)
        self.assertLess(took, 5)

    def test_closes_are_counted_in_the_log(self):
        with self.server.socket() as s:
            trickle(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 100, 0.2, 15)
        self.assertEqual(self.server.stop(), 0)
        self.assertRegex(self.server.log_text(),
                         r"connections closed in the last \d+ s: 1 past the header deadline")


class Shedding(ServerTestCase):
    """--max-connections 4 on one worker thread: the guard sheds from 3 open connections."""

    def test_idle_keep_alive_first_then_the_oldest_incomplete(self):
        server = self.start_admitd("--max-connections", "4", "--threads", "1")
        idle = []
        for _ in range(2):
            s = server.socket()
            self.addCleanup(s.close)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 200"))
            idle.append(s)
        incomplete = server.socket()
        self.addCleanup(incomplete.close)
        incomplete.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(1.3)  # an incomplete request is shed only once a second old
        # Three open: each newcomer sheds one, the idle keep-alive ones first, oldest first.
        newcomers = []
        for victim in [idle[0], idle[1], incomplete]:
            s = server.socket()
            self.addCleanup(s.close)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # incomplete too
            newcomers.append(s)
            self.assertIsNotNone(closed_within(victim, 5), "not shed")
        # The newest incomplete requests are still there and can finish.
        newcomers[-1].sendall(b"\r\n")
        self.assertTrue(newcomers[-1].recv(65536).startswith(b"HTTP/1.1 200"))
        self.assertEqual(server.stop(), 0)
        self.assertRegex(server.log_text(), r"3 shed near the limit")

    def test_a_request_being_answered_is_never_shed(self):
        """Single door scans wait on the check-in worker (suspended, their HTTP thread free) while
        another session holds the scans table: they are busy, not incomplete."""
        _, lists = checkin_event(self.db.dsn, "conf")
        token = add_device(self.db.dsn, "conf", "Gate A")
        ids = register_sql(self.db.dsn, "conf", 4, [lists["Day 1"]])
        signer = TicketSigner(self.keys)
        event_id = int(self.db.sql("SELECT id FROM events WHERE slug = 'conf'").strip())
        server = self.start_admitd("--max-connections", "4", "--threads", "1")
        locker = subprocess.Popen(["psql", "-X", "-q", "-d", self.db.dsn], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(locker.wait, 30)
        locker.stdin.write("BEGIN; LOCK TABLE scans IN ACCESS EXCLUSIVE MODE; SELECT 1;\n")
        locker.stdin.flush()
        self.assertTrue(wait_until(lambda: int(self.db.sql(
            "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' "
            "AND relation = 'scans'::regclass").strip()) == 1))
        answers = []

        def scan(registration):
            body = {"payload": signer.ticket(event_id, registration), "list": "Day 1",
                    "nonce": new_nonce()}
            r, _ = api_call(server, "POST", "/api/v1/checkins", token, body, timeout=60)
            answers.append(r.status)

        scans = [threading.Thread(target=scan, args=(i,)) for i in ids]
        for t in scans:
            # One after the other: each request is in (busy) before the next connects; a young
            # incomplete request is shed too when the worker has one slot left.
            t.start()
            time.sleep(0.5)
        time.sleep(1)  # all four waiting on the lock: libmicrohttpd's limit is reached
        self.assertEqual(answers, [])
        with server.socket() as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            # It waits in the listen backlog: no busy connection is shed for it...
            self.assertEqual(harness.read_until_close(s, 1.5, timeout_ok=True), b"")
            locker.stdin.write("COMMIT;\n")
            locker.stdin.close()
            for t in scans:
                t.join(60)
            self.assertEqual(answers, [200] * 4)
            # ...and is served once they are answered.
            self.assertTrue(harness.read_until_close(s, 10).startswith(b"HTTP/1.1 200"))


class OpenFilesLimit(ServerTestCase):
    """Every connection is a file descriptor: admitd raises its soft RLIMIT_NOFILE to the hard
    limit, and with a hard limit too low for --max-connections it serves fewer and says so."""

    def run_with_nofile(self, soft, hard):
        import resource
        log = os.path.join(self.work, "admitd-nofile-%d-%d.log" % (soft, hard))
        with open(log, "wb") as f:
            proc = subprocess.Popen(
                [harness.ADMITD_BIN, "--db", self.db.dsn, "--keys", self.keys, "--listen",
                 "127.0.0.1:0"], stdin=subprocess.DEVNULL, stderr=f,
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))
        try:
            def text():
                with open(log) as f:
                    return f.read()
            self.assertTrue(wait_until(lambda: "listening on" in text()), text())
            with open("/proc/%d/limits" % proc.pid) as f:
                limits = [line.split()[3:5] for line in f if line.startswith("Max open files")][0]
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(30), 0)
        return [int(v) for v in limits], text()

    def test_soft_limit_raised_to_the_hard_one(self):
        import resource
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard == resource.RLIM_INFINITY or hard < 2048 + 128:
            self.skipTest("the hard limit here (%s) is below what the defaults need" % hard)
        limits, log = self.run_with_nofile(256, hard)
        self.assertEqual(limits, [hard, hard])
        self.assertNotIn("RLIMIT_NOFILE", log)
        self.assertIn("connections: at most 2048 ", log)

    def test_too_low_a_hard_limit_serves_fewer(self):
        limits, log = self.run_with_nofile(512, 512)
        self.assertEqual(limits, [512, 512])
        # 512 less the database connections (2 threads, 1 check-in worker) and 64 in reserve.
        self.assertIn("open files limit (RLIMIT_NOFILE) is 512: serving at most 445 connections "
                      "instead of --max-connections 2048", log)
        self.assertIn("connections: at most 445 ", log)


if __name__ == "__main__":
    harness.main()
