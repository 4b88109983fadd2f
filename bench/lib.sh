# bench/lib.sh - helpers shared by the benchmark runners (sourced, not run).
# They use the caller's globals: notes (array) and run_timeout (seconds).

# note TEXT: remember a note for the report and show it now.
note() {
    notes+=("$1")
    echo "note: $1" >&2
}

# field NAME LINE: the value of NAME=... in a result line.
field() {
    sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# describe_exit RC: words for a failed run's exit status.
describe_exit() {
    local rc=$1

    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "timed out after ${run_timeout}s"
    elif [ "$rc" -gt 128 ]; then
        echo "killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
    else
        echo "exit status $rc"
    fi
}

# median VALUES...: the median of numbers (nothing if none).
median() {
    printf '%s\n' "$@" | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { exit }
            if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 }
        }'
}

# calc FORMAT EXPR: evaluate an awk expression and print it with FORMAT.
calc() {
    awk "BEGIN { printf \"$1\", ($2) }"
}

# require_positive WHAT VALUE: exit 2 unless VALUE is a positive integer.
require_positive() {
    if ! [[ $2 =~ ^[1-9][0-9]*$ ]]; then
        echo "run.sh: $1 must be a positive number, not '$2'" >&2
        exit 2
    fi
}

# take_positional ARGS...: the runners' positional [BUILD_DIR [REPS]] into
# the globals build and reps.
take_positional() {
    if [ $# -ge 1 ]; then
        build=$1
    fi
    if [ $# -ge 2 ]; then
        reps=$2
    fi
    if [ $# -ge 3 ]; then
        echo "run.sh: too many arguments" >&2
        exit 2
    fi
    require_positive repetitions "$reps"
}

# make_logdir NAME: a directory for the runs' logs, in the global logdir;
# removed at exit unless a run failed (the caller's `failed` array).
make_logdir() {
    logdir=$(mktemp -d "${TMPDIR:-/tmp}/mwrt-bench-$1.XXXXXX")
    trap clean_up_logdir EXIT
}

clean_up_logdir() {
    if [ ${#failed[@]} -eq 0 ]; then
        rm -rf "$logdir"
    else
        echo "run.sh: logs of the failed runs are in $logdir" >&2
    fi
}

# mwrt_mode_flags MODE: mwrt-server's flags for a benchmark mode, or return
# 1 if MODE is unknown.  Modes: gil, free, sharded, each optionally with
# -gcoff (--gc off) or -paused (--gc paused), and then -wN (--workers N),
# e.g. sharded-w1, free-gcoff-w4.  The caller appends its own extras.
mwrt_mode_flags() {
    local m=$1 f= w=
    if [[ $m =~ ^(.*)-w([1-9][0-9]*)$ ]]; then
        m=${BASH_REMATCH[1]}
        w=${BASH_REMATCH[2]}
    fi
    case $m in
        gil | gil-*) f="--lock gil" ;;
        free | free-*) f="--lock free" ;;
        sharded | sharded-*) f="--keyspace sharded" ;;
        *) return 1 ;;
    esac
    case $m in
        *-gcoff) f+=" --gc off" ;;
        *-paused) f+=" --gc paused" ;;
        gil | free | sharded) ;;
        *) return 1 ;;
    esac
    [ -z "$w" ] || f+=" --workers $w"
    echo "$f"
}
