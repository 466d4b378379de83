//! The small human tables (`listeners`, `ports`). Fitted to a terminal's
//! width ([`SmallTable::fit`]; issue 18, width) each column gives way as its
//! [`Fit`] says: owners and marks wrap at word boundaries inside their
//! column, an address too long for its capped column is printed whole on
//! its own line (one long IPv6 address no longer pushes every row right),
//! numbers keep their width. To a pipe or a file, or with -W, they are the
//! socket listing's [`Grid`](super::grid::Grid), byte for byte what they
//! were before (scripts and the tests read those bytes); at an unbounded
//! width the fitted layout is the grid (the unit test below holds them
//! equal).
//!
//! Until issue 18 the terminal got a comfy-table: it wrapped an address
//! inside its column (an address split over two lines) and aligned every
//! row to the longest one; it is no longer used here.
//!
//! Cells must be escaped before they come here: neither layout sanitises
//! them. No colour is written.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use super::grid::{Align, Grid, fit_widths};
use super::wrap::wrap;

/// How a column gives way to a narrow terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Numbers and short words: as wide as its widest cell.
    Fixed,
    /// Addresses, never cut: as wide as its widest cell up to `cap`; a
    /// wider one is printed whole on its own line, its row's other cells
    /// on the next, so one long IPv6 address does not push every row.
    Address { cap: usize },
    /// Free text (owners, marks): wrapped at word boundaries inside its
    /// column, onto continuation lines of its row.
    Wrap,
}

/// A wrapped column is not narrowed below this (or its header, or its
/// widest cell when that is narrower).
const MIN_WRAP: usize = 12;

/// A few rows, laid out when written.
pub struct SmallTable {
    aligns: Vec<Align>,
    fits: Vec<Fit>,
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
    width: Option<usize>,
}

impl SmallTable {
    /// A table whose columns are aligned as `aligns` says; right-aligned
    /// columns are [`Fit::Fixed`], left-aligned ones [`Fit::Wrap`] until
    /// [`SmallTable::fits`] says otherwise.
    pub fn new(aligns: &[Align]) -> SmallTable {
        SmallTable {
            aligns: aligns.to_vec(),
            fits: aligns
                .iter()
                .map(|a| match a {
                    Align::Right => Fit::Fixed,
                    Align::Left => Fit::Wrap,
                })
                .collect(),
            header: None,
            rows: Vec::new(),
            width: None,
        }
    }

    /// How each column gives way to a narrow terminal.
    pub fn fits(&mut self, fits: &[Fit]) {
        for (have, &want) in self.fits.iter_mut().zip(fits) {
            *have = want;
        }
    }

    /// The terminal's width to fit (None: a pipe or -W, the grid).
    pub fn fit(&mut self, width: Option<usize>) {
        self.width = width;
    }

    /// The header line, aligned as the cells below it.
    pub fn header(&mut self, cells: &[&str]) {
        self.header = Some(cells.iter().map(|c| (*c).to_owned()).collect());
    }

    /// One row: one cell per column, escaped.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table: fitted to the width when it has one
    /// ([`SmallTable::fit`]), as the grid otherwise (nothing when it has
    /// neither header nor rows).
    pub fn write(self, out: &mut dyn Write) -> io::Result<()> {
        match self.width {
            Some(width) => self.write_fitted(out, width),
            None => self.write_grid(out),
        }
    }

    /// The grid: one space between columns, no padding after a line's last
    /// non-empty cell.
    fn write_grid(self, out: &mut dyn Write) -> io::Result<()> {
        let mut grid = Grid::new(self.aligns);
        for row in self.header.iter().chain(&self.rows) {
            for cell in row {
                grid.text(cell);
            }
        }
        grid.write(out)
    }

