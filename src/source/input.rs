//! Opening input files: the one way every reader opens a /proc table, a
//! counter file, a sysctl or a netlink recording.
//!
//! An input is refused unless it is a regular file: a FIFO would block the
//! read forever and a device such as `/dev/zero` never ends. The live /proc
//! passes: its tables are regular files whose size reads as 0 (the size is
//! only known by reading them), so sizes are never checked up front but
//! while reading: a line may be at most [`MAX_LINE`] bytes and a file at
//! most [`MAX_SIZE`]. Each limit is an [`io::Error`] carrying an
//! [`InputLimit`], so every reader reports it the way it reports any read
//! error, with the path it was reading.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The longest line any reader accepts, newline included. The longest line
/// the kernel writes in the files read here is /proc/net/netstat's TcpExt
/// header (about 3 KiB on Linux 6.x); socket table lines are under 200.
pub const MAX_LINE: usize = 64 * 1024;

/// The largest file any reader accepts: about 7 million sockets of
/// /proc/net/tcp6 (150 bytes a line), or a netlink recording of as many.
pub const MAX_SIZE: u64 = 1 << 30;

/// What kind of file an input is, when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Directory,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    Other,
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Other => "not a regular file",
        })
    }
}

/// Why an input was refused or stopped: the payload of the [`io::Error`]
/// the readers report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputLimit {
    #[error("{0}, not a regular file: refusing to read it")]
    NotRegular(FileKind),
    #[error("a line longer than {limit} bytes: not a kernel table")]
    LineTooLong { limit: usize },
    #[error("larger than {limit} bytes: refusing to read further")]
    TooLarge { limit: u64 },
}

impl From<InputLimit> for io::Error {
    fn from(e: InputLimit) -> io::Error {
        let kind = match e {
            InputLimit::NotRegular(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// A reader that fails once more than `limit` bytes were read.
#[derive(Debug)]
pub struct Bounded<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Bounded<R> {
    pub fn new(inner: R, limit: u64) -> Self {
        Bounded {
            inner,
            read: 0,
            limit,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read > self.limit {
            return Err(InputLimit::TooLarge { limit: self.limit }.into());
        }
        // Never ask for more than one byte past the limit.
        let room = usize::try_from(self.limit - self.read + 1).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(InputLimit::TooLarge { limit: self.limit }.into());
        }
        Ok(n)
    }
}

/// An opened input file, read through a large buffer.
pub type Input = BufReader<Bounded<File>>;

/// Opens `path` for reading if it is a regular file (following symlinks),
/// limited to [`MAX_SIZE`] bytes, behind a large buffer (for tables).
pub fn open(path: &Path) -> io::Result<Input> {
    // One big buffer: every read() of a seq_file table walks the socket hash
    // again from the last position, so fewer reads are much cheaper.
    Ok(BufReader::with_capacity(256 * 1024, open_regular(path)?))
}

/// Opens `path` if it is a regular file, limited to [`MAX_SIZE`] bytes,
/// without a buffer (for small files read whole: /proc/PID/comm, a sysctl).
///
/// The file is opened with O_NONBLOCK, so that opening a FIFO does not wait
/// for a writer, checked with fstat (no race with a file swapped in between),
/// and then set back to blocking reads.
pub fn open_regular(path: &Path) -> io::Result<Bounded<File>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let ty = file.metadata()?.file_type();
    if !ty.is_file() {
        let kind = if ty.is_dir() {
            FileKind::Directory
        } else if ty.is_fifo() {
            FileKind::Fifo
        } else if ty.is_char_device() {
            FileKind::CharDevice
        } else if ty.is_block_device() {
            FileKind::BlockDevice
        } else if ty.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        };
        return Err(InputLimit::NotRegular(kind).into());
    }
    set_blocking(&file)?;
    Ok(Bounded::new(file, MAX_SIZE))
}

/// The whole of `path`, opened with [`open_regular`].
pub fn read_to_end(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_regular(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The whole of `path` as text, opened with [`open_regular`].
pub fn read_to_string(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    open_regular(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// Clears O_NONBLOCK (regular files ignore it, but a reader should not
/// depend on that).
fn set_blocking(file: &File) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    fcntl_setfl(file, flags.difference(OFlags::NONBLOCK))?;
    Ok(())
}

/// Reads one line (up to and including `\n`) into `buf`, appending like
/// [`BufRead::read_until`], but fails with [`InputLimit::LineTooLong`]
/// instead of buffering a line longer than [`MAX_LINE`]. Returns the bytes
/// read, 0 at the end.
pub fn read_line<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<usize> {
    let n = reader
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', buf)?;
    if n > MAX_LINE {
        return Err(InputLimit::LineTooLong { limit: MAX_LINE }.into());
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_bounded() {
        let mut text = b"short\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE));
        text.extend_from_slice(b"\nnext\n");
        let mut r = &text[..];
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut r, &mut buf).unwrap(), 6);
        buf.clear();
        let e = read_line(&mut r, &mut buf).unwrap_err();
        let limit = e.get_ref().and_then(|e| e.downcast_ref::<InputLimit>());
        assert_eq!(limit, Some(&InputLimit::LineTooLong { limit: MAX_LINE }));
        // A line of exactly MAX_LINE bytes with its newline is accepted.
        let mut exact = vec![b'y'; MAX_LINE - 1];
        exact.push(b'\n');
        buf.clear();
        assert_eq!(read_line(&mut &exact[..], &mut buf).unwrap(), MAX_LINE);
    }

    #[test]
    fn size_is_bounded() {
        let data = [b'a'; 100];
        let mut ok = Vec::new();
        Bounded::new(&data[..], 100).read_to_end(&mut ok).unwrap();
        assert_eq!(ok.len(), 100);
        let e = Bounded::new(&data[..], 99)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "larger than 99 bytes: refusing to read further"
        );
    }

    #[test]
    fn only_regular_files_are_opened() {
        let e = open(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a character device, not a regular file: refusing to read it"
        );
        let e = open(Path::new("/")).unwrap_err();
        assert!(e.to_string().starts_with("a directory"), "{e}");
        // The live /proc: regular files of size 0.
        let mut text = String::new();
        open(Path::new("/proc/self/net/unix"))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.starts_with("Num"), "{text}");
    }
}
