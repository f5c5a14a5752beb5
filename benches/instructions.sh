#!/usr/bin/env bash
# Instructions per call of each case of a bench (default `overhead`; also `tracing_bridge`) on
# the calling thread, counted by callgrind: a stable figure on a shared machine, where timings
# are noisy. Needs valgrind.
#   bash benches/instructions.sh [bench]
set -euo pipefail
cd "$(dirname "$0")"
bench=${1:-overhead}
calls=${OVERHEAD_CALLS:-2000}
# The `overhead` bench runs its cases in settled rounds (the export drained between them, as in
# its timed runs); the count is per call over all of them.
rounds=1
if [ "$bench" = overhead ]; then rounds=${OVERHEAD_ROUNDS:-10}; fi
binary=$(cargo bench -p instrument-benches --bench "$bench" --no-run --message-format=json 2>/dev/null \
  | grep -o "\"executable\":\"[^\"]*/${bench}-[^\"]*\"" | tail -1 | cut -d'"' -f4)
out=$(mktemp -d)
OVERHEAD_CALLS=$calls OVERHEAD_ROUNDS=$rounds valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$binary" >/dev/null 2>&1
callgrind_annotate --inclusive=yes --threshold=100 "$out/cg.out" 2>/dev/null \
  | grep -E "${bench}::case_[a-z_]+ " \
  | sed -E "s/^ *([0-9,]+) .*${bench}::(case_[a-z_]+) .*/\2 \1/" \
  | awk -v calls="$((calls * rounds))" '{ gsub(",", "", $2); printf "%-34s %10.0f instructions/call\n", $1, $2 / calls }' \
  | sort
rm -rf "$out"
