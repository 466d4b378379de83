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

/// FILTER: the filter language, in brief (README's "Filters" has it all).
const FILTER: &[(&str, &str)] = &[
    (
        "state WORD..., exclude WORD...",
        "Which TCP states to list: established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, \
         time-wait, closed, close-wait, last-ack, listening, closing (or their kernel spelling, \
         ESTABLISHED, TIME_WAIT, any case) and the groups all, connected, synchronized, bucket, \
         big. state starts from nothing, exclude from everything; either overrides -a and -l.",
    ),
    (
        "src HOST, dst HOST",
        "The local or remote address: ADDR, ADDR/PREFIX, ADDR:PORT, [IPv6]:PORT, *:PORT, :PORT, \
         a host name (every address it has), with = (or ==, eq) or != (neq). A HOST may start \
         with a family, inet:, inet6: or unix: (a glob of UNIX socket names).",
    ),
    (
        "sport OP PORT, dport OP PORT",
        "The local or remote port, a number or an /etc/services name, with = == != < <= > >= \
         (or eq neq lt le gt ge).",
    ),
    (
        "dev NAME, fwmark VALUE[/MASK], cgroup PATH, autobound",
        "The bound interface, the socket mark, the cgroup2 directory, an autobound UNIX name.",
    ),
    (
        "uid OP N, pid N, comm NAME, netns NAME, container NAME",
        "sockscope's own: the owner's uid, a process, a command name, a network namespace or a \
         container (these two read every namespace, as --all-netns).",
    ),
    (
        "and, or, not, ( )",
        "Also && & || | !, and juxtaposition for and. As in ss, and and or share one level and \
         read left to right: a or b and c is (a or b) and c. At most 1000 terms and 100 levels.",
    ),
    (
        "-F FILE",
        "The expression's words from FILE (- for standard input), # comments, after the \
         command line's.",
    ),
];

/// COLUMNS: what the socket table's columns mean.
const COLUMNS: &[(&str, &str)] = &[
    (
        "Netid",
        "The socket kind (tcp, udp, u_str, ...), shown when more than one is listed.",
    ),
    ("State", "The TCP state (UDP: UNCONN or ESTAB)."),
    (
        "Recv-Q, Send-Q",
        "For a connection: bytes received and not yet read by the application, bytes sent and \
         not yet acknowledged. For a LISTEN socket: the accept queue's length (connections the \
         kernel completed that nobody has accept()ed) and the backlog (its limit).",
    ),
    (
        "Local Address:Port, Peer Address:Port",
        "The four-tuple; * for a wildcard address or port, [IPv6] in brackets.",
    ),
    (
        "Process",
        "With -p: each process holding the socket as name/pid fd=N, comma-separated. A \
         connection waiting in an accept queue has no descriptor yet; it shows (accept queue of \
         name/pid), its listener's owners.",
    ),
];

fn list_section(title: &str, items: &[(&str, &str)]) -> String {
    let mut s = format!(".SH {title}\n");
    for (term, meaning) in items {
        s.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(term), roff(meaning)));
    }
    s
}

/// OWNERS: where -p's owners come from (issue 19).
const OWNERS: &str = "As root, the owners come from the kernel itself: a BPF iterator \
     (iter/task_file) that sockscope assembles at run time from the field offsets in the \
     kernel's BTF (--btf, default /sys/kernel/btf/vmlinux) lists every socket descriptor of \
     every process in one read; nothing is pinned or left behind. It needs CAP_BPF and \
     CAP_PERFMON (or CAP_SYS_ADMIN) and BTF. Otherwise (not root, a user namespace, no BTF, a \
     seccomp filter or lockdown refusing bpf(2), a /proc of another pid namespace, -T, \
     --proc-root) the owners come from a walk of \
     /proc/*/fd, silently; -v says which source answered and why. --owners-source proc \
     always walks; --owners-source bpf fails with exit status 3 when the iterator cannot \
     run. Both give the same owners, with pids as the caller's pid namespace numbers them.";

fn main_sections() -> String {
    format!(
        "{}{}.SH OWNERS\n{}\n{}.SH JSON\n{}\n.SH DIAGNOSTICS\n{}\n.SH ESCAPING\n{}\n.SH \"SEE ALSO\"\n{}\n",
        list_section("FILTER", FILTER),
        list_section("COLUMNS", COLUMNS),
        roff(OWNERS),
        exit_status_section(),
        roff(
            "--json prints one document, --jsonl one object per line: a stable schema (fields \
             are added, never renamed or removed), documented in README.md, \"JSON output\", \
             with JSON Schema files for every document in schema/."
        ),
        roff(MESSAGES),
        roff(ESCAPING),
        "\\fBss\\fR(8), \\fBnetstat\\fR(8), \\fBlsof\\fR(8), \\fBnstat\\fR(8), \\fBip\\-netns\\fR(8), \\fBproc\\fR(5), \\fBbpf\\fR(2)"
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
