//! The JSON of `events`/`-E`: each socket the kernel destroyed as one
//! event of the live views' shared shape (README, "Live views"):
//! `{"event":"close","time":...,"netns":...,"socket":{...}}`. The socket's
//! fields also stay at the top level, as `-E --jsonl` printed them before
//! the live views shared one shape (JSON fields are only ever added).
//! `--jsonl`: one line per event as it comes; `--json` (a bounded run): one
//! array at the end.

use std::io::{self, Write};

use super::Printer;
use super::json::{self, PlaceJson};
use crate::model::{EventKind, OtherSocket, Socket, Stamp, UnixSocket};
use crate::pipeline::netns::Place;
use crate::pipeline::{Delivery, Sink};

/// Appends the head every live view's JSON line starts with,
/// `{"event":KIND,"time":TIME,"netns":NETNS,"socket":{...}`, left open for
/// the view's own fields and the closing brace. `time` is
/// [`Stamp::rfc3339`]'s text (a tick's events share one). Returns where
/// the socket's object starts in `buf`.
pub fn write_event_head(
    buf: &mut Vec<u8>,
    place: &PlaceJson,
    kind: EventKind,
    time: &str,
    s: &Socket,
) -> io::Result<usize> {
    buf.extend_from_slice(br#"{"event":"#);
    json::to_writer(&mut *buf, kind.as_str())?;
    buf.extend_from_slice(br#","time":"#);
    json::to_writer(&mut *buf, time)?;
    buf.extend_from_slice(br#","netns":"#);
    json::to_writer(&mut *buf, &place.netns())?;
    buf.extend_from_slice(br#","socket":"#);
    let socket = buf.len();
    place.write_socket(buf, s)?;
    Ok(socket)
}

/// Appends the close event of `s`, stamped `at`, to `buf`.
pub fn write_close(buf: &mut Vec<u8>, place: &PlaceJson, at: Stamp, s: &Socket) -> io::Result<()> {
    let socket = write_event_head(buf, place, EventKind::Close, &at.rfc3339(), s)?;
    // The socket's own fields again, flattened, as -E printed them: its
    // object's text without the `{`, after a `,`.
    let fields = buf[socket + 1..].to_vec();
    if fields.len() > 1 {
        buf.push(b',');
        buf.extend_from_slice(&fields);
    } else {
        buf.push(b'}');
    }
    Ok(())
}

/// The printer of destroyed sockets as JSON events.
pub struct ClosePrinter<'a> {
    out: &'a mut dyn Write,
    /// One array at the end (`--json`) rather than a line per event.
    array: bool,
    events: usize,
    buf: Vec<u8>,
    place: PlaceJson,
}

impl<'a> ClosePrinter<'a> {
    pub fn new(out: &'a mut dyn Write, array: bool) -> ClosePrinter<'a> {
        ClosePrinter {
            out,
            array,
            events: 0,
            buf: Vec::with_capacity(1024),
            place: PlaceJson::default(),
        }
    }
}

impl Sink for ClosePrinter<'_> {
    fn delivery(&self) -> Delivery {
        Delivery::Streamed
    }
    fn enter(&mut self, place: &Place) {
        self.place = PlaceJson::new(place);
    }
    fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.buf.clear();
        if self.array {
            self.buf
                .extend_from_slice(if self.events == 0 { b"[\n" } else { b",\n" });
        }
        write_close(&mut self.buf, &self.place, Stamp::now(), s)?;
        if !self.array {
            self.buf.push(b'\n');
        }
        self.events += 1;
        self.out.write_all(&self.buf)
    }
    fn unix(&mut self, _unix: Vec<UnixSocket>) -> io::Result<()> {
        Ok(())
    }
    fn others(&mut self, _others: Vec<OtherSocket>) -> io::Result<()> {
        Ok(())
    }
}

impl Printer for ClosePrinter<'_> {
    fn finish(&mut self) -> io::Result<()> {
        if self.array {
            self.out
                .write_all(if self.events == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TcpState;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_close_event_nests_and_keeps_the_socket() {
        let s = Socket::test_tcp(TcpState::Close, "127.0.0.1:5000", "127.0.0.1:40000");
        let mut buf = Vec::new();
        let at = Stamp(UNIX_EPOCH + Duration::from_millis(1_500));
        write_close(&mut buf, &PlaceJson::default(), at, &s).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["event"], "close");
        assert_eq!(v["time"], "1970-01-01T00:00:01.500Z");
        assert!(v["netns"].is_null());
        assert_eq!(v["socket"]["state"], "CLOSE");
        assert_eq!(v["socket"]["local"]["port"], 5000);
        // As -E printed it before: the socket's fields at the top too.
        assert_eq!(v["state"], "CLOSE");
        assert_eq!(v["remote"]["port"], 40000);
    }

    #[test]
    fn an_array_of_events_parses_empty_or_not() {
        let s = Socket::test_tcp(TcpState::Close, "127.0.0.1:5000", "127.0.0.1:40000");
        for n in [0, 1, 3] {
            let mut out = Vec::new();
            {
                let mut p = ClosePrinter::new(&mut out, true);
                for _ in 0..n {
                    p.socket(&s).unwrap();
                }
                p.finish().unwrap();
            }
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v.as_array().unwrap().len(), n);
        }
    }
}
