#!/usr/bin/env python3
"""pyserver.py - the CPython peer for the latency report: a small asyncio
RESP2 server keeping its data as ordinary Python objects.

It stands for the seed's own setting, a Python service whose memory is
managed by reference counting and CPython's generational cycle collector,
so that the report can set mwrt-server's latency beside it under the same
load.  Values are what a Python service would hold: bytes for strings, a
dict per hash, and REF.SET stores the target's own object (not a copy) in
a hash field, so hashes can refer to each other and form cycles that only
the cycle collector frees, as in mwrt-server.

Commands (Redis semantics for the subset; errors as Redis words them):
PING ECHO SET GET DEL EXISTS HSET HGET HDEL HLEN DBSIZE FLUSHDB FLUSHALL
REF.SET key field target, REF.GET key field, GC.COLLECT [gen], CONFIG GET
(empty; redis-benchmark asks), COMMAND (empty), INFO [section], QUIT.

INFO gc has mwrt-server's field names for what CPython can tell:
gc_policy (on/off), gc_genN:collections=..,collected=..,uncollectable=..,
pause_total_us=..,pause_max_us=.. per generation, timed with gc.callbacks,
and gc_counts.  The report polls it to mark collections on its time plot.

Protocol: RESP2 arrays of bulk strings, and inline commands for redis-cli
and telnet.  Replies to pipelined requests go out in one write.  A
malformed request gets "-ERR Protocol error: ..." and the connection is
closed; limits: 512 MiB per bulk string, 1M arguments, 1 GiB query buffer.

Usage: pyserver.py [--port 6390] [--bind 127.0.0.1] [--gc on|off]
Prints "pyserver: ready on ADDR:PORT" on stderr once listening; stops on
SIGINT/SIGTERM.  Not handled: expiry, lists, sets, persistence, AUTH.
"""

import argparse
import asyncio
import gc
import signal
import sys
import time

MAX_BULK = 512 * 1024 * 1024
MAX_ARGS = 1024 * 1024
MAX_QUERY = 1024 * 1024 * 1024

OK = b"+OK\r\n"
NIL = b"$-1\r\n"
PONG = b"+PONG\r\n"
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


class ProtocolError(Exception):
    pass


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def integer(n):
    return b":%d\r\n" % n


def error(msg):
    return b"-" + msg.encode() + b"\r\n"


def array(items):
    return b"*%d\r\n" % len(items) + b"".join(items)


class Hash(dict):
    """A hash value: field (bytes) -> bytes or another value (a reference).
    A dict subclass so that CPython tracks it like any container that can
    be in a cycle."""

    __slots__ = ()


