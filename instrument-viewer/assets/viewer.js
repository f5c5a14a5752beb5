// instrument viewer: one page, no build step. Every value from the store is put on the page as
// text (textContent, attribute setters), never parsed as HTML: span names and attribute values
// are hostile input.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let generation = -1;
let lastView = "";
// The open trace's view state, kept across live refreshes: collapsed spans, the selected span,
// the scroll position.
let traceView = null;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}

// A scrolling list that keeps only the rows in view (and some either side) in the DOM, so 10,000
// traces or a 5,000-span waterfall cost what one screen costs.
const ROW_HEIGHT = 22;
const OVERSCAN = 40;

function virtualList(className, count, renderRow) {
  const viewport = el("div", { class: "viewport " + className });
  const spacer = el("div", { class: "spacer" });
  viewport.append(spacer);
  const list = { viewport, count, first: -1, last: -1 };
  list.refresh = (force) => {
    spacer.style.height = (list.count * ROW_HEIGHT) + "px";
    const height = viewport.clientHeight || window.innerHeight;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(list.count, Math.ceil((viewport.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    if (!force && first === list.first && last === list.last) return;
    list.first = first;
    list.last = last;
    const rows = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const row = renderRow(i);
      row.style.top = (i * ROW_HEIGHT) + "px";
      rows.append(row);
    }
    spacer.replaceChildren(rows);
  };
  let pending = false;
  viewport.addEventListener("scroll", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; list.refresh(false); });
  });
  return list;
}

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(path + ": " + response.status + " " + (await response.text()));
  return response.json();
}

function duration(ns) {
  if (ns >= 1e9) return (ns / 1e9).toFixed(2) + " s";
  if (ns >= 1e6) return (ns / 1e6).toFixed(2) + " ms";
  return (ns / 1e3).toFixed(1) + " µs";
}

function clock(ns) {
  return new Date(ns / 1e6).toISOString().replace("T", " ").slice(0, 23);
}

function route() {
  const hash = decodeURIComponent(location.hash.slice(1));
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  if (path.startsWith("trace/")) return { view: "trace", id: path.slice(6), params };
  if (path === "logs" || path === "metrics") return { view: path, params };
  return { view: "traces", params };
}

function attributeTable(attributes) {
  if (!attributes || attributes.length === 0) return el("p", { class: "muted" }, "none");
  return el("table", {}, ...attributes.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))));
}

// ---- GenAI (the OpenTelemetry GenAI semantic conventions) ----------------------------------

const INPUT_TOKENS = "gen_ai.usage.input_tokens";
const OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
// The attributes the GenAI block shows, above the span's other attributes.
const GENAI_KEYS = ["gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model",
  INPUT_TOKENS, OUTPUT_TOKENS, "gen_ai.response.finish_reasons", "gen_ai.tool.name", "gen_ai.agent.name"];

