//! Issue 18, install: the Debian package. `cargo deb` (cargo-deb, which
//! .ci/setup installs) builds it from the release build into a temporary
//! directory; its file list (`dpkg-deb -c`) must be exactly the binary,
//! every man page gzipped, the bash, zsh and fish completions where each
//! shell looks, README and the systemd units as examples; its control
//! (`dpkg-deb -I`) names the package, version and architecture; unpacked
//! into a temporary root (`dpkg -x`), its binary runs `--version`.
//!
//! Without cargo-deb or dpkg-deb the test says so on stderr; with CI=true
//! it fails instead. It builds the release profile (minutes the first
//! time, nothing when target/release is current).

pub mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::netns::{run_bounded, say};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether cargo set `name` for this test (the package's CARGO_PKG_*,
/// CARGO_MANIFEST_DIR, OUT_DIR, ...). A cargo run from here must not
/// inherit them: build scripts that watch them (ring's do) would rerun and
/// rebuild the release profile that a plain `cargo build --release` made.
fn set_by_cargo_test(name: &str) -> bool {
    [
        "CARGO_PKG_",
        "CARGO_BIN_",
        "CARGO_CRATE_",
        "CARGO_MANIFEST_",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// `program ARGS`, which must succeed within `limit`.
fn run(program: &str, args: &[&str], limit: Duration) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(repo());
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_test) {
            cmd.env_remove(name);
        }
    }
    let out = run_bounded(&mut cmd, limit);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// Why the package cannot be built here, if it cannot.
fn missing() -> Option<String> {
    let works = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works("cargo", &["deb", "--version"]) {
        return Some(
            "cargo-deb is not installed (`cargo install cargo-deb --locked`; .ci/setup does)"
                .into(),
        );
    }
    if !works("dpkg-deb", &["--version"]) {
        return Some("dpkg-deb is not installed".into());
    }
    None
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("sockscope-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("make a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The files (not directories) a `dpkg-deb -c` listing names, without the
/// leading `./`.
fn listed_files(listing: &str) -> BTreeSet<String> {
    listing
        .lines()
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches("./").to_owned())
        .collect()
}

/// The value of `field` in a `dpkg-deb -I` control listing.
fn field<'a>(control: &'a str, field: &str) -> Option<&'a str> {
    control
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{field}: ")))
}

