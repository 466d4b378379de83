//! STUB (replaced by the real parser).
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnixKind {
    Stream,
    Dgram,
    SeqPacket,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixEntry {
    pub kind: UnixKind,
    pub ss_state: u8,
    pub listening: bool,
    pub inode: u64,
    pub path: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read {}", path.display())]
pub struct UnixProcError {
    pub path: PathBuf,
}

pub fn read(path: &Path, _each: impl FnMut(UnixEntry)) -> Result<(), UnixProcError> {
    Err(UnixProcError {
        path: path.to_owned(),
    })
}