class GcStats:
    """Per-generation collections, objects collected and pause times, from
    gc.callbacks (the pause is the time between 'start' and 'stop')."""

    def __init__(self):
        self.collections = [0, 0, 0]
        self.collected = [0, 0, 0]
        self.uncollectable = [0, 0, 0]
        self.pause_total = [0.0, 0.0, 0.0]
        self.pause_max = [0.0, 0.0, 0.0]
        self._start = 0.0

    def callback(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
            return
        g = info["generation"]
        pause = time.perf_counter() - self._start
        self.collections[g] += 1
        self.collected[g] += info["collected"]
        self.uncollectable[g] += info["uncollectable"]
        self.pause_total[g] += pause
        self.pause_max[g] = max(self.pause_max[g], pause)


class Store:
    def __init__(self, gc_on):
        self.data = {}
        self.gc_on = gc_on
        self.stats = GcStats()
        gc.callbacks.append(self.stats.callback)
        self.started = time.time()

    def info(self, section):
        lines = []
        want = section.lower() if section else "all"
        if want in ("all", "default", "everything", "server"):
            lines += ["# Server", "server_name:pyserver",
                      "python_version:%s" % sys.version.split()[0],
                      "uptime_in_seconds:%d" % (time.time() - self.started), ""]
        if want in ("all", "default", "everything", "keyspace"):
            lines += ["# Keyspace", "db0:keys=%d" % len(self.data), ""]
        if want in ("all", "default", "everything", "gc"):
            s = self.stats
            lines += ["# GC", "gc_policy:%s" % ("on" if gc.isenabled() else "off"),
                      "gc_enabled:%d" % gc.isenabled(),
                      "gc_thresholds:%d,%d,%d" % gc.get_threshold(),
                      "gc_counts:%d,%d,%d" % gc.get_count()]
            for g in range(3):
                lines.append("gc_gen%d:collections=%d,collected=%d,uncollectable=%d,"
                             "pause_total_us=%.1f,pause_max_us=%.1f"
                             % (g, s.collections[g], s.collected[g], s.uncollectable[g],
                                s.pause_total[g] * 1e6, s.pause_max[g] * 1e6))
            lines.append("")
        return bulk("\r\n".join(lines).encode())

    def execute(self, args):
        """The reply to one command (bytes), or None to close after the
        replies so far (QUIT sends its +OK first)."""
        name = args[0].lower()
        n = len(args)
        d = self.data
        if name == b"get":
            if n != 2:
                return arity(name)
            v = d.get(args[1])
            if v is None:
                return NIL
            if not isinstance(v, bytes):
                return WRONGTYPE
            return bulk(v)
        if name == b"set":
            if n != 3:
                return error("ERR syntax error") if n > 3 else arity(name)
            d[args[1]] = args[2]
            return OK
        if name == b"hget" or name == b"ref.get":
            if n != 3:
                return arity(name)
            h = d.get(args[1])
            if h is None:
                return NIL
            if not isinstance(h, Hash):
                return WRONGTYPE
            return render(h.get(args[2]))
        if name == b"hset":
            if n < 4 or n % 2:
                return arity(name)
            h = d.get(args[1])
            if h is None:
                h = d[args[1]] = Hash()
            elif not isinstance(h, Hash):
                return WRONGTYPE
            added = 0
            for i in range(2, n, 2):
                if args[i] not in h:
                    added += 1
                h[args[i]] = args[i + 1]
            return integer(added)
        if name == b"ref.set":
            if n != 4:
                return arity(name)
            target = d.get(args[3])
            if target is None:
                return error("ERR no such key")
            h = d.get(args[1])
            if h is None:
                h = d[args[1]] = Hash()
            elif not isinstance(h, Hash):
                return WRONGTYPE
            added = args[2] not in h
            h[args[2]] = target
            return integer(added)
        if name == b"del" or name == b"unlink":
            if n < 2:
                return arity(name)
            removed = 0
            for k in args[1:]:
                if d.pop(k, None) is not None:
                    removed += 1
            return integer(removed)
        if name == b"exists":
            if n < 2:
                return arity(name)
            return integer(sum(1 for k in args[1:] if k in d))
        if name == b"hdel":
            if n < 3:
                return arity(name)
            h = d.get(args[1])
            if h is None:
                return integer(0)
            if not isinstance(h, Hash):
                return WRONGTYPE
            removed = sum(1 for f in args[2:] if h.pop(f, None) is not None)
            if not h:
                del d[args[1]]
            return integer(removed)
        if name == b"hlen":
            if n != 2:
                return arity(name)
            h = d.get(args[1])
            if h is not None and not isinstance(h, Hash):
                return WRONGTYPE
            return integer(len(h) if h else 0)
        if name == b"ping":
            if n == 1:
                return PONG
            if n == 2:
                return bulk(args[1])
            return arity(name)
        if name == b"echo":
            return bulk(args[1]) if n == 2 else arity(name)
        if name == b"dbsize":
            return integer(len(d))
        if name in (b"flushdb", b"flushall"):
            d.clear()
            return OK
        if name == b"info":
            return self.info(args[1].decode(errors="replace") if n > 1 else "")
        if name == b"gc.collect":
            gen = 2
            if n == 2:
                try:
                    gen = int(args[1])
                except ValueError:
                    return error("ERR value is not an integer or out of range")
                if gen == -1:
                    gen = 2
                if not 0 <= gen <= 2:
                    return error("ERR generation must be 0, 1, 2 or -1")
            return integer(gc.collect(gen))
        if name == b"config":
            return b"*0\r\n"
        if name == b"command":
            return b"*0\r\n"
        if name == b"quit":
            return None
        return error("ERR unknown command '%s', with args beginning with: "
                     % args[0].decode(errors="replace")
                     + " ".join("'%s'" % a.decode(errors="replace") for a in args[1:]))


def arity(name):
    return error("ERR wrong number of arguments for '%s' command" % name.decode(errors="replace"))


def render(v):
    """A field's value: bytes as a bulk string, a referenced hash as an
    array of its fields and values (references inside shown by name)."""
    if v is None:
        return NIL
    if isinstance(v, bytes):
        return bulk(v)
    items = []
    for f, x in v.items():
        items.append(bulk(f))
        items.append(bulk(x if isinstance(x, bytes) else b"<ref>"))
    return array(items)


def parse(buf, pos):
    """One request from buf at pos: (args, next pos), or (None, pos) if it
    is not all there yet.  Raises ProtocolError on malformed input."""
    end = len(buf)
    if buf[pos] == 42:  # '*'
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            if end - pos > 64:
                raise ProtocolError("invalid multibulk length")
            return None, pos
        try:
            count = int(buf[pos + 1:nl])
        except ValueError:
            raise ProtocolError("invalid multibulk length") from None
        if count > MAX_ARGS:
            raise ProtocolError("invalid multibulk length")
        p = nl + 2
        args = []
        for _ in range(count):
            if p >= end:
                return None, pos
            if buf[p] != 36:  # '$'
                raise ProtocolError("expected '$', got '%c'" % buf[p])
            nl = buf.find(b"\r\n", p)
            if nl < 0:
                if end - p > 64:
                    raise ProtocolError("invalid bulk length")
                return None, pos
            try:
                n = int(buf[p + 1:nl])
            except ValueError:
                raise ProtocolError("invalid bulk length") from None
            if n < 0 or n > MAX_BULK:
                raise ProtocolError("invalid bulk length")
            start = nl + 2
            stop = start + n
            if stop + 2 > end:
                return None, pos
            if buf[stop:stop + 2] != b"\r\n":
                raise ProtocolError("bulk string not followed by CRLF")
            args.append(bytes(buf[start:stop]))
            p = stop + 2
        return args, p
    # Inline command: a line of words.
    nl = buf.find(b"\n", pos)
    if nl < 0:
        if end - pos > 64 * 1024:
            raise ProtocolError("too big inline request")
        return None, pos
    return bytes(buf[pos:nl]).strip().split(), nl + 1


class RespProtocol(asyncio.Protocol):
    def __init__(self, store):
        self.store = store
        self.buf = bytearray()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        buf = self.buf
        buf += data
        if len(buf) > MAX_QUERY:
            self.transport.write(error("ERR Protocol error: query buffer too big"))
            self.transport.close()
            return
        out = []
        pos = 0
        close = False
        try:
            while pos < len(buf):
                args, nxt = parse(buf, pos)
                if args is None:
                    break
                pos = nxt
                if not args:
                    continue  # an empty inline line
                reply = self.store.execute(args)
                if reply is None:
                    out.append(OK)
                    close = True
                    break
                out.append(reply)
        except ProtocolError as e:
            out.append(error("ERR Protocol error: %s" % e))
            close = True
        del buf[:pos]
        if out:
            self.transport.write(b"".join(out))
        if close:
            self.transport.close()


async def serve(args):
    store = Store(args.gc == "on")
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: RespProtocol(store), args.bind, args.port,
                                      reuse_address=True)
    addr = server.sockets[0].getsockname()
    print("pyserver: ready on %s:%d (gc %s, Python %s)"
          % (addr[0], addr[1], args.gc, sys.version.split()[0]), file=sys.stderr, flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set_result, None)
    await stop
    server.close()
    await server.wait_closed()


def main():
    ap = argparse.ArgumentParser(description="asyncio RESP2 server, values as Python objects")
    ap.add_argument("--port", type=int, default=6390)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--gc", choices=("on", "off"), default="on",
                    help="CPython's cycle collector (off: gc.disable())")
    args = ap.parse_args()
    if not 0 <= args.port <= 65535:
        ap.error("--port must be 0..65535")
    if args.gc == "off":
        gc.disable()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
