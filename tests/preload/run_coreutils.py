#!/usr/bin/env python3
"""preload_coreutils: standard programs with and without
LD_PRELOAD=libmwmalloc.so must give identical results.

A deterministic 200,000-line file is generated, then each command below is
run plainly and preloaded (LC_ALL=C both times).  For each command the test
checks that

  * the exit status is 0 both times,
  * stdout and stderr (minus the mwmalloc stats line) are identical,
  * the dynamic loader bound the program's (and libc's) malloc/free to
    libmwmalloc.so and never to libc.so.6 (LD_DEBUG=bindings, written to a
    file so it does not mix with the compared output),
  * exactly one mwmalloc stats line appears, showing arenas_mapped > 0 (for
    the programs marked as making small allocations).

About the stats line: GNU coreutils register gnulib's close_stdout() with
atexit(), which fclose()s stdout AND stderr before libmwmalloc.so's own
atexit handler runs.  The library writes the line to a duplicate of stderr
taken at start-up, so the line must appear for these programs too.

Also: the plain `sort` output is checked against Python's own sort of the
file, so a broken sort under both runs would not go unnoticed.

Usage: run_coreutils.py LIBMWMALLOC_SO
"""

import glob
import os
import random
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import preloadlib as pl  # noqa: E402

LINES = 200000
TIMEOUT = 40  # seconds per command run


def make_data(path, seed):
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(1, 12)))
             for _ in range(5000)]
    with open(path, "w") as f:
        for i in range(LINES):
            n = rng.randrange(1, 8)
            f.write("%s %d %s,%d\n" % (rng.choice(words), rng.randrange(-10**6, 10**6),
                                        " ".join(rng.choice(words) for _ in range(n)),
                                        i % 977))


BIND_RE = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: normal symbol "
                     r"`(malloc|free|calloc|realloc)'")


def check_bindings(logprefix, lib):
    """From the LD_DEBUG=bindings log(s): (ok, description)."""
    to_us, to_other = set(), set()
    for path in glob.glob(logprefix + ".*"):
        with open(path, errors="replace") as f:
            for line in f:
                m = BIND_RE.search(line)
                if not m:
                    continue
                src, dst, sym = m.groups()
                if os.path.realpath(src) == os.path.realpath(lib):
                    continue    # its own dlsym(RTLD_NEXT) lookups of libc's
                if os.path.realpath(dst) == os.path.realpath(lib):
                    to_us.add("%s:%s" % (os.path.basename(src), sym))
                else:
                    to_other.add("%s -> %s:%s" % (os.path.basename(src), dst, sym))
    if to_other:
        return False, "malloc family bound elsewhere: %s" % ", ".join(sorted(to_other))
    if not any(s.endswith(":malloc") for s in to_us):
        return False, "no binding of malloc to libmwmalloc.so in the LD_DEBUG log (%s.*)" % logprefix
    return True, "%d malloc-family bindings to libmwmalloc.so" % len(to_us)


