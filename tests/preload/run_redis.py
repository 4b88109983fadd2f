#!/usr/bin/env python3
"""preload_redis: run the real redis-server under LD_PRELOAD=libmwmalloc.so.

  1. start redis-server on 127.0.0.1:PORT (a free loopback port), with no
     persistence, not daemonized, MWMALLOC_STATS=1;
  2. wait (bounded) until `redis-cli -p PORT ping` answers PONG;
  3. drive it with redis-benchmark (-n 20000 -c 10, set/get/incr/lpush/lpop/
     sadd/hset), bounded in time, and check every test reported a rate;
  4. check correctness through redis-cli: SET/GET of values of many sizes,
     INCR a counter N times, RPUSH + LRANGE, HSET + HGETALL, SADD +
     SMEMBERS, DBSIZE;
  5. SHUTDOWN NOSAVE, and check the server exited with status 0, logged no
     crash report, and printed the mwmalloc stats line with
     arenas_mapped > 0.

Only the server is preloaded; redis-cli and redis-benchmark run plainly.

Note: Debian's redis-server is built with its own bundled jemalloc
(INFO shows mem_allocator:jemalloc-...), which it uses for its data
(zmalloc: keys, values, client buffers).  The preload only serves its
libc-level allocations: the dynamic loader, libc (stdio, locale, getaddrinfo,
localtime), libssl/libcrypto, libsystemd, Lua, and anything else calling
malloc directly.  That is expected; arenas_mapped > 0 shows that part was
served by mwrt's pools, and a corrupting or crashing allocator still brings
the server down.

Usage: run_redis.py LIBMWMALLOC_SO
Exits 77 (ctest SKIP) if redis-server, redis-cli or redis-benchmark is missing.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import preloadlib as pl  # noqa: E402

HOST = "127.0.0.1"
START_TIMEOUT = 20      # seconds to wait for PONG
BENCH_TIMEOUT = 60      # seconds for redis-benchmark
CLI_TIMEOUT = 20        # seconds for one redis-cli invocation
STOP_TIMEOUT = 20       # seconds for the server to exit after SHUTDOWN
INCR_COUNT = 1000
LIST_LEN = 500
HASH_FIELDS = 200
SET_MEMBERS = 300


def free_port():
    """A port that is free on 127.0.0.1 right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """redis-server under the preload.  stop() is idempotent; kill() is the
    failure path and is safe to call at any time."""

    def __init__(self, exe, lib, workdir):
        self.exe, self.lib, self.workdir = exe, lib, workdir
        self.proc = None
        self.port = None
        self.out_path = os.path.join(workdir, "redis.stdout")
        self.err_path = os.path.join(workdir, "redis.stderr")

    def start(self, port):
        self.port = port
        cmd = [self.exe,
               "--bind", HOST, "--port", str(port),
               "--protected-mode", "yes",
               "--save", "", "--appendonly", "no", "--daemonize", "no",
               "--supervised", "no",
               "--dir", self.workdir, "--logfile", "", "--loglevel", "notice",
               "--unixsocket", "", "--databases", "4"]
        self.outf = open(self.out_path, "wb")
        self.errf = open(self.err_path, "wb")
        # Own session: SIGINT from the terminal does not reach it, and
        # kill() can take down anything it might have forked.
        self.proc = subprocess.Popen(cmd, env=pl.preload_env(self.lib), cwd=self.workdir,
                                     stdin=subprocess.DEVNULL, stdout=self.outf,
                                     stderr=self.errf, start_new_session=True)
        pl.log("started: %s (pid %d)" % (" ".join(repr(c) if c == "" else c for c in cmd),
                                        self.proc.pid))

    def logs(self):
        out = err = ""
        for path in (self.out_path, self.err_path):
            try:
                with open(path, "rb") as f:
                    text = pl.dec(f.read())
            except OSError:
                text = ""
            if path == self.out_path:
                out = text
            else:
                err = text
        return out, err

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            pl.log("killing redis-server pid %d" % self.proc.pid)
            pl.kill_group(self.proc)

    def close_files(self):
        for f in (getattr(self, "outf", None), getattr(self, "errf", None)):
            if f is not None and not f.closed:
                f.close()


