#!/usr/bin/env python3
"""Runs the benchmarks and writes BENCHMARKS.md's table from what they printed.

    python3 benches/report.py                 # every group (about 30 minutes on 2 cores)
    python3 benches/report.py overhead orm    # only these groups; the other rows are kept

Groups: overhead, overhead_all, tracing_bridge, db_wrapper, http_layer, orm (instruction counts,
`bash benches/instructions.sh GROUP`), queue_memory (`cargo bench --bench queue_memory`) and
build_time (`bash benches/build_time.sh`, dev and release). Each row of the table is one
comparison made inside one run: ours, the peer measured beside it, the ratio, the target and
whether it is met, the date and the command that reproduces it. The text around the table is
kept as it is; the table sits between the two `<!-- table -->` markers.
"""

import datetime
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "BENCHMARKS.md")
START, END = "<!-- table: written by benches/report.py -->", "<!-- end of table -->"
HEADER = [
    "group",
    "case",
    "ours",
    "peer, same run",
    "ratio",
    "target",
    "met",
    "measured",
    "command",
]

# Each row: (case, ours, peer key, peer label, how the two compare, target, unit).
# `ratio`: ours / peer, met when ≤ target; `times`: peer / ours, met when ≥ target; `plus`:
# ours − peer, met when ≤ target. Keys name what the group's run printed.
OVERHEAD = [
    ("`#[trace_method]` sync, default sampler, span current in `Context::current()`",
     "case_trace_method_sync_enabled", "case_raw_sdk_same_work", "raw SDK, same work", "ratio", 0.6),
    ("`#[trace_method]` async, default sampler",
     "case_trace_method_async_enabled", "case_raw_sdk_same_work", "raw SDK, same work", "ratio", 0.6),
    ("sync, `TraceIdRatioBased(1.0)`, against the default sampler",
     "case_trace_method_sync_ratio", "case_trace_method_sync_enabled", "ours, default sampler", "ratio", 1.0),
    ("async, `TraceIdRatioBased(1.0)`, against the default sampler",
     "case_trace_method_async_ratio", "case_trace_method_async_enabled", "ours, default sampler", "ratio", 1.0),
    ("sync, `TraceIdRatioBased(1.0)`",
     "case_trace_method_sync_ratio", "case_raw_sdk_same_work_ratio", "raw SDK, same work and sampler", "ratio", None),
    ("sync, `CurrentSpan::ThreadStack` (opt-in)",
     "case_trace_method_sync_thread_stack", "case_raw_sdk_same_work", "raw SDK, same work", "ratio", None),
    ("async, `CurrentSpan::ThreadStack` (opt-in)",
     "case_trace_method_async_thread_stack", "case_raw_sdk_same_work", "raw SDK, same work", "ratio", None),
    ("`#[tracing::instrument]` + tracing-opentelemetry, sync: its cost over ours",
     "case_trace_method_sync_enabled", "case_tracing_otel_sync", "tracing-opentelemetry", "times", 6.0),
    ("`#[tracing::instrument]` + tracing-opentelemetry, async: its cost over ours",
     "case_trace_method_async_enabled", "case_tracing_otel_async", "tracing-opentelemetry", "times", 6.0),
    ("fastrace `#[trace]` under a local root: its cost over ours",
     "case_trace_method_sync_enabled", "case_fastrace", "fastrace", "times", None),
    ("off path, sync: instrumentation off at run time, over the plain fn",
     "case_trace_method_sync_disabled", "case_untraced", "plain fn", "plus", 5),
    ("off path, async",
     "case_trace_method_async_disabled", "case_untraced_async", "plain async fn", "plus", 10),
    ("recorded model call `genai::chat` (span, 8 attributes, 2 histograms, 2 token points)",
     "case_genai_chat", "case_trace_method_sync_enabled", "one `#[trace_method]` span", "ratio", 1.5),
    ("`#[metric]` enabled",
     "case_metric_enabled", "case_raw_histogram", "raw histogram record", "ratio", None),
    ("the OpenTelemetry API alone: a span that records nothing made current in `Context::current()` and ended (part of every enabled case)",
     "case_otel_context_alone", "case_raw_sdk_same_work", "raw SDK, same work", "ratio", None),
]
OVERHEAD_ALL = [
    ("`#[trace_method]` sync, default sampler",
     "trace_sync", "raw_same_work", "raw SDK, same work", "ratio", 1.0),
    ("`#[trace_method]` async, default sampler",
     "trace_async", "raw_same_work", "raw SDK, same work", "ratio", 1.0),
    ("sync, `TraceIdRatioBased(1.0)`",
     "trace_sync_ratio", "raw_same_work_ratio", "raw SDK, same work and sampler", "ratio", 1.0),
    ("async, `TraceIdRatioBased(1.0)`",
     "trace_async_ratio", "raw_same_work_ratio", "raw SDK, same work and sampler", "ratio", 1.0),
]
TRACING_BRIDGE = [
    ("`#[trace_method]` fn under the `tracing` bridge",
     "case_bridge_fn", "case_peer_fn", "`tracing::instrument` + tracing-opentelemetry", "ratio", None),
    ("a `tracing` span inside it",
     "case_bridge_span", "case_peer_span", "tracing-opentelemetry", "ratio", None),
    ("a `tracing::info!` log with 2 fields inside it",
     "case_bridge_log", "case_peer_log", "opentelemetry-appender-tracing", "ratio", None),
]
DB_WRAPPER = [
    ("sqlx wrapper, SQLite `SELECT ?` (every thread, per query)",
     "instrumented", "bare", "bare sqlx pool", "ratio", None),
]
HTTP_LAYER = [
    ("HTTP server layer, axum hello world (every thread, per request)",
     "layer", "plain", "plain axum", "ratio", None),
]
ORM = [
    ("SeaORM `find_by_id` (every thread, per query)",
     "instrumented", "bare", "bare SeaORM", "ratio", 1.1),
    ("SeaORM lazy `find_related`: load span and statement span",
     "instrumented_lazy", "bare_lazy", "bare SeaORM", "ratio", 1.1),
]
QUEUE_MEMORY = [
    ("resident memory per queued span (100,000 queued), from before the pipeline was built "
     "(the queue's own memory in it)",
     "ours_pipeline", "raw_pipeline", "raw SDK, same attributes", "ratio", 1.0),
    ("same, from after the first 100 spans",
     "ours_all", "raw_all", "raw SDK", "ratio", None),
    ("the second 50,000 queued spans alone (what was set up once left out: the threads' record "
     "pools, a queue made whole up front)",
     "ours_more", "raw_more", "raw SDK", "ratio", None),
]
BUILD_TIME = [
    ("build time, 200 generated fns rebuilt alone, dev profile",
     "dev", "dev_peer", "`#[tracing::instrument(err)]`", "ratio", 0.8),
    ("same, release profile",
     "release", "release_peer", "`#[tracing::instrument(err)]`", "ratio", None),
]


