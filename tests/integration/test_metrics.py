#!/usr/bin/python3
"""Vital signs, black box (issue 19): admitd's and the mailer's /metrics on their own
--metrics-listen address, scraped over HTTP and parsed with a real Prometheus text-format parser
(prometheus_client.parser, Debian's python3-prometheus-client: scripts/install-deps), checked to
move as registrations, page views, door scans, offline uploads, a database outage and e-mails
happen.
"""

import http.client
import re
import time

import harness
from harness import (ServerTestCase, SmtpSink, TicketSigner, add_device, api_call, checkin_event,
                     create_event, free_port, new_nonce, register, register_sql, start_failure,
                     start_mailer, ticket_token, wait_until)

from prometheus_client.parser import text_string_to_metric_families

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def get(port, path, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        conn.close()


class Scrape:
    """One scrape, parsed: types by family, values by (sample name, sorted label pairs)."""

    def __init__(self, text):
        self.text = text
        self.types = {}
        self.values = {}
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            for s in family.samples:
                self.values[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def get(self, name, **labels):
        return self.values.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name, **labels):
        """The sum over samples of name whose labels include labels."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.values.items() if n == name and want <= set(ls))


def scrape(port):
    status, content_type, text = get(port, "/metrics")
    if status != 200:
        raise AssertionError("GET /metrics: %d %s" % (status, text))
    if content_type != CONTENT_TYPE:
        raise AssertionError("Content-Type %r" % content_type)
    return Scrape(text)


def metrics_port(process, who="admitd"):
    m = process.wait_log(r"metrics on (?:http://127\.0\.0\.1:|port )(\d+)")
    if m is None:
        raise AssertionError("%s did not say where its metrics are: %s" % (who, process.log_text()))
    return int(m.group(1))


REGISTER = dict(method="POST", route="/events/:slug/register")


class Admitd(ServerTestCase):

    def test_requests_pages_and_outbox(self):
        server = self.start_admitd("--metrics-listen", "127.0.0.1:0")
        port = metrics_port(server)
        # Only on its own address; nothing else there.
        self.assertEqual(server.get("/metrics").status, 404)
        self.assertEqual(get(port, "/")[0], 404)
        self.assertEqual(get(port, "/metrics", "POST")[0], 405)
        event = create_event(self.db.dsn)
        before = scrape(port)
        self.assertEqual(before.types["admit_http_requests"], "counter")
        self.assertEqual(before.types["admit_http_request_duration_seconds"], "histogram")
        self.assertEqual(before.get("admit_db_up"), 1)
        self.assertEqual(before.get("admit_outbox_messages"), 0)
        self.assertEqual(before.get("admit_outbox_oldest_message_age_seconds"), 0)

        for i in range(3):
            ticket_token(register(server, event.slug, email="m%d@example.org" % i)[2])
        server.get("/events/%s" % event.slug)
        self.assertEqual(server.get("/no/such/page").status, 404)
        # The request lines are written at completion, just after the answer: wait for them.
        server.wait_request_lines(lambda l: l["route"] == "-", 1)
        time.sleep(0.2)
        after = scrape(port)
        self.assertEqual(after.get("admit_http_requests_total", status="303", **REGISTER)
                         - before.get("admit_http_requests_total", status="303", **REGISTER), 3)
        self.assertEqual(after.get("admit_http_request_duration_seconds_count", **REGISTER), 3)
        self.assertGreater(after.get("admit_http_request_duration_seconds_sum", **REGISTER), 0)
        self.assertEqual(after.get("admit_http_request_duration_seconds_bucket", le="+Inf",
                                   **REGISTER), 3)
        self.assertGreaterEqual(after.get("admit_http_requests_total", method="-", route="-",
                                          status="404"), 1)
        # Four views of the event page (three forms, one plain): built or from the cache.
        pages = (after.get("admit_event_page_cache_hits_total")
                 + after.get("admit_event_page_cache_misses_total"))
        self.assertGreaterEqual(pages, 4)
        self.assertGreaterEqual(after.get("admit_event_page_cache_misses_total"), 1)
        # Three confirmations wait: nobody runs a mailer here.
        self.assertEqual(after.get("admit_outbox_messages"), 3)
        self.assertTrue(wait_until(
            lambda: scrape(port).get("admit_outbox_oldest_message_age_seconds") >= 1, timeout=5))
        # Workers and the scraper hold connections; none failed.
        self.assertGreaterEqual(after.get("admit_db_connections_open"), 2)
        self.assertGreaterEqual(after.get("admit_db_connects_total"), 2)
        self.assertEqual(after.get("admit_db_connect_failures_total"), 0)
        self.assertEqual(after.get("admit_http_requests_in_flight"), 0)

    def test_door_scans_groups_and_offline_uploads(self):
        dsn = self.db.dsn
        event_id, lists = checkin_event(dsn, "conf")
        ids = register_sql(dsn, "conf", 4, [lists["Day 1"]])
        signer = TicketSigner(self.keys)
        gate_a = add_device(dsn, "conf", "Gate A")
        gate_b = add_device(dsn, "conf", "Gate B")
        server = self.start_admitd("--metrics-listen", "127.0.0.1:0")
        port = metrics_port(server)
        before = scrape(port)

        def scan(token, registration, **fields):
            body = {"payload": signer.ticket(event_id, registration, 0), "list": "Day 1",
                    "nonce": new_nonce()}
            body.update(fields)
            r, answer = api_call(server, "POST", "/api/v1/checkins", token, body)
            self.assertEqual(r.status, 200, r.text)
            return answer

        # Three online entries: decided by the check-in pool, in groups.
        for registration in ids[:3]:
            self.assertEqual(scan(gate_a, registration)["verdict"], "valid")
        # Gate B was offline and let the first attendee in again later: flagged; and it
        # uploads a clean offline entry of the fourth.
        flagged = scan(gate_b, ids[0], offline=True, door_verdict="valid")
        self.assertEqual((flagged["verdict"], flagged["flagged"]), ("already_checked_in", True))
        self.assertFalse(scan(gate_b, ids[3], offline=True)["flagged"])
        time.sleep(0.2)
        after = scrape(port)
        self.assertEqual(after.get("admit_checkin_group_scans_total")
                         - before.get("admit_checkin_group_scans_total"), 3)
        groups = after.get("admit_checkin_groups_total") - before.get("admit_checkin_groups_total")
        self.assertGreaterEqual(groups, 1)
        self.assertLessEqual(groups, 3)
        self.assertGreaterEqual(after.get("admit_checkin_group_largest"), 1)
        self.assertEqual(after.types["admit_checkin_group_size"], "histogram")
        self.assertEqual(after.get("admit_checkin_group_size_count"),
                         after.get("admit_checkin_groups_total"))
        self.assertEqual(after.get("admit_checkin_group_size_sum"),
                         after.get("admit_checkin_group_scans_total"))
        self.assertEqual(after.get("admit_checkin_group_size_bucket", le="+Inf"),
                         after.get("admit_checkin_groups_total"))
        # One door scanning one ticket at a time: groups of one.
        self.assertEqual(after.get("admit_checkin_group_size_bucket", le="1"),
                         after.get("admit_checkin_groups_total"))
        self.assertEqual(after.get("admit_checkin_waiting"), 0)
        self.assertEqual(after.get("admit_offline_scans_uploaded_total"), 2)
        self.assertEqual(after.get("admit_offline_scans_flagged_total"), 1)
        self.assertEqual(after.get("admit_http_requests_total", method="POST",
                                   route="/api/v1/checkins", status="200"), 5)

    def test_bad_metrics_address(self):
        status, err = start_failure(["--db", self.db.dsn, "--keys", self.keys,
                                     "--listen", "127.0.0.1:0", "--metrics-listen", "localhost"])
        self.assertEqual(status, 2, err)
        self.assertIn("--metrics-listen \"localhost\": expected IPv4ADDR:PORT", err)
        server = self.start_admitd("--metrics-listen", "127.0.0.1:0")
        taken = metrics_port(server)
        status, err = start_failure(["--db", self.db.dsn, "--keys", self.keys,
                                     "--listen", "127.0.0.1:0",
                                     "--metrics-listen", "127.0.0.1:%d" % taken])
        self.assertEqual(status, 1, err)
        self.assertIn("--metrics-listen: cannot listen on 127.0.0.1:%d: the address is in use"
                      % taken, err)

    def test_off_by_default(self):
        server = self.start_admitd()
        self.assertNotIn("metrics", server.log_text())
        self.assertEqual(server.get("/metrics").status, 404)


class DatabaseOutage(ServerTestCase):
    private_cluster = True

    def test_connection_state_and_errors(self):
        server = self.start_admitd("--metrics-listen", "127.0.0.1:0")
        port = metrics_port(server)
        self.assertEqual(server.get("/healthz").status, 200)
        up = scrape(port)
        self.assertEqual(up.get("admit_db_up"), 1)
        self.cluster.stop()
        # The worker's connection breaks at its next statement, and reconnecting fails.
        self.assertEqual(server.get("/healthz").status, 503)
        down = scrape(port)
        self.assertEqual(down.get("admit_db_up"), 0)
        self.assertNotIn(("admit_outbox_messages", ()), down.values)  # unknown, not 0
        self.assertGreater(down.get("admit_db_connect_failures_total")
                           + down.get("admit_db_errors_total", kind="unavailable"),
                           up.get("admit_db_connect_failures_total")
                           + up.get("admit_db_errors_total", kind="unavailable"))
        self.assertLess(down.get("admit_db_connections_open"), up.get("admit_db_connections_open"))
        self.cluster.start()
        self.assertTrue(wait_until(lambda: server.get("/healthz").status == 200, timeout=15))
        self.assertTrue(wait_until(lambda: scrape(port).get("admit_db_up") == 1, timeout=15))


class Mailer(ServerTestCase):

    def test_sent_failed_retried_backlog(self):
        server = self.start_admitd()
        event = create_event(self.db.dsn)
        smtp_port = free_port()
        mailer = start_mailer(self, "smtp://127.0.0.1:%d" % smtp_port, server.url,
                              "--retry-min", "1", "--retry-max", "1", "--poll-ms", "100",
                              "--metrics-listen", "127.0.0.1:0")
        port = metrics_port(mailer, "admit mailer")
        first = scrape(port)
        for name in ("admit_mailer_sent_total", "admit_mailer_failed_total",
                     "admit_mailer_retried_total"):
            self.assertEqual(first.types[name[:-len("_total")]], "counter")
            self.assertEqual(first.get(name), 0)
        self.assertEqual(first.get("admit_outbox_messages"), 0)
        # No SMTP server yet: the messages wait and are retried.
        for address in ("one@example.org", "two@example.org", "refused@example.org"):
            ticket_token(register(server, event.slug, email=address)[2])
        self.assertTrue(wait_until(
            lambda: scrape(port).get("admit_mailer_retried_total") >= 1, timeout=20))
        waiting = scrape(port)
        self.assertEqual(waiting.get("admit_outbox_messages"), 3)
        self.assertEqual(waiting.get("admit_mailer_sent_total"), 0)
        # The server comes; it refuses one recipient for good.
        sink = SmtpSink(port=smtp_port, refuse=["refused@example.org"])
        self.addCleanup(sink.stop)
        self.assertTrue(wait_until(
            lambda: scrape(port).get("admit_outbox_messages") == 0, timeout=30),
            mailer.log_text())
        done = scrape(port)
        self.assertEqual(done.get("admit_mailer_sent_total"), 2)
        self.assertEqual(done.get("admit_mailer_failed_total"), 1)
        self.assertEqual(done.get("admit_outbox_oldest_message_age_seconds"), 0)
        self.assertEqual(sink.count(), 2)

    def test_bad_metrics_address(self):
        proc = harness.run_admit("mailer", "--db", self.db.dsn, "--smtp-url", "smtp://127.0.0.1:1",
                                 "--from", "T <t@example.org>", "--public-url", "http://x.example",
                                 "--keys", self.keys, "--metrics-listen", "nowhere", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--metrics-listen \"nowhere\": expected IPv4ADDR:PORT", proc.stderr)


if __name__ == "__main__":
    harness.main()
