//! The runtime's structure, counted from its source: the imports between its files (every
//! `crate::`, `super::` and `self::` path and every `use` tree, each name followed to the file
//! that defines it, re-exports included), the process-wide mutable statics, the files that read
//! the environment, and the size of `setup/` and the README.
//!
//! Held here: no circle of imports between files, no import from a lower layer of the core into
//! a higher one or into an integration, and the counts below their ceilings. Run with
//! `--nocapture` to see the counts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

/// The runtime's top-level modules from the bottom layer up; a file may import only from its own
/// layer or below. The integrations share a layer and may use each other. One exception: setup
/// applies the environment's switches to an integration's settings, its `config.rs`, which in turn
/// imports nothing of its integration ([`SETTINGS_FILES`]).
const LAYERS: &[&[&str]] = &[
    &["diagnostics", "environment"],
    &["state"],
    &["capture"],
    &["call_name", "console"],
    &["span"],
    &["context", "current"],
    &["metrics"],
    &["export"],
    &["setup"],
    &["tracing_bridge", "http", "db", "pool", "genai"],
    &["testing"],
    &[""],
];

/// The integrations' settings that setup may write.
const SETTINGS_FILES: &[&str] = &["db/config.rs", "genai/config.rs"];

/// Ceilings: the counts as they stand, so that none grows back, and the
/// size of `setup/`, configuration only.
const MAX_MUTABLE_STATICS: usize = 15;
/// (15: an instrumented `async fn`'s future hands the span its body started at the first poll
/// over through the thread, `span/future.rs`.)
const MAX_THREAD_LOCAL_BLOCKS: usize = 15;
const MAX_FILES_READING_ENV: usize = 1;
const MAX_SETUP_LINES: usize = 1_500;
/// The README is a user's first page; the rest is the guide in `docs/guide/`.
const MAX_README_LINES: usize = 450;

fn runtime_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("instrument-runtime/src")
}

/// One source file: its module path and its code without comments, strings and tests.
struct File {
    module: Vec<String>,
    /// Whether it is a `mod.rs` / `lib.rs` (a module whose children are its own files).
    is_module_root: bool,
    code: String,
}

fn files() -> BTreeMap<PathBuf, File> {
    let root = runtime_src();
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).unwrap();
            let mut module: Vec<String> = relative
                .iter()
                .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_owned())
                .collect();
            let is_module_root = matches!(module.last().map(String::as_str), Some("mod" | "lib"));
            if is_module_root {
                module.pop();
            }
            let text = fs::read_to_string(&path).unwrap();
            out.insert(
                relative.to_owned(),
                File {
                    module,
                    is_module_root,
                    code: without_tests(&strip(&text)),
                },
            );
        }
    }
    out
}

/// The text without comments, string and char literals (their contents blanked).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                i += 2 + hashes;
                while i < b.len() && !b[i..].starts_with(&close) {
                    i += 1;
                }
                i += close.len();
                out.push_str("\"\"");
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' => {
                // A char literal ('x', '\n', '\''), else a lifetime.
                let end = if b.get(i + 1) == Some(&b'\\') {
                    b[i + 2..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .map(|p| i + 2 + p)
                } else {
                    let len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 1 + len)
                };
                match end {
                    Some(end) => {
                        out.push_str("' '");
                        i = end + 1;
                    }
                    None => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            _ => {
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + len]);
                i += len;
            }
        }
    }
    out
}

/// The code before its `#[cfg(test)]` test module (kept, by convention, at the end of a file).
fn without_tests(code: &str) -> String {
    let mut search = 0;
    while let Some(at) = code[search..].find("#[cfg(test)]") {
        let at = search + at;
        let rest = code[at + "#[cfg(test)]".len()..].trim_start();
        let rest = skip_attributes(rest);
        let inline_module = rest.strip_prefix("mod ").is_some_and(|rest| {
            let name = rest.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
            name.trim_start().starts_with('{')
        });
        if inline_module {
            return code[..at].to_owned();
        }
        search = at + 1;
    }
    code.to_owned()
}