    /// The columns' widths at `width`: fixed columns as wide as their
    /// cells, address columns up to their cap, wrapped columns sharing
    /// what is left ([`fit_widths`]).
    fn widths(&self, width: usize) -> Vec<usize> {
        let rows = || self.header.iter().chain(&self.rows);
        let cells = |col: usize| rows().filter_map(move |r| r.get(col)).map(|c| c.width());
        let mut widths = Vec::with_capacity(self.fits.len());
        let mut floors = Vec::with_capacity(self.fits.len());
        for (col, fit) in self.fits.iter().enumerate() {
            let natural = cells(col).max().unwrap_or(0);
            let (w, floor) = match *fit {
                Fit::Fixed => (natural, natural),
                Fit::Address { cap } => {
                    let w = cells(col).filter(|&w| w <= cap).max().unwrap_or(0);
                    (w, w)
                }
                Fit::Wrap => {
                    let head = self.header.as_ref().and_then(|h| h.get(col));
                    let head = head.map_or(0, |h| h.width());
                    (natural, natural.min(head.max(MIN_WRAP)))
                }
            };
            widths.push(w);
            floors.push(floor);
        }
        let wrapped: Vec<bool> = self.fits.iter().map(|f| *f == Fit::Wrap).collect();
        fit_widths(&widths, &floors, &wrapped, width)
    }

