//! man/sockscope.1 (and one page per subcommand, man/sockscope-who.1) are
//! generated from the clap definition and checked in. This test fails when
//! they are stale; `UPDATE_MAN=1 cargo test --test man` rewrites them.
//!
//! clap_mangen writes NAME, SYNOPSIS, DESCRIPTION, OPTIONS, SUBCOMMANDS,
//! EXTRA (the examples) and VERSION; EXIT STATUS (every page), DIAGNOSTICS
//! and ESCAPING (the main page) are added here from the texts in
//! `sockscope::config::cli`, which `--help` prints too.

use std::path::Path;

use clap::CommandFactory;
use sockscope::config::cli::{ESCAPING, EXAMPLES, EXIT_STATUS, MESSAGES};

/// Text for roff: backslashes, hyphens and quotes escaped as clap_mangen
/// escapes them, and a line never starts with a control character.
fn roff(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            '\'' => out.push_str("\\*(Aq"),
            c => out.push(c),
        }
    }
    if out.starts_with('.') {
        out.insert_str(0, "\\&");
    }
    out
}

fn exit_status_section() -> String {
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_STATUS {
        s.push_str(&format!(".TP\n{code}\n{}\n", roff(meaning)));
    }
    s
}

fn main_sections() -> String {
    format!(
        "{}.SH DIAGNOSTICS\n{}\n.SH ESCAPING\n{}\n",
        exit_status_section(),
        roff(MESSAGES),
        roff(ESCAPING)
    )
}

/// The page clap_mangen renders, with `extra` inserted before the EXTRA
/// section (or VERSION, or at the end).
fn render(cmd: clap::Command, extra: &str) -> Vec<u8> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut page)
        .expect("render man page");
    let mut page = String::from_utf8(page).expect("roff is text");
    let at = ["\n.SH EXTRA\n", "\n.SH VERSION\n"]
        .iter()
        .find_map(|h| page.find(h).map(|i| i + 1))
        .unwrap_or(page.len());
    page.insert_str(at, extra);
    page.into_bytes()
}

#[test]
fn man_pages_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    // The man page gives the examples in EXTRA and the rest in sections of
    // their own, so the long help's extra text is left out there.
    // The package version, not `--version`'s commit (issue 18, install):
    // the pages are checked in and must not change with every commit.
    let mut cmd = sockscope::config::cli::Cli::command()
        .after_long_help(EXAMPLES)
        .version(env!("CARGO_PKG_VERSION"));
    cmd.build();
    let mut pages = vec![(
        "sockscope.1".to_owned(),
        render(cmd.clone(), &main_sections()),
    )];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("sockscope-{}", sub.get_name());
        let file = format!("{name}.1");
        pages.push((
            file,
            render(
                sub.clone().name(&*String::leak(name)),
                &exit_status_section(),
            ),
        ));
    }
    let update = std::env::var_os("UPDATE_MAN").is_some();
    for (file, page) in pages {
        let path = dir.join(&file);
        if update {
            std::fs::write(&path, &page).expect("write man page");
            continue;
        }
        let current = std::fs::read(&path).unwrap_or_default();
        assert!(
            current == page,
            "man/{file} is stale: run `UPDATE_MAN=1 cargo test --test man` and commit it"
        );
    }
}

/// Every exit status and the escaping rule are in the main page.
#[test]
fn man_page_documents_exit_status_and_escaping() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/sockscope.1"))
            .expect("man/sockscope.1");
    let sections: Vec<&str> = page.lines().filter(|l| l.starts_with(".SH")).collect();
    for want in [
        ".SH \"EXIT STATUS\"",
        ".SH DIAGNOSTICS",
        ".SH ESCAPING",
        ".SH EXTRA",
    ] {
        assert!(sections.contains(&want), "{want} missing: {sections:?}");
    }
    for code in ["0", "1", "2", "3", "130"] {
        assert!(
            page.contains(&format!(".TP\n{code}\n")),
            "exit status {code} missing"
        );
    }
    assert!(
        page.contains("\\exNN") && page.contains("U+202E"),
        "escaping rule missing"
    );
}
