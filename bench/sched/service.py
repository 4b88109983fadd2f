#!/usr/bin/env python3
"""service.py - the scheduler benchmark's CPython peer.

The same synthetic service as mwrt-bench-service (bench_service.c, whose
opening comment describes it in full), with Python threads under the GIL:
a long-lived state of --keys entries (11 objects each), built first with
the collector off and then collected once (gc.collect()), so that it sits
in the oldest generation; then --threads threads each serve requests due at
a fixed --rate per second, sleeping until the next due time when early;
latency is measured from each request's due time (open loop, so pauses
also count against the requests queued behind them).  Each request builds
a small graph with a cycle, reads 3 and updates 1 entry of the state (no
lock: the GIL makes each dict operation atomic, as it does for any
CPython service), and drops the graph, leaving the cycle for gc.

--gc on leaves CPython's collector on (its defaults, 700/10/10); --gc off
calls gc.disable() before serving.  Collector pauses are timed with
gc.callbacks ("start" to "stop", per generation); CPython has no
safepoints, so there is no time-to-safepoint.

Output: human lines, then one line in the format run.sh parses:
  result impl=cpython gc=on ... lat_p999_us=... checksum=ok
Exit status 0 if the run completed and the checksum holds (the sum of the
"n" fields equals the number of updates), 1 otherwise.  Timings are
reported, never judged.
"""

import argparse
import ctypes
import gc
import math
import random
import resource
import sys
import threading
import time

STATE_READS = 3
SUB_BITS = 7  # the histogram: mwrt/hist.h's layout, 128 buckets per power of two
SUB = 1 << SUB_BITS


class Histogram:
    """A log-linear histogram of nanoseconds in the layout of mwrt/hist.h
    (which the C service uses): exact below 256, then 128 buckets per power
    of two; a quantile is the middle of its bucket, bounded by the exact min
    and max, so within 0.4% of a recorded value."""

    def __init__(self):
        self.buckets = {}
        self.count = 0
        self.min = 0
        self.max = 0

    @staticmethod
    def index(v):
        if v < 2 * SUB:
            return v
        shift = v.bit_length() - 1 - SUB_BITS
        return (shift << SUB_BITS) + (v >> shift)

    @staticmethod
    def value(idx):
        if idx < 2 * SUB:
            return idx
        shift = (idx >> SUB_BITS) - 1
        low = (idx - (shift << SUB_BITS)) << shift
        return low + (1 << shift) // 2

    def record(self, v):
        i = self.index(v)
        self.buckets[i] = self.buckets.get(i, 0) + 1
        if self.count == 0 or v < self.min:
            self.min = v
        self.count += 1
        if v > self.max:
            self.max = v

    def merge(self, other):
        if other.count == 0:
            return
        for i, c in other.buckets.items():
            self.buckets[i] = self.buckets.get(i, 0) + c
        if self.count == 0 or other.min < self.min:
            self.min = other.min
        self.count += other.count
        self.max = max(self.max, other.max)

    def quantile(self, q):
        """The smallest bucket value with at least q of the values at or below
        it (mw_hist_quantile's rule)."""
        if self.count == 0:
            return 0
        if q >= 1.0:
            return self.max
        want = q * self.count
        rank = 1 if want <= 1.0 else math.ceil(want - 1e-9)
        seen = 0
        for i in sorted(self.buckets):
            seen += self.buckets[i]
            if seen >= rank:
                return min(max(self.value(i), self.min), self.max)
        return self.max


def set_timer_slack():
    """Ask for no timer slack on this thread (Linux prctl), as the C service
    does, so that both sleep alike; silently skipped where unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(29, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0))  # 29 = PR_SET_TIMERSLACK
    except (OSError, AttributeError):
        pass


def runqueue_wait_ns():
    """How long the calling thread has waited on a run queue, runnable but
    not running (/proc/thread-self/schedstat), or -1 where unavailable."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def make_entry(i):
    return {"name": "user-%d" % i, "n": 0,
            "tags": [i * 7 + 1000, "t%d" % i, i * 3 + 1000, "u%d" % i],
            "pos": (i + 1000, "p%d" % i)}


def build_state(keys):
    return {"k%d" % i: make_entry(i) for i in range(keys)}


