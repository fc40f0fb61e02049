#!/usr/bin/env python3
"""A loopback TCP relay that adds a fixed one-way delay, and optionally a bandwidth cap per
connection, for WAN-like benchmarks (the kernel here has no netem). Standard library only.

    relay.py --listen-port P --target-port T --delay-ms D [--rate-mbps R]

Accepts on 127.0.0.1:P (0 = any free port), connects each client to 127.0.0.1:T, and forwards
every chunk in both directions D ms after it arrived. Each direction is a queue of timestamped
chunks drained by one timer, so a stream still flows at full rate, only shifted by D (no sleep
per chunk). Half-close (FIN) and close/reset are forwarded with the same delay. The first line on
stdout is the listening port (flushed), so `--listen-port 0` can be used from scripts.

`--rate-mbps R` caps each connection at R MB/s (10^6 bytes a second) in each direction, as a
link whose every TCP connection gets its own share (S3 gives a connection about 100 MB/s; a
client goes faster only with more connections). A token bucket per direction, BURST bytes
deep, in its virtual-time form: a chunk leaves when the bucket holds its bytes, is then
delivered D ms later, and that time is computed when the chunk arrives, so the same queue and
timer carry it (still no sleep per chunk). With a cap, a direction stops reading from its sender
once about two round trips' worth at the rate waits in the relay (a bottleneck's buffer of about
one bandwidth-delay product, plus what is on the wire), so a sender feels the cap through TCP
as it would on a real link, not after 16 MiB. Without it nothing is capped (the default).

Not emulated: the connection handshake (connect() to the relay completes at once, so a new
connection costs no extra round trip), loss, slow start, and a cap shared by all connections
(the machine's own limits are the only shared one). The relay acknowledges what it reads at once
(TCP_QUICKACK), so a server that sends an answer's head and body in two writes with Nagle on is
not held 40 ms by a delayed ACK on every answer.
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
# With --rate-mbps: the token bucket's depth (what an idle connection may send at once).
BURST = 64 << 10


def limits(delay, rate):
    """(high, low) backlog marks of one direction: the defaults, or with a rate cap what is on
    the wire (rate x delay) plus a bottleneck buffer of one round trip at the rate."""
    if not rate:
        return HIGH, LOW
    high = max(int(rate * 3 * delay) + BURST, 256 << 10)
    return high, high // 2


class Pipe:
    """One direction of one connection: chunks from src, written to dst after the delay."""

    def __init__(self, conn, delay, rate):
        self.conn = conn
        self.delay = delay
        self.rate = rate  # bytes a second, 0 = no cap
        self.high, self.low = limits(delay, rate)
        self.tat = 0.0  # the token bucket's theoretical arrival time (empty bucket at tat)
        self.last_due = 0.0  # dues only grow: EOF and close never overtake data
        self.src = None  # transports, set when each side is connected
        self.dst = None
        self.queue = collections.deque()  # (due, kind, payload)
        self.queued = 0
        self.timer = None
        self.paused = False
        self.done = False  # EOF or close was delivered to dst

    def push(self, kind, payload=None):
        loop = self.conn.loop
        now = loop.time()
        leave = now
        if kind == DATA and self.rate:
            # Conforms once the bucket holds the chunk: BURST / rate ahead of tat at most.
            self.tat = max(self.tat, now) + len(payload) / self.rate
            leave = max(now, self.tat - BURST / self.rate)
        due = max(leave + self.delay, self.last_due)
        self.last_due = due
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
        if not self.paused and b > self.high:
            self.paused = True
            self.src.pause_reading()
        elif self.paused and b <= self.low:
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
        transport.set_write_buffer_limits(high=self.inp.low, low=self.inp.low // 2)
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
    def __init__(self, loop, delay, rate, target_port):
        self.loop = loop
        self.closed = False
        self.up = Pipe(self, delay, rate)  # client -> target
        self.down = Pipe(self, delay, rate)  # target -> client
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
    ap.add_argument("--rate-mbps", type=float, default=0.0,
                    help="cap per connection and direction, in MB/s (10^6 bytes); 0 = none")
    args = ap.parse_args()
    if args.rate_mbps < 0:
        ap.error("--rate-mbps must be positive (or 0 for no cap)")
    loop = asyncio.get_running_loop()
    delay = args.delay_ms / 1000.0
    rate = args.rate_mbps * 1e6

    def factory():
        return Conn(loop, delay, rate, args.target_port).client

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
