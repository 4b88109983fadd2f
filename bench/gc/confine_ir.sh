#!/usr/bin/env bash
# Instructions per operation of mwrt-bench-confine's owner loops, by
# callgrind (stable where times are not): each loop is run with two
# iteration counts and the difference divided by the difference of counts.
#   bench/gc/confine_ir.sh BENCH [ARRANGEMENT...]
#   bench/gc/confine_ir.sh build/bench/bench/gc/mwrt-bench-confine shared neighbour confined
set -euo pipefail
bench=$1
shift
arrs=("${@:-shared}")
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --only "$1" "$2" \
        --iters "$3" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '| operation |'; for a in "${arrs[@]}"; do printf ' %s |' "$a"; done; printf '\n|---|'
for a in "${arrs[@]}"; do printf -- '---|'; done; printf '\n'
for op in incref+decref list_append list_new+decref; do
    printf '| %s |' "$op"
    for a in "${arrs[@]}"; do
        lo=$(ir "$op" "$a" 100000)
        hi=$(ir "$op" "$a" 300000)
        awk -v lo="$lo" -v hi="$hi" 'BEGIN { printf " %.1f |", (hi - lo) / 200000 }'
    done
    printf '\n'
done
