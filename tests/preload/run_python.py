#!/usr/bin/env python3
"""preload_python: run the CPython workload (workload.py) with
PYTHONMALLOC=malloc, once plainly and once with LD_PRELOAD=libmwmalloc.so,
and check that

  * both runs exit 0,
  * their stdout (per-phase checksums + final checksum) is identical,
  * their stderr is identical apart from the mwmalloc stats line,
  * the preloaded run printed the MWMALLOC_STATS line with arenas_mapped > 0
    (the small-object allocator really served the interpreter).

Usage: run_python.py LIBMWMALLOC_SO [PYTHON3]
PYTHON3 defaults to /usr/bin/python3 if it exists (a real binary; a pyenv
shim is a shell script that would run bash and pyenv under the preload
too), else the first python3 on PATH.  The environment variable
MWRT_PRELOAD_PYTHON overrides both.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import preloadlib as pl  # noqa: E402

TIMEOUT = 50  # seconds per run; ctest's TIMEOUT covers the whole test


def main():
    if len(sys.argv) < 2:
        pl.fail("usage: run_python.py LIBMWMALLOC_SO [PYTHON3]")
    lib = pl.check_library(sys.argv[1])
    python = os.environ.get("MWRT_PRELOAD_PYTHON") or \
        (sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None) or \
        pl.find_program("python3", "/usr/bin/python3")
    if not python:
        pl.skip("no python3 found")
    workload = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workload.py")
    # -s: no user site-packages.  Not -I or -E: they would make Python
    # ignore PYTHONMALLOC.  faulthandler prints the Python stack on a crash.
    cmd = [python, "-s", "-X", "faulthandler", workload]
    extra = {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0",
             "PYTHONDONTWRITEBYTECODE": "1"}
    for k in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONDEVMODE"):
        os.environ.pop(k, None)

    pl.log("python: %s" % python)
    pl.log("library: %s" % lib)

    rc0, out0, err0 = pl.run(cmd, pl.clean_env(extra), TIMEOUT)
    pl.log("without preload: %s, %d stdout lines" % (pl.describe_rc(rc0), len(out0.splitlines())))
    if rc0 != 0:
        pl.fail("workload failed WITHOUT the preload (%s); the test itself is broken\n"
                "--- stdout ---\n%s\n--- stderr ---\n%s"
                % (pl.describe_rc(rc0), pl.tail(out0), pl.tail(err0)))

    rc1, out1, err1 = pl.run(cmd, pl.preload_env(lib, extra), TIMEOUT)
    pl.log("with preload:    %s, %d stdout lines" % (pl.describe_rc(rc1), len(out1.splitlines())))
    if rc1 != 0:
        pl.fail("workload under LD_PRELOAD=%s: %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                % (lib, pl.describe_rc(rc1), pl.tail(out1), pl.tail(err1)))

    if not out0.strip().splitlines() or not out0.strip().splitlines()[-1].startswith("checksum "):
        pl.fail("workload printed no checksum line:\n%s" % pl.tail(out0))
    if out0 != out1:
        pl.fail("stdout differs with the preload: %s\n--- without preload ---\n%s\n"
                "--- with preload ---\n%s" % (pl.first_diff(out0, out1), out0, out1))
    if pl.strip_stats(err1) != err0:
        pl.fail("stderr differs with the preload (stats line excluded): %s\n"
                "--- without preload ---\n%s\n--- with preload ---\n%s"
                % (pl.first_diff(err0, pl.strip_stats(err1)), pl.tail(err0), pl.tail(err1)))
    stats = pl.parse_stats(err1)
    if len(stats) != 1:
        pl.fail("expected exactly one stats line from the python process, got %d:\n%s"
                % (len(stats), pl.tail(err1)))
    st = pl.require_stats("python3", err1)
    pl.log("outputs identical: %s" % out1.strip().splitlines()[-1])
    pl.log("stats: %s" % " ".join("%s=%d" % (k, st[k]) for k in pl.STATS_FIELDS))


if __name__ == "__main__":
    pl.main_wrapper(main)
