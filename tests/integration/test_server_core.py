#!/usr/bin/env python3
"""admitd's core, black box: health, routing, headers, limits, logs, shutdown, database loss,
refusing to start. The business pages have their own test files.

CSRF is not tested here: admitd has no form route of its own and carries no test-only code.
The token functions are unit-tested (tests/unit/test_csrf.c) and the whole flow (cookie, token,
Origin, 403s) end to end through POST /events/SLUG/register in that route's test file. The form
decoder (400 for malformed percent-encoding, NUL bytes, invalid UTF-8, too many fields) is
unit-tested in tests/unit/test_formdata.c for the same reason; here, malformed input in paths,
queries, headers and bodies must leave the server answering.
"""

import http.client
import os
import shutil
import signal
import socket
import threading
import time

import harness
from harness import ServerTestCase, raw_exchange, read_until_close, wait_until


class HealthAndRouting(ServerTestCase):

    def test_healthz(self):
        server = self.start_admitd()
        r = server.get("/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"ok\n")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        self.assertSecurityHeaders(r)

    def test_not_found_and_method_not_allowed(self):
        server = self.start_admitd()
        for path in ["/nope", "/healthz/", "/healthz/x", "//healthz", "/HEALTHZ", "/static",
                     "/static/"]:
            r = server.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertIn("text/html", r.header("Content-Type"))
            self.assertSecurityHeaders(r)
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"]:
            r = server.request(method, "/healthz", body=b"" if method != "BREW" else None)
            self.assertEqual(r.status, 405, method)
            self.assertEqual(r.header("Allow"), "GET, HEAD")
            self.assertSecurityHeaders(r)
        # An API path gets its errors as JSON with a stable code.
        r = server.get("/api/v1/nothing")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertIn(b'"code":"not_found"', r.body)

    def test_head(self):
        server = self.start_admitd()
        r = server.request("HEAD", "/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Content-Length"), "3")
        self.assertSecurityHeaders(r)
        r = server.request("HEAD", "/nope")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.body, b"")

    def test_keep_alive(self):
        server = self.start_admitd()
        conn = server.connection()
        conn.request("GET", "/healthz")
        first = conn.getresponse()
        self.assertEqual(first.read(), b"ok\n")
        sock = conn.sock
        self.assertIsNotNone(sock, "the connection was closed after the first answer")
        self.assertIsNone(first.getheader("Connection"))
        conn.request("GET", "/nope")
        second = conn.getresponse()
        second.read()
        self.assertEqual(second.status, 404)
        self.assertIs(conn.sock, sock, "the second request needed a new connection")
        self.assertIsNone(second.getheader("Connection"))
        conn.close()
        # Pipelined on one raw socket: two answers, the second one closing as asked.
        with server.socket() as s:
            data = raw_exchange(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                   b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 2, data)

    def test_env_equivalents(self):
        env = dict(os.environ, ADMIT_DATABASE_URL=self.db.dsn, ADMIT_KEYS_DIR=self.keys,
                   ADMIT_LISTEN="127.0.0.1:0", ADMIT_THREADS="3", ADMIT_TIMEOUT="5")
        # Flags given below only for what Admitd always passes; the rest comes from env.
        server = self.start_admitd(env=env)
        self.assertEqual(server.get("/healthz").status, 200)

    def test_ipv6(self):
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback here")
        server = self.start_admitd("--listen", "[::1]:0")
        self.assertEqual(server.host, "::1")
        self.assertEqual(server.get("/healthz").status, 200)


