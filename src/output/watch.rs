//! `watch`'s printers: what one tick changed, as a redrawn terminal screen
//! ([`Screen`]), as one line per event in a pipe (the table's row after
//! the time and the event), or as the live views' JSON event lines
//! (`--jsonl`, or one array at the end with `--json`). One is chosen per
//! run ([`watch_printer`]); every row goes through the listing's table
//! code ([`TableWriter`]) with its mark in front.
//!
//! The JSON line contract shared with `events` and `trace` (README, "JSON
//! output"): `{"event":…,"time":…,"netns":…,"socket":{the --jsonl
//! object},"previous":{…}}`, then watch's own `"change"` and `"level"` on
//! queue events.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use super::OutputFormat;
use super::json::{self, PlaceJson};
use super::table::{TableOptions, TableWriter};
use crate::analysis::watch::{Change, QueueChange, QueueLevel, Tally};
use crate::model::{EventKind, Protocol, Socket, Stamp, TcpState};
use crate::pipeline::netns::Place;
use crate::source::services::{Services, Users};
use unicode_width::UnicodeWidthChar;

/// Whether stdout is a terminal (the screen is drawn only there).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// stdout's terminal size (rows, columns), when it is a terminal that says.
pub fn terminal_size() -> Option<(usize, usize)> {
    let size = rustix::termios::tcgetwinsize(io::stdout()).ok()?;
    (size.ws_row > 0 && size.ws_col > 0)
        .then(|| (usize::from(size.ws_row), usize::from(size.ws_col)))
}

/// How `watch` shows what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchFormat {
    /// The redrawn screen (stdout is a terminal, no JSON asked).
    Screen,
    /// One table line per event (a pipe, no JSON asked).
    Lines,
    /// One JSON object per event and line (`--jsonl`).
    JsonLines,
    /// One JSON array of the events at the end (`--json`, a bounded run).
    Json,
}

impl WatchFormat {
    /// The format of a run printing `format` to a terminal or not.
    pub fn of(format: OutputFormat, terminal: bool) -> WatchFormat {
        match format {
            OutputFormat::Json => WatchFormat::Json,
            OutputFormat::JsonLines => WatchFormat::JsonLines,
            OutputFormat::Table if terminal => WatchFormat::Screen,
            OutputFormat::Table => WatchFormat::Lines,
        }
    }
}

/// What the header of a tick says.
#[derive(Debug, Clone, Copy)]
pub struct TickInfo<'a> {
    pub stamp: Stamp,
    pub interval: Duration,
    /// Ticks since the baseline (0: the baseline).
    pub tick: u64,
    /// Sockets shown this tick, per protocol and state.
    pub states: &'a [(Protocol, TcpState, usize)],
    pub tally: Tally,
}

/// Where one tick's rows and events go.
pub trait WatchPrinter {
    /// A tick starts; its events are stamped `stamp`.
    fn begin(&mut self, stamp: Stamp);
    /// The rows that follow come from `place`.
    fn enter(&mut self, place: &Place);
    /// One socket of the tick, and what changed about it (`None`: nothing,
    /// or the baseline).
    fn socket(&mut self, s: &Socket, change: Option<Change>) -> io::Result<()>;
    /// A socket gone since the tick before (what is known of it).
    fn gone(&mut self, place: &Place, s: &Socket) -> io::Result<()>;
    /// The tick is complete: write it.
    fn end(&mut self, tick: &TickInfo<'_>) -> io::Result<()>;
    /// The run ends (the JSON array's events, the screen given back).
    fn finish(&mut self) -> io::Result<()>;
}

/// The printer of `format`, writing to `out`.
pub fn watch_printer<'a>(
    format: WatchFormat,
    out: &'a mut dyn Write,
    table: &'a TableOptions,
    services: Option<&'a Services>,
    users: Option<&'a Users>,
) -> Box<dyn WatchPrinter + 'a> {
    match format {
        WatchFormat::Screen => Box::new(Screen::new(out, table, services, users)),
        WatchFormat::Lines => Box::new(EventTable::new(out, table, services, users)),
        WatchFormat::JsonLines | WatchFormat::Json => Box::new(EventJson {
            out,
            array: format == WatchFormat::Json,
            held: Vec::new(),
            count: 0,
            buf: Vec::with_capacity(1024),
            place: PlaceJson::default(),
            time: String::new(),
        }),
    }
}