// A token count from an attribute's display text: a whole number of at least 0, else null.
function tokenCount(text) {
  const trimmed = String(text).trim();
  if (!/^[0-9][0-9.eE+]*$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

// "1,234 in / 567 out" from two counts (numbers, or text shown as it is), null if both are
// missing; a missing one shows as "–".
function tokenTotals(input, output) {
  if ((input === null || input === undefined) && (output === null || output === undefined)) return null;
  const f = (n) => n === null || n === undefined ? "–" : typeof n === "number" ? n.toLocaleString("en-US") : n;
  return f(input) + " in / " + f(output) + " out";
}

// A span's GenAI attributes, by key, those with a value only.
function genaiAttributes(span) {
  const found = new Map();
  for (const [key, value] of span.attributes) {
    if (GENAI_KEYS.includes(key) && value !== "") found.set(key, value);
  }
  return found;
}

// A span's token counts, or null if it has neither.
function spanTokens(span) {
  let input = null, output = null;
  for (const [key, value] of span.attributes) {
    if (key === INPUT_TOKENS) input = tokenCount(value);
    else if (key === OUTPUT_TOKENS) output = tokenCount(value);
  }
  return input === null && output === null ? null : { input, output };
}

// The GenAI block of a span's panel (null if it has no GenAI attribute) and the keys it shows.
function genaiBlock(span) {
  const a = genaiAttributes(span);
  if (a.size === 0) return { block: null, shown: a };
  const get = (key) => a.has(key) ? a.get(key) : null;
  const request = get("gen_ai.request.model"), response = get("gen_ai.response.model");
  const model = request !== null && response !== null && request !== response ? request + " → " + response
    : (request !== null ? request : response);
  const count = (key) => a.has(key) ? (tokenCount(a.get(key)) ?? a.get(key)) : null;
  const tokens = tokenTotals(count(INPUT_TOKENS), count(OUTPUT_TOKENS));
  const reasons = get("gen_ai.response.finish_reasons");
  const rows = [
    ["operation", get("gen_ai.operation.name")],
    ["provider", get("gen_ai.provider.name")],
    ["model", model],
    ["tokens", tokens === null ? null : tokens + " tokens"],
    ["finish reasons", reasons !== null && reasons.startsWith("[") && reasons.endsWith("]") ? reasons.slice(1, -1) : reasons],
    ["tool", get("gen_ai.tool.name")],
    ["agent", get("gen_ai.agent.name")],
  ].filter(([, value]) => value !== null);
  const block = el("div", { class: "genai", id: "genai" }, el("h3", {}, "GenAI"),
    el("table", {}, ...rows.map(([name, value]) =>
      el("tr", { "data-genai": name }, el("td", {}, name), el("td", {}, value)))));
  return { block, shown: a };
}

// ---- trace list ----------------------------------------------------------------------------

function filterForm(fields, params, target) {
  const form = el("form", { class: "filters" });
  for (const field of fields) {
    let input;
    if (field.options) {
      input = el("select", { name: field.name }, ...field.options.map(([value, text]) =>
        el("option", { value }, text)));
    } else {
      input = el("input", { name: field.name, placeholder: field.placeholder || field.name });
    }
    input.value = params.get(field.name) || "";
    form.append(el("label", {}, field.label + " ", input));
  }
  form.append(el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) query.set(key, value);
    location.hash = target + (query.toString() ? "?" + query : "");
  });
  return form;
}

async function renderTraces(main, params) {
  const overview = await getJson("/api/stats");
  const query = new URLSearchParams(params);
  const traces = await getJson("/api/traces?" + query);
  const started = performance.now();
  const services = [["", "any"], ...overview.services.map((s) => [s, s])];
  main.replaceChildren(
    filterForm([
      { name: "service", label: "service", options: services },
      { name: "name", label: "name" },
      { name: "status", label: "status", options: [["", "any"], ["error", "error"], ["ok", "ok"]] },
      { name: "min_ms", label: "min ms" },
      { name: "attr", label: "attribute", placeholder: "key=value" },
    ], params, "traces"),
  );
  // A tokens column only when a listed trace has GenAI token counts.
  const withTokens = traces.some((t) => tokenTotals(t.input_tokens, t.output_tokens) !== null);
  const cells = "trace-cells" + (withTokens ? " with-tokens" : "");
  const header = el("div", { class: cells + " header" },
    ...["service", "root", "start", "duration", "spans", ...(withTokens ? ["tokens"] : [])].map((h) => el("span", {}, h)));
  const list = virtualList("trace-list", traces.length, (i) => {
    const t = traces[i];
    const tokens = withTokens ? tokenTotals(t.input_tokens, t.output_tokens) : null;
    return el("div", { class: cells + " trace-row" + (t.error ? " error" : ""), "data-trace-id": t.trace_id },
      el("span", {}, t.service),
      el("span", {}, el("a", { href: "#trace/" + t.trace_id, class: "root" }, t.root),
        t.error ? el("span", { class: "badge error" }, "error") : null),
      el("span", {}, clock(t.start_ns)),
      el("span", { class: "num" }, duration(t.duration_ns)),
      el("span", { class: "num" }, t.spans),
      withTokens ? el("span", { class: "num tokens", title: tokens === null ? "" : tokens + " tokens" }, tokens || "") : null);
  });
  main.append(
    el("p", { class: "muted", id: "trace-count" }, traces.length + " traces, newest start first"),
    el("div", { id: "trace-list" }, header, list.viewport));
  list.refresh(true);
  document.body.dataset.listRenderMs = (performance.now() - started).toFixed(1);
  document.body.dataset.readyMs = performance.now().toFixed(1);
}

