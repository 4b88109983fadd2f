#!/usr/bin/env python3
"""isolation.py - does a collection on one worker stop requests on another?

For each server mode, mwrt-server is started on a loopback port with two
workers.  A client of worker 0 makes PAIRS pairs of hashes that refer to
each other (REF.SET) under one hash tag and deletes them, leaving 2*PAIRS
containers of cyclic garbage (automatic collection off meanwhile: GC.POLICY
off); in the sharded mode they all live on the tag's worker.  Then a client
of worker 1 sends INCR on a key of its own worker in a loop, recording each
round trip, while the first client sends GC.COLLECT.  Reported per mode,
medians over REPS rounds: how long GC.COLLECT took, the longest and the
99th-percentile round trip of the other client while it ran, and how many
requests it completed meanwhile.

With OUT set (default build/isolation), the first round of each mode also
leaves OUT/<mode>.dat (the other client's round trips: milliseconds since
the collection began, round trip in ms) and OUT/<mode>.gc (the collection's
start and end, ms), and, when gnuplot is installed, OUT/isolation.png
(bench/server/isolation.gp): each mode's round trips over time with its
collection shaded.

In the shared modes every collection stops every worker; in the sharded
mode each worker's heap is confined and collected by that worker alone.

Usage: bench/server/isolation.py [BUILD_DIR [REPS [PAIRS]]]
  MODES  comma-separated lists of flags, separated by ';'
         (default: "--keyspace,sharded;--lock,free;--lock,gil")
"""
import os
import socket
import statistics
import subprocess
import sys
import threading
import time


def crc16(data):
    c = 0
    for b in data:
        c ^= b << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else c << 1
            c &= 0xFFFF
    return c


def slot(key):
    o = key.find("{")
    if o >= 0:
        e = key.find("}", o + 1)
        if e > o + 1:
            key = key[o + 1:e]
    return crc16(key.encode()) % 16384


def owner(key, workers=2):
    return slot(key) * workers // 16384


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        line = self.f.readline()
        t = line[:1]
        if t == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            return [self.reply() for _ in range(int(line[1:]))]
        if t == b":":
            return int(line[1:])
        if t == b"-":
            raise RuntimeError(line.decode().strip())
        return line[1:].strip()

    def cmd(self, *args):
        self.send(self.encode(*args))
        return self.reply()

    def worker(self):
        info = self.cmd("INFO", "shards").decode()
        for ln in info.splitlines():
            if ln.startswith("this_worker:"):
                return int(ln.split(":")[1])
        return -1


def conn_on(port, w):
    spare = []
    for _ in range(4):
        c = Conn(port)
        if c.worker() == w:
            for s in spare:
                s.s.close()
            return c
        spare.append(c)
    raise RuntimeError("no connection to worker %d" % w)


def one_round(server, flags, port, pairs):
    proc = subprocess.Popen([server, "--port", str(port), "--workers", "2"] + flags,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                Conn(port).cmd("PING")
                break
            except OSError:
                time.sleep(0.05)
        tag = next("{g%d}" % i for i in range(1000) if owner("{g%d}" % i) == 0)
        key = next("ping:%d" % i for i in range(1000) if owner("ping:%d" % i) == 1)
        a = conn_on(port, 0)
        a.cmd("GC.POLICY", "off")
        batch = 1000
        for start in range(0, pairs, batch):
            buf = []
            for i in range(start, min(pairs, start + batch)):
                ka, kb = "%sa:%d" % (tag, i), "%sb:%d" % (tag, i)
                buf += [Conn.encode("HSET", ka, "x", 1), Conn.encode("HSET", kb, "x", 1),
                        Conn.encode("REF.SET", ka, "p", kb), Conn.encode("REF.SET", kb, "p", ka),
                        Conn.encode("DEL", ka, kb)]
            a.send(b"".join(buf))
            for _ in range(len(buf)):
                a.reply()
        b = conn_on(port, 1)
        lat = []
        stop = threading.Event()

        def ping():
            while not stop.is_set():
                t0 = time.perf_counter()
                b.cmd("INCR", key)
                lat.append((t0, time.perf_counter() - t0))

        t = threading.Thread(target=ping)
        t.start()
        time.sleep(0.2)
        t0 = time.perf_counter()
        found = a.cmd("GC.COLLECT")
        t1 = time.perf_counter()
        time.sleep(0.05)
        stop.set()
        t.join()
        # Round trips that overlapped the collection.
        during = [d for (s, d) in lat if s < t1 and s + d > t0]
        during.sort()
        p99 = during[min(len(during) - 1, int(len(during) * 0.99))] if during else float("nan")
        trace = [((s - t0) * 1000, d * 1000) for (s, d) in lat]
        return {"collect_ms": (t1 - t0) * 1000, "found": found, "trace": trace,
                "max_ms": (max(during) if during else float("nan")) * 1000,
                "p99_ms": p99 * 1000, "served": len(during)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 500000
    server = os.path.join(build, "server", "mwrt-server")
    modes = os.environ.get("MODES", "--keyspace,sharded;--lock,free;--lock,gil")
    print("one worker collects %d objects of cyclic garbage; a client of the other "
          "worker meanwhile (medians of %d)" % (2 * pairs, reps))
    print("%-22s %12s %10s %14s %14s %10s" % ("mode", "collect_ms", "found", "other_max_ms",
                                             "other_p99_ms", "served"))
    out = os.environ.get("OUT", os.path.join(build, "isolation"))
    os.makedirs(out, exist_ok=True)
    plotted = []
    port = 7250
    for m in modes.split(";"):
        flags = [f for f in m.split(",") if f]
        rounds = []
        for _ in range(reps):
            try:
                rounds.append(one_round(server, flags, port, pairs))
            except Exception as e:  # report, never judge
                print("  %s: round failed: %s" % (" ".join(flags), e))
            port += 1
        if not rounds:
            continue
        slug = "_".join(f.lstrip("-") for f in flags) or "default"
        with open(os.path.join(out, slug + ".dat"), "w") as f:
            f.writelines("%.3f,%.3f\n" % x for x in rounds[0]["trace"])
        with open(os.path.join(out, slug + ".gc"), "w") as f:
            f.write("0,%.3f\n" % rounds[0]["collect_ms"])
        plotted.append((slug, " ".join(flags)))
        med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0] if k != "trace"}
        print("%-22s %12.1f %10d %14.2f %14.2f %10d" % (" ".join(flags), med["collect_ms"],
              med["found"], med["max_ms"], med["p99_ms"], med["served"]))

    plot(out, plotted)


def plot(out, modes):
    """OUT/isolation.png, one panel per mode; skipped without gnuplot."""
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "isolation.gp")
    if not modes or subprocess.call(["sh", "-c", "command -v gnuplot >/dev/null"]) != 0:
        return
    png = os.path.join(out, "isolation.png")
    args = "dir='%s'; modes='%s'; labels='%s'; out='%s'" % (
        out, " ".join(s for s, _ in modes), "|".join(l for _, l in modes), png)
    if subprocess.call(["gnuplot", "-e", args, gp]) == 0:
        print("plot: %s" % png)


if __name__ == "__main__":
    main()