def run(command, env=None):
    print(f"$ {command}", file=sys.stderr, flush=True)
    full_env = dict(os.environ, **(env or {}))
    result = subprocess.run(command, shell=True, cwd=ROOT, env=full_env,
                            stdout=subprocess.PIPE, text=True, check=True)
    print(result.stdout, file=sys.stderr, flush=True)
    return result.stdout


def numbers_by_name(text):
    """`name   1234 instructions/...` lines as a dict."""
    values = {}
    for line in text.splitlines():
        match = re.match(r"^(\S+)\s+(\d+)\s+instructions/", line)
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


def instructions(group):
    return numbers_by_name(run(f"bash benches/instructions.sh {group}"))


def queue_memory():
    text = run("cargo bench -q -p instrument-benches --bench queue_memory")
    rows = re.findall(r"(\d+) /\s+(\d+) /\s+(\d+) bytes", text)
    (ours_pipeline, ours_all, ours_more), (raw_pipeline, raw_all, raw_more) = rows[:2]
    return {"ours_pipeline": int(ours_pipeline), "ours_all": int(ours_all),
            "ours_more": int(ours_more), "raw_pipeline": int(raw_pipeline),
            "raw_all": int(raw_all), "raw_more": int(raw_more)}


def build_time():
    values = {}
    for profile in ("dev", "release"):
        text = run("bash benches/build_time.sh", env={"PROFILE": profile})
        medians = [round(float(m)) for m in re.findall(r"fns\s+(\d+(?:\.\d+)?) ms", text)]
        values[profile], values[f"{profile}_peer"] = medians[:2]
    return values


