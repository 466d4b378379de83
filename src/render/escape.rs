//! The one escaping function every untrusted string passes before a table.

use std::borrow::Cow;
use std::fmt::Write;

/// Replaces control characters (C0, DEL, C1) with `\xNN` (`\u{NNNN}` above
/// 0xff never occurs for controls) and a backslash with `\\`, so nothing
/// printed can move the cursor, ring the bell or split a line, and the
/// escaping itself stays unambiguous.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || c == '\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() {
            // is_control() is only true below U+00A0, so two hex digits do.
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for raw bytes (UNIX paths): valid UTF-8 is escaped as text,
/// every invalid byte shows as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return escape(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape("nginx: worker"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_become_hex() {
        assert_eq!(escape("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(escape("bell\x07\r\n\t"), "bell\\x07\\x0d\\x0a\\x09");
        assert_eq!(escape("del\x7f c1\u{9b}"), "del\\x7f c1\\x9b");
        assert_eq!(escape("back\\slash"), "back\\\\slash");
        assert_eq!(escape("ünïcode ok"), "ünïcode ok");
    }

    #[test]
    fn bytes_with_invalid_utf8() {
        assert_eq!(escape_bytes(b"/run/ok.sock"), "/run/ok.sock");
        assert_eq!(
            escape_bytes(b"/tmp/\xff\x1b[2J\n"),
            "/tmp/\\xff\\x1b[2J\\x0a"
        );
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_has_no_controls(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}a-z]*") {
            let e = escape(&s);
            proptest::prop_assert!(!e.chars().any(char::is_control));
        }
    }
}