fn skip_attributes(mut rest: &str) -> &str {
    while rest.starts_with("#[") {
        let end = rest.find(']').map_or(rest.len(), |e| e + 1);
        rest = rest[end..].trim_start();
    }
    rest
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every path a file names, as written (`crate::a::B`, `super::c`, `x::y` from `use` trees),
/// with whether it comes from a re-export (`pub use` / `pub(crate) use`).
fn paths(code: &str) -> Vec<(Vec<String>, bool)> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !is_ident(b[i]) || (i > 0 && (is_ident(b[i - 1]) || b[i - 1] == b':')) {
            i += 1;
            continue;
        }
        let word_end = i + b[i..].iter().take_while(|&&c| is_ident(c)).count();
        let word = &code[i..word_end];
        if word == "use" {
            let before = code[..i].trim_end();
            let reexport = before.ends_with("pub") || before.ends_with(')');
            let end = code[word_end..].find(';').map_or(b.len(), |e| word_end + e);
            let mut trees = Vec::new();
            use_tree(code[word_end..end].trim(), &mut Vec::new(), &mut trees);
            out.extend(trees.into_iter().map(|p| (p, reexport)));
            i = end;
            continue;
        }
        if matches!(word, "crate" | "super" | "self") && code[word_end..].starts_with("::") {
            let (path, end) = read_path(code, i);
            out.push((path, false));
            i = end;
            continue;
        }
        i = word_end;
    }
    out
}

/// The segments of the path starting at `start` (`a::b::c`), and where it ends.
fn read_path(code: &str, start: usize) -> (Vec<String>, usize) {
    let b = code.as_bytes();
    let mut segments = Vec::new();
    let mut i = start;
    loop {
        let end = i + b[i..].iter().take_while(|&&c| is_ident(c)).count();
        if end == i {
            break;
        }
        segments.push(code[i..end].to_owned());
        i = end;
        if code[i..].starts_with("::") && b.get(i + 2).is_some_and(|&c| is_ident(c)) {
            i += 2;
        } else {
            break;
        }
    }
    (segments, i)
}

/// Expands a `use` tree (`a::{b, c::{d, e as f}, g::*}`) into its paths under `prefix`.
fn use_tree(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim().trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let depth = prefix.len();
        prefix.extend(head);
        for item in split_top(inner) {
            use_tree(item, prefix, out);
        }
        prefix.truncate(depth);
        return;
    }
    let path = tree.split(" as ").next().unwrap_or("").trim();
    if path.is_empty() {
        return;
    }
    let mut full = prefix.clone();
    for segment in path.split("::").map(str::trim) {
        if segment == "self" && !full.is_empty() {
            continue;
        }
        full.push(segment.to_owned());
    }
    out.push(full);
}

/// `inner` split at its top-level commas.
fn split_top(inner: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// The names a file defines (items at any depth: close enough to follow a path to its file).
fn definitions(code: &str) -> BTreeSet<String> {
    let keywords = [
        "fn", "struct", "enum", "trait", "const", "static", "type", "union", "mod",
    ];
    let mut out = BTreeSet::new();
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '!'))
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        if keywords.contains(&pair[0]) || pair[0] == "macro_rules!" {
            out.insert(pair[1].to_owned());
        }
    }
    out
}

struct Graph {
    /// Module path → file.
    modules: HashMap<Vec<String>, PathBuf>,
    files: BTreeMap<PathBuf, File>,
    defined: HashMap<PathBuf, BTreeSet<String>>,
    /// Per file: a name it imports → the absolute path it names.
    imports: HashMap<PathBuf, HashMap<String, Vec<String>>>,
}

impl Graph {
    fn new() -> Self {
        let files = files();
        let modules = files
            .iter()
            .map(|(path, file)| (file.module.clone(), path.clone()))
            .collect();
        let defined = files
            .iter()
            .map(|(path, file)| (path.clone(), definitions(&file.code)))
            .collect();
        let mut graph = Self {
            modules,
            files,
            defined,
            imports: HashMap::new(),
        };
        let mut imports = HashMap::new();
        for (path, file) in &graph.files {
            let mut names = HashMap::new();
            for (used, _) in paths(&file.code) {
                if let (Some(last), Some(absolute)) = (used.last(), graph.absolute(file, &used)) {
                    if last != "*" {
                        names.insert(last.clone(), absolute);
                    }
                }
            }
            imports.insert(path.clone(), names);
        }
        graph.imports = imports;
        graph
    }

