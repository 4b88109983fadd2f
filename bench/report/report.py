#!/usr/bin/env python3
"""report.py - the latency report: what the collector does to request latency.

Run through bench/report/run.sh BUILD_DIR [OUTDIR]; see docs/load.md.

For each configuration in turn (mwrt-server with --gc stw|paused|off x
--lock gil|free, redis-server, and the CPython peer pyserver.py with its
collector on and off), on its own on the machine:

  1. start the server on a free loopback port in 7300-7399;
  2. load the live set with mwrt-load: LIVE hashes h:N {f: 16 bytes}, and
     CYCLE_KEYS small hashes c:N that the run links into cycles;
  3. measure its maximum throughput: closed loop, CONNS connections,
     MAX_SECONDS;
  4. run open loop at each of RATES percent of that maximum for
     RATE_SECONDS, with coordinated-omission correction, writing the
     HdrHistogram table, the JSON summary and a 100 ms time series, while a
     thread polls INFO gc every 100 ms to timestamp collections;
  5. stop the server.

The workload (same shape everywhere): 50% HGET h:K f, 20% HSET h:K f DATA
over the LIVE keys; and on the CYCLE_KEYS c:N keys 10% HSET c:K v DATA
(creates the hash if it is missing), 8% REF.SET c:K self c:K (the hash now
refers to itself: a cycle), 4% REF.SET c:K r c:K2 (a reference to another
hash: longer cycles) and 8% DEL c:K, which drops the key's hash, and with
it its cycles, into garbage that only the cycle collector frees.  redis
has no references, so it gets HSET c:K self c:K (and r c:K2) of the same
shape.
A REF.SET whose target was just deleted gets "ERR no such key"; those are
counted as errors and reported.

Each configuration runs at its own percentages of its own maximum, so every
server is equally busy relative to what it can do; the rate used is in the
tables.  Writes OUTDIR/report.md, PNG plots (gnuplot) and OUTDIR/data/.
"""

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def env_num(name, default, kind=float):
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    try:
        x = kind(v)
    except ValueError:
        sys.exit("report: %s must be a number, not %r" % (name, v))
    if x <= 0:
        sys.exit("report: %s must be positive" % name)
    return x


QUICK = os.environ.get("QUICK", "") not in ("", "0")
LIVE = env_num("LIVE", 100000 if QUICK else 1000000, int)
CYCLE_KEYS = env_num("CYCLE_KEYS", 10000, int)
MAX_SECONDS = env_num("MAX_SECONDS", 2 if QUICK else 5)
RATE_SECONDS = env_num("RATE_SECONDS", 3 if QUICK else 15)
CONNS = env_num("CONNS", 32, int)
WORKERS = env_num("WORKERS", 2, int)
RATES = [int(x) for x in os.environ.get("RATES", "25,50,75").split(",")]
POLL_S = 0.1
GOAL_RATE = 50


def log(msg):
    print("report: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Configurations
# ---------------------------------------------------------------------------

def configurations(build):
    server = os.path.join(build, "server", "mwrt-server")
    out = []
    for gcp in ("stw", "paused", "off"):
        for lock in ("gil", "free"):
            out.append({
                "name": "mwrt-%s-%s" % (gcp, lock),
                "label": "mwrt %s %s" % (gcp, lock),
                "kind": "mwrt",
                "cmd": lambda port, gcp=gcp, lock=lock: [
                    server, "--port", str(port), "--workers", str(WORKERS),
                    "--gc", gcp, "--lock", lock],
                "needs": server,
            })
    out.append({
        "name": "redis", "label": "redis-server", "kind": "redis",
        "cmd": lambda port: ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"],
        "needs": shutil.which("redis-server"),
    })
    for g in ("on", "off"):
        out.append({
            "name": "cpython-gc-%s" % g, "label": "CPython gc %s" % g, "kind": "python",
            "cmd": lambda port, g=g: [sys.executable, os.path.join(HERE, "pyserver.py"),
                                      "--port", str(port), "--gc", g],
            "needs": sys.executable,
        })
    only = os.environ.get("CONFIGS")
    if only:
        names = only.split(",")
        out = [c for c in out if c["name"] in names]
    return out


# ---------------------------------------------------------------------------
# Talking to servers
# ---------------------------------------------------------------------------

def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def pick_port():
    for port in range(7300, 7400):
        if port_free(port):
            return port
    raise RuntimeError("no free port in 7300-7399")


def command(sock, *args):
    """Send one command, return the raw reply (bytes) for simple parsing."""
    req = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args))
    sock.sendall(req)
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
        if buf[:1] == b"$":
            nl = buf.find(b"\r\n")
            if nl > 0:
                n = int(buf[1:nl])
                if n < 0 or len(buf) >= nl + 2 + n + 2:
                    return buf[nl + 2:nl + 2 + max(n, 0)]
        elif buf.endswith(b"\r\n"):
            return buf