class Limits(ServerTestCase):

    def test_body_limit(self):
        server = self.start_admitd("--body-limit", "2048")
        # Declared too large: 413 at once, without reading the body, and the connection closes.
        with server.socket() as s:
            data = raw_exchange(s, b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Length: 2049\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:100])
        head = data.split(b"\r\n\r\n")[0].decode()
        for header in ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                       "X-Frame-Options"]:
            self.assertIn(header + ":", head)
        # The same through http.client, for the header checks of the harness.
        conn = server.connection()
        conn.putrequest("POST", "/nope")
        conn.putheader("Content-Length", "1000000")
        conn.endheaders()
        r = harness.Response(conn.getresponse())
        conn.close()
        self.assertEqual(r.status, 413)
        self.assertSecurityHeaders(r)
        # Chunked (no length known up front): counted as it arrives, 413 at the end.
        with server.socket() as s:
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in range(3):
                s.sendall(b"400\r\n" + b"a" * 1024 + b"\r\n")
            data = raw_exchange(s, b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
                                   b"Connection: close\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:100])
        self.assertIn(b"HTTP/1.1 200 OK", data)  # and the connection stayed usable
        # At the limit exactly: not too large (this path takes no POST: 405).
        r = server.request("POST", "/healthz", body=b"a" * 2048)
        self.assertEqual(r.status, 405)
        # A chunked body that goes on far past the limit is cut off without an answer.
        with server.socket() as s:
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            try:
                for _ in range(2000):  # 8 MB
                    s.sendall(b"1000\r\n" + b"a" * 4096 + b"\r\n")
                data = read_until_close(s, 5)
            except (BrokenPipeError, ConnectionResetError):
                data = b""
        self.assertEqual(data, b"")
        self.assertEqual(server.get("/healthz").status, 200)
        self.assertIn("note=body-abandoned", server.log_text())

    def test_malformed_requests(self):
        server = self.start_admitd("--connection-memory", "16384")
        junk = [
            b"GET /healthz%zz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /static/%00%ff HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /static/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /static/%c3%28.css HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /static/%0d%0aX:%20y HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /he\x00althz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
            b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
            b"GET\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
            b"\r\nContent-Length: 11\r\n\r\na=%zz&b=%00",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-H: v\r\n" * 5000 + b"\r\n",
            b"GET /healthz?" + b"a=1&" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /" + b"a/" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: " + b"c=1; " * 2000 + b"\r\n\r\n",
        ]
        for request in junk:
            with server.socket() as s:
                try:
                    data = raw_exchange(s, request, timeout=1, timeout_ok=True)
                except (BrokenPipeError, ConnectionResetError):
                    data = b""
            status = int(data[9:12]) if data.startswith(b"HTTP/1.") else None
            # Refused (4xx, 505) or the connection closed; never a crash or a 5xx of ours.
            self.assertTrue(status is None or 400 <= status < 500 or status == 505,
                            "%r -> %r" % (request[:60], data[:80]))
            self.assertTrue(server.alive(), server.log_text())
            self.assertEqual(server.get("/healthz").status, 200, request[:60])
        # Junk in the query or the headers of a real page is not a reason to refuse it.
        with server.socket() as s:
            data = raw_exchange(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n"
                                   b"Connection: close\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.1 400"))
        r = server.get("/healthz?a=%zz&b=%00&c=%ff&%=&&==&d")
        self.assertEqual(r.status, 200)

    def hold_connections(self, server, n):
        """n keep-alive connections that each had one answer, kept open."""
        held = []
        for _ in range(n):
            conn = server.connection()
            conn.request("GET", "/healthz")
            self.assertEqual(harness.Response(conn.getresponse()).status, 200)
            held.append(conn)
            self.addCleanup(conn.close)
        return held

    def test_per_ip_connection_limit(self):
        server = self.start_admitd("--per-ip-connections", "3")
        held = self.hold_connections(server, 3)
        # A fourth connection from the same address is closed without an answer.
        for _ in range(3):
            with server.socket() as s:
                try:
                    data = raw_exchange(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 5)
                except (BrokenPipeError, ConnectionResetError):
                    data = b""
                self.assertEqual(data, b"")
        # The connections it has keep being served.
        for conn in held:
            conn.request("GET", "/healthz")
            self.assertEqual(harness.Response(conn.getresponse()).status, 200)
        # Once one closes, a new one is accepted.
        held.pop().close()

        def new_connection_served():
            try:
                return server.get("/healthz").status == 200
            except (OSError, http.client.HTTPException):
                return False

        self.assertTrue(wait_until(new_connection_served))

    def test_idle_connection_timeout(self):
        server = self.start_admitd("--timeout", "1")
        with server.socket() as s:
            start = time.monotonic()
            self.assertEqual(read_until_close(s, 10), b"")
            waited = time.monotonic() - start
        self.assertGreater(waited, 0.5)
        self.assertLess(waited, 5)
        # A keep-alive connection that goes quiet after a request is closed too.
        with server.socket() as s:
            data = raw_exchange(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 10)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"))
        # A client that sends its headers slower than the timeout is dropped.
        with server.socket() as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            time.sleep(2.5)
            try:
                s.sendall(b"Host: x\r\n\r\n")
                data = read_until_close(s, 5)
            except (BrokenPipeError, ConnectionResetError):
                data = b""
        self.assertEqual(data, b"")
        self.assertEqual(server.get("/healthz").status, 200)


