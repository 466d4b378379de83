//! Issue 18, install: `sockscope completions SHELL` and the scripts under
//! completions/ (generated like the man pages: this test fails when they
//! are stale; `UPDATE_COMPLETIONS=1 cargo test --test completions`
//! rewrites them), bash loading them and completing real partial words,
//! zsh and fish parsing theirs, and `--version` naming HEAD's commit.
//!
//! A test that needs what this machine lacks (zsh, fish, git, root for a
//! named namespace) says so on stderr; with CI=true that is a failure.

pub mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::netns::{TestNetns, is_root, run_bounded};

/// Each shell clap_complete knows, and its file under completions/ (the
/// names the shells look for when installed: zsh's `_sockscope`).
const SCRIPTS: &[(&str, &str)] = &[
    ("bash", "sockscope.bash"),
    ("zsh", "_sockscope"),
    ("fish", "sockscope.fish"),
    ("elvish", "sockscope.elv"),
    ("powershell", "sockscope.ps1"),
];

const LIMIT: Duration = Duration::from_secs(30);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script(file: &str) -> PathBuf {
    repo().join("completions").join(file)
}

fn sockscope(args: &[&str]) -> Output {
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_sockscope")).args(args),
        LIMIT,
    )
}

use common::can_run;

/// `None` when `tool` is on PATH, else the reason.
fn missing_tool(tool: &str) -> Option<String> {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(tool).is_file()));
    (!found).then(|| format!("{tool} is not installed (.ci/setup installs it)"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn completion_scripts_are_up_to_date() {
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some();
    if update {
        std::fs::create_dir_all(repo().join("completions")).expect("mkdir completions");
    }
    for (shell, file) in SCRIPTS {
        let out = sockscope(&["completions", shell]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "completions {shell}: {}",
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("sockscope"),
            "{shell}: no script"
        );
        let path = script(file);
        if update {
            // Written beside and renamed: the other tests read the files
            // meanwhile.
            let tmp = path.with_file_name(format!("{file}.new"));
            std::fs::write(&tmp, &out.stdout).expect("write completion script");
            std::fs::rename(&tmp, &path).expect("rename completion script");
            continue;
        }
        let current = std::fs::read(&path).unwrap_or_default();
        assert!(
            current == out.stdout,
            "completions/{file} is stale: run `UPDATE_COMPLETIONS=1 cargo test --test completions` and commit it"
        );
    }
}

/// `completions` is a subcommand, not a filter word, and takes no listing
/// flag or filter (exit 2, naming the flag), as the other views refuse
/// theirs; an unknown shell is a usage error.
#[test]
fn completions_subcommand_refuses_listing_flags() {
    let out = sockscope(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("_sockscope() {"));
    for (args, flag) in [
        (&["completions", "bash", "-t"][..], "-t"),
        (&["-tln", "completions", "zsh"][..], "-t"),
        (&["completions", "fish", "--json"][..], "--json"),
        (&["-N", "nowhere", "completions", "bash"][..], "-N"),
        // Regression: a hand-kept list of the flags missed -W, added later;
        // clap's own record of what was typed misses none.
        (&["completions", "bash", "-W"][..], "-W"),
    ] {
        let out = sockscope(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("{flag} cannot be used with completions")),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // A closed stdout (the script is larger than a pipe's buffer) ends the
    // run quietly with 0.
    let program = format!(
        "'{}' completions powershell | head -c 10 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_sockscope")
    );
    let out = run_bounded(Command::new("bash").args(["-c", &program]), LIMIT);
    assert_eq!(text(&out.stdout).trim(), "0", "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let out = sockscope(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid value 'tcsh'"));
}

/// bash: what `source FILE; BODY` prints, run with no rc files.
fn bash(body: &str) -> String {
    let program = format!(
        "source {} || exit 9\n{body}",
        script("sockscope.bash").display()
    );
    let out = run_bounded(
        Command::new("bash").args(["--norc", "--noprofile", "-c", &program]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "bash: {}", text(&out.stderr));
    text(&out.stdout)
}

/// What bash's completion function offers for the command line `words`
/// with the cursor at the end of the last word, one per line, sorted.
fn complete(words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let line = words.join(" ");
    let body = format!(
        "COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT={point}\n\
         _sockscope_netns sockscope '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cword = words.len() - 1,
        point = line.len(),
        cur = words[words.len() - 1],
        prev = words[words.len().saturating_sub(2)],
    );
    let mut got: Vec<String> = bash(&body).lines().map(str::to_owned).collect();
    got.sort();
    got
}

#[test]
fn bash_loads_the_script_and_completes_words() {
    if !can_run(
        missing_tool("bash"),
        "bash_loads_the_script_and_completes_words",
    ) {
        return;
    }
    let registered = bash("complete -p sockscope");
    assert_eq!(
        registered.trim(),
        "complete -o bashdefault -o default -o nosort -F _sockscope_netns sockscope"
    );
    // A subcommand.
    assert_eq!(complete(&["sockscope", "lis"]), ["listeners"]);
    assert_eq!(complete(&["sockscope", "why"]), ["why-bind"]);
    assert_eq!(complete(&["sockscope", "compl"]), ["completions"]);
    // Flags, long and after a subcommand.
    assert_eq!(complete(&["sockscope", "--all-n"]), ["--all-netns"]);
    assert_eq!(
        complete(&["sockscope", "who", "--jso"]),
        ["--json", "--jsonl"]
    );
    // The filter's state names and keywords.
    assert_eq!(
        complete(&["sockscope", "-tn", "state", "esta"]),
        ["established"]
    );
    assert_eq!(
        complete(&["sockscope", "-tn", "state", "time"]),
        ["time-wait"]
    );
    assert_eq!(complete(&["sockscope", "-t", "dpo"]), ["dport"]);
    // State names only where a state name may stand.
    assert_eq!(
        complete(&["sockscope", "-t", "exclude", "li"]),
        ["listening"]
    );
    assert!(!complete(&["sockscope", "-t", ""]).contains(&"listening".to_owned()));
    assert_eq!(
        complete(&["sockscope", "watch", "state", "syn-"]),
        ["syn-recv", "syn-sent"]
    );
    // A value from a fixed list.
    assert_eq!(complete(&["sockscope", "completions", "fi"]), ["fish"]);
    assert_eq!(complete(&["sockscope", "--source", "p"]), ["proc"]);
}

/// -N/--net completes the names under /run/netns: a namespace made for
/// the test is offered by its name's prefix.
#[test]
fn bash_completes_namespace_names() {
    let root = (!is_root()).then(|| "not root: cannot make a named namespace".to_owned());
    if !can_run(
        root.or_else(|| missing_tool("ip")),
        "bash_completes_namespace_names",
    ) {
        return;
    }
    let ns = TestNetns::named();
    let name = ns.name().expect("a named namespace").to_owned();
    // Every name under /run/netns that starts as ours does, ours among
    // them (other tests' namespaces may share the prefix).
    let prefix = &name[..name.len() - 1];
    for flag in ["-N", "--net"] {
        let got = complete(&["sockscope", flag, prefix]);
        assert!(got.contains(&name), "{flag} {prefix}: {got:?}");
        assert!(got.iter().all(|g| g.starts_with(prefix)), "{got:?}");
    }
    assert_eq!(complete(&["sockscope", "-N", &name]), [name]);
}

#[test]
fn zsh_parses_its_script() {
    if !can_run(missing_tool("zsh"), "zsh_parses_its_script") {
        return;
    }
    let out = run_bounded(
        Command::new("zsh")
            .args(["-n", "-f"])
            .arg(script("_sockscope")),
        LIMIT,
    );
    assert!(out.status.success(), "zsh -n: {}", text(&out.stderr));
    // And loads it as a completion function, under compinit.
    let program = format!(
        "autoload -Uz compinit && compinit -u -D && fpath=({} $fpath) && autoload -Uz _sockscope \
         && (( $+functions[_sockscope] )) && print ok",
        repo().join("completions").display()
    );
    let out = run_bounded(
        Command::new("zsh")
            .args(["-f", "-c", &program])
            .env("HOME", std::env::temp_dir()),
        LIMIT,
    );
    assert_eq!(text(&out.stdout).trim(), "ok", "{}", text(&out.stderr));
    // Its functions for the filter's words, called as the completion
    // system would (compadd replaced by one that prints what it is given).
    let program = format!(
        "source {} && compadd() {{ print -l -- \"${{@[2,-1]}}\" }} \
         && words=(sockscope -t state est) && CURRENT=4 && _sockscope_filter && print sep \
         && words=(sockscope -t dp) && CURRENT=3 && _sockscope_filter",
        script("_sockscope").display()
    );
    let out = run_bounded(
        Command::new("zsh")
            .args(["-f", "-c", &format!("compdef() {{ }}; {program}")])
            .env("HOME", std::env::temp_dir()),
        LIMIT,
    );
    let got = text(&out.stdout);
    let (states, keywords) = got.split_once("sep\n").expect("two lists");
    assert!(
        states.lines().any(|l| l == "established") && !states.contains("dport"),
        "{got} {}",
        text(&out.stderr)
    );
    assert!(
        keywords.lines().any(|l| l == "dport") && !keywords.contains("established"),
        "{got}"
    );
    let script = std::fs::read_to_string(script("_sockscope")).expect("_sockscope");
    assert!(script.contains(":NETNS:_sockscope_netns'"), "-N's names");
}

#[test]
fn fish_parses_its_script() {
    if !can_run(missing_tool("fish"), "fish_parses_its_script") {
        return;
    }
    let out = run_bounded(
        Command::new("fish")
            .arg("--no-execute")
            .arg(script("sockscope.fish")),
        LIMIT,
    );
    assert!(out.status.success(), "fish -n: {}", text(&out.stderr));
    // Loaded, it completes a subcommand.
    let program = format!(
        "source {}; complete -C 'sockscope lis'; echo sep; complete -C 'sockscope -t state time'",
        script("sockscope.fish").display()
    );
    let home = std::env::temp_dir().join(format!("sockscope-fish-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("fish home");
    let out = run_bounded(
        Command::new("fish")
            .args(["--no-config", "-c", &program])
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data")),
        LIMIT,
    );
    let _ = std::fs::remove_dir_all(&home);
    let got = text(&out.stdout);
    let words: Vec<&str> = got.lines().filter_map(|l| l.split('\t').next()).collect();
    assert_eq!(
        words,
        ["listeners", "sep", "time-wait"],
        "{got} {}",
        text(&out.stderr)
    );
}

/// `--version` is `sockscope VERSION (commit HASH, DATE)` with HEAD's
/// short hash and commit date, in a git checkout.
#[test]
fn version_names_the_commit_of_head() {
    let git =
        |args: &[&str]| run_bounded(Command::new("git").arg("-C").arg(repo()).args(args), LIMIT);
    let missing = missing_tool("git").or_else(|| {
        let top = git(&["rev-parse", "--show-toplevel"]);
        let top = Path::new(text(&top.stdout).trim()).canonicalize().ok();
        (top != repo().canonicalize().ok()).then(|| "not a git checkout".to_owned())
    });
    if !can_run(missing, "version_names_the_commit_of_head") {
        return;
    }
    let hash = text(&git(&["rev-parse", "--short=7", "HEAD"]).stdout);
    let date = text(&git(&["log", "-1", "--format=%cs", "HEAD"]).stdout);
    let out = sockscope(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "sockscope {} (commit {}, {})\n",
            env!("CARGO_PKG_VERSION"),
            hash.trim(),
            date.trim()
        )
    );
}
