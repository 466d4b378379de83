//! A column-aligned text grid: cells are written into one shared buffer, the
//! widths measured once, and every line padded on the way out.
//!
//! Written instead of using comfy-table: a 20k-row `-tan` took 120 ms and
//! 38 MB peak RSS through comfy-table, 30 ms and 7 MB through this (per-cell
//! Strings, styling and wrapping machinery sockscope never uses), and
//! ss-sized tables reach 1M rows.
//!
//! A streamed table is written in batches ([`crate::output::BATCH`] rows):
//! one that fits in the first batch has the widths of its cells; a longer
//! one gets, before its first batch is written, the widths its columns can
//! hold ([`Grid::widen`]), so later rows (IPv6 after IPv4) line up. Measured
//! on 18.7k TCP sockets (17k IPv4, 1.7k IPv6 loopback, private namespace,
//! median of 31 runs on a shared 2-core VM): `-tan` lines average 100.6
//! bytes instead of 60.6 (the queue columns hold 10 digits, the local
//! address an IPv6 address with `%lo` and a port), for the same CPU time
//! (26.5-26.8 ms against 27.5-27.6 ms before); at 8.8k sockets `-tan -4`
//! lines are 75.0 bytes instead of 61.0, 12.2 ms CPU against 12.0 ms.

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// What ends a cell cut to fit the terminal (issue 18, width). Always this
/// character, whatever the locale: the table is UTF-8 already (names are
/// printed as UTF-8, only controls and invalid bytes are escaped).
pub const MARKER: char = '…';

/// The widest address an address column is laid out for on a terminal:
/// `255.255.255.255:65535` and short IPv6 ones. A longer one is printed
/// whole on its own line above its row (addresses are never cut), so one
/// long IPv6 address does not push every row right.
pub const ADDRESS_CAP: usize = 24;

/// Alignment of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Rows of cells, aligned when written.
pub struct Grid {
    aligns: Vec<Align>,
    text: String,
    cells: Vec<Range<usize>>,
    widths: Vec<usize>,
    /// Lines printed under a row, not aligned (ss -i, -m): (row, text,
    /// joined: at the end of the row's own line instead, as ss -O).
    details: Vec<(usize, String, bool)>,
    /// Per cell: free text (a process list, a UNIX path) that may be cut
    /// to fit `fit`.
    free: Vec<bool>,
    /// Per column: the widest cell that may not be cut (the header,
    /// addresses, numbers), and whether any cell may be.
    floors: Vec<usize>,
    has_free: Vec<bool>,
    /// Per column: on a terminal, the widest cell laid out in line (0: no
    /// cap); a wider cell that may not be cut goes on its own line.
    caps: Vec<usize>,
    /// The terminal's width: lines are fitted to it ([`fit_widths`]).
    fit: Option<usize>,
}

impl Grid {
    pub fn new(aligns: Vec<Align>) -> Grid {
        let n = aligns.len();
        Grid {
            aligns,
            text: String::new(),
            cells: Vec::new(),
            widths: vec![0; n],
            details: Vec::new(),
            free: Vec::new(),
            floors: vec![0; n],
            has_free: vec![false; n],
            caps: vec![0; n],
            fit: None,
        }
    }

    pub fn with_capacity(aligns: Vec<Align>, rows: usize) -> Grid {
        let mut g = Grid::new(aligns);
        g.cells.reserve(rows * g.aligns.len());
        g.text.reserve(rows * 64);
        g
    }

    fn columns(&self) -> usize {
        self.aligns.len()
    }

    /// Adds one cell, written by `f` straight into the buffer. Cells fill
    /// rows left to right; the caller adds exactly one per column.
    pub fn cell(&mut self, f: impl FnOnce(&mut String)) {
        self.push_cell(f, false);
    }

    /// [`Grid::cell`] for free text (a process list, a UNIX path): on a
    /// terminal too narrow for the row it is cut, with [`MARKER`] at the
    /// cut, never an address or a number.
    pub fn free_cell(&mut self, f: impl FnOnce(&mut String)) {
        self.push_cell(f, true);
    }

    fn push_cell(&mut self, f: impl FnOnce(&mut String), free: bool) {
        let start = self.text.len();
        f(&mut self.text);
        let col = self.cells.len() % self.columns();
        let s = &self.text[start..];
        let width = if s.is_ascii() { s.len() } else { s.width() };
        self.widths[col] = self.widths[col].max(width);
        if free {
            self.has_free[col] = true;
        } else {
            self.floors[col] = self.floors[col].max(width);
        }
        self.free.push(free);
        self.cells.push(start..self.text.len());
    }

    /// Caps column `col` at `cap` columns on a terminal (an address
    /// column: [`ADDRESS_CAP`]): a wider cell that may not be cut is
    /// printed whole on its own line, above its row. Nothing without a
    /// width.
    pub fn cap(&mut self, col: usize, cap: usize) {
        if let Some(c) = self.caps.get_mut(col) {
            *c = cap;
        }
    }