class Logging(ServerTestCase):

    def test_one_line_per_request_without_secrets(self):
        server = self.start_admitd()
        secret = "SeCrEt" + "x" * 16
        server.get("/healthz?token=" + secret)
        server.get("/static/" + secret + ".css")
        server.get("/tickets/" + secret)
        server.request("POST", "/healthz", body="csrf_token=" + secret,
                       headers={"Cookie": "admit_csrf=" + secret,
                                "Content-Type": "application/x-www-form-urlencoded"})
        server.request("HEAD", "/healthz")
        server.request("DELETE", "/healthz")
        self.assertTrue(wait_until(lambda: len(server.request_lines()) >= 6))
        lines = server.request_lines()
        self.assertEqual(len(lines), 6, server.log_text())
        want = [("GET", "/healthz", "200"), ("GET", "/static/:name", "404"),
                ("GET", "/tickets/:token", "404"), ("POST", "-", "405"),
                ("HEAD", "/healthz", "200"),
                ("DELETE", "-", "405")]
        for line, (method, route, status) in zip(lines, want):
            self.assertEqual((line["method"], line["route"], line["status"]),
                             (method, route, status), line)
            self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertRegex(line["us"], r"^\d+$")
            self.assertRegex(line["bytes"], r"^\d+$")
        self.assertEqual(lines[0]["bytes"], "3")
        self.assertEqual(lines[4]["bytes"], "0")  # HEAD sends no body
        log = server.log_text()
        self.assertNotIn(secret.lower(), log.lower())
        self.assertNotIn("token=", log)
        self.assertNotIn("?", log)

    def test_unknown_method_is_not_logged_verbatim(self):
        server = self.start_admitd()
        with server.socket() as s:
            raw_exchange(s, b"SECRETMETHOD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close"
                            b"\r\n\r\n")
        self.assertTrue(wait_until(lambda: server.request_lines()))
        self.assertEqual(server.request_lines()[0]["method"], "OTHER")
        self.assertNotIn("SECRETMETHOD", server.log_text())


class StaticAssets(ServerTestCase):

    def test_static_files(self):
        templates = os.path.join(self.work, "templates")
        shutil.copytree(harness.TEMPLATES_DIR, templates)
        os.makedirs(os.path.join(templates, "static"), exist_ok=True)
        css = b"body { color: #123 }\n"
        with open(os.path.join(templates, "static", "probe-test.css"), "wb") as f:
            f.write(css)
        with open(os.path.join(templates, "static", "probe-test.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n")
        server = self.start_admitd(templates=templates)
        r = server.get("/static/probe-test.css")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, css)
        self.assertEqual(r.header("Content-Type"), "text/css; charset=utf-8")
        self.assertEqual(r.header("Cache-Control"), "public, max-age=3600")
        self.assertSecurityHeaders(r)
        etag = r.header("ETag")
        self.assertRegex(etag, r'^"[0-9a-f]{16}"$')
        self.assertEqual(server.get("/static/probe-test.png").header("Content-Type"),
                         "image/png")
        for inm in [etag, "W/" + etag, '"other", ' + etag, "*"]:
            r = server.get("/static/probe-test.css", headers={"If-None-Match": inm})
            self.assertEqual(r.status, 304, inm)
            self.assertEqual(r.body, b"")
            self.assertEqual(r.header("ETag"), etag)
        r = server.get("/static/probe-test.css", headers={"If-None-Match": '"other"'})
        self.assertEqual(r.status, 200)
        r = server.request("HEAD", "/static/probe-test.css")
        self.assertEqual((r.status, r.body, r.header("Content-Length")), (200, b"", str(len(css))))
        self.assertEqual(server.get("/static/missing.css").status, 404)
        self.assertEqual(server.get("/static/..%2Ferror.html").status, 404)

    def test_unknown_asset_type_refused(self):
        templates = os.path.join(self.work, "templates")
        shutil.copytree(harness.TEMPLATES_DIR, templates)
        os.makedirs(os.path.join(templates, "static"), exist_ok=True)
        with open(os.path.join(templates, "static", "app.php"), "w") as f:
            f.write("<?php echo 1;")
        status, err = harness.start_failure(["--db", self.db.dsn, "--keys", self.keys,
                                             "--templates", templates])
        self.assertEqual(status, 1)
        self.assertIn("app.php: unknown extension", err)


