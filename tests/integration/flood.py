#!/usr/bin/env python3
"""A slow-connection flooder for admitd (issue 14, item 1), asyncio, standard library only.

Keeps CONNECTIONS connections open to HOST:PORT, spread over source addresses (each client
socket is bound to one of them before connect: every 127.0.0.N is a loopback address), each in
one of three shapes:

  headers  sends a request's line and headers one byte every --interval seconds, never ending
  idle     sends a complete request (keep-alive), reads the answer, then stays silent
  body     sends a POST's headers (Content-Length: --body-length), then its body one byte every
           --interval seconds

Whenever the server closes a connection, the flooder opens another one in its place (after
--reconnect-delay), as an attacker would. Every second it prints one line of JSON on stdout:
{"t": seconds since start, "open": connections open now, "peak": most open at once, "opened":
connections opened so far, "closed": closed by the server so far, "refused": failed connects}.
It stops after --duration seconds or on SIGTERM, and prints a last line with "done": true.

As a module, FloodProcess runs it as a process of its own (so that its work does not share an
interpreter with the client that measures) and Probe is that client: what
test_slow_connection_floods.py and bench/flood_latency.py share.

  flood.py --port 8080 --shape headers --connections 2000 --sources 127.0.0.10-17 --duration 30
"""

import argparse
import asyncio
import ipaddress
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import threading
import time


def source_range(text):
    """"127.0.0.10-17" -> ["127.0.0.10", ..., "127.0.0.17"]; "127.0.0.5" -> ["127.0.0.5"]."""
    first, _, last = text.partition("-")
    start = ipaddress.IPv4Address(first)
    end = start if not last else ipaddress.IPv4Address(first.rsplit(".", 1)[0] + "." + last)
    return [str(ipaddress.IPv4Address(n)) for n in range(int(start), int(end) + 1)]


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < needed:
        sys.exit("flood.py: RLIMIT_NOFILE is %d, %d connections need more" % (soft, needed))


class Flood:
    def __init__(self, args):
        self.args = args
        self.sources = source_range(args.sources)
        self.open = 0
        self.peak = 0
        self.opened = 0
        self.closed = 0
        self.refused = 0
        self.stopping = False
        self.start = time.monotonic()

    def first_bytes(self):
        """(what to send at once, what to trickle) for the shape."""
        a = self.args
        if a.shape == "idle":
            return (b"GET %s HTTP/1.1\r\nHost: flood\r\n\r\n" % a.path.encode(), b"")
        if a.shape == "body":
            head = (b"POST %s HTTP/1.1\r\nHost: flood\r\nContent-Type: "
                    b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
                    % (a.path.encode(), a.body_length))
            return (head, b"a" * a.body_length)
        # headers: a request line and header lines that never end (16 KiB of them is more
        # than a day at one byte a second).
        pad = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"v" * 20) for i in range(600))
        return (b"", b"GET %s HTTP/1.1\r\nHost: flood\r\n" % a.path.encode() + pad)

    async def connect(self, source):
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.bind((source, 0))
            await loop.sock_connect(sock, (self.args.host, self.args.port))
        except OSError:
            sock.close()
            raise
        return sock

    async def one(self, source, delay):
        """One connection slot: connect, act out the shape until the server closes, again."""
        loop = asyncio.get_running_loop()
        head, trickle = self.first_bytes()
        await asyncio.sleep(delay)
        while not self.stopping:
            try:
                sock = await asyncio.wait_for(self.connect(source), 10)
            except (OSError, asyncio.TimeoutError):
                self.refused += 1
                await asyncio.sleep(self.args.reconnect_delay * (1 + random.random()))
                continue
            self.opened += 1
            self.open += 1
            self.peak = max(self.peak, self.open)
            try:
                await self.act(loop, sock, head, trickle)
            except OSError:
                pass
            finally:
                sock.close()
                self.open -= 1
                if not self.stopping:
                    self.closed += 1
            await asyncio.sleep(self.args.reconnect_delay * (1 + random.random()))

    async def act(self, loop, sock, head, trickle):
        """Returns when the server has closed the connection (or the flood stops)."""
        if head:
            await loop.sock_sendall(sock, head)
        if self.args.shape == "idle":
            # Read the answer; then nothing until the server closes.
            while not self.stopping:
                data = await loop.sock_recv(sock, 65536)
                if not data:
                    return
            return
        reader = asyncio.ensure_future(self.wait_closed(loop, sock))
        try:
            # Start each connection's bytes at a random phase: the sends spread over time.
            await asyncio.sleep(random.random() * self.args.interval)
            for i in range(len(trickle)):
                if reader.done() or self.stopping:
                    return
                await loop.sock_sendall(sock, trickle[i:i + 1])
                await asyncio.wait([reader], timeout=self.args.interval)
            await reader
        finally:
            reader.cancel()

    async def wait_closed(self, loop, sock):
        while True:
            data = await loop.sock_recv(sock, 65536)
            if not data:
                return

    async def report(self):
        while not self.stopping:
            self.print_stats(False)
            await asyncio.sleep(1)

    def print_stats(self, done):
        line = {"t": round(time.monotonic() - self.start, 2), "open": self.open,
                "peak": self.peak, "opened": self.opened, "closed": self.closed,
                "refused": self.refused}
        if done:
            line["done"] = True
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()

    async def run(self):
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        n = self.args.connections
        # Ramp up over --ramp seconds: connects arrive spread out, not all in one burst.
        slots = [asyncio.ensure_future(self.one(self.sources[i % len(self.sources)],
                                                self.args.ramp * i / n)) for i in range(n)]
        reporter = asyncio.ensure_future(self.report())
        try:
            await asyncio.wait_for(stop.wait(), self.args.duration)
        except asyncio.TimeoutError:
            pass
        self.stopping = True
        for task in slots + [reporter]:
            task.cancel()
        await asyncio.gather(*slots, reporter, return_exceptions=True)
        self.print_stats(True)