// ---- one trace -------------------------------------------------------------------------------

function tree(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map();
  const roots = [];
  for (const span of spans) {
    if (span.parent_span_id && byId.has(span.parent_span_id)) {
      if (!children.has(span.parent_span_id)) children.set(span.parent_span_id, []);
      children.get(span.parent_span_id).push(span);
    } else {
      roots.push(span);
    }
  }
  const ordered = [];
  const stack = roots.slice().reverse().map((span) => [span, 0]);
  while (stack.length) {
    const [span, depth] = stack.pop();
    const kids = children.get(span.span_id) || [];
    ordered.push({ span, depth, kids: kids.length });
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
  }
  return ordered;
}

// The events with which the toolkit reports an N+1: a repeated statement, or lazy loads of one
// relationship repeated under one parent.
function isFinding(name) {
  return name === "instrument.db.repeated_query" || name === "instrument.db.orm.repeated_lazy_load";
}

// A finding in words: the ORM level says it itself; a repeated statement is named by its summary.
function findingText(event) {
  const attributes = Object.fromEntries(event.attributes);
  if (attributes["instrument.db.orm.finding"]) return attributes["instrument.db.orm.finding"];
  return "repeated query: " + (attributes["db.query.summary"] || "") + " ×" +
    (attributes["instrument.db.repeated_query.count"] || "?");
}

function spanDetails(panel, span, logs) {
  const repeated = span.events.filter((e) => isFinding(e.name));
  const genai = genaiBlock(span);
  panel.replaceChildren(...[
    el("h3", { id: "detail-name" }, span.name),
    el("p", {}, span.kind + " · " + duration(span.end_ns - span.start_ns) + " · status " + span.status +
      (span.status_message ? ": " + span.status_message : "")),
    el("p", { class: "muted" }, "span " + span.span_id + (span.parent_span_id ? " · parent " + span.parent_span_id : "")),
    ...repeated.map((e) => el("p", { class: "finding" }, el("span", { class: "badge repeated" }, "N+1"),
      " " + findingText(e))),
    genai.block,
    el("h3", {}, "Attributes"), attributeTable(span.attributes.filter(([k]) => !genai.shown.has(k))),
    el("h3", {}, "Events"),
    span.events.length ? el("div", {}, ...span.events.map((e) =>
      el("div", {}, el("strong", {}, e.name), " " + clock(e.time_ns), attributeTable(e.attributes))))
      : el("p", { class: "muted" }, "none"),
    el("h3", {}, "Links"),
    span.links.length ? el("div", {}, ...span.links.map((l) =>
      el("div", {}, el("a", { href: "#trace/" + l.trace_id }, l.trace_id + " / " + l.span_id), attributeTable(l.attributes))))
      : el("p", { class: "muted" }, "none"),
    el("h3", {}, "Logs"),
    logs.length ? el("div", {}, ...logs.map(logLine)) : el("p", { class: "muted" }, "none"),
    el("h3", {}, "Resource"), attributeTable(span.resource.attributes),
    el("p", { class: "muted" }, "scope " + span.scope),
  ].filter((node) => node !== null));
}

function logLine(log) {
  return el("div", { class: "log-line sev-" + log.severity.toUpperCase() },
    clock(log.time_ns) + " " + log.severity + " ", el("span", { class: "log-body" }, log.body),
    log.attributes.length ? el("span", { class: "muted" }, " " + log.attributes.map(([k, v]) => k + "=" + v).join(" ")) : null);
}

