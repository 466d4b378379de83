//! The services database (/etc/services): port numbers to names, for `-r`.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::Protocol;

/// Port → service name, per protocol, and name or alias → port.
#[derive(Debug, Default, Clone)]
pub struct Services {
    names: HashMap<(Protocol, u16), String>,
    /// Every name and alias (`www` for http), first line per protocol
    /// wins, as getservbyname.
    ports: HashMap<(String, Protocol), u16>,
}

/// The services (or users) file could not be read. Shared (the error is
/// kept with the facts read once and said by each user that needs them).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot read {}", crate::text::escape_path(path))]
pub struct ServicesError {
    pub path: PathBuf,
    #[source]
    pub source: Arc<std::io::Error>,
}

/// Opens `path` as every input is opened and parses it; an error names
/// the file.
fn read_file<T>(
    path: &Path,
    parse: fn(crate::source::input::Input) -> std::io::Result<T>,
) -> Result<T, ServicesError> {
    let err = |source| ServicesError {
        path: path.to_owned(),
        source: Arc::new(source),
    };
    // A FIFO or a device is refused, not read forever (source::input).
    let file = crate::source::input::open(path).map_err(err)?;
    parse(file).map_err(err)
}

impl Services {
    /// Reads `path`; the first name listed for a port wins, as getservbyport.
    pub fn from_file(path: &Path) -> Result<Services, ServicesError> {
        read_file(path, Services::from_reader)
    }

    /// Parses lines of the form `name port/proto [aliases] [# comment]`;
    /// lines that do not fit are skipped, as libc does. Lines are bytes:
    /// a comment or alias in another encoding is no reason to lose the
    /// line, and a name or port that is not UTF-8 only loses its own line.
    pub fn from_reader<R: BufRead>(reader: R) -> std::io::Result<Services> {
        let mut names = HashMap::new();
        let mut ports = HashMap::new();
        for line in reader.split(b'\n') {
            let line = line?;
            let line = line.split(|&b| b == b'#').next().unwrap_or(&[]);
            let mut words = line
                .split(u8::is_ascii_whitespace)
                .filter(|w| !w.is_empty())
                .map(std::str::from_utf8);
            let (Some(Ok(name)), Some(Ok(port_proto))) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let proto = match proto {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                _ => continue,
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            names
                .entry((proto, port))
                .or_insert_with(|| name.to_owned());
            // Aliases that are not UTF-8 are skipped, not the line.
            for alias in std::iter::once(name).chain(words.filter_map(Result::ok)) {
                ports.entry((alias.to_owned(), proto)).or_insert(port);
            }
        }
        Ok(Services { names, ports })
    }

    /// The port of a service name (TCP first, then UDP).
    pub fn port(&self, name: &str) -> Option<u16> {
        [Protocol::Tcp, Protocol::Udp]
            .into_iter()
            .find_map(|proto| self.ports.get(&(name.to_owned(), proto)).copied())
    }

    /// The name of `port` for `proto`, if the database has one.
    pub fn name(&self, proto: Protocol, port: u16) -> Option<&str> {
        self.names.get(&(proto, port)).map(String::as_str)
    }
}

/// uid → user name, from /etc/passwd (for -r with -e).
#[derive(Debug, Default, Clone)]
pub struct Users {
    names: HashMap<u32, String>,
}

impl Users {
    /// Reads `path`; the first name listed for a uid wins.
    pub fn from_file(path: &Path) -> Result<Users, ServicesError> {
        read_file(path, Users::from_reader)
    }

    /// Parses `name:password:uid:...` lines (bytes: a GECOS field in
    /// another encoding does not lose the line); lines whose name or uid is
    /// not usable are skipped.
    pub fn from_reader<R: BufRead>(reader: R) -> std::io::Result<Users> {
        let mut names = HashMap::new();
        for line in reader.split(b'\n') {
            let line = line?;
            let mut fields = line.split(|&b| b == b':').map(std::str::from_utf8);
            let (Some(Ok(name)), Some(_), Some(Ok(uid))) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if let Ok(uid) = uid.parse::<u32>() {
                names.entry(uid).or_insert_with(|| name.to_owned());
            }
        }
        Ok(Users { names })
    }

    pub fn name(&self, uid: u32) -> Option<&str> {
        self.names.get(&uid).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_services_lines() {
        let text = "# comment\nssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\n\
                    domain\t\t53/tcp\nhttp 80/tcp www # WorldWideWeb\nhttp-alt 80/tcp\n\
                    bad line\nntp 123/udp\nweird 99999/tcp\nx y/tcp\n";
        let s = Services::from_reader(text.as_bytes()).unwrap();
        assert_eq!(s.name(Protocol::Tcp, 22), Some("ssh"));
        assert_eq!(s.name(Protocol::Tcp, 80), Some("http"));
        assert_eq!(s.name(Protocol::Udp, 123), Some("ntp"));
        assert_eq!(s.name(Protocol::Tcp, 123), None);
        assert_eq!(s.name(Protocol::Udp, 22), None);
        assert_eq!(s.port("ssh"), Some(22));
        assert_eq!(s.port("ntp"), Some(123));
        assert_eq!(s.port("nope"), None);
        // Aliases name ports too (`sport = :www`, as getservbyname).
        assert_eq!(s.port("www"), Some(80));
        assert_eq!(s.port("http-alt"), Some(80));
    }

    /// Issue 12 item 7: one non-UTF-8 byte used to fail the whole file.
    #[test]
    fn bytes_that_are_not_utf8_lose_only_what_they_touch() {
        let s = Services::from_reader(
            &b"ssh 22/tcp # caf\xe9\nbad\xff 1/tcp\nhttp 80/tcp www\xe9 # x\nntp 123/udp\n"[..],
        )
        .unwrap();
        assert_eq!(s.port("ssh"), Some(22));
        assert_eq!(s.name(Protocol::Tcp, 1), None);
        assert_eq!(s.name(Protocol::Tcp, 80), Some("http"));
        assert_eq!(s.port("ntp"), Some(123));
        assert_eq!(s.port("http"), Some(80), "the bad alias costs only itself");
        let u = Users::from_reader(
            &b"root:x:0:0:r\xe9sum\xe9:/root:/bin/sh\nb\xffd:x:5:5::/:/bin/sh\nnobody:x:65534:1::/:\n"[..],
        )
        .unwrap();
        assert_eq!(u.name(0), Some("root"));
        assert_eq!(u.name(5), None);
        assert_eq!(u.name(65534), Some("nobody"));
    }

    #[test]
    fn parses_passwd_lines() {
        let u = Users::from_reader(
            "root:x:0:0:root:/root:/bin/bash\nbad\nnobody:x:65534:65534::/:/usr/sbin/nologin\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(u.name(0), Some("root"));
        assert_eq!(u.name(65534), Some("nobody"));
        assert_eq!(u.name(1), None);
    }
}