def cli(port, args, stdin_data=None, timeout=CLI_TIMEOUT, env=None):
    """Run redis-cli against the server; returns stdout.  Fails on a non-zero
    exit or an error reply."""
    cmd = [CLI, "-h", HOST, "-p", str(port)] + list(args)
    rc, out, err = pl.run(cmd, env or pl.clean_env(), timeout, stdin_data=stdin_data)
    if rc != 0:
        pl.fail("%s: %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                % (" ".join(cmd), pl.describe_rc(rc), pl.tail(out), pl.tail(err)))
    for line in out.splitlines():
        if line.startswith(("ERR ", "WRONGTYPE ", "(error)")):
            pl.fail("%s: error reply: %s" % (" ".join(cmd), line))
    return out


def expect(what, got, want):
    if got != want:
        g, w = repr(got), repr(want)
        if len(g) > 600:
            g = g[:600] + "..."
        if len(w) > 600:
            w = w[:600] + "..."
        pl.fail("%s:\n  expected: %s\n  got:      %s" % (what, w, g))


def wait_ready(server):
    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            out, err = server.logs()
            return False, "redis-server exited early (%s)\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
                pl.describe_rc(server.proc.returncode), pl.tail(out), pl.tail(err))
        try:
            p = subprocess.run([CLI, "-h", HOST, "-p", str(server.port), "ping"],
                               env=pl.clean_env(), stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=5)
            last = pl.dec(p.stdout).strip() + pl.dec(p.stderr).strip()
            if p.returncode == 0 and pl.dec(p.stdout).strip() == "PONG":
                return True, ""
        except subprocess.TimeoutExpired:
            last = "redis-cli ping timed out"
        time.sleep(0.1)
    return False, "no PONG within %ds (last answer: %r)" % (START_TIMEOUT, last)