    /// `used` as a path from the crate root, as seen from `file`; `None` for another crate's.
    fn absolute(&self, file: &File, used: &[String]) -> Option<Vec<String>> {
        let mut base = file.module.clone();
        let mut rest = used;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                rest = &rest[1..];
            }
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                let mut child = base.clone();
                child.push(first.to_owned());
                if !self.modules.contains_key(&child) {
                    return None;
                }
            }
            None => return None,
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    /// The file that defines what the absolute path `path` names.
    fn resolve(&self, path: &[String], depth: usize) -> Option<PathBuf> {
        let split = (0..=path.len())
            .rev()
            .find(|&n| self.modules.contains_key(&path[..n]))?;
        let file = &self.modules[&path[..split]];
        let Some(name) = path.get(split) else {
            return Some(file.clone());
        };
        if name == "*" || self.defined[file].contains(name) || depth > 8 {
            return Some(file.clone());
        }
        match self.imports[file].get(name) {
            Some(target) => {
                let mut target = target.clone();
                target.extend(path[split + 1..].iter().cloned());
                self.resolve(&target, depth + 1).or(Some(file.clone()))
            }
            None => Some(file.clone()),
        }
    }

    /// The files each file imports from.
    fn edges(&self) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
        let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
        for (path, file) in &self.files {
            let targets = edges.entry(path.clone()).or_default();
            let mut used = paths(&file.code);
            // A module imported by name (`use crate::span;`) and used as `span::start(..)`.
            let aliases: HashMap<&String, &Vec<String>> = self.imports[path]
                .iter()
                .filter(|(_, target)| self.modules.contains_key(*target))
                .collect();
            for (alias, target) in &aliases {
                let needle = format!("{alias}::");
                for (at, _) in file.code.match_indices(&needle) {
                    let before = file.code[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                        continue;
                    }
                    let (mut segments, _) = read_path(&file.code, at);
                    segments.splice(..1, target.iter().cloned());
                    segments.insert(0, "crate".to_owned());
                    used.push((segments, false));
                }
            }
            for (used, reexport) in used {
                // A module root re-exporting its children is its table of contents.
                if reexport && file.is_module_root {
                    continue;
                }
                let Some(absolute) = self.absolute(file, &used) else {
                    continue;
                };
                if let Some(target) = self.resolve(&absolute, 0) {
                    let is_own_child = self.files[&target].module.starts_with(&file.module)
                        && file.is_module_root
                        && used.first().map(String::as_str) != Some("super");
                    if target != *path && !(is_own_child && reexport) {
                        targets.insert(target);
                    }
                }
            }
        }
        edges
    }

    fn layer(&self, path: &Path) -> usize {
        let top = self.files[path].module.first().cloned().unwrap_or_default();
        LAYERS
            .iter()
            .position(|layer| layer.contains(&top.as_str()))
            .unwrap_or_else(|| panic!("{}: its module {top:?} has no layer", path.display()))
    }
}

/// The strongly connected groups of more than one file (Tarjan).
fn circles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: HashMap<&'a PathBuf, usize>,
        low: HashMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        out: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.clone());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                s.out.push(group);
            }
        }
    }
    let mut state = State {
        edges,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.out
}

#[test]
fn no_file_imports_in_a_circle_or_up_the_layers() {
    let graph = Graph::new();
    let edges = graph.edges();
    let count: usize = edges.values().map(BTreeSet::len).sum();
    println!("{} files, {count} imports between them", edges.len());
    let circles = circles(&edges);
    let ties: Vec<String> = circles
        .iter()
        .flat_map(|group| {
            group.iter().flat_map(|from| {
                edges[from]
                    .iter()
                    .filter(|to| group.contains(to))
                    .map(move |to| format!("{} -> {}", from.display(), to.display()))
            })
        })
        .collect();
    assert!(circles.is_empty(), "files importing each other: {ties:#?}");
    let upward: Vec<String> = edges
        .iter()
        .flat_map(|(from, to)| to.iter().map(move |to| (from, to)))
        .filter(|(from, to)| {
            graph.layer(to) > graph.layer(from)
                && !(from.starts_with("setup")
                    && SETTINGS_FILES.iter().any(|s| *to == Path::new(s)))
        })
        .map(|(from, to)| format!("{} -> {}", from.display(), to.display()))
        .collect();
    assert!(upward.is_empty(), "imports up the layers: {upward:#?}");
    for settings in SETTINGS_FILES {
        let integration = Path::new(settings).iter().next().unwrap();
        let own: Vec<&PathBuf> = edges[Path::new(settings)]
            .iter()
            .filter(|to| to.starts_with(integration))
            .collect();
        assert!(
            own.is_empty(),
            "{settings} imports its integration: {own:?}"
        );
    }
}

#[test]
fn the_graph_sees_imports_through_re_exports_and_module_names() {
    let graph = Graph::new();
    let edges = graph.edges();
    let has = |from: &str, to: &str| edges[Path::new(from)].contains(Path::new(to));
    // `use super::integer::{Written, copy_into}`.
    assert!(has("capture/autoref.rs", "capture/integer.rs"));
    // `use crate::state::{self, EndingSpan}` then `state::enabled()`, defined in state/mod.rs.
    assert!(has("db/repeated.rs", "state/mod.rs"));
    // `export::accounted_batch(..)`, re-exported by export/mod.rs from export/batch.rs.
    assert!(has("setup/mod.rs", "export/batch.rs"));
}

/// Types whose value can change behind a shared reference.
const MUTABLE: &[&str] = &[
    "Atomic",
    "Mutex",
    "RwLock",
    "OnceLock",
    "Once",
    "ArcSwap",
    "Cell",
    "ConfigCell",
    "GlobalInstruments",
    "RateLimit",
];

