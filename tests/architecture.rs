//! The import rule of `src/lib.rs`, enforced: every `crate::` path in the
//! library's code (test modules aside) must point down the layers
//!
//! ```text
//! main → commands → config → pipeline | analysis | output → filter | source → model | text
//! ```
//!
//! Siblings on one level do not import each other, except that `output`
//! may read `analysis`'s typed answers and both may read `pipeline`'s
//! results; `model` and `text` import only each other. Only `main`,
//! `commands` and `config` (which turns the parsed command line into a
//! `Config`) see clap, and only `output` writes to stdout.
//!
//! The checker is plain text processing (no parser crate): it reads each
//! file up to its first `#[cfg(test)]`, drops `//` comments, and collects
//! the first segment of every `crate::` path, braces included
//! (`use crate::{model::Socket, text}`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layer of a top-level module: a module may import a module of a
/// lower number; equal numbers are siblings.
fn rank(module: &str) -> Option<u8> {
    Some(match module {
        "text" | "model" => 0,
        "filter" | "source" => 1,
        "pipeline" | "analysis" | "output" => 2,
        "config" => 3,
        "commands" => 4,
        "main" => 5,
        _ => return None,
    })
}

/// Whether `from` may import `to`.
fn allowed(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    match (from, to) {
        // model and text read each other
        ("model", "text") | ("text", "model") => return true,
        // output phrases analysis's answers; both read pipeline's results
        ("output", "analysis") | ("output", "pipeline") | ("analysis", "pipeline") => {
            return true;
        }
        _ => {}
    }
    match (rank(from), rank(to)) {
        (Some(f), Some(t)) => t < f,
        _ => false,
    }
}

/// The top-level module a file under `src/` belongs to.
fn module_of(rel: &Path) -> String {
    let first = rel.components().next().map_or(String::new(), |c| {
        c.as_os_str().to_string_lossy().into_owned()
    });
    first.trim_end_matches(".rs").to_owned()
}

/// The library code of a file: up to its first `#[cfg(test)]`, `//`
/// comments dropped.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The first segment of every `crate::` path in `code`.
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(i) = code[from..].find("crate::") {
        let start = from + i;
        from = start + "crate::".len();
        // `sockscope::crate::` never occurs; skip identifiers ending in crate.
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            // Identifiers that open a segment at depth 1.
            let mut depth = 1;
            let mut expect = true;
            let mut ident = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => expect = true,
                    c if expect && depth == 1 && (c.is_alphanumeric() || c == '_') => ident.push(c),
                    _ if expect && !ident.is_empty() => {
                        found.insert(std::mem::take(&mut ident));
                        expect = false;
                    }
                    _ => {}
                }
            }
            if !ident.is_empty() {
                found.insert(ident);
            }
        } else {
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                found.insert(ident);
            }
        }
    }
    found
}

/// Every rule broken by one file's code: `file: from -> to` lines.
fn violations(rel: &Path, text: &str) -> Vec<String> {
    let module = module_of(rel);
    let code = code_of(text);
    let mut out = Vec::new();
    if module == "lib" {
        return out;
    }
    for to in crate_imports(&code) {
        if !allowed(&module, &to) {
            out.push(format!("{}: {module} imports {to}", rel.display()));
        }
    }
    if !matches!(module.as_str(), "main" | "commands" | "config") && code.contains("clap::") {
        out.push(format!("{}: {module} sees clap", rel.display()));
    }
    if module != "output"
        && ["stdout()", "println!", "print!("]
            .iter()
            .any(|w| code.contains(w))
    {
        out.push(format!("{}: {module} writes to stdout", rel.display()));
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

#[test]
fn imports_point_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let module = module_of(rel);
        assert!(
            module == "lib" || rank(&module).is_some(),
            "{}: module `{module}` has no layer in the rule of src/lib.rs",
            rel.display()
        );
        broken.extend(violations(rel, &std::fs::read_to_string(file).unwrap()));
    }
    assert!(
        broken.is_empty(),
        "imports that point up or sideways:\n{}",
        broken.join("\n")
    );
}

/// The checker itself, on small samples: it catches an upward import (in
/// a plain path, in a braced group, nested), a sibling import, clap and
/// stdout where they do not belong, and lets the allowed ones pass.
#[test]
fn the_checker_fails_on_an_upward_import() {
    let p = Path::new;
    assert_eq!(
        violations(p("model/mod.rs"), "use crate::source::tcpinfo::TcpInfo;\n"),
        ["model/mod.rs: model imports source"]
    );
    assert_eq!(
        violations(
            p("filter/expr.rs"),
            "use crate::{model::Socket, output::escape::{escape, x}};\n"
        ),
        ["filter/expr.rs: filter imports output"]
    );
    assert_eq!(
        violations(
            p("source/netlink.rs"),
            "let b = crate::filter::bytecode::x();\n"
        ),
        ["source/netlink.rs: source imports filter"]
    );
    assert_eq!(
        violations(p("analysis/who.rs"), "fn f() { println!(\"x\") }\n"),
        ["analysis/who.rs: analysis writes to stdout"]
    );
    assert_eq!(
        violations(p("output/table.rs"), "use clap::ValueEnum;\n"),
        ["output/table.rs: output sees clap"]
    );
    // Allowed: down the layers, the named sibling exceptions, comments and
    // test modules.
    let fine = "use crate::{model::{Socket, TcpState}, text};\n\
                use crate::analysis::who::Answer; // crate::commands in a comment\n\
                use crate::pipeline::Run;\n\
                #[cfg(test)]\nmod tests { use crate::commands::x; }\n";
    assert!(violations(p("output/who.rs"), fine).is_empty());
    assert!(violations(p("commands/who.rs"), "use crate::config::Config;\n").is_empty());
    assert!(violations(p("text.rs"), "use crate::model::Family;\n").is_empty());
}
