//! `metrics --output FILE`: the exposition written for node_exporter's
//! textfile collector, atomically. The bytes go to `FILE.tmp-PID` in the
//! same directory (same file system, so the rename is atomic), are synced,
//! and the temporary file is renamed over FILE: a reader sees the old file
//! or the new one, never half of one. A failure removes the temporary
//! file.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::text::escape_path;

/// A failed `--output` write, naming the file that failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {what}", escape_path(.path))]
pub struct TextfileError {
    /// The file that failed (the temporary one, or FILE for the rename).
    pub path: PathBuf,
    /// The step that failed.
    pub what: &'static str,
    #[source]
    pub source: io::Error,
}

impl TextfileError {
    /// The directory of FILE does not exist (or FILE names none): the
    /// user named a wrong path.
    pub fn is_missing_directory(&self) -> bool {
        self.what == "creating the temporary file" && self.source.kind() == io::ErrorKind::NotFound
    }
}

/// The temporary file beside `path`: `path.tmp-PID`.
pub fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".tmp-{}", std::process::id()));
    PathBuf::from(name)
}

/// Writes `bytes` to `path` atomically (module doc). The file is made
/// readable by everyone (mode 0644 before the umask): node_exporter runs
/// as its own user.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TextfileError> {
    let tmp = temporary(path);
    let fail = |path: &Path, what, source| TextfileError {
        path: path.to_owned(),
        what,
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(|e| fail(&tmp, "creating the temporary file", e))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| fail(&tmp, "writing the temporary file", e))
        .and_then(|()| {
            drop(file);
            fs::rename(&tmp, path).map_err(|e| fail(path, "renaming the temporary file over it", e))
        });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_then_renames_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("sockscope-textfile-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sockscope.prom");
        fs::write(&file, b"old\n").unwrap();
        write_atomically(&file, b"new\n").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"new\n");
        assert!(!temporary(&file).exists());
        let missing = dir.join("nope/sockscope.prom");
        let err = write_atomically(&missing, b"x").unwrap_err();
        assert!(err.is_missing_directory(), "{err}");
        assert!(
            err.to_string().contains("nope/sockscope.prom.tmp-"),
            "{err}"
        );
        // A directory in FILE's place: the rename fails, the temporary
        // file is removed, the error names FILE.
        let taken = dir.join("taken");
        fs::create_dir_all(taken.join("inside")).unwrap();
        let err = write_atomically(&taken, b"x").unwrap_err();
        assert!(!err.is_missing_directory());
        assert!(
            err.to_string()
                .ends_with("taken: renaming the temporary file over it"),
            "{err}"
        );
        assert!(!temporary(&taken).exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
