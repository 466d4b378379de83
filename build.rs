//! Sets SOCKSCOPE_VERSION, what `--version` prints after the name: the
//! package version, and when built from a git checkout of sockscope the
//! commit and its date, `0.1.0 (commit abc1234, 2026-11-29)`.
//!
//! Without git, or outside a checkout (a release tarball, `cargo install`
//! from crates.io, a copy vendored into another repository), the version
//! alone. Cargo reruns this only when HEAD moves: the HEAD file, the branch
//! it points to and packed-refs are the files watched, not the sources.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let text = match commit() {
        Some((hash, date)) => format!("{version} (commit {hash}, {date})"),
        None => version,
    };
    println!("cargo:rustc-env=SOCKSCOPE_VERSION={text}");
}

/// `git ARGS` in the package's directory: its trimmed stdout, or None when
/// git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The short hash and commit date (YYYY-MM-DD) of HEAD, when the package
/// directory is the top of a git work tree; the files that say where HEAD
/// is are watched from then on.
fn commit() -> Option<(String, String)> {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let top = PathBuf::from(git(&dir, &["rev-parse", "--show-toplevel"])?);
    // Vendored inside someone else's repository: that commit is not ours.
    if top.canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    // HEAD, the branch HEAD names (a linked work tree keeps HEAD in its own
    // git directory and the branch in the common one) and packed-refs.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in &watched {
        if let Some(path) = git(&dir, &["rev-parse", "--git-path", name]) {
            let mut path = dir.join(path);
            // A missing file would make cargo rerun this on every build. A
            // branch kept only in packed-refs gets its loose file at the
            // next commit: its directory is watched until then.
            while !path.exists() {
                if !name.starts_with("refs/") || !path.pop() {
                    break;
                }
            }
            if !path.exists() {
                continue;
            }
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let hash = git(&dir, &["rev-parse", "--short=7", "HEAD"])?;
    let date = git(&dir, &["log", "-1", "--format=%cs", "HEAD"])?;
    Some((hash, date))
}
