#!/usr/bin/env bash
#
# run.sh - compare mwrt's malloc with its peers on mwrt-bench-alloc.
#
# What it measures: for every workload of mwrt-bench-alloc (single, prodcons,
# larson, burst, xmalloc, cache-scratch) and every allocator (glibc without preload; jemalloc, mimalloc and
# tcmalloc from their Debian packages; mwrt's libmwmalloc.so), the median
# ops/s and the median peak RSS over REPS repetitions.
#
# How: every repetition runs every workload with every allocator, switching
# the allocator with LD_PRELOAD.  Allocators are run round-robin within a
# repetition (and the starting allocator rotates from one repetition to the
# next), so machine noise falls on all of them alike.  A run that crashes,
# hangs past the timeout or turns out not to use the preloaded malloc is
# reported in its cell and the script carries on: it measures, it never
# judges timings by its exit status.
#
# Output: progress on stderr; on stdout a Markdown report: the machine and
# package versions, a table (rows = workloads, columns = allocators; each cell
# holds Mops/s, peak RSS in MiB and, for peers, the peer/mwrt ops/s ratio),
# and one line per workload on whether mwrt reaches 1.2x the best peer's
# ops/s and a peak RSS no higher than the lowest peer's plus 10%; the peers
# there are jemalloc, mimalloc and tcmalloc (glibc is measured, for
# reference, but is not a goal).
#
# Usage: bench/alloc/run.sh [options] [BUILD_DIR [REPS]] [-- BENCH_ARGS...]
#   see --help.

set -euo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

LIBDIR=/usr/lib/x86_64-linux-gnu

build=${BUILD_DIR:-build}
reps=${BENCH_REPS:-5}
threads=${BENCH_THREADS:-2}
workloads=${BENCH_WORKLOADS:-"single prodcons larson burst xmalloc cache-scratch"}
run_timeout=${BENCH_TIMEOUT:-120}
bench=${BENCH_BIN:-}
mwmalloc=${MWMALLOC:-}
bench_args=()

usage() {
    cat <<EOF
usage: $0 [options] [BUILD_DIR [REPS]] [-- BENCH_ARGS...]

Runs mwrt-bench-alloc with glibc, jemalloc, mimalloc, tcmalloc and mwrt
(LD_PRELOAD), interleaved, and prints a Markdown table of medians.

options (environment variable in brackets):
  -b, --build DIR       build directory (BUILD_DIR; default: build)
  -r, --reps N          repetitions (BENCH_REPS; default: 5)
  -t, --threads N       threads for prodcons and larson (BENCH_THREADS; default: 2)
  -w, --workloads LIST  space-separated workloads (BENCH_WORKLOADS;
                        default: "single prodcons larson burst xmalloc
                        cache-scratch")
      --timeout SECS    limit per run (BENCH_TIMEOUT; default: 120)
      --bench PATH      benchmark binary (BENCH_BIN;
                        default: BUILD_DIR/bench/alloc/mwrt-bench-alloc)
      --mwmalloc PATH   mwrt's malloc (MWMALLOC;
                        default: BUILD_DIR/runtime/libmwmalloc.so)
  -h, --help            this text
Arguments after -- go to every mwrt-bench-alloc run (e.g. -- --ops 1M).
EOF
}

positional=()
while [ $# -gt 0 ]; do
    case $1 in
        -b|--build) build=$2; shift 2 ;;
        -r|--reps) reps=$2; shift 2 ;;
        -t|--threads) threads=$2; shift 2 ;;
        -w|--workloads) workloads=$2; shift 2 ;;
        --timeout) run_timeout=$2; shift 2 ;;
        --bench) bench=$2; shift 2 ;;
        --mwmalloc) mwmalloc=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; bench_args=("$@"); break ;;
        -*) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
take_positional "${positional[@]}"
bench=${bench:-$build/bench/alloc/mwrt-bench-alloc}
mwmalloc=${mwmalloc:-$build/runtime/libmwmalloc.so}

if [ ! -x "$bench" ]; then
    echo "run.sh: no benchmark binary at $bench (build target mwrt-bench-alloc first)" >&2
    exit 2
fi

notes=()


# ---------------------------------------------------------------------------
# The allocators: names, what to preload ("" = none), and their packages.
# ---------------------------------------------------------------------------

alloc_names=(glibc)
alloc_preload=("")

# find_library SONAME: the path of a shared library, from the usual
# directory or the loader's cache; prints nothing if there is none.
find_library() {
    local soname=$1 path

    if [ -e "$LIBDIR/$soname" ]; then
        echo "$LIBDIR/$soname"
        return
    fi
    if command -v ldconfig >/dev/null 2>&1; then
        path=$(ldconfig -p 2>/dev/null | awk -v s="$soname" '$1 == s { print $NF; exit }')
        if [ -n "$path" ]; then
            echo "$path"
        fi
    fi
}