#[test]
fn debian_package_installs_binary_man_pages_and_completions() {
    if let Some(why) = missing() {
        if in_ci() {
            panic!("package test: {why} (CI=true: everything must be there)");
        }
        say(&format!("package test not run: {why}"));
        return;
    }
    let tmp = TempDir::new("deb");
    let deb = tmp.0.join("sockscope.deb");
    let deb_arg = deb.to_str().expect("a UTF-8 temporary path");
    // The release build can take minutes on a cold target directory.
    run(
        "cargo",
        &["deb", "--output", deb_arg],
        Duration::from_secs(1800),
    );

    let limit = Duration::from_secs(60);
    let listing = text(&run("dpkg-deb", &["-c", deb_arg], limit).stdout);
    let files = listed_files(&listing);
    let mut want: BTreeSet<String> = [
        "usr/bin/sockscope",
        "usr/share/bash-completion/completions/sockscope",
        "usr/share/zsh/vendor-completions/_sockscope",
        "usr/share/fish/vendor_completions.d/sockscope.fish",
        "usr/share/doc/sockscope/README.md",
        "usr/share/doc/sockscope/copyright",
        "usr/share/doc/sockscope/examples/sockscope.service",
        "usr/share/doc/sockscope/examples/sockscope-textfile.service",
        "usr/share/doc/sockscope/examples/sockscope-textfile.timer",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    // Every page under man/, gzipped.
    let mut pages = 0;
    for entry in std::fs::read_dir(repo().join("man")).expect("man/") {
        let name = entry.expect("man/ entry").file_name();
        let name = name.to_str().expect("a UTF-8 page name");
        if name.ends_with(".1") {
            want.insert(format!("usr/share/man/man1/{name}.gz"));
            pages += 1;
        }
    }
    assert!(pages >= 10, "only {pages} man pages under man/");
    assert_eq!(files, want, "dpkg-deb -c:\n{listing}");
    // The binary is executable.
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("./usr/bin/sockscope")),
        "{listing}"
    );

    let control = text(&run("dpkg-deb", &["-I", deb_arg], limit).stdout);
    let arch = text(&run("dpkg", &["--print-architecture"], limit).stdout);
    assert_eq!(field(&control, "Package"), Some("sockscope"), "{control}");
    assert_eq!(
        field(&control, "Version").map(|v| v.split('-').next().unwrap_or(v)),
        Some(env!("CARGO_PKG_VERSION")),
        "{control}"
    );
    assert_eq!(
        field(&control, "Architecture"),
        Some(arch.trim()),
        "{control}"
    );
    assert_eq!(field(&control, "Section"), Some("net"), "{control}");
    assert!(
        field(&control, "Description").is_some_and(|d| d.contains("Connection-state inspector")),
        "{control}"
    );

    // Unpacked into a temporary root, the binary runs and the pages read.
    let root = tmp.0.join("root");
    let root_arg = root.to_str().expect("a UTF-8 temporary path");
    run("dpkg", &["-x", deb_arg, root_arg], limit);
    let binary = root.join("usr/bin/sockscope");
    let out = run_bounded(Command::new(&binary).arg("--version"), limit);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let version = text(&out.stdout);
    assert!(
        version.starts_with(&format!("sockscope {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let page = root.join("usr/share/man/man1/sockscope.1.gz");
    let out = run_bounded(Command::new("gzip").arg("-dc").arg(&page), limit);
    assert!(
        out.status.success() && text(&out.stdout).contains(".TH sockscope 1"),
        "{}: {}",
        page.display(),
        text(&out.stderr)
    );
    // The installed bash completion is the checked-in one.
    let installed = std::fs::read(root.join("usr/share/bash-completion/completions/sockscope"))
        .expect("installed bash completion");
    let checked_in = std::fs::read(Path::new(&repo()).join("completions/sockscope.bash"))
        .expect("completions/sockscope.bash");
    assert!(installed == checked_in, "bash completion differs");
}

/// `.ci/tarball` makes sockscope-VERSION-ARCH-linux.tar.gz: one directory
/// holding the binary, every man page, the five completion scripts, the
/// systemd units and README. Gated as the package test (it builds the
/// release profile too), where .ci/setup ran.
#[test]
fn release_tarball_holds_binary_pages_and_completions() {
    if let Some(why) = missing() {
        if in_ci() {
            panic!("tarball test: {why} (CI=true: everything must be there)");
        }
        say(&format!("tarball test not run: {why}"));
        return;
    }
    let tmp = TempDir::new("tarball");
    let out_arg = tmp.0.to_str().expect("a UTF-8 temporary path");
    let made = run("bash", &[".ci/tarball", out_arg], Duration::from_secs(1800));
    let tarball = PathBuf::from(text(&made.stdout).trim());
    let name = tarball
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".tar.gz"))
        .expect("a .tar.gz")
        .to_owned();
    assert!(
        name.starts_with(&format!("sockscope-{}-", env!("CARGO_PKG_VERSION")))
            && name.ends_with("-linux"),
        "{name}"
    );
    let limit = Duration::from_secs(60);
    let listing = text(&run("tar", &["-tzf", tarball.to_str().expect("UTF-8")], limit).stdout);
    let files: BTreeSet<String> = listing
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(str::to_owned)
        .collect();
    let mut want: BTreeSet<String> = [
        "sockscope",
        "README.md",
        "completions/sockscope.bash",
        "completions/_sockscope",
        "completions/sockscope.fish",
        "completions/sockscope.elv",
        "completions/sockscope.ps1",
        "deploy/sockscope.service",
        "deploy/sockscope-textfile.service",
        "deploy/sockscope-textfile.timer",
    ]
    .into_iter()
    .map(|f| format!("{name}/{f}"))
    .collect();
    for entry in std::fs::read_dir(repo().join("man")).expect("man/") {
        let file = entry.expect("man/ entry").file_name();
        let file = file.to_str().expect("a UTF-8 page name");
        if file.ends_with(".1") {
            want.insert(format!("{name}/man/{file}"));
        }
    }
    assert_eq!(files, want, "tar -tzf:\n{listing}");
    // Unpacked, the binary runs.
    run(
        "tar",
        &["-xzf", tarball.to_str().expect("UTF-8"), "-C", out_arg],
        limit,
    );
    let out = run_bounded(
        Command::new(tmp.0.join(&name).join("sockscope")).arg("--version"),
        limit,
    );
    assert!(
        text(&out.stdout).starts_with(&format!("sockscope {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&out.stderr)
    );
}
