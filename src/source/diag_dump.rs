//! `-D/--diag FILE` (as ss -D): the raw replies of the TCP sock_diag dump,
//! every datagram byte for byte as the kernel sent it, IPv4's dump then
//! IPv6's (as ss writes them), no request and no other framing: what
//! iproute2's `TCPDIAG_FILE=FILE ss` reads back (it stops at the first
//! NLMSG_DONE, so it shows the first family's rows). The file is made as
//! `--record` makes its own ([`super::netlink::create_private`]): mode
//! 0600, never through a symbolic link, never over an existing file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::netlink::{self, CreateFailure, DumpParser};
use super::{DumpId, Query, RecordRefusal, SourceError, Table};
use crate::model::Protocol;

/// Receive buffer: as large as the dump reader's.
const RECV_BUFFER: usize = 64 * 1024;

/// What a `-D` run wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub sockets: usize,
    pub bytes: usize,
}

/// A failure of `-D`.
#[derive(Debug, thiserror::Error)]
pub enum DiagError {
    #[error(
        "-D file {} {}; nothing was written",
        crate::text::escape_path(path),
        refusal(reason)
    )]
    Refused {
        path: PathBuf,
        reason: RecordRefusal,
    },
    #[error("cannot write -D file {}", crate::text::escape_path(path))]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the -D dump to stdout")]
    Output(#[source] io::Error),
    #[error(transparent)]
    Source(#[from] SourceError),
}

fn refusal(reason: &RecordRefusal) -> String {
    match reason {
        RecordRefusal::Exists => {
            "already exists (it is never replaced: remove it, or write to stdout with -D -)".into()
        }
        other => other.to_string(),
    }
}

/// Writes the TCP dump of `query` (its states and families; no kernel
/// filter, as ss) into a new file at `path`.
pub fn write_file(query: &Query, path: &Path) -> Result<Written, DiagError> {
    let file = netlink::create_private(path, false).map_err(|e| match e {
        CreateFailure::Refused(reason) => DiagError::Refused {
            path: path.to_owned(),
            reason,
        },
        CreateFailure::Io(source) => DiagError::Write {
            path: path.to_owned(),
            source,
        },
    })?;
    let mut file = io::BufWriter::new(file);
    let failed = |source| DiagError::Write {
        path: path.to_owned(),
        source,
    };
    let written = dump(query, &mut file).map_err(|e| match e {
        DiagError::Output(source) => failed(source),
        other => other,
    })?;
    file.flush().map_err(failed)?;
    file.get_ref().sync_all().map_err(failed)?;
    Ok(written)
}

/// Writes the TCP dump of `query` to `out` (`-D -`: stdout).
pub fn dump(query: &Query, out: &mut dyn Write) -> Result<Written, DiagError> {
    let mut sock = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_SOCK_DIAG)
        .map_err(SourceError::NetlinkOpen)?;
    sock.bind_auto().map_err(SourceError::NetlinkOpen)?;
    sock.connect(&netlink_sys::SocketAddr::new(0, 0))
        .map_err(SourceError::NetlinkOpen)?;
    let plain = Query {
        bytecode: None,
        ..query.clone()
    };
    let mut written = Written::default();
    let mut buf = vec![0u8; RECV_BUFFER];
    for (seq, family) in (1u32..).zip(&query.families) {
        let table = Table {
            family: *family,
            proto: Protocol::Tcp,
        };
        let dump_id = DumpId::Inet(table);
        let request = netlink::build_request(table, &plain, seq);
        let io_err = |op, source| SourceError::NetlinkIo {
            op,
            table: dump_id,
            source,
        };
        sock.send(&request, 0).map_err(|e| io_err("send", e))?;
        let mut parser = DumpParser::new(dump_id);
        while !parser.done {
            let n = netlink::recv(&sock, &mut buf).map_err(|e| io_err("receive", e))?;
            if n > buf.len() {
                return Err(SourceError::Truncated {
                    table: dump_id,
                    len: n,
                    buffer: buf.len(),
                }
                .into());
            }
            if n == 0 {
                return Err(SourceError::Unterminated.into());
            }
            let datagram = &buf[..n];
            parser.feed(datagram, &mut |_| {
                written.sockets += 1;
                Ok(())
            })?;
            out.write_all(datagram).map_err(DiagError::Output)?;
            written.bytes += n;
        }
    }
    Ok(written)
}