async function renderTrace(main, id, params) {
  const detail = await getJson("/api/traces/" + encodeURIComponent(id));
  const started = performance.now();
  const s = detail.summary;
  const start = s.start_ns;
  const total = Math.max(s.duration_ns, 1);
  const rows = tree(detail.spans);
  const panel = el("div", { class: "details", id: "details" }, el("p", { class: "muted" }, "Click a span to see its attributes, events, links, logs and resource."));
  const kept = traceView && traceView.id === id ? traceView : null;
  const collapsed = kept ? kept.collapsed : new Set();
  let selected = kept ? kept.selected : (params.get("span") || "");
  let shown = [];
  const reshow = () => {
    shown = [];
    let hiddenBelow = Infinity;
    for (const row of rows) {
      if (row.depth > hiddenBelow) continue;
      hiddenBelow = collapsed.has(row.span.span_id) ? row.depth : Infinity;
      shown.push(row);
    }
  };
  const select = (span) => {
    selected = span.span_id;
    if (traceView) traceView.selected = selected;
    spanDetails(panel, span, detail.logs.filter((l) => l.span_id === span.span_id));
  };
  reshow();
  const list = virtualList("waterfall", shown.length, (i) => {
    const { span, depth, kids } = shown[i];
    const repeated = span.events.some((e) => isFinding(e.name));
    const tokens = spanTokens(span);
    const toggle = el("span", { class: "toggle" }, kids ? (collapsed.has(span.span_id) ? "▸" : "▾") : "");
    const bar = el("div", { class: "bar" });
    bar.style.left = ((span.start_ns - start) / total * 100).toFixed(3) + "%";
    bar.style.width = ((span.end_ns - span.start_ns) / total * 100).toFixed(3) + "%";
    const label = el("div", { class: "label" }, toggle, el("span", { class: "name" }, span.name),
      el("span", { class: "badge kind" }, span.kind),
      span.status === "error" ? el("span", { class: "badge error" }, "error") : null,
      repeated ? el("span", { class: "badge repeated" }, "N+1") : null,
      tokens ? el("span", { class: "badge tokens", title: tokenTotals(tokens.input, tokens.output) + " tokens" },
        ((tokens.input || 0) + (tokens.output || 0)).toLocaleString("en-US") + " tok") : null);
    label.style.paddingLeft = (depth * 14) + "px";
    const row = el("div", {
      class: "row kind-" + span.kind + (span.status === "error" ? " error" : "") + (repeated ? " repeated" : "") +
        (span.span_id === selected ? " selected" : ""),
      "data-span-id": span.span_id, "data-parent-id": span.parent_span_id, "data-depth": depth, "data-name": span.name,
    }, label, el("div", { class: "lane" }, bar), el("div", { class: "dur" }, duration(span.end_ns - span.start_ns)));
    row.addEventListener("click", (event) => {
      if (event.target === toggle && kids) {
        if (collapsed.has(span.span_id)) collapsed.delete(span.span_id); else collapsed.add(span.span_id);
        reshow();
        list.count = shown.length;
      } else {
        select(span);
      }
      list.refresh(true);
    });
    return row;
  });
  const chosen = rows.find((r) => r.span.span_id === selected);
  if (chosen) select(chosen.span);
  const tokens = tokenTotals(s.input_tokens, s.output_tokens);
  main.replaceChildren(
    el("div", { class: "trace-head" },
      el("h2", { id: "trace-root" }, s.root),
      el("p", {}, s.service + " · " + clock(s.start_ns) + " · " + duration(s.duration_ns) + " · " + s.spans + " spans · ",
        tokens === null ? null : el("span", { id: "trace-tokens", class: "tokens" }, tokens + " tokens"),
        tokens === null ? null : " · ",
        "trace " + s.trace_id + " · ",
        el("a", { href: "#logs?trace_id=" + s.trace_id }, detail.logs.length + " log records"))),
    el("div", { class: "split" }, list.viewport, panel));
  list.refresh(true);
  if (kept) {
    list.viewport.scrollTop = kept.viewport.scrollTop;
    list.refresh(true);
  }
  traceView = { id, collapsed, selected, viewport: list.viewport };
  document.body.dataset.traceRenderMs = (performance.now() - started).toFixed(1);
  document.body.dataset.readyMs = performance.now().toFixed(1);
}

