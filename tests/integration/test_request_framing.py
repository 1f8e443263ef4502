#!/usr/bin/env python3
"""Ambiguous request framing (issue 14, item 2), black box on raw sockets: a request whose body
length two parties could read differently (RFC 9112 §6.1 and §6.3, RFC 9110 §8.6) answers 400,
with the security headers, and the connection closes, so that nothing after it on the
connection is read as another request: behind a proxy that frames the body the other way, that
other request would be a smuggled one. The ordinary framings keep working, keep-alive included.
"""

import time

import harness
from harness import ServerTestCase, raw_exchange

SECURITY_HEADERS = ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "X-Frame-Options"]

# What a front proxy framing by Content-Length would forward as the next request: admitd must
# never answer it.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def answers(data):
    """The status codes of the HTTP/1.1 answers in data, in order."""
    return [int(part[:3]) for part in data.split(b"HTTP/1.1 ")[1:]]


class Framing(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.server = self.start_admitd()

    def exchange(self, request, timeout=10):
        """Sends request on a new connection and reads until admitd closes it (a test fails
        with socket.timeout when it keeps the connection open)."""
        with self.server.socket() as s:
            try:
                return raw_exchange(s, request, timeout=timeout)
            except (BrokenPipeError, ConnectionResetError):
                return b""

    def assertRefused(self, request, why):
        start = time.monotonic()
        data = self.exchange(request)
        took = time.monotonic() - start
        self.assertEqual(answers(data), [400], "%s: %r" % (why, data[:300]))
        head = data.split(b"\r\n\r\n")[0].decode()
        for header in SECURITY_HEADERS:
            self.assertIn(header + ":", head, why)
        self.assertIn("Connection: close", head, why)
        self.assertIn(b"ambiguous", data, why)
        self.assertNotIn(b"smuggled", data)
        # At once, not when an idle timeout ends the wait for a body.
        self.assertLess(took, 5, why)

    def test_content_length_and_chunked(self):
        chunked_body = b"0\r\n\r\n" + SMUGGLED
        for headers in [b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(chunked_body),
                        b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n" % len(chunked_body),
                        b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n"]:
            self.assertRefused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
                               + chunked_body, headers)
        # The same on a path that takes a form: refused before the handler.
        self.assertRefused(b"POST /tickets/resend HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           b"application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
                           b"Content-Length: 3\r\n\r\n0\r\n\r\n" + SMUGGLED, "form")
        lines = self.server.wait_request_lines(lambda l: l.get("note") == "bad-framing", 4)
        self.assertEqual({l["status"] for l in lines}, {"400"})

    def test_content_lengths_that_differ(self):
        body = b"hello" + SMUGGLED
        for headers in [b"Content-Length: 5\r\nContent-Length: %d\r\n" % len(body),
                        b"Content-Length: %d\r\nContent-Length: 5\r\n" % len(body),
                        b"Content-Length: 5\r\nContent-Length: 5\r\nContent-Length: 6\r\n"]:
            self.assertRefused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + body,
                               headers)
        # The same length twice is one length (RFC 9110 §8.6): answered, and the connection
        # goes on.
        data = self.exchange(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                             b"Content-Length: 5\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: x\r\n"
                             b"Connection: close\r\n\r\n")
        self.assertEqual(answers(data), [405, 200], data[:300])

    def test_transfer_codings_other_than_chunked(self):
        for coding in [b"Transfer-Encoding: gzip, chunked\r\n", b"Transfer-Encoding: gzip\r\n",
                       b"Transfer-Encoding: identity\r\n", b"Transfer-Encoding: chunked, chunked\r\n",
                       b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                       b"Transfer-Encoding: xchunked\r\n", b"Transfer-Encoding: \r\n"]:
            self.assertRefused(b"POST /healthz HTTP/1.1\r\nHost: x\r\n" + coding + b"\r\n"
                               b"5\r\nhello\r\n0\r\n\r\n" + SMUGGLED, coding)
        # HTTP/1.0 has no chunked encoding (RFC 9112 §6.1).
        self.assertRefused(b"POST /healthz HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           b"\r\n0\r\n\r\n" + SMUGGLED, "HTTP/1.0")

    def test_ordinary_framing_still_works(self):
        tail = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        cases = [
            # Content-Length alone, then the next request on the same connection.
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            # Chunked alone (any case), then the next request.
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n",
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
            b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n",
            # No body at all.
            b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        for request in cases:
            data = self.exchange(request + tail)
            self.assertEqual(len(answers(data)), 2, "%r: %r" % (request, data[:300]))
            self.assertEqual(answers(data)[1], 200, request)
            self.assertNotEqual(answers(data)[0], 400, request)
        # Keep-alive through http.client: a form post with a body, then a page, one connection.
        conn = self.server.connection()
        conn.request("POST", "/healthz", body=b"a=1")
        first = harness.Response(conn.getresponse())
        sock = conn.sock
        conn.request("GET", "/healthz")
        second = harness.Response(conn.getresponse())
        same = sock is not None and conn.sock is sock
        conn.close()
        self.assertEqual((first.status, second.status), (405, 200))
        self.assertTrue(same, "the second request needed a new connection")


if __name__ == "__main__":
    harness.main()
