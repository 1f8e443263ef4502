#!/usr/bin/env python3
"""nginx in front of two admitd against one database, as deploy/nginx/admit.conf documents it:
that very file, with only its addresses, ports, certificate and server name changed (the test
fails if any of those lines is gone), a self-signed certificate, and each admitd with
--trusted-proxy and an https --public-url. Through it: plain http redirected, HTTP/2 and HSTS,
a registration, the ticket page and its QR code, an organiser's login, and the door scanning
that ticket (admit scan --ca-file), with both admitd taking their share. Login throttling sees
each client's own address, not nginx's nor one the client wrote into X-Forwarded-For: clients
connect from 127.0.0.2 and 127.0.0.3, nginx from 127.0.0.1.
"""

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile

import harness
from harness import (Browser, ServerTestCase, TlsCertificate, add_device, create_event,
                     decode_qr_png, free_port, open_form, run_scan, scan_answers, ticket_token,
                     wait_until)
from test_admin import add_admin, login, session_cookie

NGINX_CONF = os.path.join(harness.SOURCE_DIR, "deploy", "nginx", "admit.conf")


class Nginx:
    """nginx (the deb's binary) with a configuration, pid file, logs and temp folders of its own,
    including the site file deploy/nginx/admit.conf with the given changes."""

    def __init__(self, upstreams, http_port, https_port, certificate):
        self.dir = tempfile.mkdtemp(prefix="admit-nginx-")
        self.http_port, self.https_port = http_port, https_port
        with open(NGINX_CONF) as f:
            site = f.read()
        servers = "".join("    server 127.0.0.1:%d;\n" % port for port in upstreams)
        changes = [
            ("    server 127.0.0.1:8080;\n", servers, 1),
            ("    listen 80;\n", "    listen 127.0.0.1:%d;\n" % http_port, 1),
            ("    listen 443 ssl http2;\n",
             "    listen 127.0.0.1:%d ssl http2;\n" % https_port, 1),
            ("    listen [::]:80;\n", "", 1),  # IPv6 may be missing in a container
            ("    listen [::]:443 ssl http2;\n", "", 1),
            ("server_name tickets.example.org;", "server_name 127.0.0.1;", 2),
            ("ssl_certificate /etc/ssl/admit/fullchain.pem;",
             "ssl_certificate %s;" % certificate.cert, 1),
            ("ssl_certificate_key /etc/ssl/admit/privkey.pem;",
             "ssl_certificate_key %s;" % certificate.key, 1),
        ]
        for old, new, count in changes:
            if site.count(old) != count:
                raise AssertionError("deploy/nginx/admit.conf: expected %d of %r" % (count, old))
            site = site.replace(old, new)
        with open(os.path.join(self.dir, "admit.conf"), "w") as f:
            f.write(site)
        temp = os.path.join(self.dir, "tmp")
        os.mkdir(temp)
        main = ["user root;" if os.geteuid() == 0 else "",
                "worker_processes 1;", "pid %s/nginx.pid;" % self.dir,
                "error_log %s/error.log notice;" % self.dir, "daemon off;",
                "events { worker_connections 256; }",
                "http {",
                "    access_log %s/access.log;" % self.dir]
        for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]:
            main.append("    %s_temp_path %s/%s;" % (kind, temp, kind))
        main += ["    include %s/admit.conf;" % self.dir, "}"]
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(main) + "\n")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.log = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen([nginx, "-c", self.conf, "-p", self.dir, "-e",
                                      os.path.join(self.dir, "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        if not wait_until(self.listening, timeout=30):
            self.stop()
            raise AssertionError("nginx did not start: %s" % self.error_log())

    def listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("nginx exited: %s" % self.error_log())
        try:
            socket.create_connection(("127.0.0.1", self.https_port), 1).close()
            return True
        except OSError:
            return False

    def error_log(self):
        text = ""
        for name in ["stderr.log", "error.log"]:
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        return text

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Https:
    """The site through nginx over TLS, from a given local address; with harness.Browser it
    keeps cookies and fills forms."""

    def __init__(self, port, ca_file, source="127.0.0.2"):
        self.port, self.source = port, source
        self.context = ssl.create_default_context(cafile=ca_file)
        self.origin = "https://127.0.0.1:%d" % port

    def request(self, method, path, body=None, headers=None, timeout=30.0):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self.context, source_address=(self.source, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            return harness.Response(conn.getresponse())
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)


class ThroughNginx(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.certificate = TlsCertificate(os.path.join(self.work, "tls"))
        http_port, https_port = free_port(), free_port()
        self.url = "https://127.0.0.1:%d" % https_port
        self.servers = [self.start_admitd("--trusted-proxy", "127.0.0.1", "--public-url",
                                          self.url) for _ in range(2)]
        self.nginx = Nginx([s.port for s in self.servers], http_port, https_port,
                           self.certificate)
        self.addCleanup(self.nginx.stop)
        self.site = Https(https_port, self.certificate.cert)

    def test_tls_and_redirect(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.nginx.http_port, timeout=10)
        conn.request("GET", "/events/x?y=1")
        r = conn.getresponse()
        self.assertEqual((r.status, r.getheader("Location")),
                         (301, "https://127.0.0.1/events/x?y=1"))
        conn.close()
        r = self.site.get("/healthz")
        self.assertEqual((r.status, r.body), (200, b"ok\n"))
        self.assertEqual(r.header("Strict-Transport-Security"), "max-age=63072000")
        # HTTP/2, negotiated by curl (Python's client speaks HTTP/1.1 only).
        done = subprocess.run(["curl", "-sS", "--http2", "--cacert", self.certificate.cert,
                               "-o", "/dev/null", "-w", "%{http_version}", self.url + "/livez"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.stdout, "2", done.stderr)
        # A body over admitd's --body-limit (64 KiB) is refused by nginx itself.
        r = self.site.request("POST", "/events/x/register", body=b"a=" + b"x" * 70000,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 413)

    def test_registration_ticket_admin_and_door(self):
        event = create_event(self.db.dsn)
        browser = Browser(self.site)
        form = open_form(browser, event.slug).fields(email="ada@example.org")
        self.assertIn("__Host-admit_csrf", browser.cookies)  # Secure: the public URL is https
        r = browser.post("/events/%s/register" % event.slug, form,
                         headers={"Origin": self.site.origin})
        token = ticket_token(r)
        page = self.site.get("/tickets/" + token)
        self.assertEqual(page.status, 200)
        self.assertIn("Ada", page.text)
        payload = decode_qr_png(self.site.get("/tickets/%s/qr.png" % token).body, self.work)
        self.assertTrue(payload and payload.startswith("AD1:"), payload)

        add_admin(self.db.dsn, "boss@example.org")
        admin, r = login(self.site, "boss@example.org", headers={"Origin": self.site.origin})
        self.assertEqual(r.status, 303, r.text[:300])
        self.assertIn("__Host-admit_session", admin.cookies)
        self.assertTrue(session_cookie(admin))
        self.assertEqual(admin.get("/admin/events/%s" % event.slug).status, 200)

        # The door, over TLS with the private certificate authority.
        device = add_device(self.db.dsn, event.slug, "Gate A")
        state = os.path.join(self.work, "door")
        args = ["--server", self.url, "--ca-file", self.certificate.cert, "--list", "Day 1",
                "--json", "--token", device, "--timeout", "5000"]
        done = run_scan(args, [payload, payload], state=state)
        answers = scan_answers(done.stdout)
        self.assertEqual([(a["verdict"], a["offline"]) for a in answers],
                         [("valid", False), ("already_checked_in", False)], done.stderr)
        self.assertEqual(self.db.sql("SELECT count(*) FROM admissions").strip(), "1")
        # Without the certificate authority, the door does not trust the server.
        done = subprocess.run([harness.ADMIT_BIN, "sync", "--server", self.url, "--token",
                               device, "--timeout", "3000"], capture_output=True, text=True,
                              timeout=60, env=dict(os.environ, XDG_STATE_HOME=os.path.join(
                                  self.work, "door-without-ca")))
        self.assertNotEqual(done.returncode, 0)
        self.assertRegex(done.stderr, r"(?i)certificate")

        # Both admitd had their share of all that.
        for server in self.servers:
            self.assertGreater(len(server.request_lines()), 2, server.log_text())

    def test_throttling_sees_the_client_address(self):
        def fail(source, email, forged="203.0.113.9"):
            # A client writing its own X-Forwarded-For: nginx appends the real address after it.
            site = Https(self.site.port, self.certificate.cert, source=source)
            _, r = login(site, email, "not the password",
                         headers={"X-Forwarded-For": forged, "Origin": site.origin})
            return r
        # Ten failures from one address are free (each on another account), then that address
        # waits: even a first try at another account.
        for i in range(11):
            self.assertEqual(fail("127.0.0.2", "user%d@example.org" % i).status, 401)
        self.db.sql("UPDATE admin_login_throttle SET failures = failures + 2 WHERE kind = 'ip'")
        r = fail("127.0.0.2", "fresh@example.org")
        self.assertEqual(r.status, 429)
        self.assertIsNotNone(r.header("Retry-After"))
        # Another client behind the same nginx is not held up.
        self.assertEqual(fail("127.0.0.3", "other@example.org").status, 401)
        self.assertEqual(self.db.sql("SELECT string_agg(key || '=' || failures, ',' ORDER BY key)"
                                     " FROM admin_login_throttle WHERE kind = 'ip'").strip(),
                         "127.0.0.2=13,127.0.0.3=1")


if __name__ == "__main__":
    harness.main()