    /// Fits every line to `width` columns (None: lines as long as their
    /// content): see [`fit_widths`].
    pub fn fit(&mut self, width: Option<usize>) {
        self.fit = width;
    }

    /// Adds a cell holding `s`.
    pub fn text(&mut self, s: &str) {
        self.cell(|buf| buf.push_str(s));
    }

    /// Adds a cell holding a number.
    pub fn number(&mut self, n: impl itoa::Integer) {
        self.cell(|buf| push_int(buf, n));
    }

    /// Complete rows held.
    pub fn rows(&self) -> usize {
        self.cells.len() / self.columns()
    }

    /// Widens each column to at least `widths[col]` (a long streamed table
    /// sets them once to what its columns can hold).
    pub fn widen(&mut self, widths: &[usize]) {
        for (have, &want) in self.widths.iter_mut().zip(widths) {
            *have = (*have).max(want);
        }
        for (floor, &want) in self.floors.iter_mut().zip(widths) {
            *floor = (*floor).max(want);
        }
    }

    /// Forgets the rows, keeping the widths measured so far.
    pub fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
        self.details.clear();
        self.free.clear();
    }

    /// Adds a line under the last complete row, indented by a tab as ss
    /// prints its -i and -m details. Ignored before the first row.
    pub fn detail(&mut self, text: String) {
        self.push_detail(text, false);
    }

    /// Adds `text` at the end of the last complete row's line (-O, ss's
    /// --oneline), after its last cell. Ignored before the first row.
    pub fn detail_joined(&mut self, text: String) {
        self.push_detail(text, true);
    }

    fn push_detail(&mut self, text: String, joined: bool) {
        let rows = self.cells.len() / self.columns();
        if rows > 0 {
            self.details.push((rows - 1, text, joined));
        }
    }

    /// Writes every row: one space between columns, no trailing blanks.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_marked(out, &[])
    }

    /// [`Grid::write`], each row's line starting with its mark (`watch`'s
    /// `+`, `-`, `~`): row `i` with `marks[i]`, rows past the marks with
    /// none. Lines under a row are not marked.
    pub fn write_marked(&self, out: &mut dyn Write, marks: &[&str]) -> io::Result<()> {
        let cols = self.columns();
        let mut line = String::with_capacity(256);
        // Addresses too long for their capped column, above their row.
        let mut above = String::new();
        let mut details = self.details.iter().peekable();
        let widths: Cow<'_, [usize]> = match self.fit {
            Some(width) => {
                let mark = marks.iter().map(|m| m.width()).max().unwrap_or(0);
                let capped = |have: &[usize]| -> Vec<usize> {
                    have.iter()
                        .zip(&self.caps)
                        .map(|(&w, &cap)| if cap > 0 { w.min(cap) } else { w })
                        .collect()
                };
                let limit = width.saturating_sub(mark);
                let whole = fit_widths(&self.widths, &self.floors, &self.has_free, limit);
                // Addresses move above their rows only when the free
                // text cannot give way enough.
                if whole.iter().sum::<usize>() + cols.saturating_sub(1) <= limit {
                    Cow::Owned(whole)
                } else {
                    Cow::Owned(fit_widths(
                        &capped(&self.widths),
                        &capped(&self.floors),
                        &self.has_free,
                        limit,
                    ))
                }
            }
            None => Cow::Borrowed(&self.widths),
        };
        // Where each column starts (for an address on its own line).
        let starts: Vec<usize> = widths
            .iter()
            .scan(0, |at, w| {
                let start = *at;
                *at += w + 1;
                Some(start)
            })
            .collect();
        for (index, row) in self.cells.chunks(cols).enumerate() {
            line.clear();
            above.clear();
            line.push_str(marks.get(index).copied().unwrap_or(""));
            // The last non-empty cell ends the line: no padding after it.
            let last = row.iter().rposition(|r| !r.is_empty()).unwrap_or(0);
            for (col, range) in row.iter().enumerate().take(last + 1) {
                let whole = &self.text[range.clone()];
                // (Without a width nothing is cut: no measuring either.)
                let free = self.fit.is_some() && self.free[index * cols + col];
                let s = if free {
                    shorten(whole, widths[col])
                } else if self.fit.is_some() && self.caps[col] > 0 && whole.width() > widths[col] {
                    // Too long for its capped column: alone above the row.
                    above.push_str(marks.get(index).copied().unwrap_or(""));
                    push_spaces(&mut above, starts[col]);
                    above.push_str(whole);
                    above.push('\n');
                    Cow::Borrowed("")
                } else {
                    Cow::Borrowed(whole)
                };
                let s = s.as_ref();
                let width = if s.is_ascii() { s.len() } else { s.width() };
                let pad = widths[col].saturating_sub(width);
                if col > 0 {
                    line.push(' ');
                }
                match self.aligns[col] {
                    Align::Right => {
                        push_spaces(&mut line, pad);
                        line.push_str(s);
                    }
                    Align::Left => {
                        line.push_str(s);
                        if col < last {
                            push_spaces(&mut line, pad);
                        }
                    }
                }
            }
            let mut under = String::new();
            while let Some((_, text, joined)) = details.next_if(|(r, _, _)| *r == index) {
                if *joined {
                    line.push_str(text);
                } else {
                    under.push('\t');
                    under.push_str(text);
                    under.push('\n');
                }
            }
            line.push('\n');
            line.push_str(&under);
            if !above.is_empty() {
                out.write_all(above.as_bytes())?;
            }
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

/// The widths to lay columns out in so that a line fits `limit` columns:
/// `widths` when they fit (one space between columns); else the columns
/// holding free text (`free`) are brought down to one level, the widest
/// first, as far as needed and never below their `floors` (what may not be
/// cut: the header, addresses, numbers). A line whose fixed cells alone
/// are wider than `limit` still overflows: addresses are never cut.
pub fn fit_widths(widths: &[usize], floors: &[usize], free: &[bool], limit: usize) -> Vec<usize> {
    let seps = widths.len().saturating_sub(1);
    let at = |level: usize| -> Vec<usize> {
        widths
            .iter()
            .zip(floors)
            .zip(free)
            .map(|((&w, &floor), &free)| if free { w.min(level).max(floor) } else { w })
            .collect()
    };
    let total = |ws: &[usize]| ws.iter().sum::<usize>() + seps;
    if total(widths) <= limit {
        return widths.to_vec();
    }
    // The highest level that fits (total only grows with the level).
    let (mut lo, mut hi) = (0, widths.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if total(&at(mid)) <= limit {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    at(lo)
}

/// `s` cut to at most `width` display columns, [`MARKER`] at the cut
/// (`s` itself when it fits). Cells come escaped, so the cut never splits
/// a terminal escape sequence, only its printable spelling.
pub fn shorten(s: &str, width: usize) -> Cow<'_, str> {
    let whole = if s.is_ascii() { s.len() } else { s.width() };
    if whole <= width {
        return Cow::Borrowed(s);
    }
    let room = width.saturating_sub(MARKER.width().unwrap_or(1));
    let mut used = 0;
    let mut cut = 0;
    for (i, c) in s.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        cut = i + c.len_utf8();
    }
    let mut out = String::with_capacity(cut + MARKER.len_utf8());
    out.push_str(&s[..cut]);
    out.push(MARKER);
    Cow::Owned(out)
}

/// Appends an integer without the formatting machinery (hot: every row has
/// several).
pub fn push_int(buf: &mut String, n: impl itoa::Integer) {
    buf.push_str(itoa::Buffer::new().format(n));
}

fn push_spaces(s: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        s.push_str(&SPACES[..k]);
        n -= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(g: &Grid) -> String {
        let mut out = Vec::new();
        g.write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn aligns_left_and_right() {
        let mut g = Grid::new(vec![Align::Left, Align::Right, Align::Left]);
        for (a, b, c) in [
            ("State", "Recv-Q", "Peer"),
            ("LISTEN", "0", "*:*"),
            ("X", "100", ""),
        ] {
            g.text(a);
            g.text(b);
            g.text(c);
        }
        assert_eq!(
            render(&g),
            "State  Recv-Q Peer\nLISTEN      0 *:*\nX         100\n"
        );
    }

    #[test]
    fn wide_characters_count_double() {
        let mut g = Grid::new(vec![Align::Left, Align::Left]);
        g.text("名前");
        g.text("x");
        g.text("ab");
        g.text("y");
        assert_eq!(render(&g), "名前 x\nab   y\n");
    }

    #[test]
    fn detail_lines_follow_their_row() {
        let mut g = Grid::new(vec![Align::Left, Align::Left]);
        g.text("a");
        g.text("1");
        g.detail(" skmem:(r0)".into());
        g.text("b");
        g.text("2");
        assert_eq!(render(&g), "a 1\n\t skmem:(r0)\nb 2\n");
    }

    #[test]
    fn joined_details_end_their_row() {
        let mut g = Grid::new(vec![Align::Left, Align::Left]);
        g.text("a");
        g.text("1");
        g.detail_joined(" skmem:(r0)".into());
        g.text("bb");
        g.text("2");
        g.detail(" cubic".into());
        assert_eq!(render(&g), "a  1 skmem:(r0)\nbb 2\n\t cubic\n");
    }

    #[test]
    fn widened_columns_keep_their_width() {
        let mut g = Grid::new(vec![Align::Right, Align::Left]);
        g.text("1");
        g.text("a");
        g.widen(&[3, 0]);
        assert_eq!(render(&g), "  1 a\n");
        g.clear();
        g.text("12");
        g.text("b");
        assert_eq!(render(&g), " 12 b\n");
    }

    #[test]
    fn marks_start_their_rows_only() {
        let mut g = Grid::new(vec![Align::Left, Align::Right]);
        g.text("a");
        g.text("1");
        g.detail(" cubic".into());
        g.text("bb");
        g.text("22");
        let mut out = Vec::new();
        g.write_marked(&mut out, &["+ "]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "+ a   1\n\t cubic\nbb 22\n"
        );
    }

    #[test]
    fn fit_cuts_the_widest_free_column_first() {
        // State 6, address 20, process 40, into 50: the process gives way.
        let ws = fit_widths(&[6, 20, 40], &[5, 20, 7], &[false, false, true], 50);
        assert_eq!(ws, [6, 20, 22]);
        // Fits already: unchanged.
        assert_eq!(
            fit_widths(&[6, 20, 40], &[5, 20, 7], &[false, false, true], 80),
            [6, 20, 40]
        );
        // Two free columns: the wider is cut down to the other first,
        // then both together.
        assert_eq!(
            fit_widths(&[30, 10, 40], &[10, 10, 7], &[true, false, true], 60),
            [24, 10, 24]
        );
        assert_eq!(
            fit_widths(&[10, 10, 40], &[5, 10, 7], &[true, false, true], 50),
            [10, 10, 28]
        );
        // Never below the floor, never a fixed column: the line overflows.
        assert_eq!(
            fit_widths(&[6, 50, 40], &[5, 50, 7], &[false, false, true], 40),
            [6, 50, 7]
        );
    }

    #[test]
    fn shorten_marks_the_cut_in_display_columns() {
        assert_eq!(shorten("nginx/1 fd=3", 12), "nginx/1 fd=3");
        assert_eq!(shorten("nginx/1 fd=3", 8), "nginx/1…");
        assert_eq!(shorten("名前名前", 6), "名前…");
        // A double-width character that would straddle the cut is left out.
        assert_eq!(shorten("a名前", 4), "a名…");
        assert_eq!(shorten("a名前", 3), "a…");
        assert_eq!(shorten(r"e\x1b[2Jxxxx", 5), r"e\x1…");
        assert_eq!(shorten("abc", 0), "…");
    }

    #[test]
    fn a_fitted_grid_keeps_columns_and_cuts_free_cells() {
        let mut g = Grid::new(vec![Align::Left, Align::Right, Align::Left]);
        g.fit(Some(32));
        for (a, b, c) in [
            ("State", "Local", "Process"),
            ("LISTEN", "127.0.0.1:80", "a-very-long-process-name/1 fd=3"),
            ("LISTEN", "[::1]:8080", "short/2 fd=4"),
        ] {
            g.text(a);
            g.text(b);
            g.free_cell(|buf| buf.push_str(c));
        }
        let text = render(&g);
        assert_eq!(
            text,
            "State         Local Process\n\
             LISTEN 127.0.0.1:80 a-very-long…\n\
             LISTEN   [::1]:8080 short/2 fd=4\n"
        );
        for line in text.lines() {
            assert!(line.width() <= 32, "{line}");
        }
        // Without a width: whole.
        g.fit(None);
        assert!(render(&g).contains("a-very-long-process-name/1 fd=3"));
    }

    #[test]
    fn a_long_address_goes_above_its_row() {
        let mut g = Grid::new(vec![Align::Left, Align::Right, Align::Left]);
        // The column is as wide as its cap (the streamed widths are the
        // widest cells'), the longer address above its row.
        g.fit(Some(40));
        g.cap(1, 18);
        let long = "[2001:db8:aaaa:bbbb::1]:8443";
        // The header is not free text: the Process column keeps its width.
        for h in ["State", "Local", "Process"] {
            g.text(h);
        }
        for (a, b, c) in [
            ("LISTEN", "127.0.0.1:80", "nginx/1 fd=3"),
            ("LISTEN", long, "app/2 fd=4"),
        ] {
            g.text(a);
            g.text(b);
            g.free_cell(|buf| buf.push_str(c));
        }
        assert_eq!(
            render(&g),
            format!(
                "State               Local Process\n\
                 LISTEN       127.0.0.1:80 nginx/1 fd=3\n       \
                 {long}\n\
                 LISTEN                    app/2 fd=4\n"
            )
        );
        // A pipe: in line, as ever.
        g.fit(None);
        assert!(render(&g).contains(&format!("LISTEN {long} app/2 fd=4")));
    }

    #[test]
    fn empty_grid_writes_nothing() {
        assert_eq!(render(&Grid::new(vec![Align::Left])), "");
    }
}
