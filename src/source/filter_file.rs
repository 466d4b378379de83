//! `-F FILE`: the words of a filter kept in a file (or standard input), as
//! ss reads them (misc/ssfilter.y: yylex): line by line, a line starting
//! with `#` is a comment, words are separated by blanks and tabs, and a
//! backslash keeps the next character in the word.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::input;

/// A filter file that could not be read: its path and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot read filter file {}: {reason}", path.display())]
pub struct FilterFileError {
    pub path: PathBuf,
    pub reason: String,
}

/// The longest filter file read (ss reads lines of up to 1 KiB; a filter
/// longer than this is no hand-written one).
const MAX_FILTER: u64 = 1 << 20;

/// The words of `path`; `-` reads standard input.
pub fn read(path: &Path) -> Result<Vec<String>, FilterFileError> {
    let err = |reason: String| FilterFileError {
        path: path.to_owned(),
        reason,
    };
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .take(MAX_FILTER)
            .read_to_string(&mut s)
            .map_err(|e| err(e.to_string()))?;
        s
    } else {
        input::read_to_string(path).map_err(|e| err(e.to_string()))?
    };
    Ok(words(&text))
}

/// Splits a filter file's text into words (see the module doc).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut word = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' | '\t' | '\r' => {
                    if !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                }
                '\\' => {
                    if let Some(next) = chars.next() {
                        word.push(next);
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_escapes() {
        let text = "# ssh both ways\n( dport = :ssh\n\tor sport = :ssh )\n\nsrc unix:/run/a\\ b\n";
        assert_eq!(
            words(text),
            vec![
                "(",
                "dport",
                "=",
                ":ssh",
                "or",
                "sport",
                "=",
                ":ssh",
                ")",
                "src",
                "unix:/run/a b"
            ]
        );
        assert!(words("").is_empty());
    }

    #[test]
    fn errors_name_the_file() {
        let e = read(Path::new("/nonexistent/sockscope-filter")).unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/sockscope-filter"),
            "{e}"
        );
    }
}