GROUPS = {
    "overhead": (OVERHEAD, lambda: instructions("overhead"), "instr./call, calling thread",
                 "bash benches/instructions.sh overhead"),
    "overhead_all": (OVERHEAD_ALL, lambda: instructions("overhead_all"), "instr./span, all threads",
                     "bash benches/instructions.sh overhead_all"),
    "tracing_bridge": (TRACING_BRIDGE, lambda: instructions("tracing_bridge"), "instr./call",
                       "bash benches/instructions.sh tracing_bridge"),
    "db_wrapper": (DB_WRAPPER, lambda: instructions("db_wrapper"), "instr./query",
                   "bash benches/instructions.sh db_wrapper"),
    "http_layer": (HTTP_LAYER, lambda: instructions("http_layer"), "instr./request",
                   "bash benches/instructions.sh http_layer"),
    "orm": (ORM, lambda: instructions("orm"), "instr./query", "bash benches/instructions.sh orm"),
    "queue_memory": (QUEUE_MEMORY, queue_memory, "bytes/span",
                     "cargo bench -p instrument-benches --bench queue_memory"),
    "build_time": (BUILD_TIME, build_time, "ms",
                   "bash benches/build_time.sh (PROFILE=release for release)"),
}


def compare(ours, peer, how, target):
    """The ratio's text, the target's text and whether it is met."""
    if how == "plus":
        text = f"{ours - peer:+d}"
        return text, (f"≤ +{target}" if target is not None else ""), (
            None if target is None else ours - peer <= target)
    if how == "times":
        value = peer / ours
        return f"{value:.2f}×", (f"≥ {target}×" if target is not None else ""), (
            None if target is None else value >= target)
    value = ours / peer
    return f"{value:.2f}×", (f"≤ {target}×" if target is not None else ""), (
        None if target is None else value <= target)


def rows_of(group, values, today):
    rows_spec, _, unit, command = GROUPS[group]
    rows = []
    for case, ours_key, peer_key, peer_label, how, target in rows_spec:
        ours, peer = values[ours_key], values[peer_key]
        ratio, target_text, met = compare(ours, peer, how, target)
        verdict = "" if met is None else ("met" if met else "**missed**")
        rows.append([group, case, f"{ours:,} {unit}", f"{peer_label}: {peer:,}", ratio,
                     target_text, verdict, today, f"`{command}`"])
    return rows


def existing_rows(text):
    """The rows of the table now in BENCHMARKS.md, by group."""
    rows = {}
    if START not in text:
        return rows
    table = text.split(START, 1)[1].split(END, 1)[0]
    for line in table.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        rows.setdefault(cells[0], []).append(cells)
    return rows


def render(rows_by_group):
    lines = ["| " + " | ".join(HEADER) + " |",
             "| " + " | ".join("---" for _ in HEADER) + " |"]
    # The script's groups in their order, then any other rows the table held, as they were.
    order = list(GROUPS) + [group for group in rows_by_group if group not in GROUPS]
    for group in order:
        for row in rows_by_group.get(group, []):
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def write(rows):
    """BENCHMARKS.md with `rows` as its table, the text around it kept as the file has it now
    (read again: it may have been edited while the benchmarks ran)."""
    with open(DOC, encoding="utf-8") as doc:
        text = doc.read()
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    with open(DOC, "w", encoding="utf-8") as doc:
        doc.write(f"{before}{START}\n{render(rows)}\n{END}{after}")


def main():
    groups = sys.argv[1:] or list(GROUPS)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        sys.exit(f"unknown group(s) {', '.join(unknown)}; the groups are {', '.join(GROUPS)}")
    with open(DOC, encoding="utf-8") as doc:
        text = doc.read()
    if START not in text or END not in text:
        sys.exit(f"BENCHMARKS.md has no table markers ({START} … {END})")
    rows = existing_rows(text)
    today = datetime.date.today().isoformat()
    for group in groups:
        rows[group] = rows_of(group, GROUPS[group][1](), today)
        # Written after each group, so that a later group's failure loses only its own rows.
        write(rows)
    print(f"BENCHMARKS.md: {', '.join(groups)} written", file=sys.stderr)


if __name__ == "__main__":
    main()