    /// The table at `width`: no line wider than it, unless its fixed
    /// cells alone are (addresses and numbers are never cut).
    fn write_fitted(self, out: &mut dyn Write, width: usize) -> io::Result<()> {
        let widths = self.widths(width);
        let starts: Vec<usize> = widths
            .iter()
            .scan(0, |at, w| {
                let start = *at;
                *at += w + 1;
                Some(start)
            })
            .collect();
        for row in self.header.iter().chain(&self.rows) {
            // An address wider than its column: alone on a line first.
            let mut long = vec![false; row.len()];
            for (col, cell) in row.iter().enumerate() {
                let fit = self.fits.get(col).copied().unwrap_or(Fit::Fixed);
                let w = widths.get(col).copied().unwrap_or(0);
                if matches!(fit, Fit::Address { .. }) && cell.width() > w {
                    long[col] = true;
                    let indent = starts.get(col).copied().unwrap_or(0);
                    writeln!(out, "{:indent$}{cell}", "")?;
                }
            }
            let parts: Vec<Vec<String>> = row
                .iter()
                .enumerate()
                .map(|(col, cell)| match self.fits.get(col) {
                    _ if long[col] => vec![String::new()],
                    Some(Fit::Wrap) => wrap(cell, widths.get(col).copied().unwrap_or(1)),
                    _ => vec![cell.clone()],
                })
                .collect();
            let height = parts.iter().map(Vec::len).max().unwrap_or(1);
            for k in 0..height {
                let mut line = String::new();
                for (col, part) in parts.iter().enumerate() {
                    let s = part.get(k).map_or("", String::as_str);
                    let w = widths.get(col).copied().unwrap_or(0);
                    let pad = w.saturating_sub(s.width());
                    if col > 0 {
                        line.push(' ');
                    }
                    match self.aligns.get(col) {
                        Some(Align::Right) => {
                            line.push_str(&" ".repeat(pad));
                            line.push_str(s);
                        }
                        _ => {
                            line.push_str(s);
                            line.push_str(&" ".repeat(pad));
                        }
                    }
                }
                out.write_all(line.trim_end().as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Align::{Left, Right};

    const LISTENERS: [Align; 7] = [Right, Right, Right, Right, Right, Left, Left];

    fn table(aligns: &[Align], header: bool, rows: &[&[&str]]) -> SmallTable {
        let mut t = SmallTable::new(aligns);
        for (i, row) in rows.iter().enumerate() {
            if i == 0 && header {
                t.header(row);
            } else {
                t.row(row.iter().map(|c| (*c).to_owned()).collect());
            }
        }
        t
    }

    /// The grid's bytes and the fitted layout's (as wide as it wants) for
    /// the same cells.
    fn both(aligns: &[Align], header: bool, rows: &[&[&str]]) -> (String, String) {
        let (mut g, mut c) = (Vec::new(), Vec::new());
        table(aligns, header, rows).write_grid(&mut g).unwrap();
        table(aligns, header, rows)
            .write_fitted(&mut c, usize::MAX)
            .unwrap();
        (String::from_utf8(g).unwrap(), String::from_utf8(c).unwrap())
    }

    const HEAD: &[&str] = &[
        "Local Address:Port",
        "Accept-Q",
        "Full",
        "Half-open",
        "Unaccepted",
        "Process",
        "Mark",
    ];

    #[test]
    fn a_wide_terminal_sees_the_grid() {
        let rows: &[&[&str]] = &[
            HEAD,
            &[
                "127.0.0.1:80",
                "3/2",
                "150%",
                "1",
                "3",
                "nginx/812",
                "FULL: new connections are dropped",
            ],
            &["[::1]:631", "0/-", "-", "0", "0", "", ""],
            &["*:22", "0/4096", "0%", "12", "0", "\"a b\"/1, 名前/2", ""],
        ];
        for header in [true, false] {
            let (g, c) = both(&LISTENERS, header, &rows[usize::from(!header)..]);
            assert_eq!(c, g, "header {header}");
        }
        let (g, c) = both(&LISTENERS, true, &rows[..1]);
        assert_eq!(c, g, "a header alone");
        let (g, c) = both(&LISTENERS, false, &[]);
        assert_eq!((c.as_str(), g.as_str()), ("", ""), "nothing at all");
        let ports = [Right, Left, Right, Right, Right, Left];
        let rows: &[&[&str]] = &[
            &[
                "Local Address",
                "Destination",
                "Ports",
                "Used",
                "TIME_WAIT",
                "Mark",
            ],
            &[
                "127.0.0.1",
                "127.0.0.2:80",
                "95",
                "95.0%",
                "20%",
                "CRITICAL: new connections will fail (EADDRNOTAVAIL)",
            ],
            &["::1", "[::1]:8080", "3", "0.0%", "100%", ""],
        ];
        let (g, c) = both(&ports, true, rows);
        assert_eq!(c, g);
    }

    #[test]
    fn an_80_column_terminal_wraps_cells_not_lines() {
        let owners = (0..12)
            .map(|i| format!("worker/{}", 1000 + i))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: &[&[&str]] = &[
            HEAD,
            &[
                "[2001:db8::1]:8080",
                "0/4096",
                "0%",
                "0",
                "0",
                &owners,
                "backlog = somaxconn (clamped?)",
            ],
        ];
        let mut out = Vec::new();
        table(&LISTENERS, true, rows)
            .write_fitted(&mut out, 80)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().count() > 2, "{text}");
        assert!(
            text.lines()
                .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 80),
            "{text}"
        );
        assert!(text.contains("worker/1000") && !text.contains('\x1b'));
    }

    #[test]
    fn a_long_address_gets_its_own_line_and_no_row_is_pushed() {
        let long = "[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:8080";
        let rows: &[&[&str]] = &[
            HEAD,
            &["127.0.0.1:80", "0/128", "0%", "0", "0", "nginx/1", ""],
            &[long, "0/4096", "0%", "0", "0", "app/2", "80% full"],
        ];
        let mut t = table(&LISTENERS, true, rows);
        t.fits(&[Fit::Address { cap: 24 }]);
        let mut out = Vec::new();
        t.write_fitted(&mut out, 80).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The short rows are laid out for the header, not the long address.
        assert!(lines[1].starts_with("      127.0.0.1:80 "), "{text}");
        // The long address whole, alone, then its row.
        assert_eq!(lines[2], long, "{text}");
        assert!(lines[3].trim_start().starts_with("0/4096"), "{text}");
        assert!(lines[3].ends_with("80% full"), "{text}");
        assert!(text.lines().all(|l| l.width() <= 80), "{text}");
    }
}