/// The event kind and its details for one change.
fn kind_of(change: Change) -> EventKind {
    match change {
        Change::Open => EventKind::Open,
        Change::State { .. } => EventKind::State,
        Change::Queue { .. } => EventKind::Queue,
    }
}

/// The JSON event lines (or array).
struct EventJson<'a> {
    out: &'a mut dyn Write,
    /// `--json`: the events are held and written as one array at the end.
    array: bool,
    held: Vec<u8>,
    count: usize,
    buf: Vec<u8>,
    place: PlaceJson,
    /// The tick's stamp in RFC 3339.
    time: String,
}

impl EventJson<'_> {
    fn event(
        &mut self,
        kind: EventKind,
        place: &PlaceJson,
        s: &Socket,
        change: Option<Change>,
    ) -> io::Result<()> {
        let buf = &mut self.buf;
        buf.clear();
        super::events::write_event_head(buf, place, kind, &self.time, s)?;
        match change {
            Some(Change::State { was }) => {
                buf.extend_from_slice(br#","previous":{"state":"#);
                json::to_writer(&mut *buf, was.name_for(s.proto))?;
                buf.push(b'}');
            }
            Some(Change::Queue {
                why,
                recv_q,
                send_q,
            }) => {
                buf.extend_from_slice(br#","previous":{"recv_q":"#);
                json::to_writer(&mut *buf, &recv_q)?;
                buf.extend_from_slice(br#","send_q":"#);
                json::to_writer(&mut *buf, &send_q)?;
                if let QueueChange::Level(was) = why {
                    buf.extend_from_slice(br#","level":"#);
                    json::to_writer(&mut *buf, was.name())?;
                }
                buf.extend_from_slice(br#"},"change":"#);
                json::to_writer(&mut *buf, why.name())?;
                buf.extend_from_slice(br#","level":"#);
                json::to_writer(&mut *buf, QueueLevel::of(s).name())?;
            }
            Some(Change::Open) | None => {}
        }
        buf.push(b'}');
        if self.array {
            self.held
                .extend_from_slice(if self.count == 0 { b"[\n" } else { b",\n" });
            self.held.extend_from_slice(&self.buf);
        } else {
            self.buf.push(b'\n');
            self.out.write_all(&self.buf)?;
        }
        self.count += 1;
        Ok(())
    }
}

impl WatchPrinter for EventJson<'_> {
    fn begin(&mut self, stamp: Stamp) {
        self.time = stamp.rfc3339();
    }
    fn enter(&mut self, place: &Place) {
        self.place = PlaceJson::new(place);
    }
    fn socket(&mut self, s: &Socket, change: Option<Change>) -> io::Result<()> {
        match change {
            Some(change) => {
                let place = std::mem::take(&mut self.place);
                let done = self.event(kind_of(change), &place, s, Some(change));
                self.place = place;
                done
            }
            None => Ok(()),
        }
    }
    fn gone(&mut self, place: &Place, s: &Socket) -> io::Result<()> {
        self.event(EventKind::Close, &PlaceJson::new(place), s, None)
    }
    fn end(&mut self, _tick: &TickInfo<'_>) -> io::Result<()> {
        // Each tick's lines out at once (a reader in a pipe sees them live).
        if self.array { Ok(()) } else { self.out.flush() }
    }
    fn finish(&mut self) -> io::Result<()> {
        if self.array {
            self.out.write_all(&self.held)?;
            self.out
                .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
            self.held = Vec::new();
        }
        Ok(())
    }
}

/// The width of the pipe table's `TIME EVENT WAS` prefix.
const WAS_WIDTH: usize = 14;

/// What an event line says it was: the state before, the queue level
/// before, or `owner` when its owners changed.
fn was_text(s: &Socket, change: Option<Change>) -> &'static str {
    match change {
        Some(Change::State { was }) => was.name_for(s.proto),
        Some(Change::Queue {
            why: QueueChange::Level(was),
            ..
        }) => was.name(),
        Some(Change::Queue {
            why: QueueChange::Owners,
            ..
        }) => "owner",
        Some(Change::Open) | None => "",
    }
}

/// One line per event in a pipe: the time, the event, what it was, and the
/// socket's row in the listing's columns (laid out once, as a long streamed
/// table, so every line lines up with the header).
struct EventTable<'a> {
    out: &'a mut dyn Write,
    table: TableWriter<'a>,
    marks: Vec<String>,
    clock: String,
}

impl<'a> EventTable<'a> {
    fn new(
        out: &'a mut dyn Write,
        opts: &'a TableOptions,
        services: Option<&'a Services>,
        users: Option<&'a Users>,
    ) -> EventTable<'a> {
        let mut table = TableWriter::new(opts, services, users, super::BATCH);
        table.fix_widths();
        let mut marks = Vec::new();
        if opts.header {
            marks.push(format!(
                "{:<12} {:<5} {:<WAS_WIDTH$} ",
                "Time", "Event", "Was"
            ));
        }
        EventTable {
            out,
            table,
            marks,
            clock: String::new(),
        }
    }

    fn line(&mut self, kind: EventKind, s: &Socket, change: Option<Change>) -> io::Result<()> {
        self.marks.push(format!(
            "{:<12} {:<5} {:<WAS_WIDTH$} ",
            self.clock,
            kind.as_str(),
            was_text(s, change)
        ));
        self.table.row(s);
        if self.table.pending() > super::BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let marks: Vec<&str> = self.marks.iter().map(String::as_str).collect();
        self.table.flush_marked(self.out, &marks)?;
        self.marks.clear();
        Ok(())
    }
}

impl WatchPrinter for EventTable<'_> {
    fn begin(&mut self, stamp: Stamp) {
        self.clock = stamp.clock();
    }
    fn enter(&mut self, place: &Place) {
        self.table.enter(place);
    }
    fn socket(&mut self, s: &Socket, change: Option<Change>) -> io::Result<()> {
        match change {
            Some(change) => self.line(kind_of(change), s, Some(change)),
            None => Ok(()),
        }
    }
    fn gone(&mut self, place: &Place, s: &Socket) -> io::Result<()> {
        self.table.enter(place);
        self.line(EventKind::Close, s, None)
    }
    fn end(&mut self, _tick: &TickInfo<'_>) -> io::Result<()> {
        self.flush()?;
        self.out.flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
}

/// A row's mark on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    New,
    Gone,
    Changed,
    Same,
}