add_peer() {
    local name=$1 soname=$2 package=$3 path

    path=$(find_library "$soname")
    if [ -z "$path" ]; then
        note "$name skipped: $soname not found (apt-get install $package)"
        return
    fi
    alloc_names+=("$name")
    alloc_preload+=("$path")
}

add_peer jemalloc libjemalloc.so.2 libjemalloc2
add_peer mimalloc libmimalloc.so.2 libmimalloc2.0
add_peer tcmalloc libtcmalloc_minimal.so.4 libtcmalloc-minimal4

have_mwrt=0
if [ -e "$mwmalloc" ]; then
    alloc_names+=(mwrt)
    alloc_preload+=("$(readlink -f "$mwmalloc")")
    have_mwrt=1
else
    note "mwrt skipped: $mwmalloc does not exist (build target mwmalloc first)"
fi
nalloc=${#alloc_names[@]}

# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

declare -A ops_runs=()      # "workload|alloc" -> ops/s of each good run
declare -A rss_runs=()      # "workload|alloc" -> peak RSS (KiB) of each good run
declare -A failed=()        # "workload|alloc" -> number of failed runs
declare -A fail_kind=()     # "workload|alloc" -> label for the table cell
declare -A ops_count=()     # workload -> ops per run, as the benchmark reported

# Each run's output goes to a log; the logs are kept only if a run failed.
make_logdir alloc



# record_failure KEY LABEL TEXT
record_failure() {
    local key=$1
    failed[$key]=$(( ${failed[$key]:-0} + 1 ))
    fail_kind[$key]=$2
    note "${key/|/ with } (repetition $rep): $3"
}

run_one() {
    local w=$1 a=$2 preload=$3 key="$1|$2" out rc line from want

    out="$logdir/$w-$a-$rep.log"
    rc=0
    if [ -n "$preload" ]; then
        timeout -k 5 "$run_timeout" env LD_PRELOAD="$preload" \
            "$bench" "$w" --threads "$threads" "${bench_args[@]}" >"$out" 2>&1 || rc=$?
    else
        timeout -k 5 "$run_timeout" \
            "$bench" "$w" --threads "$threads" "${bench_args[@]}" >"$out" 2>&1 || rc=$?
    fi
    line=$(grep -m1 '^workload=' "$out" || true)

    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        local why
        why=$(describe_exit "$rc")
        if [ "$rc" -eq 0 ]; then
            why="no result line"
        fi
        local last
        last=$(grep -v '^workload=' "$out" | tail -n 1 || true)
        if [ -n "$last" ]; then
            why="$why: $last"
        fi
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            record_failure "$key" timeout "$why"
        else
            record_failure "$key" crash "$why"
        fi
        echo "  $w $a: FAILED ($why)" >&2
        return
    fi

    # Make sure the preload took: the benchmark names the library whose
    # malloc it calls.
    from=$(field malloc_from "$line")
    if [ -n "$preload" ]; then
        want=$(basename "$preload")
    else
        want=libc.so.6
    fi
    if [ "$from" != "$want" ]; then
        record_failure "$key" "wrong malloc" "malloc came from $from, not $want"
        return
    fi

    ops_runs[$key]="${ops_runs[$key]:-} $(field ops_per_sec "$line")"
    rss_runs[$key]="${rss_runs[$key]:-} $(field maxrss_kb "$line")"
    ops_count[$w]=$(field ops "$line")
    printf '  %-8s %-9s %8.2f Mops/s %8.1f MiB\n' "$w" "$a" \
        "$(awk -v v="$(field ops_per_sec "$line")" 'BEGIN { print v / 1e6 }')" \
        "$(awk -v v="$(field maxrss_kb "$line")" 'BEGIN { print v / 1024 }')" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
echo "run.sh: $reps repetitions x workloads ($workloads) x allocators (${alloc_names[*]})" >&2
for ((rep = 1; rep <= reps; rep++)); do
    echo "repetition $rep/$reps" >&2
    for w in $workloads; do
        for ((k = 0; k < nalloc; k++)); do
            i=$(( (k + rep - 1) % nalloc ))
            run_one "$w" "${alloc_names[$i]}" "${alloc_preload[$i]}"
        done
    done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


declare -A med_ops=()
declare -A med_rss=()
for w in $workloads; do
    for a in "${alloc_names[@]}"; do
        key="$w|$a"
        if [ -n "${failed[$key]:-}" ] || [ -z "${ops_runs[$key]:-}" ]; then
            continue
        fi
        # shellcheck disable=SC2086 # word splitting of the value lists is wanted
        med_ops[$key]=$(median ${ops_runs[$key]})
        # shellcheck disable=SC2086
        med_rss[$key]=$(median ${rss_runs[$key]})
    done
done


package_versions() {
    local p v
    for p in libc6 libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4; do
        v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
        printf '%s %s\n' "$p" "${v:-not installed}"
    done | paste -sd ';' | sed 's/;/; /g'
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
commit=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(git -C "$srcdir" status --porcelain 2>/dev/null | head -n 1)" ]; then
    commit="$commit (uncommitted changes)"
fi
op_counts=""
for w in $workloads; do
    op_counts+="$w ${ops_count[$w]:-?}, "
done

echo "## mwrt allocator benchmark"
echo
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- packages: $(package_versions)"
if [ "$have_mwrt" -eq 1 ]; then
    echo "- mwrt: ${mwmalloc} (source: ${commit})"
else
    echo "- mwrt: not built (${mwmalloc} missing)"
fi
echo "- runs: median of $reps repetitions, allocators interleaved; threads=$threads" \
     "(prodcons: $((threads >= 2 ? threads / 2 : 1)) producer/consumer pair(s));" \
     "ops per run: ${op_counts%, }${bench_args[*]:+; extra args: ${bench_args[*]}}"
echo "- load average (1/5/15 min) before: $load_before, after: $load_after" \
     "(other work on the machine skews the numbers)"
echo

header="| workload |"
rule="|---|"
for a in "${alloc_names[@]}"; do
    header+=" $a |"
    rule+="---:|"
done
echo "$header"
echo "$rule"
for w in $workloads; do
    row="| $w |"
    mkey="$w|mwrt"
    for a in "${alloc_names[@]}"; do
        key="$w|$a"
        if [ -n "${failed[$key]:-}" ]; then
            cell="${fail_kind[$key]}"
            if [ "${failed[$key]}" -lt "$reps" ]; then
                cell+=" (${failed[$key]}/$reps runs)"
            fi
        elif [ -z "${med_ops[$key]:-}" ]; then
            cell="n/a"
        else
            cell="$(calc '%.2f' "${med_ops[$key]} / 1e6") Mops/s · $(calc '%.1f' "${med_rss[$key]} / 1024") MiB"
            if [ "$a" != mwrt ] && [ -n "${med_ops[$mkey]:-}" ]; then
                cell+=" · $(calc '%.2f' "${med_ops[$key]} / ${med_ops[$mkey]}")x"
            fi
        fi
        row+=" $cell |"
    done
    echo "$row"
done
echo
echo "Cells: median ops/s (one op = one malloc + one free) in Mops/s · median peak RSS in MiB"
echo "· for peers, peer/mwrt ops/s (below 1.00x: mwrt is faster)."
echo
echo "Goal: mwrt >= 1.2x the best peer's ops/s, and peak RSS <= the lowest peer's + 10%"
echo "(peers: jemalloc, mimalloc, tcmalloc):"
for w in $workloads; do
    mkey="$w|mwrt"
    best="" best_ops="" low="" low_rss=""
    for a in "${alloc_names[@]}"; do
        key="$w|$a"
        if [ "$a" = mwrt ] || [ "$a" = glibc ] || [ -z "${med_ops[$key]:-}" ]; then
            continue
        fi
        if [ -z "$best" ] || [ "$(calc '%d' "${med_ops[$key]} > $best_ops")" = 1 ]; then
            best=$a
            best_ops=${med_ops[$key]}
        fi
        if [ -z "$low" ] || [ "$(calc '%d' "${med_rss[$key]} < $low_rss")" = 1 ]; then
            low=$a
            low_rss=${med_rss[$key]}
        fi
    done
    if [ "$have_mwrt" -eq 0 ]; then
        echo "- $w: mwrt not measured"
        continue
    fi
    if [ -z "${med_ops[$mkey]:-}" ]; then
        echo "- $w: mwrt ${fail_kind[$mkey]:-failed}: goal not met"
        continue
    fi
    if [ -z "$best" ]; then
        echo "- $w: no peer measured"
        continue
    fi
    m_ops=${med_ops[$mkey]}
    m_rss=${med_rss[$mkey]}
    if [ "$(calc '%d' "$m_ops >= 1.2 * $best_ops")" = 1 ]; then
        ops_ok=yes
    else
        ops_ok=NO
    fi
    if [ "$(calc '%d' "$m_rss <= 1.1 * $low_rss")" = 1 ]; then
        rss_ok=yes
    else
        rss_ok=NO
    fi
    echo "- $w: ops/s $ops_ok: mwrt $(calc '%.2f' "$m_ops / 1e6") vs best peer $best" \
         "$(calc '%.2f' "$best_ops / 1e6") Mops/s = $(calc '%.2f' "$m_ops / $best_ops")x (goal 1.20x);" \
         "RSS $rss_ok: mwrt $(calc '%.1f' "$m_rss / 1024") vs lowest peer $low" \
         "$(calc '%.1f' "$low_rss / 1024") MiB (bound $(calc '%.1f' "1.1 * $low_rss / 1024"))"
done

if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    for n in "${notes[@]}"; do
        echo "- $n"
    done
fi
