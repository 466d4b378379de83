//! Sentences fitted to the terminal's width (issue 18, width): wrapped at
//! word boundaries, each line after the first under a hanging indent (a
//! bullet's text lines up under its first word). Without a width (a pipe,
//! -W) a sentence stays on one line, as it always was.
//!
//! Text comes escaped (names from outside are escaped before they are put
//! into a sentence), so every character here is printable; widths are
//! display columns (unicode-width).

use std::io::{self, Write};

use textwrap::{Options, WordSeparator, WordSplitter};
use unicode_width::UnicodeWidthStr;

/// `text` as lines of at most `width` display columns, broken at spaces
/// (textwrap, measuring with unicode-width); a word wider than `width` (a
/// long address, a hostile name) is broken inside, as the terminal would,
/// since it cannot be moved whole; never at a hyphen. `width` 0 is read as
/// 1.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let options = Options::new(width.max(1))
        .word_separator(WordSeparator::AsciiSpace)
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(true);
    textwrap::wrap(text, options)
        .into_iter()
        .map(|line| line.trim_end().to_owned())
        .collect()
}

/// Writes `first` then `text`, wrapped to `width` with every further line
/// starting with as many spaces as `first` is wide (a bullet `  - ` hangs);
/// without a width, on one line.
pub fn write_hanging(
    out: &mut dyn Write,
    first: &str,
    text: &str,
    width: Option<usize>,
) -> io::Result<()> {
    let Some(width) = width else {
        return writeln!(out, "{first}{text}");
    };
    let indent = first.width();
    // A prefix as wide as the terminal leaves no room: wrap at the prefix.
    let room = width.saturating_sub(indent).max(width / 2).max(1);
    for (i, line) in wrap(text, room).iter().enumerate() {
        if i == 0 {
            writeln!(out, "{first}{line}")?;
        } else {
            writeln!(out, "{:indent$}{line}", "")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(
            wrap("the quick brown fox jumps", 10),
            ["the quick", "brown fox", "jumps"]
        );
        assert_eq!(wrap("fits", 10), ["fits"]);
        assert_eq!(wrap("", 10), [""]);
        // Spaces inside a line are kept as they are.
        assert_eq!(wrap("a  b", 10), ["a  b"]);
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut() {
        assert_eq!(
            wrap("at [2001:db8::1]:80 now", 8),
            ["at", "[2001:db", "8::1]:80", "now"]
        );
        // Display columns: a double-width character never straddles.
        assert_eq!(wrap("名前名前", 5), ["名前", "名前"]);
    }

    #[test]
    fn bullets_hang_and_pipes_get_one_line() {
        let text = "TCP is listening on 127.0.0.1:80 (nginx/1)";
        let mut out = Vec::new();
        write_hanging(&mut out, "  - ", text, Some(24)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  - TCP is listening on\n    127.0.0.1:80\n    (nginx/1)\n"
        );
        let mut out = Vec::new();
        write_hanging(&mut out, "  - ", text, None).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("  - {text}\n"));
        for line in wrap(&"word ".repeat(100), 80) {
            assert!(line.width() <= 80);
        }
    }
}