class Worker:
    def __init__(self, wid, args, state, t0_ns, interval_ns, warmup_end_ns, barrier):
        self.id = wid
        self.args = args
        self.state = state
        self.t0_ns = t0_ns
        self.interval_ns = interval_ns
        self.warmup_end_ns = warmup_end_ns
        self.barrier = barrier
        self.hist = Histogram()
        self.busy_ns = 0
        self.late = 0
        self.updates = 0
        self.sink = 0
        self.runq_ns = -1
        self.rng = random.Random(args.seed * 1000003 + wid)

    def serve(self, seq):
        """One request: the shape of serve() in bench_service.c."""
        req = {}
        items = [req]
        req["items"] = items
        req["id"] = 1000000 + seq
        req["name"] = "req-%d" % seq
        meta = {"worker": self.id, "seq": seq}
        req["meta"] = meta
        items.append(meta)
        items.append("x%d" % seq)
        nkeys = self.args.keys
        rand = self.rng.randrange
        keys = ["k%d" % rand(nkeys) for _ in range(1 + STATE_READS)]
        state = self.state
        v = state[keys[0]]
        v["n"] = v["n"] + 1
        v["last"] = req["id"]
        for k in keys[1:]:
            v = state[k]
            self.sink += v["n"] + len(v["tags"])
        self.updates += 1
        del req, items, meta  # the cycle is garbage now

    def run(self):
        set_timer_slack()
        self.barrier.wait()
        runq_start = runqueue_wait_ns()
        clock = time.monotonic_ns
        offset = self.interval_ns * self.id / self.args.threads
        for i in range(self.args.requests):
            due = self.t0_ns + int(offset + self.interval_ns * i)
            now = clock()
            if now < due:
                time.sleep((due - now) / 1e9)
            else:
                self.late += 1
            start = clock()
            self.serve(i)
            end = clock()
            self.busy_ns += end - start
            if due >= self.warmup_end_ns:
                self.hist.record(end - due)
        runq_end = runqueue_wait_ns()
        if runq_start >= 0 and runq_end >= 0:
            self.runq_ns = runq_end - runq_start


class GcTimer:
    """Collector pauses per generation, from gc.callbacks."""

    def __init__(self):
        self.start = None
        self.gen = [Histogram() for _ in range(3)]
        self.all = Histogram()

    def __call__(self, phase, info):
        if phase == "start":
            self.start = time.perf_counter_ns()
        elif self.start is not None:
            pause = time.perf_counter_ns() - self.start
            self.start = None
            self.gen[info["generation"]].record(pause)
            self.all.record(pause)


def percentiles(prefix, h):
    return (" %s_n=%d %s_p50_us=%.1f %s_p99_us=%.1f %s_p999_us=%.1f %s_max_us=%.1f"
            % (prefix, h.count, prefix, h.quantile(0.5) / 1e3, prefix, h.quantile(0.99) / 1e3,
               prefix, h.quantile(0.999) / 1e3, prefix, h.max / 1e3))


def self_test():
    """Check the histogram (the figures depend on it): every value read back
    within 0.4%, buckets in order, quantiles of a known distribution, merging.
    Returns 0 if all hold, 1 (with a message) otherwise."""
    errors = []
    rng = random.Random(7)
    values = list(range(0, 70000)) + [rng.randrange(1, 1 << 44) for _ in range(20000)]
    prev = -1
    for v in values[:70000]:
        i = Histogram.index(v)
        if i < prev:
            errors.append("index(%d) = %d goes back from %d" % (v, i, prev))
            break
        prev = i
    for v in values:
        r = Histogram.value(Histogram.index(v))
        if abs(r - v) > 0.004 * v:
            errors.append("value %d reads back as %d" % (v, r))
            break
    h = Histogram()
    for v in range(1, 100001):
        h.record(v)
    for q in (0.5, 0.9, 0.99, 0.999):
        got = h.quantile(q)
        if abs(got - q * 100000) > 0.01 * q * 100000:
            errors.append("quantile %g of 1..100000 is %d" % (q, got))
    if h.quantile(1.0) != 100000 or h.count != 100000 or h.min != 1:
        errors.append("max, count or min wrong")
    a, b = Histogram(), Histogram()
    for _ in range(100):
        a.record(1000)
        b.record(3000)
    b.record(70000)
    a.merge(b)
    if a.count != 201 or a.max != 70000 or abs(a.quantile(0.5) - 3000) > 30 \
            or abs(a.quantile(0.25) - 1000) > 10:
        errors.append("merge wrong: count %d max %d p50 %d p25 %d"
                      % (a.count, a.max, a.quantile(0.5), a.quantile(0.25)))
    for e in errors:
        print("self-test: " + e, file=sys.stderr)
    print("self-test: %s" % ("ok" if not errors else "FAILED"))
    return 1 if errors else 0


def thresholds(s):
    try:
        v = [int(x) for x in s.split(",")]
    except ValueError:
        v = []
    if len(v) != 3 or min(v) < 0:
        raise argparse.ArgumentTypeError("must be A,B,C, three numbers >= 0")
    return v


def positive_int(s):
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