impl Mark {
    fn text(self) -> &'static str {
        match self {
            Mark::New => "+ ",
            Mark::Gone => "- ",
            Mark::Changed => "~ ",
            Mark::Same => "  ",
        }
    }
}

/// A row kept for the screen: its namespace (an index into the tick's
/// places), its mark, the record.
struct Row {
    place: usize,
    mark: Mark,
    socket: Socket,
}

/// Lines of the screen above the table: the title, the totals, the
/// changes; and below it, the line that says how many rows did not fit.
const HEADER_LINES: usize = 3;
const FOOTER_LINES: usize = 1;

/// Escape sequences (ECMA-48, xterm's private modes).
const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l";
const LEAVE: &[u8] = b"\x1b[?25h\x1b[?1049l";
const HOME: &[u8] = b"\x1b[H";
const CLEAR_LINE: &[u8] = b"\x1b[K";
const CLEAR_BELOW: &[u8] = b"\x1b[J";

/// The redrawn terminal screen, on the alternate screen (given back by
/// [`WatchPrinter::finish`], and by drop on any other way out). Changed
/// rows come first, then the gone ones, then the unchanged, as many as
/// the terminal's height holds; only those are kept (clones of at most a
/// screenful of records a tick).
struct Screen<'a> {
    out: &'a mut dyn Write,
    opts: &'a TableOptions,
    services: Option<&'a Services>,
    users: Option<&'a Users>,
    /// The terminal's (rows, columns) for this tick.
    size: (usize, usize),
    places: Vec<Place>,
    /// The index of the place entered last.
    current: usize,
    marked: Vec<Row>,
    gone: Vec<Row>,
    same: Vec<Row>,
    /// Rows of the tick that were not kept.
    left_out: usize,
    on: bool,
    /// How the terminal's size is read (each tick: it may be resized).
    measure: fn() -> Option<(usize, usize)>,
}

