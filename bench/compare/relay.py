#!/usr/bin/env python3
"""A loopback TCP relay that adds a fixed one-way delay, for WAN-like benchmarks (the kernel here
has no netem). Standard library only.

    relay.py --listen-port P --target-port T --delay-ms D

Accepts on 127.0.0.1:P (0 = any free port), connects each client to 127.0.0.1:T, and forwards
every chunk in both directions D ms after it arrived. Each direction is a queue of timestamped
chunks drained by one timer, so a stream still flows at full rate, only shifted by D (no sleep
per chunk). Half-close (FIN) and close/reset are forwarded with the same delay. The first line on
stdout is the listening port (flushed), so `--listen-port 0` can be used from scripts.

Not emulated: the connection handshake (connect() to the relay completes at once, so a new
connection costs no extra round trip), loss, and bandwidth limits. The relay acknowledges what it
reads at once (TCP_QUICKACK), so a server that sends an answer's head and body in two writes
with Nagle on is not held 40 ms by a delayed ACK on every answer.
"""
import argparse
import asyncio
import collections
import socket
import struct
import sys

DATA, EOF, CLOSE = 0, 1, 2
# The event loop's epoll wait rounds its timeout up to whole milliseconds: wake a little early and
# send what is due within this slack. Measured with a loopback echo: --delay-ms 10 gives 20.8 ms
# round trips (--delay-ms 0: 0.3 ms).
SLACK = 0.0005
# Per direction: stop reading from the sender when more than HIGH bytes wait (queued for the
# delay plus not yet written to the receiver); read again once it is back under LOW.
HIGH = 16 << 20
LOW = 4 << 20


class Pipe:
    """One direction of one connection: chunks from src, written to dst after the delay."""

    def __init__(self, conn, delay):
        self.conn = conn
        self.delay = delay
        self.src = None  # transports, set when each side is connected
        self.dst = None
        self.queue = collections.deque()  # (due, kind, payload)
        self.queued = 0
        self.timer = None
        self.paused = False
        self.done = False  # EOF or close was delivered to dst

    def push(self, kind, payload=None):
        loop = self.conn.loop
        due = loop.time() + self.delay
        self.queue.append((due, kind, payload))
        if kind == DATA:
            self.queued += len(payload)
            self.flow()
        if self.timer is None:
            self.timer = loop.call_at(due - SLACK, self.flush)

    def flush(self):
        self.timer = None
        if self.dst is None:  # the target is not connected yet; connected() flushes again
            return
        loop = self.conn.loop
        now = loop.time() + SLACK
        q = self.queue
        while q and q[0][0] <= now:
            _, kind, payload = q.popleft()
            if kind == DATA:
                self.queued -= len(payload)
                if not self.dst.is_closing():
                    self.dst.write(payload)
            elif kind == EOF:
                self.done = True
                if not self.dst.is_closing():
                    if self.dst.can_write_eof():
                        self.dst.write_eof()
                    else:
                        self.dst.close()
                self.conn.maybe_finish()
            else:  # CLOSE: the sender went away without a FIN (a reset, or an error)
                self.done = True
                self.conn.shutdown(payload)
                return
        if q:
            self.timer = loop.call_at(q[0][0] - SLACK, self.flush)
        self.flow()

    def backlog(self):
        return self.queued + (self.dst.get_write_buffer_size() if self.dst is not None else 0)

    def flow(self):
        """Pauses or resumes reading from src by how much waits in this direction."""
        if self.src is None or self.src.is_closing():
            return
        b = self.backlog()
        if not self.paused and b > HIGH:
            self.paused = True
            self.src.pause_reading()
        elif self.paused and b <= LOW:
            self.paused = False
            self.src.resume_reading()

    def cancel(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        self.queued = 0


class Side(asyncio.Protocol):
    """One socket of a relayed connection; `out` is the pipe it feeds, `inp` the one it drains."""

    def __init__(self, conn, out, inp):
        self.conn, self.out, self.inp = conn, out, inp
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.set_write_buffer_limits(high=LOW, low=LOW // 2)
        self.out.src = transport
        self.inp.dst = transport

    def data_received(self, data):
        # Acknowledge at once, as a client across a WAN would by the time the next segment
        # comes: a server that writes an answer's head and body apart without TCP_NODELAY
        # (s3s-fs) otherwise waits for the relay's delayed ACK, 40 ms a GET on Linux.
        sock = self.transport.get_extra_info("socket")
        if sock is not None and hasattr(socket, "TCP_QUICKACK"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        self.out.push(DATA, data)

    def eof_received(self):
        self.out.push(EOF)
        return True  # keep the socket open for the other direction

    def connection_lost(self, exc):
        if not self.conn.closed:
            self.out.push(CLOSE, exc)
            self.inp.cancel()

    def pause_writing(self):
        pass  # Pipe.flow() looks at the write buffer itself

    def resume_writing(self):
        self.inp.flow()


class Conn:
    def __init__(self, loop, delay, target_port):
        self.loop = loop
        self.closed = False
        self.up = Pipe(self, delay)  # client -> target
        self.down = Pipe(self, delay)  # target -> client
        self.client = Side(self, self.up, self.down)
        self.target = None
        loop.create_task(self.connect(target_port))

    async def connect(self, target_port):
        try:
            _, proto = await self.loop.create_connection(
                lambda: Side(self, self.down, self.up), "127.0.0.1", target_port
            )
        except OSError as e:
            print(f"relay: cannot connect to 127.0.0.1:{target_port}: {e}", file=sys.stderr)
            self.shutdown(e)
            return
        self.target = proto
        if self.closed:
            proto.transport.abort()
            return
        if self.up.queue and self.up.timer is None:
            self.up.flush()

    def maybe_finish(self):
        if self.up.done and self.down.done:
            self.shutdown(None)

    def shutdown(self, exc):
        """Closes both sockets: gracefully (pending writes go out) unless exc says it was a reset."""
        if self.closed:
            return
        self.closed = True
        self.up.cancel()
        self.down.cancel()
        for side in (self.client, self.target):
            t = side.transport if side is not None else None
            if t is not None and not t.is_closing():
                if isinstance(exc, ConnectionResetError):
                    sock = t.get_extra_info("socket")
                    if sock is not None:  # linger 0: close() sends a reset, not a FIN
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    t.abort()
                else:
                    t.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, required=True, help="one-way delay, each direction")
    args = ap.parse_args()
    loop = asyncio.get_running_loop()
    delay = args.delay_ms / 1000.0

    def factory():
        return Conn(loop, delay, args.target_port).client

    server = await loop.create_server(factory, "127.0.0.1", args.listen_port, backlog=4096,
                                      reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
