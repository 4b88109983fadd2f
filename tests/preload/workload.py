#!/usr/bin/env python3
"""Allocation-heavy Python workload for the libmwmalloc.so preload test.

Run with PYTHONMALLOC=malloc so that every object allocation of the
interpreter goes through the C malloc family (and so through libmwmalloc.so
when it is preloaded).  The workload builds and drops many small objects of
every common kind, with sizes on both sides of the 512-byte small-object
limit, grows blocks with realloc across that limit, makes garbage cycles for
gc.collect(), round-trips JSON, sorts, uses sqlite3 and zlib (C libraries that
call malloc themselves), and runs threads that hand objects to each other so
that blocks are freed by threads other than the one that allocated them,
including after the allocating thread has exited.

Every phase folds its results into a SHA-256.  The output is deterministic:
it must be identical with and without the preload (and does not depend on
PYTHONHASHSEED or on thread scheduling).  The script prints one line per
phase plus a final "checksum" line, and exits non-zero if one of its own
consistency checks fails.
"""

import gc
import hashlib
import json
import queue
import random
import sqlite3
import sys
import threading
import zlib

PHASES = []


def phase(fn):
    PHASES.append(fn)
    return fn


def feed(h, obj):
    """Fold obj into hash h in a canonical, order-stable form."""
    h.update(repr(obj).encode())
    h.update(b"\x00")


def check(cond, what):
    if not cond:
        print("workload: CHECK FAILED: " + what, file=sys.stderr)
        sys.exit(3)


@phase
def small_objects(h):
    """Many short-lived dicts, lists, tuples, strings and ints."""
    rng = random.Random(1)
    total = 0
    keep = []
    for i in range(60000):
        n = rng.randrange(0, 12)
        d = {"id": i, "name": "obj%d" % i, "tags": [str(j) * (j % 5 + 1) for j in range(n)]}
        t = (i, i * 7, "x" * (i % 40), d["name"])
        lst = [t, d, i * 3, float(i) / 7.0]
        total += len(d["tags"]) + len(t[2]) + len(lst)
        if i % 97 == 0:
            keep.append(lst)          # a few survive for a while
        if len(keep) > 300:
            del keep[::2]             # free from the middle of the history
    feed(h, total)
    feed(h, [k[0][0] for k in keep])
    del keep
    # Big ints (variable-size objects, some above 512 bytes).
    acc = 1
    for i in range(1, 2500):
        acc = acc * (i | 1) % (1 << (8 * (i % 900 + 1)))
        if i % 250 == 0:
            feed(h, acc % 1000000007)
    return total