def main():
    if len(sys.argv) < 2:
        pl.fail("usage: run_coreutils.py LIBMWMALLOC_SO")
    lib = pl.check_library(sys.argv[1])
    tools = {}
    for t in ("sort", "sha256sum", "ls", "uniq", "wc", "cut", "du", "sed", "diff"):
        tools[t] = pl.find_program(t, "/usr/bin/" + t, "/bin/" + t)
        if not tools[t]:
            pl.skip("%s not found" % t)

    tmp = tempfile.mkdtemp(prefix="mwrt-preload-coreutils-")
    try:
        data = os.path.join(tmp, "data.txt")
        data2 = os.path.join(tmp, "data2.txt")
        make_data(data, 2024)
        with open(data) as f, open(data2, "w") as g:
            for i, line in enumerate(f):       # a few changes for diff
                g.write(line if i % 5000 else line.upper())
        sorted_path = os.path.join(tmp, "sorted.txt")
        with open(data) as g:
            expected_sorted = "".join(sorted(g))   # code point order == LC_ALL=C (ASCII)
        with open(sorted_path, "w") as f:
            f.write(expected_sorted)
        tree = "/usr/include" if os.path.isdir("/usr/include") else "/usr/share/doc"
        sorttmp = os.path.join(tmp, "sorttmp")
        os.mkdir(sorttmp)

        S = tools["sort"]
        # (name, argv, arenas_mapped must be > 0 when the stats line is seen,
        #  expected stdout or None)
        cases = [
            ("sort", [S, data], True, expected_sorted),
            ("sort -n -k2", [S, "-s", "-n", "-k2,2", data], True, None),
            # Small buffer: temporary files and merges; several threads.
            ("sort -u --parallel=4 -S 1M", [S, "-u", "--parallel=4", "-S", "1M",
                                            "-T", sorttmp, data], True, None),
            ("sort -t, -k2n -k1r", [S, "-t", ",", "-k2,2n", "-k1,1r", data], True, None),
            ("sha256sum", [tools["sha256sum"], data, sorted_path], False, None),
            ("uniq -c", [tools["uniq"], "-c", sorted_path], False, None),
            ("wc", [tools["wc"], data], False, None),
            ("cut -d' ' -f1,3", [tools["cut"], "-d", " ", "-f1,3", data], False, None),
            ("ls -lR " + tree, [tools["ls"], "-lR", tree], True, None),
            ("du -a " + tree, [tools["du"], "-a", tree], False, None),
            ("sed -E s///", [tools["sed"], "-E",
                             r"s/^([a-z]+) (-?[0-9]+) (.*),([0-9]+)$/\4|\2|\1|\3/", data],
             True, None),
            ("diff", [tools["diff"], data, data2], True, None),
        ]
        failures = []
        for idx, (name, argv, need_arenas, expected) in enumerate(cases):
            prog = os.path.basename(argv[0])
            logprefix = os.path.join(tmp, "lddebug%d" % idx)
            rc0, out0, err0 = pl.run(argv, pl.clean_env(), TIMEOUT, cwd=tmp)
            rc1, out1, err1 = pl.run(argv, pl.preload_env(lib, {
                "LD_DEBUG": "bindings", "LD_DEBUG_OUTPUT": logprefix}), TIMEOUT, cwd=tmp)
            ok_rc = 1 if prog == "diff" else 0      # diff: 1 = files differ
            problems = []
            if expected is not None and out0 != expected:
                problems.append("plain %s output is not what Python computed (%s)"
                                % (name, pl.first_diff(expected, out0)))
            if rc0 != ok_rc:
                problems.append("without preload: %s (test broken?)\n%s"
                                % (pl.describe_rc(rc0), pl.tail(err0, 10)))
            if rc1 != ok_rc:
                problems.append("with preload: %s\n%s" % (pl.describe_rc(rc1), pl.tail(err1, 20)))
            if out0 != out1:
                problems.append("stdout differs (%d vs %d bytes): %s"
                                % (len(out0), len(out1), pl.first_diff(out0, out1)))
            if pl.strip_stats(err1) != err0:
                problems.append("stderr differs: %s\n--- without ---\n%s\n--- with ---\n%s"
                                % (pl.first_diff(err0, pl.strip_stats(err1)),
                                   pl.tail(err0, 10), pl.tail(err1, 10)))
            bound, bind_msg = check_bindings(logprefix, lib)
            if not bound:
                problems.append(bind_msg)
            stats = pl.parse_stats(err1)
            if len(stats) > 1:
                problems.append("expected at most 1 mwmalloc stats line, got %d" % len(stats))
            elif not stats:
                problems.append("no mwmalloc stats line on stderr")
            elif stats and need_arenas and stats[0]["arenas_mapped"] <= 0:
                problems.append("arenas_mapped=%d, expected > 0" % stats[0]["arenas_mapped"])
            if stats:
                st_msg = "arenas_mapped=%d blocks_in_use=%d" % (stats[0]["arenas_mapped"],
                                                                 stats[0]["blocks_in_use"])
            else:
                st_msg = "no stats line"
            pl.log("%-28s %s out=%-9d %s; %s" % (name, "ok  " if not problems else "FAIL",
                                                len(out1), bind_msg if bound else "-", st_msg))
            for p in problems:
                pl.log("    " + p.replace("\n", "\n    "))
            if problems:
                failures.append(name)
        if failures:
            pl.fail("%d of %d commands differ or failed under the preload: %s"
                    % (len(failures), len(cases), ", ".join(failures)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    pl.main_wrapper(main)
