#!/usr/bin/env bash
# Build time of instrumented code: a generated library of N functions (half async, 3 arguments,
# a `Result` return, every one called so that all of them are compiled to machine code), once
# under `#[instrument::trace_method]` and once under `#[tracing::instrument(err)]`. Each crate's
# dependencies are built first; then the crate alone is rebuilt (its source touched), the two
# interleaved, RUNS times each; prints each median and the ratio instrument / tracing.
#   bash benches/build_time.sh            # N=200, RUNS=5, the dev profile
#   N=200 RUNS=5 PROFILE=release bash benches/build_time.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-200}
runs=${RUNS:-5}
profile=${PROFILE:-dev}
work=${BUILD_TIME_DIR:-$root/target/build-time}
# The crates are written again each run; their target directories (the prebuilt dependencies)
# are kept.
rm -rf "$work/with_instrument" "$work/with_tracing"
mkdir -p "$work"

# One crate: $1 its directory, $2 its dependency line, $3 the attribute, $4 an extra first line.
generate() {
  local dir=$1 dependency=$2 attribute=$3
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "$(basename "$dir")"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
$dependency

[workspace]
EOF
  {
    echo "//! Generated: $n instrumented functions."
    echo "use std::future::Future;"
    for i in $(seq 0 $((n - 1))); do
      if ((i % 2 == 0)); then async=""; else async="async "; fi
      cat <<EOF

$attribute
pub ${async}fn call_$i(id: u64, name: &str, tags: Vec<String>) -> Result<usize, String> {
    if name.is_empty() {
        return Err(format!("call_$i: no name for {id}"));
    }
    Ok(name.len() + tags.len() + (id as usize % $((i + 7))))
}
EOF
    done
    cat <<'EOF'

fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// Calls every function once; the sum of what they returned.
pub fn call_all(id: u64) -> usize {
    let mut total = 0;
EOF
    for i in $(seq 0 $((n - 1))); do
      if ((i % 2 == 0)); then
        echo "    total += call_$i(id, \"n\", Vec::new()).unwrap_or(0);"
      else
        echo "    total += ready(call_$i(id, \"n\", Vec::new())).unwrap_or(0);"
      fi
    done
    echo "    total"
    echo "}"
  } >"$dir/src/lib.rs"
}

generate "$work/with_instrument" "instrument = { path = \"$root\" }" "#[instrument::trace_method]"
generate "$work/with_tracing" "tracing = \"0.1\"" "#[tracing::instrument(err)]"

# Incremental caches off: a touched file must be compiled again, not read back from the cache.
export CARGO_INCREMENTAL=0

build() {
  (cd "$1" && cargo build -q --profile "$profile" --target-dir "$work/target-$(basename "$1")")
}

echo "building each crate's dependencies ($profile profile)" >&2
for crate in with_instrument with_tracing; do
  build "$work/$crate"
done

declare -A times
for run in $(seq 1 "$runs"); do
  for crate in with_instrument with_tracing; do
    touch "$work/$crate/src/lib.rs"
    start=$(date +%s%N)
    build "$work/$crate"
    end=$(date +%s%N)
    times[$crate]+="$(( (end - start) / 1000000 )) "
    echo "run $run $crate $(( (end - start) / 1000000 )) ms" >&2
  done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
a=$(echo "${times[with_instrument]}" | median)
b=$(echo "${times[with_tracing]}" | median)
printf '%-44s %8s ms (runs: %s)\n' "#[instrument::trace_method], $n fns" "$a" "${times[with_instrument]% }"
printf '%-44s %8s ms (runs: %s)\n' "#[tracing::instrument(err)], $n fns" "$b" "${times[with_tracing]% }"
awk -v a="$a" -v b="$b" 'BEGIN { printf "%-44s %8.2fx\n", "instrument / tracing (median)", a / b }'