def benchmark(port):
    tests = ["set", "get", "incr", "lpush", "lpop", "sadd", "hset"]
    cmd = [BENCH, "-h", HOST, "-p", str(port), "-n", "20000", "-c", "10", "-q",
           "-t", ",".join(tests)]
    t0 = time.monotonic()
    rc, out, err = pl.run(cmd, pl.clean_env(), BENCH_TIMEOUT)
    if rc != 0:
        pl.fail("%s: %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                % (" ".join(cmd), pl.describe_rc(rc), pl.tail(out), pl.tail(err)))
    # -q prints progress with '\r' and one "NAME: N requests per second" per test.
    lines = [seg.strip() for line in out.splitlines() for seg in line.split("\r")]
    done = {}
    for l in lines:
        if "requests per second" in l and ":" in l:
            done[l.split(":", 1)[0].strip().lower()] = l
    want = {"set", "get", "incr", "lpush", "lpop", "sadd", "hset"}
    missing = sorted(w for w in want if not any(k.startswith(w) for k in done))
    if missing:
        pl.fail("redis-benchmark did not report %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                % (missing, pl.tail(out), pl.tail(err)))
    pl.log("redis-benchmark (%.1fs):" % (time.monotonic() - t0))
    for l in done.values():
        pl.log("  " + l)


def correctness(port):
    # The benchmark wrote its keys; it must have left something behind
    # (key:__rand_int__, counter:__rand_int__, myset, myhash, ...).
    n = int(cli(port, ["dbsize"]).strip())
    if n < 1:
        pl.fail("DBSIZE after redis-benchmark is %d, expected >= 1" % n)
    # Its SET test writes a 3-byte value (-d 3, the default).
    val = cli(port, ["get", "key:__rand_int__"]).rstrip("\n")
    expect("length of GET key:__rand_int__ (written by redis-benchmark -d 3)", len(val), 3)
    pl.log("after benchmark: DBSIZE=%d" % n)
    expect("FLUSHALL", cli(port, ["flushall"]).strip(), "OK")
    expect("DBSIZE after FLUSHALL", cli(port, ["dbsize"]).strip(), "0")

    keys = 0
    rng = random.Random(42)
    # SET/GET values of many sizes (small and large, around the 512 limit).
    sizes = list(range(0, 40)) + [100, 255, 256, 257, 500, 511, 512, 513, 1000, 4096, 65536]
    values = {}
    for i, sz in enumerate(sizes):
        values["v:%d" % sz] = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                     for _ in range(sz))
    # One redis-cli process, one command per line on stdin.
    script = "".join("SET %s %s\n" % (k, v if v else '""') for k, v in values.items())
    out = cli(port, [], stdin_data=script)
    expect("replies to %d SETs" % len(values), out.split(), ["OK"] * len(values))
    for k, v in values.items():
        got = cli(port, ["--no-raw", "strlen", k]).strip()
        expect("STRLEN %s" % k, got, "(integer) %d" % len(v))
        got = cli(port, ["get", k])
        expect("GET %s" % k, got[:-1] if got.endswith("\n") else got, v)
    keys += len(values)

    # INCR a counter INCR_COUNT times from one client.
    out = cli(port, [], stdin_data="INCR counter\n" * INCR_COUNT)
    expect("INCR replies", out.split(), [str(i) for i in range(1, INCR_COUNT + 1)])
    expect("GET counter", cli(port, ["get", "counter"]).strip(), str(INCR_COUNT))
    # ... and from several concurrent clients (INCRBY).
    procs = [subprocess.Popen([CLI, "-h", HOST, "-p", str(port)], env=pl.clean_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True)
             for _ in range(4)]
    try:
        for j, p in enumerate(procs):
            p.stdin.write(("INCRBY counter2 %d\n" % (j + 1)).encode() * 250)
            p.stdin.close()
        for p in procs:
            p.wait(timeout=CLI_TIMEOUT)
            if p.returncode != 0:
                pl.fail("concurrent redis-cli INCRBY: %s" % pl.describe_rc(p.returncode))
            p.stdout.read()
            p.stderr.read()
    finally:
        for p in procs:
            pl.kill_group(p)
            for f in (p.stdout, p.stderr):
                f.close()
    expect("GET counter2 after 4 concurrent clients", cli(port, ["get", "counter2"]).strip(),
           str(250 * (1 + 2 + 3 + 4)))
    keys += 2

    # RPUSH a list, LRANGE it back.
    items = ["item-%d-%s" % (i, "z" * (i % 37)) for i in range(LIST_LEN)]
    expect("RPUSH", cli(port, ["rpush", "mylist2"] + items).strip(), str(LIST_LEN))
    got = cli(port, ["lrange", "mylist2", "0", "-1"]).splitlines()
    expect("LRANGE mylist2 0 -1", got, items)
    expect("LLEN", cli(port, ["llen", "mylist2"]).strip(), str(LIST_LEN))
    expect("LPOP", cli(port, ["lpop", "mylist2"]).strip(), items[0])
    expect("RPOP", cli(port, ["rpop", "mylist2"]).strip(), items[-1])
    expect("LINDEX 100", cli(port, ["lindex", "mylist2", "100"]).strip(), items[101])
    keys += 1

    # HSET + HGETALL.
    fields = {"f%d" % i: "value-%d-%s" % (i * i, "h" * (i % 23)) for i in range(HASH_FIELDS)}
    args = []
    for k, v in fields.items():
        args += [k, v]
    expect("HSET", cli(port, ["hset", "myhash2"] + args).strip(), str(HASH_FIELDS))
    flat = cli(port, ["hgetall", "myhash2"]).splitlines()
    expect("HGETALL length", len(flat), 2 * HASH_FIELDS)
    expect("HGETALL contents", dict(zip(flat[0::2], flat[1::2])), fields)
    expect("HGET f7", cli(port, ["hget", "myhash2", "f7"]).strip(), fields["f7"])
    expect("HLEN", cli(port, ["hlen", "myhash2"]).strip(), str(HASH_FIELDS))
    keys += 1

    # SADD + SMEMBERS (a set, order-independent).
    members = ["m%d" % (i * 7919 % 100003) for i in range(SET_MEMBERS)]
    expect("SADD", cli(port, ["sadd", "myset2"] + members).strip(), str(SET_MEMBERS))
    expect("SMEMBERS", sorted(cli(port, ["smembers", "myset2"]).splitlines()), sorted(members))
    expect("SCARD", cli(port, ["scard", "myset2"]).strip(), str(SET_MEMBERS))
    keys += 1

    # A Lua script (Lua's allocator is part of the server process).
    out = cli(port, ["eval",
                     "local t = {} for i = 1, 1000 do t[i] = tostring(i) .. 'x' end "
                     "return #table.concat(t, ',')", "0"]).strip()
    expect("EVAL", out, str(sum(len(str(i)) + 1 for i in range(1, 1001)) + 999))

    expect("DBSIZE", cli(port, ["dbsize"]).strip(), str(keys))
    info = cli(port, ["info", "memory"])
    alloc = [l for l in info.splitlines() if l.startswith("mem_allocator:")]
    pl.log("correctness checks passed; DBSIZE=%d; %s" % (keys, alloc[0].strip() if alloc else "?"))


def on_sigterm(signum, frame):
    raise pl.TestFailure("runner got SIGTERM (ctest timeout?)")


def main():
    global CLI, BENCH
    if len(sys.argv) < 2:
        pl.fail("usage: run_redis.py LIBMWMALLOC_SO")
    lib = pl.check_library(sys.argv[1])
    exe = pl.find_program("redis-server", "/usr/bin/redis-server")
    CLI = pl.find_program("redis-cli", "/usr/bin/redis-cli")
    BENCH = pl.find_program("redis-benchmark", "/usr/bin/redis-benchmark")
    if not (exe and CLI and BENCH):
        pl.skip("redis-server / redis-cli / redis-benchmark not installed "
                "(apt-get install redis-server redis-tools)")
    rc, out, err = pl.run([exe, "--version"], pl.clean_env(), 10)
    pl.log("%s: %s" % (exe, out.strip()))

    workdir = tempfile.mkdtemp(prefix="mwrt-preload-redis-")
    server = Server(exe, lib, workdir)
    # Always take the server down, whatever happens (including SIGTERM from
    # ctest's timeout).
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        for attempt in range(5):
            server.start(free_port())
            ok, why = wait_ready(server)
            if ok:
                break
            out, err = server.logs()
            server.kill()
            server.close_files()
            if "Address already in use" in out + err and attempt < 4:
                pl.log("port %d taken meanwhile, retrying" % server.port)
                continue
            pl.fail(why)
        port = server.port
        pl.log("redis-server answers PONG on %s:%d" % (HOST, port))

        benchmark(port)
        correctness(port)

        # Stop it: SHUTDOWN NOSAVE makes redis-server exit(0); the
        # connection drop makes redis-cli's own status meaningless.
        subprocess.run([CLI, "-h", HOST, "-p", str(port), "shutdown", "nosave"],
                       env=pl.clean_env(), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=CLI_TIMEOUT)
        try:
            rc = server.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pl.fail("redis-server did not exit within %ds of SHUTDOWN NOSAVE" % STOP_TIMEOUT)
        server.close_files()
        out, err = server.logs()
        if rc != 0:
            pl.fail("redis-server: %s after SHUTDOWN NOSAVE\n--- stdout ---\n%s\n"
                    "--- stderr ---\n%s" % (pl.describe_rc(rc), pl.tail(out), pl.tail(err)))
        for bad in ("REDIS BUG REPORT", "crashed by signal", "Guru Meditation",
                    "ASSERTION FAILED"):
            if bad in out + err:
                pl.fail("redis-server log contains %r\n--- stdout ---\n%s\n--- stderr ---\n%s"
                        % (bad, pl.tail(out), pl.tail(err)))
        if "Ready to accept connections" not in out:
            pl.fail("redis-server never logged 'Ready to accept connections'\n%s" % pl.tail(out))
        st = pl.require_stats("redis-server", err)
        pl.log("redis-server exited 0; stats: %s"
               % " ".join("%s=%d" % (k, st[k]) for k in pl.STATS_FIELDS))
    except BaseException:
        out, err = server.logs()
        server.kill()
        if server.proc is not None:
            pl.log("--- redis-server stdout ---\n%s\n--- redis-server stderr ---\n%s"
                   % (pl.tail(out, 30), pl.tail(err, 30)))
        raise
    finally:
        server.kill()
        server.close_files()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    pl.main_wrapper(main)
