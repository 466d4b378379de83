//! The small human tables (`listeners`, `ports`). At a terminal they are a
//! comfy-table arranged to its width, so an 80-column terminal wraps the
//! long cells (owner lists, marks) inside their column instead of breaking
//! the lines; to a pipe or a file they are the socket listing's
//! [`Grid`](super::grid::Grid), byte for byte what they were before
//! (scripts and the tests read those bytes).
//!
//! Why not comfy-table for the pipe too: it gives the same bytes for the
//! usual tables (the unit test below holds them equal), but not always: it
//! makes a column that is empty in every row one character wide (the grid:
//! zero; `listeners -H` without a visible owner), and it measures widths in
//! u16, wrapping a cell wider than 65,535 columns (a listener shared by
//! thousands of processes) onto more lines. The socket listing keeps the
//! streaming grid (see its module doc: a comfy-table of 20k rows took 4
//! times the time and 5 times the memory).
//!
//! Cells must be escaped before they come here: neither layout sanitises
//! them. No style is set, so comfy-table writes no colour escape (`\x1b[m`).

use std::io::{self, IsTerminal, Write};

use comfy_table::presets::NOTHING;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::grid::{Align, Grid};

/// A few rows, laid out when written.
pub struct SmallTable {
    aligns: Vec<Align>,
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl SmallTable {
    /// A table whose columns are aligned as `aligns` says.
    pub fn new(aligns: &[Align]) -> SmallTable {
        SmallTable {
            aligns: aligns.to_vec(),
            header: None,
            rows: Vec::new(),
        }
    }

    /// The header line, aligned as the cells below it.
    pub fn header(&mut self, cells: &[&str]) {
        self.header = Some(cells.iter().map(|c| (*c).to_owned()).collect());
    }

    /// One row: one cell per column, escaped.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table: arranged to the terminal's width when stdout is a
    /// terminal, as a grid otherwise (nothing when it has neither header
    /// nor rows).
    pub fn write(self, out: &mut dyn Write) -> io::Result<()> {
        if io::stdout().is_terminal() {
            self.write_arranged(out, None)
        } else {
            self.write_grid(out)
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

    /// comfy-table, laid out like the grid, with its cells wrapped to fit
    /// `width` columns (None: the terminal's).
    fn write_arranged(self, out: &mut dyn Write, width: Option<u16>) -> io::Result<()> {
        let mut table = Table::new();
        table
            .load_style(NOTHING)
            .set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(width) = width {
            table.set_width(width);
        }
        if let Some(header) = self.header {
            table.set_header(header);
        }
        table.add_rows(self.rows);
        for (i, align) in self.aligns.iter().enumerate() {
            // A column exists once a header or a row has a cell in it.
            if let Some(column) = table.column_mut(i) {
                column.set_padding((0, 1));
                column.set_cell_alignment(match align {
                    Align::Left => CellAlignment::Left,
                    Align::Right => CellAlignment::Right,
                });
            }
        }
        for line in table.lines() {
            out.write_all(line.trim_end().as_bytes())?;
            out.write_all(b"\n")?;
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

    /// The grid's bytes and comfy-table's (as wide as it wants) for the
    /// same cells.
    fn both(aligns: &[Align], header: bool, rows: &[&[&str]]) -> (String, String) {
        let (mut g, mut c) = (Vec::new(), Vec::new());
        table(aligns, header, rows).write_grid(&mut g).unwrap();
        table(aligns, header, rows)
            .write_arranged(&mut c, Some(u16::MAX))
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
            .write_arranged(&mut out, Some(80))
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
}