impl<'a> Screen<'a> {
    fn new(
        out: &'a mut dyn Write,
        opts: &'a TableOptions,
        services: Option<&'a Services>,
        users: Option<&'a Users>,
    ) -> Screen<'a> {
        Screen {
            out,
            opts,
            services,
            users,
            size: (24, 80),
            places: Vec::new(),
            current: 0,
            marked: Vec::new(),
            gone: Vec::new(),
            same: Vec::new(),
            left_out: 0,
            on: false,
            measure: terminal_size,
        }
    }

    /// Rows of the table the screen holds.
    fn room(&self) -> usize {
        self.size
            .0
            .saturating_sub(HEADER_LINES + FOOTER_LINES + usize::from(self.opts.header))
            .max(1)
    }

    fn kept(&self) -> usize {
        self.marked.len() + self.gone.len() + self.same.len()
    }

    fn place_index(&mut self, place: &Place) -> usize {
        match self
            .places
            .iter()
            .position(|p| Arc::ptr_eq(&p.netns, &place.netns))
        {
            Some(i) => i,
            None => {
                self.places.push(place.clone());
                self.places.len() - 1
            }
        }
    }

    /// Keeps `row` if it fits, a changed row before an unchanged one.
    fn keep(&mut self, row: Row) {
        let room = self.room();
        if self.kept() < room {
            match row.mark {
                Mark::Same => self.same.push(row),
                Mark::Gone => self.gone.push(row),
                Mark::New | Mark::Changed => self.marked.push(row),
            }
        } else if row.mark != Mark::Same && !self.same.is_empty() {
            self.same.pop();
            self.left_out += 1;
            match row.mark {
                Mark::Gone => self.gone.push(row),
                _ => self.marked.push(row),
            }
        } else {
            self.left_out += 1;
        }
    }

    /// Writes one screen line, cut to the terminal's width.
    fn line(out: &mut Vec<u8>, text: &str, width: usize) {
        let mut used = 0;
        let mut end = text.len();
        for (i, c) in text.char_indices() {
            let w = if c == '\t' {
                8 - used % 8
            } else {
                c.width().unwrap_or(0)
            };
            if used + w > width {
                end = i;
                break;
            }
            used += w;
        }
        out.extend_from_slice(&text.as_bytes()[..end]);
        out.extend_from_slice(CLEAR_LINE);
        out.extend_from_slice(b"\r\n");
    }
}

/// The totals line: `ESTABLISHED 12  LISTEN 3 ...`, by state over the
/// protocols (each protocol's word for it: UDP's CLOSE is UNCONN).
fn totals_text(states: &[(Protocol, TcpState, usize)]) -> String {
    let mut words: Vec<(&'static str, usize)> = Vec::new();
    for &(proto, state, n) in states {
        let name = state.name_for(proto);
        match words.iter_mut().find(|(w, _)| *w == name) {
            Some((_, total)) => *total += n,
            None => words.push((name, n)),
        }
    }
    let total: usize = words.iter().map(|(_, n)| n).sum();
    let mut text = format!("{total} socket{}", crate::text::plural(total, "", "s"));
    for (name, n) in words {
        text.push_str(&format!("  {name} {n}"));
    }
    text
}

/// The changes line: `+N new −M gone ~K changed` (U+2212 for gone).
pub fn tally_text(t: &Tally) -> String {
    format!(
        "+{} new \u{2212}{} gone ~{} changed",
        t.opened, t.closed, t.changed
    )
}

impl WatchPrinter for Screen<'_> {
    fn begin(&mut self, _stamp: Stamp) {
        if let Some(size) = (self.measure)() {
            self.size = size;
        }
        self.places.clear();
        self.marked.clear();
        self.gone.clear();
        self.same.clear();
        self.left_out = 0;
    }
    fn enter(&mut self, place: &Place) {
        self.current = self.place_index(place);
    }
    fn socket(&mut self, s: &Socket, change: Option<Change>) -> io::Result<()> {
        let mark = match change {
            None => Mark::Same,
            Some(Change::Open) => Mark::New,
            Some(_) => Mark::Changed,
        };
        // The row would not be shown: no clone.
        if self.kept() >= self.room() && (mark == Mark::Same || self.same.is_empty()) {
            self.left_out += 1;
            return Ok(());
        }
        self.keep(Row {
            place: self.current,
            mark,
            socket: s.clone(),
        });
        Ok(())
    }
    fn gone(&mut self, place: &Place, s: &Socket) -> io::Result<()> {
        let place = self.place_index(place);
        self.keep(Row {
            place,
            mark: Mark::Gone,
            socket: s.clone(),
        });
        Ok(())
    }
    fn end(&mut self, tick: &TickInfo<'_>) -> io::Result<()> {
        let width = self.size.1;
        let mut screen = Vec::with_capacity(16 * 1024);
        if !self.on {
            screen.extend_from_slice(ENTER);
            self.on = true;
        }
        screen.extend_from_slice(HOME);
        let title = format!(
            "sockscope watch  {}  every {}  tick {}",
            tick.stamp.clock(),
            interval_text(tick.interval),
            tick.tick
        );
        Screen::line(&mut screen, &title, width);
        Screen::line(&mut screen, &totals_text(tick.states), width);
        let changes = if tick.tick == 0 {
            "baseline: changes are shown from the next tick on".to_owned()
        } else {
            tally_text(&tick.tally)
        };
        Screen::line(&mut screen, &changes, width);
        let rows: Vec<Row> = std::mem::take(&mut self.marked)
            .into_iter()
            .chain(std::mem::take(&mut self.gone))
            .chain(std::mem::take(&mut self.same))
            .collect();
        let mut table = TableWriter::new(self.opts, self.services, self.users, rows.len() + 1);
        let mut marks: Vec<&str> = Vec::with_capacity(rows.len() + 1);
        if self.opts.header {
            marks.push(Mark::Same.text());
        }
        let mut current = None;
        for row in &rows {
            if current != Some(row.place)
                && let Some(place) = self.places.get(row.place)
            {
                table.enter(place);
                current = Some(row.place);
            }
            table.row(&row.socket);
            marks.push(row.mark.text());
        }
        let mut text = Vec::new();
        table.flush_marked(&mut text, &marks)?;
        let text = String::from_utf8_lossy(&text);
        let mut shown = 0;
        let room = self.room() + usize::from(self.opts.header);
        for l in text.lines() {
            if shown == room {
                break;
            }
            Screen::line(&mut screen, l, width);
            shown += 1;
        }
        let under = text.lines().count().saturating_sub(shown) + self.left_out;
        if under > 0 {
            let more = format!(
                "... {under} more line{} not shown",
                crate::text::plural(under, "", "s")
            );
            Screen::line(&mut screen, &more, width);
        }
        screen.extend_from_slice(CLEAR_BELOW);
        self.out.write_all(&screen)?;
        self.out.flush()
    }
    fn finish(&mut self) -> io::Result<()> {
        if self.on {
            self.on = false;
            self.out.write_all(LEAVE)?;
            self.out.flush()?;
        }
        Ok(())
    }
}