class Shutdown(ServerTestCase):

    def test_sigterm_lets_a_slow_upload_finish(self):
        server = self.start_admitd()
        s = server.socket()
        s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        time.sleep(1.0)  # the request is in flight: headers read, body half sent
        server.send_signal(signal.SIGTERM)
        self.assertTrue(server.wait_log(r"SIGTERM: stopping; 1 requests in flight"),
                        server.log_text())

        def refused():
            try:
                socket.create_connection((server.host, server.port), timeout=2).close()
                return False
            except OSError:
                return True

        # No new connections once stopping, while the request in flight goes on.
        self.assertTrue(wait_until(refused, timeout=5))
        time.sleep(0.5)
        self.assertTrue(server.alive(), "admitd did not wait for the request in flight")
        data = raw_exchange(s, b"56789")
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 405"), data[:100])
        self.assertIn(b"Connection: close", data)
        self.assertEqual(server.wait(), 0, server.log_text())
        self.assertIn("admitd: stopped", server.log_text())

    def test_sigint(self):
        server = self.start_admitd()
        self.assertEqual(server.get("/healthz").status, 200)
        self.assertEqual(server.stop(signal.SIGINT), 0, server.log_text())

    def test_stop_under_traffic(self):
        """Stopping while clients keep connecting exits 0 in every round. libmicrohttpd 0.9.75
        aborted there on epoll (MHD_PANIC in MHD_quiesce_daemon, server/main.c): the preloaded
        library makes the race's window 20 ms wide, so admitd on epoll fails nearly every round."""
        env = dict(os.environ, LD_PRELOAD=os.environ["ADMIT_TEST_EPOLL_DEL_DELAY"],
                   # The preload comes before the sanitizers' runtime in the ASan build.
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")

        def client(server, done, answered, wrong):
            while not done.is_set():
                try:
                    with socket.create_connection((server.host, server.port), timeout=5) as s:
                        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
                                  b"Connection: close\r\n\r\n")
                        data = read_until_close(s, timeout=5)
                except TimeoutError:
                    wrong.append("no answer and not closed within 5 s")
                    continue
                except OSError:
                    continue  # refused or reset once stopping: the client would retry
                # Closed without an answer when the stop came first; never half an answer.
                if data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"ok\n"):
                    answered.append(1)
                elif data:
                    wrong.append(data[:200])

        for sig in [signal.SIGTERM, signal.SIGINT] * 3:
            server = self.start_admitd("--threads", "2", env=env)
            done, answered, wrong = threading.Event(), [], []
            clients = [threading.Thread(target=client, args=(server, done, answered, wrong))
                       for _ in range(4)]
            for t in clients:
                t.start()
            try:
                self.assertTrue(wait_until(lambda: len(answered) >= 20, timeout=10))
                status = server.stop(sig)
            finally:
                done.set()
                for t in clients:
                    t.join()
            self.assertEqual(status, 0, server.log_text()[-2000:])
            self.assertIn("admitd: stopped", server.log_text())
            self.assertEqual(wrong, [])

    def test_idle_keep_alive_connections_do_not_delay_stop(self):
        server = self.start_admitd()
        conn = server.connection()
        conn.request("GET", "/healthz")
        harness.Response(conn.getresponse())
        start = time.monotonic()
        self.assertEqual(server.stop(), 0)
        self.assertLess(time.monotonic() - start, 5)
        conn.close()


