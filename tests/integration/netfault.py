"""A fault-injecting TCP proxy for black-box tests: what a door's network does at a real venue.

FaultProxy(upstream_port) listens on 127.0.0.1:port and forwards to 127.0.0.1:upstream_port. Its
mode, changed at any time with set_mode(), decides what each new connection meets:

  pass        forwarded both ways
  refuse      nothing listens: connections are refused at once
  blackhole   accepted, read, never answered (a dead uplink, a captive portal, a hung proxy)
  stall       forwarded, but only the first `first_bytes` bytes of the answer come back, then
              nothing (a link that dies mid-answer)
  slow        forwarded, each answer held back `delay` seconds (an overloaded link)
  lossy       each connection dropped at once with a reset, with probability `drop`, else
              forwarded (a lossy Wi-Fi)
  latency     forwarded with `rtt` seconds of round trip: half of it on every chunk each way,
              and a whole one before a new connection carries anything (its handshake); for
              measuring (where the kernel has no netem), not a fault

With tls=(certfile, keyfile), the proxy is a TLS server in front of the plain-HTTP upstream;
in `blackhole` mode the TLS handshake itself stalls (the client's hello is read, nothing is
answered). A connection already open when the mode changes meets the new mode too, as at a
venue where the uplink dies under a kept-alive connection: reset (refuse), or its bytes
dropped from then on (blackhole, stall), or delayed (slow).

The proxy runs its own asyncio loop in a thread; stop() ends it. Python standard library only.
"""

import asyncio
import random
import socket
import ssl
import struct
import threading


class FaultProxy:

    def __init__(self, upstream_port, tls=None, port=0):
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.params = {}
        self.connections = 0
        self.tls = None
        if tls is not None:
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(*tls)
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._tasks = set()
        self._writers = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        # A port of our own, kept across "refuse" (which closes the listening socket).
        probe = socket.socket()
        probe.bind(("127.0.0.1", port))
        self.port = probe.getsockname()[1]
        probe.close()
        self._thread.start()
        self._ready.wait(10)
        self._call(self._listen)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    def _call(self, coro_fn, *args):
        return asyncio.run_coroutine_threadsafe(coro_fn(*args), self._loop).result(10)

    async def _listen(self):
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port,
                                                      reuse_address=True, backlog=256)

    async def _unlisten(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def set_mode(self, mode, **params):
        """Switches what new connections meet (see the module's comment)."""
        assert mode in ("pass", "refuse", "blackhole", "stall", "slow", "lossy", "latency"), mode
        self.mode = mode
        self.params = params
        if mode == "refuse":
            self._call(self._unlisten)
            self._call(self._reset_all)
        else:
            self._call(self._listen)

    async def _reset_all(self):
        for writer in list(self._writers):
            try:
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            except Exception:
                pass

    def url(self, scheme=None):
        return "%s://127.0.0.1:%d" % (scheme or ("https" if self.tls else "http"), self.port)

    def stop(self):
        async def shutdown():
            await self._unlisten()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            self._call(shutdown)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            if not self._thread.is_alive():
                self._loop.close()

    # Connections.

    async def _accept(self, reader, writer):
        task = asyncio.current_task()
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        mode, params = self.mode, dict(self.params)
        try:
            if mode == "lossy" and random.random() < params.get("drop", 0.5):
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()  # a reset, not an orderly close
                return
            if mode == "blackhole":
                await self._drain(reader)
                return
            if mode == "latency":
                await asyncio.sleep(params.get("rtt", 0.02))
            if self.tls is not None:
                await writer.start_tls(self.tls)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            try:
                await asyncio.gather(self._pipe(reader, up_writer),
                                     self._answers(up_reader, writer, mode, params))
            finally:
                up_writer.close()
        except (ConnectionError, ssl.SSLError, OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            try:
                writer.transport.abort()
            except Exception:
                pass

    @staticmethod
    async def _drain(reader):
        while await reader.read(65536):
            pass

    def _dead(self):
        """Whether the uplink drops every byte now (for connections opened before)."""
        return self.mode in ("blackhole", "stall")

    async def _pipe(self, reader, writer):
        while True:
            data = await reader.read(65536)
            if not data:
                writer.write_eof() if writer.can_write_eof() else None
                return
            if self._dead():
                continue
            if self.mode == "latency":
                await asyncio.sleep(self.params.get("rtt", 0.02) / 2)
            writer.write(data)
            await writer.drain()

    async def _answers(self, reader, writer, mode, params):
        sent = 0
        while True:
            data = await reader.read(65536)
            if not data:
                writer.close()
                return
            if self.mode == "slow":  # while the link is slow, whenever the connection began
                await asyncio.sleep(self.params.get("delay", 2.0))
            if self.mode == "latency":
                await asyncio.sleep(self.params.get("rtt", 0.02) / 2)
            if mode == "stall":
                room = params.get("first_bytes", 20) - sent
                if room <= 0:
                    continue  # the rest never arrives
                data = data[:room]
            elif self._dead():
                continue
            writer.write(data)
            sent += len(data)
            await writer.drain()
