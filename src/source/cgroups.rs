//! cgroup v2 ids to paths, as ss's `cgroup:` field shows them (iproute2
//! lib/cg_map.c): the first cgroup2 mount listed in /proc/self/mounts is
//! walked once (not crossing into other mounts), each directory's id being
//! its inode number (kernfs: the cgroup id is the directory's inode on
//! 64-bit kernels); a path is shown relative to the mount, the root as
//! `/`. An id not found, or any id when no cgroup2 is mounted, reads
//! `unreachable:ID` (hex), as ss prints it.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// cgroup ids and their paths, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupPaths {
    paths: HashMap<u64, String>,
}

/// How deep the walk goes (ss's nftw takes 1024 descriptors; cgroup trees
/// are shallow).
const MAX_DEPTH: usize = 64;

impl CgroupPaths {
    /// Walks the cgroup2 mount of `mounts` (the text of /proc/self/mounts);
    /// empty when there is none or it cannot be read.
    pub fn read() -> CgroupPaths {
        let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        match cgroup2_mount(&mounts) {
            Some(root) => CgroupPaths::walk(&root),
            None => CgroupPaths::default(),
        }
    }

    /// The ids of every directory under `root` (same filesystem only).
    pub fn walk(root: &Path) -> CgroupPaths {
        let mut paths = HashMap::new();
        let Ok(meta) = fs::metadata(root) else {
            return CgroupPaths { paths };
        };
        let dev = meta.dev();
        paths.insert(meta.ino(), "/".to_owned());
        let mut stack: Vec<(PathBuf, usize)> = vec![(root.to_path_buf(), 0)];
        while let Some((dir, depth)) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                // symlink_metadata: never follow a link out of the tree.
                let Ok(meta) = fs::symlink_metadata(&path) else {
                    continue;
                };
                if !meta.is_dir() || meta.dev() != dev {
                    continue;
                }
                if let Ok(rel) = path.strip_prefix(root) {
                    let shown = format!("/{}", rel.to_string_lossy());
                    paths.entry(meta.ino()).or_insert(shown);
                }
                if depth < MAX_DEPTH {
                    stack.push((path, depth + 1));
                }
            }
        }
        CgroupPaths { paths }
    }

    /// The path of cgroup `id`, or `unreachable:ID` as ss prints it.
    pub fn path(&self, id: u64) -> String {
        match self.paths.get(&id) {
            Some(p) => p.clone(),
            None => format!("unreachable:{id:x}"),
        }
    }
}

/// The mount point of the first cgroup2 filesystem in a mounts table
/// (`DEVICE MOUNTPOINT TYPE ...`; a space in the path is written `\040`).
pub fn cgroup2_mount(mounts: &str) -> Option<PathBuf> {
    mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (_, dir, kind) = (fields.next()?, fields.next()?, fields.next()?);
        (kind == "cgroup2").then(|| PathBuf::from(unescape_octal(dir)))
    })
}

/// Undoes the `\NNN` octal escapes of /proc/mounts.
fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(code) = bytes
                .get(i + 1..i + 4)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount() {
        let mounts = "cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\n\
                      cgroup2 /sys/fs/cgroup/uni\\040fied cgroup2 rw 0 0\n\
                      cgroup2 /other cgroup2 rw 0 0\n";
        assert_eq!(
            cgroup2_mount(mounts),
            Some(PathBuf::from("/sys/fs/cgroup/uni fied"))
        );
        assert_eq!(cgroup2_mount("proc /proc proc rw 0 0\n"), None);
    }

    #[test]
    fn unknown_ids_are_unreachable() {
        let none = CgroupPaths::default();
        assert_eq!(none.path(1), "unreachable:1");
        assert_eq!(none.path(0x2a), "unreachable:2a");
        let dir = std::env::temp_dir().join(format!("sockscope-cg-{}", std::process::id()));
        fs::create_dir_all(dir.join("a/b")).unwrap();
        let paths = CgroupPaths::walk(&dir);
        let ino = |p: &Path| fs::metadata(p).unwrap().ino();
        assert_eq!(paths.path(ino(&dir)), "/");
        assert_eq!(paths.path(ino(&dir.join("a/b"))), "/a/b");
        fs::remove_dir_all(&dir).unwrap();
    }
}