impl Drop for Screen<'_> {
    fn drop(&mut self) {
        // Every other way out (an error, a panic): the terminal back.
        let _ = self.finish();
    }
}

/// `1s`, `500ms`, `2.5s`.
fn interval_text(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Netns;
    use std::collections::HashMap;

    fn options() -> TableOptions {
        TableOptions {
            header: true,
            extended: false,
            netid: false,
            processes: false,
            cmdline: false,
            timers: false,
            info: false,
            memory: false,
            ipv6: false,
            netns: None,
            queues: true,
            oneline: false,
            ss: None,
            width: None,
        }
    }

    fn place() -> Place {
        Place {
            netns: Arc::new(Netns::unknown()),
            containers: Arc::new(HashMap::new()),
        }
    }

    fn stamp() -> Stamp {
        Stamp(std::time::UNIX_EPOCH + Duration::from_millis(1_795_982_788_007))
    }

    fn run(format: WatchFormat) -> String {
        let opts = options();
        let mut out = Vec::new();
        {
            let mut p = watch_printer(format, &mut out, &opts, None, None);
            p.begin(stamp());
            p.enter(&place());
            let a = Socket::test_tcp(TcpState::FinWait1, "127.0.0.1:5000", "127.0.0.1:40000");
            p.socket(
                &a,
                Some(Change::State {
                    was: TcpState::Established,
                }),
            )
            .unwrap();
            let b = Socket::test_tcp(TcpState::Listen, "127.0.0.1:5001", "0.0.0.0:0");
            p.socket(&b, None).unwrap();
            let c = Socket::test_tcp(TcpState::TimeWait, "127.0.0.1:5002", "127.0.0.1:1");
            p.gone(&place(), &c).unwrap();
            let tally = Tally {
                opened: 0,
                closed: 1,
                changed: 1,
            };
            let states = [(Protocol::Tcp, TcpState::FinWait1, 1)];
            p.end(&TickInfo {
                stamp: stamp(),
                interval: Duration::from_secs(1),
                tick: 1,
                states: &states,
                tally,
            })
            .unwrap();
            p.finish().unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_lines_follow_the_contract() {
        let text = run(WatchFormat::JsonLines);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "state");
        assert_eq!(lines[0]["time"], "2026-11-29T20:06:28.007Z");
        assert_eq!(lines[0]["netns"], serde_json::Value::Null);
        assert_eq!(lines[0]["socket"]["state"], "FIN_WAIT1");
        assert_eq!(lines[0]["previous"]["state"], "ESTABLISHED");
        assert_eq!(lines[1]["event"], "close");
        assert_eq!(lines[1]["socket"]["local"]["port"], 5002);
        let keys: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["event", "time", "netns", "socket", "previous"]);
        let array: serde_json::Value = serde_json::from_str(&run(WatchFormat::Json)).unwrap();
        assert_eq!(array.as_array().unwrap(), &lines);
    }

    #[test]
    fn pipe_lines_are_marked_rows_without_control_codes() {
        let text = run(WatchFormat::Lines);
        assert!(!text.contains('\x1b'), "{text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("Time         Event Was            State"));
        assert!(lines[1].starts_with("20:06:28.007 state ESTABLISHED    FIN_WAIT1"));
        assert!(lines[2].starts_with("20:06:28.007 close                TIME_WAIT"));
        let state = lines[0].find("State").unwrap();
        assert_eq!(lines[1].find("FIN_WAIT1"), Some(state));
    }

    /// More rows than the terminal's 24 lines: the changed ones are kept
    /// over the unchanged, and the last line says how many did not fit.
    #[test]
    fn the_screen_is_cut_to_the_terminal_changed_rows_first() {
        let opts = options();
        let mut out = Vec::new();
        {
            // A 24 × 80 terminal, whatever runs the test.
            let mut p = Screen::new(&mut out, &opts, None, None);
            p.measure = || None;
            p.begin(stamp());
            p.enter(&place());
            for i in 0..40u16 {
                let s = Socket::test_tcp(
                    TcpState::Established,
                    &format!("127.0.0.1:{}", 1000 + i),
                    "127.0.0.1:80",
                );
                let change = (i >= 35).then_some(Change::Open);
                p.socket(&s, change).unwrap();
            }
            p.end(&TickInfo {
                stamp: stamp(),
                interval: Duration::from_secs(1),
                tick: 3,
                states: &[],
                tally: Tally::default(),
            })
            .unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        // Title, totals, changes, the table's header, 19 rows, the note.
        assert_eq!(text.matches("\r\n").count(), 24, "{text:?}");
        assert_eq!(text.matches("+ ESTABLISHED").count(), 5);
        assert!(text.contains("... 21 more lines not shown"), "{text:?}");
        let first_plain = text.find("  ESTABLISHED").unwrap();
        assert!(text.rfind("+ ESTABLISHED").unwrap() < first_plain);
    }

    #[test]
    fn a_screen_dropped_on_an_error_gives_the_terminal_back() {
        let opts = options();
        let mut out = Vec::new();
        {
            let mut p = watch_printer(WatchFormat::Screen, &mut out, &opts, None, None);
            p.begin(stamp());
            p.end(&TickInfo {
                stamp: stamp(),
                interval: Duration::from_millis(500),
                tick: 0,
                states: &[],
                tally: Tally::default(),
            })
            .unwrap();
            // No finish: the `?` of a failed tick drops the printer.
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("every 500ms  tick 0"), "{text:?}");
        assert!(text.contains("baseline"), "{text:?}");
        assert!(text.ends_with("\x1b[?25h\x1b[?1049l"), "{text:?}");
        assert_eq!(text.matches("\x1b[?1049h").count(), 1);
    }

    #[test]
    fn the_screen_is_drawn_on_the_alternate_screen_and_given_back() {
        let text = run(WatchFormat::Screen);
        assert!(text.starts_with("\x1b[?1049h"));
        assert!(text.ends_with("\x1b[?25h\x1b[?1049l"));
        assert!(text.contains("+0 new \u{2212}1 gone ~1 changed"));
        // Changed first, then gone, then the unchanged.
        let fin = text.find("~ FIN_WAIT1").unwrap();
        let tw = text.find("- TIME_WAIT").unwrap();
        let listen = text.find("  LISTEN").unwrap();
        assert!(fin < tw && tw < listen, "{text:?}");
    }
}
