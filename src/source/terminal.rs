//! The width of the terminal stdout is, read once (config/facts.rs):
//! `COLUMNS` when it holds a positive number, else the terminal's own size
//! (the TIOCGWINSZ ioctl, as `stty size` asks). No width when stdout is not
//! a terminal: a pipe or a file gets every line whole, whatever COLUMNS
//! says.

// The descriptor, not a writer: only isatty and the TIOCGWINSZ ioctl are
// asked of it here (output writes stdout).
use rustix::stdio::stdout as stdout_fd;

/// The narrowest width sockscope fits to: below it a layout could not hold
/// even its fixed columns, so a smaller COLUMNS or window is read as this.
pub const MIN_WIDTH: usize = 20;

/// The width lines are fitted to, or None when stdout is not a terminal
/// (or the terminal does not tell its size and COLUMNS is unset).
pub fn width() -> Option<usize> {
    let fd = stdout_fd();
    if !rustix::termios::isatty(fd) {
        return None;
    }
    let columns = std::env::var_os("COLUMNS");
    let from_env = columns
        .as_deref()
        .and_then(|c| c.to_str())
        .and_then(parse_columns);
    from_env
        .or_else(|| {
            // struct winsize (include/uapi/asm-generic/termios.h): ws_col, 0
            // when the terminal never set a size.
            let size = rustix::termios::tcgetwinsize(fd).ok()?;
            (size.ws_col > 0).then_some(usize::from(size.ws_col))
        })
        .map(|w| w.max(MIN_WIDTH))
}

/// COLUMNS as a width: a positive decimal number, else None (unset, empty,
/// `0` or garbage fall back to the terminal's size).
pub fn parse_columns(text: &str) -> Option<usize> {
    text.trim().parse::<usize>().ok().filter(|&w| w > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_must_be_a_positive_number() {
        assert_eq!(parse_columns("80"), Some(80));
        assert_eq!(parse_columns(" 120 "), Some(120));
        for bad in ["", "0", "-5", "abc", "80x"] {
            assert_eq!(parse_columns(bad), None, "{bad:?}");
        }
    }
}