def positive_float(s):
    v = float(s)
    if not v > 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return v


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gc", choices=["on", "off"], default="on")
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--rate", type=positive_float, default=5000.0,
                   help="requests per second per worker")
    p.add_argument("--duration", type=positive_float, default=5.0)
    p.add_argument("--requests", type=positive_int, default=0,
                   help="requests per worker (overrides --duration)")
    p.add_argument("--keys", type=positive_int, default=100000)
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--freeze", action="store_true", help="gc.freeze() the state")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--thresholds", type=thresholds, default=None,
                   help="A,B,C for gc.set_threshold (default: CPython's, 700,10,10)")
    p.add_argument("--self-test", action="store_true",
                   help="check the latency histogram and exit")
    args = p.parse_args()
    if args.self_test:
        return self_test()
    if args.requests == 0:
        args.requests = max(1, int(args.rate * args.duration))
    if args.warmup * args.rate >= args.requests or args.warmup < 0:
        args.warmup = 0

    if args.thresholds is not None:
        gc.set_threshold(*args.thresholds)
    t = time.monotonic()
    gc.disable()
    state = build_state(args.keys)
    gc.collect()
    if args.freeze:
        gc.freeze()
    build_s = time.monotonic() - t
    timer = GcTimer()
    gc.callbacks.append(timer)
    if args.gc == "on":
        gc.enable()
    sys.setswitchinterval(0.005)  # the default, stated: mwrt's GIL uses 5 ms too

    interval_ns = 1e9 / args.rate
    barrier = threading.Barrier(args.threads + 1)
    t0_ns = time.monotonic_ns() + 10_000_000
    warmup_end_ns = t0_ns + int(args.warmup * 1e9)
    workers = [Worker(i, args, state, t0_ns, interval_ns, warmup_end_ns, barrier)
               for i in range(args.threads)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for th in threads:
        th.start()
    cpu0 = time.process_time()
    barrier.wait()
    for th in threads:
        th.join()
    serve_s = (time.monotonic_ns() - t0_ns) / 1e9
    cpu_s = time.process_time() - cpu0
    gc.disable()
    gc.callbacks.remove(timer)

    lat = Histogram()
    updates = late = busy = runq = 0
    for w in workers:
        runq = -1 if runq < 0 or w.runq_ns < 0 else runq + w.runq_ns
        lat.merge(w.hist)
        updates += w.updates
        late += w.late
        busy += w.busy_ns
    ok = len(state) == args.keys and sum(v["n"] for v in state.values()) == updates
    if not ok:
        print("checksum: the state does not count %d updates" % updates, file=sys.stderr)
    total = args.requests * args.threads
    busy_pct = 100.0 * busy / 1e9 / serve_s / args.threads
    runq_ms = -1 if runq < 0 else runq / 1e6 / args.threads
    late_pct = 100.0 * late / total
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    g = timer.gen
    print("cpython service: gc=%s, %d threads x %.0f req/s, %d requests each, state %d keys "
          "(%d objects), built in %.2f s" % (args.gc, args.threads, args.rate, args.requests,
                                              args.keys, args.keys * 11, build_s))
    print("latency (us, from due time, %d recorded): p50 %.1f p99 %.1f p99.9 %.1f max %.1f"
          % (lat.count, lat.quantile(0.5) / 1e3, lat.quantile(0.99) / 1e3,
             lat.quantile(0.999) / 1e3, lat.max / 1e3))
    print("collections gen0/1/2: %d/%d/%d; pause p99 %.1f us, young pause p99 %.1f us"
          % (g[0].count, g[1].count, g[2].count, timer.all.quantile(0.99) / 1e3,
             g[0].quantile(0.99) / 1e3))
    print("serving %.2f s, threads busy %.1f%%, late starts %.2f%%, waiting for a CPU %.1f ms "
          "per thread, process CPU %.2f s, peak RSS %.1f MiB, checksum %s"
          % (serve_s, busy_pct, late_pct, runq_ms, cpu_s, rss, "ok" if ok else "MISMATCH"))
    line = ("result impl=cpython lock=gil gc=%s threads=%d rate=%.0f requests=%d keys=%d "
            "build_s=%.3f serve_s=%.3f" % (args.gc, args.threads, args.rate, args.requests,
                                            args.keys, build_s, serve_s))
    line += (" lat_n=%d lat_p50_us=%.1f lat_p99_us=%.1f lat_p999_us=%.1f lat_max_us=%.1f"
             % (lat.count, lat.quantile(0.5) / 1e3, lat.quantile(0.99) / 1e3,
                lat.quantile(0.999) / 1e3, lat.max / 1e3))
    line += " busy_pct=%.1f late_pct=%.2f runq_ms=%.1f cpu_s=%.2f" % (busy_pct, late_pct, runq_ms,
                                                                       cpu_s)
    line += (" gc0=%d gc1=%d gc2=%d stw=0 idle=0 memory=0 explicit=0"
             % (g[0].count, g[1].count, g[2].count))
    line += percentiles("pause", timer.all) + percentiles("young", g[0])
    line += " tts_n=0 tts_p50_us=na tts_p99_us=na tts_p999_us=na tts_max_us=na"
    line += " rss_mib=%.1f checksum=%s" % (rss, "ok" if ok else "MISMATCH")
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