def connect(port, timeout=2.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def wait_ready(port, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with connect(port, 0.5) as s:
                if command(s, "PING").startswith(b"+PONG"):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


GEN_RE = re.compile(r"^gc_gen(\d):collections=(\d+),collected=(\d+),.*?pause_total_us=([\d.]+)",
                    re.M)


def read_gc(sock):
    """{gen: (collections, collected, pause_total_us)} from INFO gc."""
    text = command(sock, "INFO", "gc").decode(errors="replace")
    return {int(m.group(1)): (int(m.group(2)), int(m.group(3)), float(m.group(4)))
            for m in GEN_RE.finditer(text)}


class GcPoller(threading.Thread):
    """Polls INFO gc every POLL_S and keeps (monotonic time, stats)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.samples = []
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            with connect(self.port) as s:
                while not self.stop.is_set():
                    t = time.monotonic()
                    self.samples.append((t, read_gc(s)))
                    self.stop.wait(POLL_S)
        except (OSError, ValueError) as e:
            self.error = str(e)

    def events(self):
        """Collections between consecutive polls: (time, gen, count, pause_ms)."""
        out = []
        for (t0, a), (t1, b) in zip(self.samples, self.samples[1:]):
            for g in sorted(b):
                if g in a and b[g][0] > a[g][0]:
                    out.append((t1, g, b[g][0] - a[g][0], (b[g][2] - a[g][2]) / 1000.0))
        return out


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

class Runner:
    def __init__(self, build, outdir):
        self.build = build
        self.load = os.path.join(build, "bench", "load", "mwrt-load")
        self.outdir = outdir
        self.data = os.path.join(outdir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.proc = None
        self.notes = []

    def note(self, text):
        self.notes.append(text)
        log("note: " + text)

    def mwrt_load(self, port, args, json_path, timeout):
        cmd = [self.load, "-p", str(port), "-q", "--key-prefix", "", "-d", "16",
               "--json", json_path] + args
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, text=True)
        except subprocess.TimeoutExpired:
            return None, "mwrt-load did not finish in %d s" % timeout
        try:
            with open(json_path) as f:
                j = json.load(f)
        except (OSError, ValueError):
            return None, "mwrt-load exit %d, no JSON: %s" % (r.returncode, r.stderr.strip())
        if r.returncode != 0:
            return j, "mwrt-load exit %d: %s" % (r.returncode, r.stderr.strip())
        return j, None

    def mix(self, kind):
        link = "REF.SET" if kind != "redis" else "HSET"
        return ["--keys", str(LIVE),
                "--template", "50:HGET h:__key__ f",
                "--template", "20:HSET h:__key__ f __data__",
                "--template", "10:keys=%d:HSET c:__key__ v __data__" % CYCLE_KEYS,
                "--template", "8:keys=%d:%s c:__key__ self c:__key__" % (CYCLE_KEYS, link),
                "--template", "4:keys=%d:%s c:__key__ r c:__key2__" % (CYCLE_KEYS, link),
                "--template", "8:keys=%d:DEL c:__key__" % CYCLE_KEYS]

    def start(self, cfg, d):
        port = pick_port()
        logf = open(os.path.join(d, "server.log"), "w")
        self.proc = subprocess.Popen(cfg["cmd"](port), stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        logf.close()
        if not wait_ready(port, self.proc):
            self.stop()
            return None
        return port

    def stop(self):
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def run_config(self, cfg):
        name = cfg["name"]
        d = os.path.join(self.data, name)
        os.makedirs(d, exist_ok=True)
        res = {"name": name, "label": cfg["label"], "kind": cfg["kind"], "runs": {}}
        if not cfg["needs"] or not os.path.exists(cfg["needs"]):
            self.note("%s skipped: %s not found" % (name, cfg["needs"] or "binary"))
            return None
        log("%s: starting" % name)
        port = self.start(cfg, d)
        if port is None:
            self.note("%s skipped: the server did not start (see data/%s/server.log)"
                      % (name, name))
            return None
        try:
            t0 = time.monotonic()
            j, err = self.mwrt_load(port, [
                "-c", "8", "-P", "64", "-n", str(LIVE), "--keys", str(LIVE), "--dist", "seq",
                "--template", "HSET h:__key__ f __data__"], os.path.join(d, "load.json"), 900)
            if err or j["ok"] != LIVE:
                self.note("%s: loading the live set failed: %s" % (name, err or j))
                return None
            j, err = self.mwrt_load(port, [
                "-c", "4", "-P", "64", "-n", str(CYCLE_KEYS), "--keys", str(CYCLE_KEYS),
                "--dist", "seq", "--template", "HSET c:__key__ v x"],
                os.path.join(d, "load-cycles.json"), 300)
            if err:
                self.note("%s: loading the cycle keys failed: %s" % (name, err))
                return None
            res["load_s"] = time.monotonic() - t0
            with connect(port) as s:
                res["dbsize"] = int(command(s, "DBSIZE")[1:].strip())
            log("%s: %d keys loaded in %.1f s; measuring max throughput"
                % (name, res["dbsize"], res["load_s"]))

            j, err = self.mwrt_load(port, ["-c", str(CONNS), "--duration", str(MAX_SECONDS)]
                                    + self.mix(cfg["kind"]), os.path.join(d, "max.json"),
                                    MAX_SECONDS + 60)
            if err or not j or j["throughput_rps"] <= 0:
                self.note("%s: max throughput run failed: %s" % (name, err))
                return None
            res["max_rps"] = j["throughput_rps"]
            for pct in RATES:
                rate = res["max_rps"] * pct / 100.0
                log("%s: %d%% of max = %.0f req/s for %g s" % (name, pct, rate, RATE_SECONDS))
                poller = None
                if cfg["kind"] != "redis":
                    poller = GcPoller(port)
                    poller.start()
                base = os.path.join(d, "rate%d" % pct)
                j, err = self.mwrt_load(port, [
                    "-c", str(CONNS), "-P", "8", "--rate", "%.1f" % rate,
                    "--duration", str(RATE_SECONDS), "--interval", "0.1",
                    "--csv", base + ".csv", "--hdr", base + ".hdr"] + self.mix(cfg["kind"]),
                    base + ".json", RATE_SECONDS + 60)
                events = []
                if poller:
                    poller.stop.set()
                    poller.join()
                    if poller.error:
                        self.note("%s: INFO gc polling stopped: %s" % (name, poller.error))
                    events = poller.events()
                if err or not j:
                    self.note("%s at %d%%: %s" % (name, pct, err))
                    if not j:
                        continue
                start = j["start_monotonic_s"]
                with open(base + ".gc", "w") as f:
                    f.write("second,gen,collections,pause_ms\n")
                    for t, g, n, ms in events:
                        f.write("%.3f,%d,%d,%.3f\n" % (t - start, g, n, ms))
                res["runs"][pct] = {
                    "rate": rate, "json": j, "base": base,
                    "collections": [sum(n for _, g, n, _ in events if g == gen)
                                    for gen in range(3)],
                    "gc_pause_ms": sum(ms for *_, ms in events),
                    "gc_max_ms": max([ms for *_, ms in events] or [0.0]),
                }
        finally:
            self.stop()
        return res


# ---------------------------------------------------------------------------
# Results, read back from OUTDIR/data (so REPLOT=1 can redo the report)
# ---------------------------------------------------------------------------

def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_events(path):
    events = []
    try:
        with open(path) as f:
            next(f, None)
            for line in f:
                t, g, n, ms = line.strip().split(",")
                events.append((float(t), int(g), int(n), float(ms)))
    except (OSError, ValueError):
        pass
    return events


def collect_results(data, cfgs):
    results = []
    for cfg in cfgs:
        d = os.path.join(data, cfg["name"])
        mx = read_json(os.path.join(d, "max.json"))
        load = read_json(os.path.join(d, "load.json"))
        cyc = read_json(os.path.join(d, "load-cycles.json"))
        if not mx or not load or not cyc:
            continue
        res = {"name": cfg["name"], "label": cfg["label"], "kind": cfg["kind"],
               "max_rps": mx["throughput_rps"], "dbsize": load["ok"] + cyc["ok"],
               "load_s": load["elapsed_s"] + cyc["elapsed_s"], "runs": {}}
        for pct in RATES:
            base = os.path.join(d, "rate%d" % pct)
            j = read_json(base + ".json")
            if not j:
                continue
            events = read_events(base + ".gc")
            res["runs"][pct] = {
                "rate": j["config"]["rate"], "json": j, "base": base,
                "collections": [sum(n for _, g, n, _ in events if g == gen) for gen in range(3)],
                "gc_pause_ms": sum(ms for *_, ms in events),
                "gc_max_ms": max([ms for *_, ms in events] or [0.0]),
            }
        results.append(res)
    return results


# ---------------------------------------------------------------------------
# Plots and the report
# ---------------------------------------------------------------------------

def gnuplot(script, variables, notes):
    exe = shutil.which("gnuplot")
    if not exe:
        notes.append("gnuplot not found (apt-get install gnuplot-nox): no plots")
        return False
    args = [exe]
    for k, v in variables.items():
        args += ["-e", "%s='%s'" % (k, str(v).replace("'", ""))]
    args.append(os.path.join(HERE, script))
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        notes.append("gnuplot %s failed: %s" % (script, r.stderr.strip()[-300:]))
        return False
    return True


def fmt_ms(us):
    return "%.2f" % (us / 1000.0)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d CPUs, %s, Linux %s" % (os.cpu_count() or 0, cpu, platform.release())


def version(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=10).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def write_report(outdir, results, notes, meta):
    lines = []
    w = lines.append
    w("# Latency report: what the collector does to request latency")
    w("")
    w("Made by `%s` (%s)." % (meta["command"], meta["date"]))
    w("")
    w("- machine: %s; load average before %s, after %s (other work on the machine skews "
      "the numbers)" % (machine(), meta["load_before"], meta["load_after"]))
    w("- peers: %s; Python %s; mwrt source %s" % (
        meta["redis"], platform.python_version(), meta["commit"]))
    w("- live set: %d hashes h:N {f: 16 bytes} and %d cycle keys c:N; mwrt-server with "
      "--workers %d; mwrt-load: one thread, %d connections, open loop with pipeline 8 "
      "and coordinated-omission correction" % (LIVE, CYCLE_KEYS, WORKERS, CONNS))
    w("- mix: 50%% HGET h:K, 20%% HSET h:K, and on the c:N keys 10%% HSET, 8%% REF.SET c:K "
      "self c:K, 4%% REF.SET c:K r c:K2 (HSET for redis), 8%% DEL; max throughput: closed "
      "loop, %g s; each rate: %g s"
      % (MAX_SECONDS, RATE_SECONDS))
    w("- each configuration runs at its own percentages of its own maximum; "
      "latencies in ms, measured from each request's intended send time")
    w("")
    w("## Maximum throughput (closed loop)")
    w("")
    w("| configuration | max req/s | keys loaded | load s |")
    w("|---|---:|---:|---:|")
    for r in results:
        w("| %s | %.0f | %d | %.1f |" % (r["label"], r["max_rps"], r["dbsize"], r["load_s"]))
    w("")
    for pct in RATES:
        w("## At %d%% of maximum" % pct)
        w("")
        w("| configuration | rate req/s | p50 | p99 | p99.9 | max | errors | timeouts | "
          "collections (gen 0/1/2) | gc pause ms (total / largest) |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for r in results:
            run = r["runs"].get(pct)
            if not run:
                w("| %s | - | - | - | - | - | - | - | - | - |" % r["label"])
                continue
            j = run["json"]
            lat = j["latency_us"]
            gcs = "-" if r["kind"] == "redis" else "%d / %d / %d" % tuple(run["collections"])
            gcp = "-" if r["kind"] == "redis" else "%.1f / %.1f" % (run["gc_pause_ms"],
                                                                   run["gc_max_ms"])
            w("| %s | %.0f | %s | %s | %s | %s | %d | %d | %s | %s |" % (
                r["label"], run["rate"], fmt_ms(lat["p50"]), fmt_ms(lat["p99"]),
                fmt_ms(lat["p99.9"]), fmt_ms(lat["max"]), j["errors"], j["timeouts"], gcs, gcp))
        w("")
        png = "percentiles-%d.png" % pct
        if os.path.exists(os.path.join(outdir, png)):
            w("![latency by percentile at %d%% of maximum](%s)" % (pct, png))
            w("")
    w("## Goals (at %d%% of maximum)" % GOAL_RATE)
    w("")
    by = {r["name"]: r for r in results}

    def p999(name):
        r = by.get(name)
        run = r and r["runs"].get(GOAL_RATE)
        return run["json"]["latency_us"]["p99.9"] if run else None

    redis, py = p999("redis"), p999("cpython-gc-on")
    for lock in ("gil", "free"):
        m = p999("mwrt-paused-%s" % lock)
        if m is None or redis is None:
            w("- mwrt paused %s p99.9 <= 1.5x redis-server's: not measured" % lock)
        else:
            w("- mwrt paused %s p99.9 <= 1.5x redis-server's: %s (%.2f ms vs %.2f ms = %.2fx)"
              % (lock, "met" if m <= 1.5 * redis else "NOT met", m / 1e3, redis / 1e3,
                 m / redis))
        if m is None or py is None:
            w("- mwrt paused %s p99.9 < 1/10 of CPython's (gc on): not measured" % lock)
        else:
            w("- mwrt paused %s p99.9 < 1/10 of CPython's (gc on): %s (%.2f ms vs %.2f ms = "
              "1/%.1f)" % (lock, "met" if m * 10 < py else "NOT met", m / 1e3, py / 1e3,
                           py / m if m else float("inf")))
    w("")
    w("## Latency over time at %d%% of maximum" % GOAL_RATE)
    w("")
    w("p99 and max latency per 100 ms; the server's collections as INFO gc showed them "
      "(polled every 100 ms), drawn at the height of their pause: gen 2 (full) red, "
      "gen 1 orange, gen 0 grey.")
    w("")
    for r in results:
        png = "timeline-%d-%s.png" % (GOAL_RATE, r["name"])
        if os.path.exists(os.path.join(outdir, png)):
            w("![%s over time](%s)" % (r["label"], png))
            w("")
    if notes:
        w("## Notes")
        w("")
        for n in notes:
            w("- " + n)
        w("")
    w("Raw data: data/CONFIG/rateN.{json,csv,hdr,gc} (mwrt-load's JSON summary, 100 ms "
      "time series, HdrHistogram table, collections seen).")
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def make_plots(outdir, results, notes):
    for pct in RATES:
        files, titles = [], []
        for r in results:
            run = r["runs"].get(pct)
            if run and os.path.exists(run["base"] + ".hdr"):
                files.append(run["base"] + ".hdr")
                titles.append(r["name"])
        if files:
            gnuplot("percentiles.gp", {
                "files": " ".join(files), "titles": " ".join(titles),
                "out": os.path.join(outdir, "percentiles-%d.png" % pct),
                "heading": "Latency by percentile, each server at %d%% of its own maximum rate"
                           % pct,
            }, notes)
    for r in results:
        run = r["runs"].get(GOAL_RATE)
        if run:
            gnuplot("timeline.gp", {
                "csv": run["base"] + ".csv", "gc": run["base"] + ".gc",
                "out": os.path.join(outdir, "timeline-%d-%s.png" % (GOAL_RATE, r["name"])),
                "heading": "%s at %.0f req/s (%d%% of max): latency and collections"
                           % (r["label"], run["rate"], GOAL_RATE),
            }, notes)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py BUILD_DIR OUTDIR")
    build, outdir = sys.argv[1], sys.argv[2]
    runner = Runner(build, outdir)
    if not os.access(runner.load, os.X_OK) and not os.environ.get("REPLOT"):
        sys.exit("report: no %s (build the mwrt-load target)" % runner.load)

    def on_signal(signum, frame):
        runner.stop()
        sys.exit(130)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    meta = {
        "command": os.environ.get("REPORT_COMMAND", "bench/report/run.sh %s" % build),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_before": " ".join(open("/proc/loadavg").read().split()[:3]),
        "redis": version(["redis-server", "--version"]),
        "commit": version(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]),
    }
    started = time.monotonic()
    cfgs = configurations(build)
    notes = runner.notes
    if os.environ.get("REPLOT", "") not in ("", "0"):
        # Only the report and the plots, from an earlier run's data.
        meta["load_after"] = meta["load_before"]
        notes.append("report and plots redone from existing data (REPLOT=1)")
    else:
        ran = []
        try:
            for cfg in cfgs:
                if runner.run_config(cfg):
                    ran.append(cfg)
        finally:
            runner.stop()
        cfgs = ran
        meta["load_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
        notes.append("wall time %.0f s" % (time.monotonic() - started))
    results = collect_results(runner.data, cfgs)
    for r in results:
        if r["kind"] == "redis" or r["name"].endswith("-off") or "-off-" in r["name"]:
            continue
        if not any(sum(run["collections"]) for run in r["runs"].values()):
            notes.append("%s: INFO gc showed no collection during any fixed-rate run"
                         % r["name"])
    make_plots(outdir, results, notes)
    write_report(outdir, results, notes, meta)
    log("wrote %s" % os.path.join(outdir, "report.md"))
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