class FloodProcess:
    """flood.py against port in a process of its own; stats holds its last report line."""

    def __init__(self, port, shape, connections, sources, duration, extra=()):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--port", str(port), "--shape", shape,
             "--connections", str(connections), "--sources", sources, "--duration",
             str(duration)] + list(extra),
            stdout=subprocess.PIPE, text=True)
        self.stats = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.stats = json.loads(line)

    def stop(self):
        """Stops the flood; returns its last report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.reader.join(10)
        self.proc.stdout.close()
        return dict(self.stats)


class Probe:
    """The client from another address: one round is GET /healthz, GET the event page and
    register on it (the page's form), each on a new connection, each timed. server is a
    harness.Admitd. samples: (what, seconds, status); wrong: answers other than 200, 200, 303."""

    KINDS = ("/healthz", "event page", "registration")

    def __init__(self, server, slug):
        self.server = server
        self.slug = slug
        self.samples = []
        self.wrong = []

    def timed(self, what, call, expected):
        start = time.monotonic()
        try:
            r = call()
            status = r.status
        except (OSError, ValueError) as e:  # http.client errors are one or the other
            r, status = None, repr(e)
        self.samples.append((what, time.monotonic() - start, status))
        if status != expected:
            self.wrong.append((what, status, r.text[:200] if r is not None else ""))
        return r

    def round(self):
        import harness
        self.timed("/healthz", lambda: self.server.get("/healthz"), 200)
        browser = harness.Browser(self.server)
        page = self.timed("event page", lambda: browser.get("/events/" + self.slug), 200)
        if page is None or page.status != 200:
            return
        form = harness.RegistrationForm(page.text).fields()
        self.timed("registration",
                   lambda: browser.post("/events/%s/register" % self.slug, form), 303)

    def reset(self):
        self.samples, self.wrong = [], []

    def times(self, what):
        return sorted(t for w, t, _ in self.samples if w == what)


def threads_of(pid):
    """The number of threads of process pid."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--shape", choices=["headers", "idle", "body"], required=True)
    p.add_argument("--connections", type=int, default=2000)
    p.add_argument("--sources", default="127.0.0.10-17",
                   help="source addresses, A.B.C.D or A.B.C.D-E")
    p.add_argument("--path", default=None,
                   help="request path (default: /healthz; idle: /static/style.css)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between trickled bytes")
    p.add_argument("--body-length", type=int, default=60000)
    p.add_argument("--ramp", type=float, default=2.0, help="seconds to open the connections")
    p.add_argument("--reconnect-delay", type=float, default=0.1)
    p.add_argument("--duration", type=float, default=30.0)
    args = p.parse_args()
    if args.path is None:
        args.path = "/static/style.css" if args.shape == "idle" else "/healthz"
    raise_fd_limit(args.connections + 64)
    asyncio.run(Flood(args).run())


if __name__ == "__main__":
    main()