// ---- logs ------------------------------------------------------------------------------------

async function renderLogs(main, params) {
  const logs = await getJson("/api/logs?" + new URLSearchParams(params));
  main.replaceChildren(filterForm([
    { name: "severity", label: "at least", options: [["", "any"], ["debug", "debug"], ["info", "info"], ["warn", "warn"], ["error", "error"]] },
    { name: "text", label: "text" },
    { name: "trace_id", label: "trace id" },
  ], params, "logs"));
  const body = el("tbody");
  for (const log of logs) {
    body.append(el("tr", { class: "log-row sev-" + log.severity.toUpperCase() },
      el("td", {}, clock(log.time_ns)),
      el("td", {}, log.severity),
      el("td", {}, log.resource.service),
      el("td", { class: "log-body" }, log.body),
      el("td", {}, log.attributes.map(([k, v]) => k + "=" + v).join(" ")),
      el("td", {}, log.trace_id ? el("a", { href: "#trace/" + log.trace_id + "?span=" + log.span_id }, log.trace_id.slice(0, 8) + "…") : "")));
  }
  main.append(el("p", { class: "muted" }, logs.length + " log records, newest first"),
    el("table", { id: "log-list" }, el("thead", {}, el("tr", {}, ...["time", "severity", "service", "body", "attributes", "trace"].map((h) => el("th", {}, h)))), body));
}

// ---- metrics ---------------------------------------------------------------------------------

// A label that never breaks inside a word: each part stays on one line, ellipsized with the whole
// part as its tooltip when wider than the room; the label wraps only between parts.
function partsLabel(className, parts) {
  return el("div", { class: "label-parts " + className },
    ...parts.map((part) => el("span", { class: "label-part", title: part }, part)));
}

// A value as a chart shows it: whole, or to four significant digits (units past a thousand).
function number(value) {
  if (Number.isInteger(value)) return String(value);
  return String(Math.abs(value) >= 1000 ? Math.round(value) : Number(value.toPrecision(4)));
}

// The time of day (UTC) of a time in nanoseconds since the Unix epoch, to the second.
function timeOfDay(ns) {
  return clock(ns).slice(11, 19);
}