@phase
def strings_and_sizes(h):
    """Strings and bytes of every size 0..1100, and realloc growth."""
    rng = random.Random(2)
    pieces = []
    for n in range(0, 1100):
        s = "".join(chr(97 + (n * k) % 26) for k in range(n))
        b = s.encode()
        pieces.append(b[: n // 2])
        feed(h, (n, hashlib.sha1(b).hexdigest()))
    # bytearray growth: realloc through the small classes and past 512 bytes.
    ba = bytearray()
    for i in range(20000):
        ba += bytes([i & 0xFF]) * (i % 7)
        if i % 1000 == 999:
            del ba[: len(ba) // 3]   # shrink (realloc down)
    feed(h, hashlib.sha256(ba).hexdigest())
    # list growth via append (realloc of the item array) and str.join.
    lists = []
    for k in range(200):
        lst = []
        for i in range(rng.randrange(1, 300)):
            lst.append(i)
        lists.append(lst)
    feed(h, sum(len(x) for x in lists))
    joined = "|".join(str(len(p)) for p in pieces)
    feed(h, hashlib.sha256(joined.encode()).hexdigest())
    return len(joined)


class Node:
    __slots__ = ("value", "next", "other", "__weakref__")

    def __init__(self, value):
        self.value = value
        self.next = None
        self.other = None


@phase
def cycles(h):
    """Cyclic garbage that only the cycle collector can reclaim."""
    gc.collect()
    gc.disable()        # so that the explicit collect() below finds the cycles
    collected = 0
    for round_ in range(20):
        nodes = [Node(i) for i in range(2000)]
        for i, n in enumerate(nodes):
            n.next = nodes[(i + 1) % len(nodes)]
            n.other = {"back": n, "i": i, "l": [n, i]}
        ring_sum = 0
        cur = nodes[0]
        for _ in range(len(nodes)):
            ring_sum += cur.value
            cur = cur.next
        feed(h, ring_sum)
        del nodes, cur, n
        got = gc.collect()
        collected += 1 if got > 0 else 0
    gc.enable()
    check(collected == 20, "gc.collect() found no cycles in some round")
    # Self-referencing containers.
    for i in range(5000):
        a = []
        a.append(a)
        d = {}
        d["self"] = d
    gc.collect()
    feed(h, collected)
    return collected


@phase
def json_roundtrip(h):
    """json.dumps/json.loads of a nested document; must round-trip exactly."""
    rng = random.Random(3)

    def make(depth):
        if depth == 0:
            r = rng.randrange(5)
            if r == 0:
                return rng.randrange(-10**9, 10**9)
            if r == 1:
                return "s" * rng.randrange(0, 700)
            if r == 2:
                return rng.random()
            if r == 3:
                return None
            return [True, False]
        if rng.randrange(2):
            return {"k%d" % i: make(depth - 1) for i in range(rng.randrange(1, 6))}
        return [make(depth - 1) for _ in range(rng.randrange(1, 6))]

    n = 0
    for i in range(60):
        doc = make(5)
        text = json.dumps(doc, sort_keys=True)
        back = json.loads(text)
        check(back == doc, "json round trip %d differs" % i)
        text2 = json.dumps(back, sort_keys=True, indent=1)
        check(json.loads(text2) == doc, "json indent round trip %d differs" % i)
        feed(h, hashlib.sha256(text.encode()).hexdigest())
        n += len(text)
    return n


@phase
def sorting(h):
    """Sorting lists of ints, strings and tuples (with key functions)."""
    rng = random.Random(4)
    ints = [rng.randrange(10**6) for _ in range(100000)]
    s1 = sorted(ints)
    check(all(s1[i] <= s1[i + 1] for i in range(len(s1) - 1)), "int sort")
    strs = ["%x-%d" % (v, v % 13) for v in ints[:50000]]
    s2 = sorted(strs, key=lambda s: (len(s), s))
    recs = [(v % 100, str(v), [v]) for v in ints[:30000]]
    recs.sort(key=lambda r: (r[0], r[1]))
    feed(h, s1[::997])
    feed(h, s2[::499])
    feed(h, [r[1] for r in recs[::313]])
    # Sets and dict ordering made deterministic by sorting.
    st = set(strs)
    feed(h, sorted(st)[:50])
    counts = {}
    for s in strs:
        counts[s[-1]] = counts.get(s[-1], 0) + 1
    feed(h, sorted(counts.items()))
    return len(s1)


@phase
def sqlite_and_zlib(h):
    """C libraries (sqlite3, zlib) that allocate through malloc themselves."""
    con = sqlite3.connect(":memory:")
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v INTEGER)")
    cur.executemany("INSERT INTO t (name, v) VALUES (?, ?)",
                    (("name%d" % i * (i % 5 + 1), (i * 7919) % 10007) for i in range(20000)))
    cur.execute("CREATE INDEX tv ON t (v)")
    con.commit()
    rows = cur.execute("SELECT v % 17, COUNT(*), SUM(length(name)) FROM t "
                       "GROUP BY v % 17 ORDER BY 1").fetchall()
    feed(h, rows)
    top = cur.execute("SELECT id, name FROM t ORDER BY v DESC, id LIMIT 20").fetchall()
    feed(h, top)
    con.close()
    blob = ("".join("line %d of the workload\n" % i for i in range(20000))).encode()
    comp = zlib.compress(blob, 6)
    check(zlib.decompress(comp) == blob, "zlib round trip")
    co = zlib.compressobj(9)
    parts = [co.compress(blob[i:i + 333]) for i in range(0, len(blob), 333)]
    parts.append(co.flush())
    check(zlib.decompress(b"".join(parts)) == blob, "zlib stream round trip")
    feed(h, zlib.crc32(blob))
    return len(comp)


NWORKERS = 4
ITEMS = 6000
STOP = None


def worker(idx, inq, outq, results, survivors):
    """Build objects, send them to the next worker, consume the ones from
    the previous worker (so those are freed on this thread), and leave some
    behind for the main thread to free after this thread has exited."""
    rng = random.Random(100 + idx)
    hh = hashlib.sha256()
    received = 0
    sent = 0
    done_in = False
    kept = []
    while not done_in or sent < ITEMS:
        if sent < ITEMS:
            n = rng.randrange(1, 40)
            obj = {
                "from": idx,
                "seq": sent,
                "payload": ["w%d-%d-%d" % (idx, sent, j) * (j % 4 + 1) for j in range(n)],
                "blob": bytes([sent & 0xFF]) * rng.randrange(0, 900),
                "t": tuple(range(n % 9)),
            }
            outq.put(obj)
            sent += 1
            if sent == ITEMS:
                outq.put(STOP)
            if sent % 50 == 0:
                kept.append([obj["payload"][:3], obj["seq"]])
        if not done_in:
            try:
                got = inq.get(timeout=0.0 if sent < ITEMS else 5.0)
            except queue.Empty:
                if sent >= ITEMS:
                    results[idx] = "timeout waiting for input"
                    return
                continue
            if got is STOP:
                done_in = True
                continue
            # Consume: fold in, then drop -> freed on this thread.
            hh.update(("%d:%d:%d:%d:%s" % (got["from"], got["seq"], len(got["payload"]),
                                           len(got["blob"]), got["payload"][-1])).encode())
            received += 1
            del got
    survivors[idx] = kept
    results[idx] = (received, hh.hexdigest())


@phase
def threads(h):
    """NWORKERS threads in a ring of queues, in several rounds."""
    out = []
    for round_ in range(4):
        # Unbounded: a ring of bounded queues could deadlock with every
        # worker blocked in put().
        queues = [queue.Queue() for _ in range(NWORKERS)]
        results = [None] * NWORKERS
        survivors = [None] * NWORKERS
        ts = []
        for i in range(NWORKERS):
            # worker i reads queue i and writes queue i+1
            t = threading.Thread(target=worker,
                                 args=(i, queues[i], queues[(i + 1) % NWORKERS],
                                       results, survivors))
            ts.append(t)
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=60)
            check(not t.is_alive(), "worker thread hung")
        for i, r in enumerate(results):
            check(isinstance(r, tuple), "worker %d failed: %r" % (i, r))
            check(r[0] == ITEMS, "worker %d received %d items" % (i, r[0]))
        out.append(results)
        # The workers have exited: free what they allocated from here.
        feed(h, [[s[1] for s in surv] for surv in survivors])
        del survivors
        gc.collect()
    feed(h, out)
    return len(out)


def main():
    final = hashlib.sha256()
    for fn in PHASES:
        ph = hashlib.sha256()
        ret = fn(ph)
        gc.collect()
        line = "%s %s %s" % (fn.__name__, ret, ph.hexdigest())
        print(line)
        final.update(line.encode())
    print("checksum %s" % final.hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main())