class DatabaseLoss(ServerTestCase):
    """With a PostgreSQL of its own, stopped and started under a running admitd."""

    private_cluster = True

    def test_database_restart(self):
        server = self.start_admitd("--threads", "2")
        for _ in range(4):  # several requests: reach both worker threads' connections
            self.assertEqual(server.get("/healthz").status, 200)
        self.cluster.stop()
        for _ in range(4):
            r = server.get("/healthz")
            self.assertEqual(r.status, 503)
            self.assertEqual(r.header("Retry-After"), "5")
            self.assertSecurityHeaders(r)
        # Pages without the database still answer.
        self.assertEqual(server.get("/nope").status, 404)
        self.cluster.start()
        self.assertTrue(wait_until(lambda: all(server.get("/healthz").status == 200
                                               for _ in range(4)), timeout=20),
                        server.log_text())
        self.assertTrue(server.alive())
        self.assertIn("note=db-unavailable", server.log_text())


class RefusesToStart(ServerTestCase):

    def assertRefused(self, args, message, status=1, env=None):
        code, err = harness.start_failure(args, env=env)
        self.assertEqual(code, status, err)
        self.assertIn(message, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        return err

    def test_unmigrated_database(self):
        bare = harness.Database(migrate=False)
        self.addCleanup(bare.drop)
        err = self.assertRefused(["--db", bare.dsn, "--keys", self.keys],
                                 "database is at migration 0 of ")
        self.assertIn("admit migrate", err)

    def test_unreachable_database(self):
        dsn = "host=%s/no-such-socket-dir dbname=admit user=admit" % self.work
        self.assertRefused(["--db", dsn, "--keys", self.keys],
                           "admitd: cannot connect to the database")

    def test_keys(self):
        self.assertRefused(["--db", self.db.dsn, "--keys", os.path.join(self.work, "none")],
                           "ticket-signing.key")
        os.chmod(os.path.join(self.keys, "ticket-signing.key"), 0o644)
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys], "chmod 600")
        os.chmod(os.path.join(self.keys, "ticket-signing.key"), 0o600)
        with open(os.path.join(self.keys, "old.pub"), "w") as f:
            f.write("not a key\n")
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys], "old.pub")

    def test_templates(self):
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--templates",
                            os.path.join(self.work, "none")], "cannot load the templates")
        empty = os.path.join(self.work, "empty")
        os.mkdir(empty)
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--templates", empty],
                           "error.html is missing")

    def test_busy_port(self):
        # Another program holds the port: one line that names the address, says why and what to
        # do; exit status 1.
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(holder.close)
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        err = self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--listen",
                                  "127.0.0.1:%d" % port],
                                 "admitd: cannot listen on 127.0.0.1:%d: the address is in use "
                                 "(another admitd or program holds it); choose another with "
                                 "--listen" % port)
        self.assertNotIn("Failed to bind", err)  # libmicrohttpd's own words are not shown
        # An address this machine does not have.
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--listen",
                            "192.0.2.1:%d" % port],
                           "admitd: cannot listen on 192.0.2.1:%d: this machine has no such "
                           "address" % port)
        # The holder still serves: admitd took nothing from it.
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.close()

    def test_usage(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADMIT_")}
        self.assertRefused(["--keys", self.keys], "admitd: --db is required", status=2,
                           env=env)
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--listen", "nowhere"],
                           "--listen", status=2)
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--threads", "0"],
                           "--threads", status=2)
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--public-url", "ftp://x"],
                           "--public-url", status=2)
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--threads", "4",
                            "--max-connections", "2"], "--max-connections", status=2)
        self.assertRefused(["--db", self.db.dsn, "--keys", self.keys, "--body-limit", "lots"],
                           "--body-limit", status=2)

    def test_help(self):
        code, out = harness.run_output([harness.ADMITD_BIN, "--help"])
        self.assertEqual(code, 0)
        for flag in ["--listen", "--db", "--keys", "--templates", "--threads", "--max-connections",
                     "--per-ip-connections", "--timeout", "--body-limit", "--connection-memory",
                     "--public-url", "ADMIT_DATABASE_URL", "ADMIT_LISTEN"]:
            self.assertIn(flag, out)


if __name__ == "__main__":
    harness.main()