// A number series as a line over time, with a dot on each point (only the latest when there are
// many), a guide from the latest down to the time axis, the latest value by it and the times
// below: one point still reads as a chart.
function lineChart(points) {
  const width = 360, height = 76, left = 4, right = width - 56, top = 6, bottom = height - 18;
  const chart = svg("svg", { class: "line-chart", width, height, viewBox: `0 0 ${width} ${height}`, "data-points": points.length });
  chart.append(svg("line", { class: "axis", x1: left, y1: bottom + 0.5, x2: right, y2: bottom + 0.5 }));
  if (points.length === 0) return chart;
  const times = points.map((p) => p[0]), values = points.map((p) => p[1]);
  const t0 = Math.min(...times), t1 = Math.max(...times), v0 = Math.min(0, ...values), v1 = Math.max(...values);
  const x = (t) => t1 === t0 ? right : left + (t - t0) / (t1 - t0) * (right - left);
  const y = (v) => v1 === v0 ? (top + bottom) / 2 : bottom - (v - v0) / (v1 - v0) * (bottom - top);
  if (points.length > 1) {
    chart.append(svg("polyline", { class: "line", points: points.map((p) => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join(" ") }));
  }
  const [lastTime, lastValue] = points[points.length - 1];
  chart.append(svg("line", { class: "guide", x1: x(lastTime), y1: y(lastValue), x2: x(lastTime), y2: bottom }));
  const dotted = points.length <= 30 ? points : points.slice(-1);
  for (const [t, v] of dotted) {
    const dot = svg("circle", { class: "point", cx: x(t).toFixed(1), cy: y(v).toFixed(1), r: 3 });
    const title = svg("title");
    title.textContent = number(v) + " at " + clock(t);
    dot.append(title);
    chart.append(dot);
  }
  const value = svg("text", { class: "value", x: right + 6, y: Math.min(bottom, Math.max(top + 8, y(lastValue) + 4)).toFixed(1) });
  value.textContent = number(lastValue);
  chart.append(value);
  const last = svg("text", { class: "time", x: right, y: height - 4, "text-anchor": "end" });
  last.textContent = timeOfDay(lastTime);
  chart.append(last);
  if (t1 !== t0) {
    const first = svg("text", { class: "time", x: left, y: height - 4 });
    first.textContent = timeOfDay(t0);
    chart.append(first);
  }
  return chart;
}

function bucketChart(h) {
  const width = 360, height = 70;
  const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
  const most = Math.max(1, ...h.counts);
  const w = width / Math.max(1, h.counts.length);
  h.counts.forEach((count, i) => {
    const barHeight = count / most * (height - 16);
    const bar = svg("rect", { class: "bucket", x: i * w + 1, y: height - 12 - barHeight, width: Math.max(1, w - 2), height: barHeight });
    const title = svg("title");
    title.textContent = "≤ " + (i < h.bounds.length ? h.bounds[i] : "∞") + ": " + count;
    bar.append(title);
    chart.append(bar);
  });
  return chart;
}

function quantiles(h) {
  const f = (v) => v === null || v === undefined ? "–" : Number(v).toFixed(2);
  return `count ${h.count} · sum ${Number(h.sum).toFixed(2)} · p50 ${f(h.p50)} · p95 ${f(h.p95)} · p99 ${f(h.p99)}`;
}

async function renderMetrics(main) {
  const metrics = await getJson("/api/metrics");
  const nodes = metrics.map((m) => el("div", { class: "metric", "data-metric": m.name },
    el("h3", {}, partsLabel("metric-name", [m.name]),
      partsLabel("muted", [m.kind, ...(m.unit ? [m.unit] : []), m.service])),
    m.description ? el("p", { class: "muted" }, m.description) : null,
    ...Object.values(m.series).map((s) => el("div", { class: "series" },
      partsLabel("attrs", s.attributes.length ? s.attributes.map(([k, v]) => k + "=" + v) : ["(no attributes)"]),
      s.histogram ? el("div", {}, bucketChart(s.histogram), el("div", { class: "quantiles" }, quantiles(s.histogram)))
        : lineChart(s.points)))));
  main.replaceChildren(el("p", { class: "muted" }, metrics.length + " metrics"), ...nodes);
}

// ---- shell -----------------------------------------------------------------------------------

async function render() {
  const main = document.getElementById("view");
  const { view, id, params } = route();
  for (const name of ["traces", "logs", "metrics"]) {
    document.getElementById("nav-" + name).classList.toggle("current", name === view);
  }
  try {
    if (view === "trace") await renderTrace(main, id, params);
    else if (view === "logs") await renderLogs(main, params);
    else if (view === "metrics") await renderMetrics(main);
    else await renderTraces(main, params);
    document.body.dataset.rendered = view;
  } catch (error) {
    main.replaceChildren(el("p", { class: "error" }, String(error)));
    document.body.dataset.rendered = "error";
  }
  lastView = location.hash;
}

async function poll() {
  try {
    const { stats } = await getJson("/api/stats");
    const evicted = stats.evicted_traces || stats.evicted_logs
      ? ` · evicted ${stats.evicted_traces} traces (${stats.evicted_spans} spans), ${stats.evicted_logs} logs` : "";
    document.getElementById("stats").textContent =
      `${stats.traces} traces · ${stats.spans} spans · ${stats.logs} logs · ${stats.series} series · ` +
      `${(stats.bytes / 1048576).toFixed(1)} of ${(stats.max_bytes / 1048576).toFixed(0)} MiB${evicted}`;
    if (stats.generation !== generation && generation !== -1 && lastView === location.hash) {
      generation = stats.generation;
      await render();
    }
    generation = stats.generation;
  } catch (error) {
    document.getElementById("stats").textContent = "viewer unreachable: " + error;
  }
}

window.addEventListener("hashchange", render);
render();
poll();
setInterval(poll, 1000);
