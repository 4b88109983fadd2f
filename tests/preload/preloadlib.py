"""Shared helpers for the libmwmalloc.so preload tests (tests/preload/).

The test runners themselves run WITHOUT the preload; only the programs they
start get LD_PRELOAD, through the env= argument of each child process.
"""

import os
import re
import shutil
import signal
import subprocess
import sys

# ctest treats this exit code as "skipped" (SKIP_RETURN_CODE in CMakeLists.txt).
SKIP = 77

STATS_RE = re.compile(
    r"^mwmalloc: arenas_mapped=(\d+) arenas_live=(\d+) peak_bytes_from_os=(\d+)"
    r" heaps=(\d+) blocks_in_use=(\d+)\b")
STATS_FIELDS = ("arenas_mapped", "arenas_live", "peak_bytes_from_os", "heaps",
                "blocks_in_use")


class TestFailure(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def fail(msg):
    raise TestFailure(msg)


def skip(msg):
    log("SKIP: " + msg)
    sys.exit(SKIP)


def check_library(path):
    """The .so must exist and be an absolute path (LD_PRELOAD of a missing or
    relative file only prints a warning and runs the program unpreloaded)."""
    if not os.path.isabs(path):
        path = os.path.abspath(path)
    if not os.path.isfile(path):
        fail("preload library %s does not exist" % path)
    return path


def clean_env(extra=None):
    """The environment for a child: the current one without any preload,
    malloc tuning or mwmalloc switches, plus extra."""
    env = dict(os.environ)
    for k in list(env):
        if k in ("LD_PRELOAD", "MALLOC_CHECK_", "MALLOC_PERTURB_") or \
           k.startswith("MWMALLOC_") or k.startswith("GLIBC_TUNABLES"):
            del env[k]
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def preload_env(lib, extra=None):
    env = clean_env(extra)
    env["LD_PRELOAD"] = lib
    env["MWMALLOC_STATS"] = "1"
    return env


def parse_stats(stderr_text):
    """All mwmalloc stats lines in stderr_text, as dicts (one per process
    that exited with the library loaded)."""
    out = []
    for line in stderr_text.splitlines():
        m = STATS_RE.match(line)
        if m:
            out.append(dict(zip(STATS_FIELDS, (int(g) for g in m.groups()))))
    return out


def strip_stats(stderr_text):
    """stderr_text without the mwmalloc stats lines (any other message from
    the library stays, so it shows up as a difference)."""
    return "".join(l for l in stderr_text.splitlines(True)
                   if not STATS_RE.match(l))


def require_stats(name, stderr_text, need_arenas=True):
    """Check that stderr has exactly the stats lines we expect: at least one,
    and (if need_arenas) the last one (the process we started; earlier ones
    come from helper processes it ran) with arenas_mapped > 0."""
    stats = parse_stats(stderr_text)
    if not stats:
        fail("%s: no 'mwmalloc: arenas_mapped=...' stats line on stderr "
             "(was libmwmalloc.so really preloaded?)\n--- stderr ---\n%s"
             % (name, tail(stderr_text)))
    last = stats[-1]
    if need_arenas and last["arenas_mapped"] <= 0:
        fail("%s: stats line shows arenas_mapped=%d, expected > 0: %r"
             % (name, last["arenas_mapped"], last))
    return last


def tail(text, n=60):
    lines = text.splitlines()
    if len(lines) > n:
        lines = ["... (%d lines omitted)" % (len(lines) - n)] + lines[-n:]
    return "\n".join(lines)


def describe_rc(rc):
    if rc is None:
        return "still running"
    if rc < 0:
        try:
            return "killed by signal %d (%s)" % (-rc, signal.Signals(-rc).name)
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit code %d" % rc


def run(cmd, env, timeout, stdin_data=None, cwd=None):
    """Run cmd to completion in its own process group, bounded by timeout
    seconds.  Returns (rc, stdout, stderr) with stdout/stderr as str
    (undecodable bytes escaped).  On timeout the group is killed and the
    test fails."""
    p = subprocess.Popen(cmd, env=env, cwd=cwd, start_new_session=True,
                         stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(
            input=stdin_data.encode() if isinstance(stdin_data, str) else stdin_data,
            timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate()
        fail("%s: timed out after %ss\n--- stdout ---\n%s\n--- stderr ---\n%s"
             % (" ".join(cmd), timeout, tail(dec(out)), tail(dec(err))))
    except BaseException:
        kill_group(p)       # e.g. the runner got SIGTERM: leave nothing behind
        raise
    return p.returncode, dec(out), dec(err)


def dec(b):
    return b.decode("utf-8", "backslashreplace") if b is not None else ""


def kill_group(p):
    """SIGKILL the process group of p (started with start_new_session=True)."""
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def first_diff(a, b):
    """A short description of where texts a and b first differ."""
    al, bl = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return "line %d:\n  without preload: %r\n  with preload:    %r" % (i + 1, x, y)
    if len(al) != len(bl):
        return "line counts differ: %d without preload, %d with" % (len(al), len(bl))
    return "texts differ only in trailing whitespace/newlines"


def find_program(name, *preferred):
    for p in preferred:
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return shutil.which(name)


def main_wrapper(fn):
    """Run fn(); turn TestFailure into a FAIL message and exit code 1."""
    try:
        fn()
    except TestFailure as e:
        log("FAIL: %s" % e)
        sys.exit(1)
    log("PASS")
    sys.exit(0)