/// Whether a static of type `ty` holds a constant: a value of a type without interior
/// mutability, or one computed once on first use (`LazyLock`) from constants. Every other
/// static (an atomic, a lock, a cell, or a struct of the crate's that holds them) is state.
fn is_constant(ty: &str) -> bool {
    let ty = ty.trim();
    let inner = ty
        .strip_prefix("LazyLock<")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(ty);
    let known_constant = ["HeaderName", "[HeaderName;", "[String;", "Vec<HeaderName>"]
        .iter()
        .any(|c| inner.starts_with(c))
        || inner == "TextMapCompositePropagator"
        || inner.starts_with('&');
    known_constant && !MUTABLE.iter().any(|m| inner.contains(m))
}

/// `static` items that are state (see [`is_constant`]), outside tests and outside
/// `thread_local!` blocks (counted apart).
fn mutable_statics(code: &str) -> Vec<String> {
    let mut code = code.to_owned();
    while let Some(at) = code.find("thread_local!") {
        let open = code[at..].find('{').map_or(code.len(), |o| at + o);
        let mut depth = 0;
        let mut end = code.len();
        for (i, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        code.replace_range(at..end, "");
    }
    let lines: Vec<&str> = code.lines().map(str::trim_start).collect();
    lines
        .iter()
        .enumerate()
        .filter(|(i, line)| {
            // A static only tests compile (`#[cfg(test)]` on the line before) is not state.
            let for_tests = *i > 0 && lines[i - 1].trim() == "#[cfg(test)]";
            let line = line
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub(super) ")
                .trim_start_matches("pub ");
            let Some(ty) = line.strip_prefix("static ").and_then(|l| l.split_once(':')) else {
                return false;
            };
            let ty = ty.1.split('=').next().unwrap_or("");
            !for_tests && !is_constant(ty)
        })
        .map(|(_, line)| (*line).to_owned())
        .collect()
}

/// `file: NAME` of each static `process_wide.rs` lists (the first cell of its table rows).
fn listed_process_wide() -> BTreeSet<String> {
    fs::read_to_string(runtime_src().join("process_wide.rs"))
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("//! | `"))
        .filter_map(|row| row.split('`').next())
        .filter(|entry| entry.contains(": "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn process_wide_state_and_environment_reads_stay_within_their_ceilings() {
    let files = files();
    let statics: Vec<String> = files
        .iter()
        .flat_map(|(path, f)| {
            mutable_statics(&f.code)
                .into_iter()
                .map(move |line| format!("{}: {line}", path.display()))
        })
        .collect();
    if std::env::var_os("ARCHITECTURE_LIST").is_some() {
        println!("{statics:#?}");
    }
    let named: BTreeSet<String> = statics
        .iter()
        .map(|line| {
            let (path, rest) = line.split_once(": ").unwrap();
            let name = rest
                .split("static ")
                .nth(1)
                .and_then(|r| r.split(':').next())
                .unwrap_or(rest);
            format!("{path}: {name}")
        })
        .collect();
    let listed = listed_process_wide();
    assert_eq!(
        named, listed,
        "every static that is state is listed, with its reason, in process_wide.rs"
    );
    let statics = statics.len();
    let thread_locals: usize = files
        .values()
        .map(|f| f.code.matches("thread_local!").count())
        .sum();
    let reading_env: Vec<&PathBuf> = files
        .iter()
        .filter(|(_, f)| {
            ["env::var(", "env::var_os(", "env::vars("]
                .iter()
                .any(|read| f.code.contains(read))
        })
        .map(|(path, _)| path)
        .collect();
    let setup_lines: usize = files
        .iter()
        .filter(|(path, _)| path.starts_with("setup"))
        .map(|(path, _)| {
            fs::read_to_string(runtime_src().join(path))
                .unwrap()
                .lines()
                .count()
        })
        .sum();
    println!(
        "mutable statics {statics}, thread_local! blocks {thread_locals}, files reading the \
         environment {} {reading_env:?}, setup/ {setup_lines} lines",
        reading_env.len()
    );
    assert!(statics <= MAX_MUTABLE_STATICS, "{statics} mutable statics");
    assert!(
        thread_locals <= MAX_THREAD_LOCAL_BLOCKS,
        "{thread_locals} thread_local! blocks"
    );
    assert!(
        reading_env.len() <= MAX_FILES_READING_ENV,
        "files reading the environment: {reading_env:?}"
    );
    assert!(
        setup_lines <= MAX_SETUP_LINES,
        "setup/ has {setup_lines} lines"
    );
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(readme <= MAX_README_LINES, "README.md has {readme} lines");
}
