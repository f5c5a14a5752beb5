#!/usr/bin/env bash
# Instructions per call of each case of a bench (default `overhead`; also `tracing_bridge`,
# `redaction`) on the calling thread, counted by callgrind: a stable figure on a shared machine,
# where timings are noisy; for `db_wrapper`, `orm` and `http_layer`, every thread's instructions
# per query or request. Needs valgrind.
# `overhead_all`: every thread's instructions per span of the enabled cases (ours with the default
# sampler and `TraceIdRatioBased(1.0)`, the raw SDK doing the same work with each), the calling
# thread's and the collector's together.
#   bash benches/instructions.sh [bench]
set -euo pipefail
# A failing run inside `$(...)` stops the script too, instead of yielding a count.
shopt -s inherit_errexit
cd "$(dirname "$0")"
bench=${1:-overhead}
# The `overhead` bench runs its cases in 10 rounds of 2,000 calls, the export drained between
# them as in its timed runs (a round stays under a thread's span buffer, which the collector
# thread, starved under valgrind, would otherwise leave full); the count is per call over all.
calls=${OVERHEAD_CALLS:-20000}
rounds=1
if [ "$bench" = overhead ]; then
  calls=${OVERHEAD_CALLS:-2000}
  rounds=${OVERHEAD_ROUNDS:-10}
fi
target=$bench
[ "$bench" = overhead_all ] && target=overhead
binary=$(cargo bench -p instrument-benches --bench "$target" --no-run --message-format=json 2>/dev/null \
  | grep -o "\"executable\":\"[^\"]*/${target}-[^\"]*\"" | tail -1 | cut -d'"' -f4)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Every thread's count is the difference between a run of 3× and one of 1× the calls, so that
# setup and shutdown cancel out. Two setup steps last a time, not a number of steps, so they run
# more or fewer times under valgrind and would not cancel out (about ±300 instructions per span
# between runs): the clocks' calibration (`quanta::Clock::new` for the toolkit's clock, the
# `fastant` start-up calibration that fastrace links in); they are left out of every count
# (`uncounted`). Other threads' waits (the collector's, SQLite's worker, the
# runtime's parking) spin for as long as the scheduler lets them, which moves a single
# difference by hundreds to thousands of instructions per call: the median of REPEATS
# differences (default 5) is the figure. `median_difference CASE LOW HIGH DIVISOR` prints it,
# with `total CASE CALLS` defined by the caller.
repeats=${REPEATS:-5}
if ! [[ $repeats =~ ^[1-9][0-9]*$ ]]; then
  echo "REPEATS must be a positive whole number, not '$repeats'" >&2
  exit 2
fi
uncounted=(--toggle-collect='quanta::Clock::new' --toggle-collect='fastant::tsc_now::___init___ctor::___init___ctor' --collect-atstart=yes)
median_difference() {
  for _ in $(seq 1 "$repeats"); do
    low=$(total "$1" "$2")
    high=$(total "$1" "$3")
    echo $(( (high - low) / $4 ))
  done | sort -n | awk -v name="$1" '{ v[NR] = $1 } END { print name, v[int((NR + 1) / 2)] }'
}
if [ "$bench" = overhead_all ]; then
  # Runs of 30,000 and 10,000 calls (10 rounds each, the export settled between rounds).
  total() {
    OVERHEAD_ONLY="$1" OVERHEAD_CALLS="$2" OVERHEAD_ROUNDS=10 valgrind --tool=callgrind "${uncounted[@]}" --callgrind-out-file="$out/$1-$2.out" "$binary" >/dev/null 2>&1
    callgrind_annotate "$out/$1-$2.out" 2>/dev/null | grep "PROGRAM TOTALS" | awk '{ gsub(",", "", $1); print $1 }'
  }
  for case in trace_sync trace_async trace_sync_ratio trace_async_ratio raw_same_work raw_same_work_ratio; do
    median_difference "$case" 1000 3000 20000
  done | awk '{ printf "%-34s %10d instructions/span, all threads\n", $1, $2 }'
  exit 0
fi
if [ "$bench" = db_wrapper ] || [ "$bench" = http_layer ] || [ "$bench" = orm ]; then
  # Every thread's instructions (SQLite runs on sqlx's worker thread, the HTTP client and server
  # share a runtime, the collector exports), per query or request: runs of 3,000 and 1,000.
  if [ "$bench" = db_wrapper ]; then
    variable=DB_WRAPPER_CASE; cases="bare instrumented"; unit=query
  elif [ "$bench" = orm ]; then
    variable=ORM_CASE; cases="bare instrumented bare_lazy instrumented_lazy"; unit=query
  else
    variable=HTTP_LAYER_CASE; cases="plain layer"; unit=request
  fi
  total() {
    env "$variable=$1" OVERHEAD_CALLS="$2" valgrind --tool=callgrind "${uncounted[@]}" --callgrind-out-file="$out/$1-$2.out" "$binary" >/dev/null 2>&1
    callgrind_annotate "$out/$1-$2.out" 2>/dev/null | grep "PROGRAM TOTALS" | awk '{ gsub(",", "", $1); print $1 }'
  }
  for case in $cases; do
    median_difference "$case" 1000 3000 2000
  done | awk -v unit="$unit" '{ printf "%-34s %10d instructions/%s\n", $1, $2, unit; n[NR] = $2; name[NR] = $1 } END { printf "%-34s %10.3fx\n", name[2] " vs " name[1], n[2] / n[1] }'
  exit 0
fi
OVERHEAD_CALLS=$calls OVERHEAD_ROUNDS=$rounds valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$binary" >/dev/null 2>&1
callgrind_annotate --inclusive=yes --threshold=100 "$out/cg.out" 2>/dev/null \
  | grep -E "${bench}::case_[a-z_]+ " \
  | sed -E "s/^ *([0-9,]+) .*${bench}::(case_[a-z_]+) .*/\2 \1/" \
  | awk -v calls="$((calls * rounds))" '{ gsub(",", "", $2); printf "%-34s %10.0f instructions/call\n", $1, $2 / calls }' \
  | sort
