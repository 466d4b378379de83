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

    proptest::proptest! {
        #[test]
        fn escaped_text_has_no_controls(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}a-z]*") {
            let e = escape(&s);
            proptest::prop_assert!(!e.chars().any(char::is_control));
        }
    }
}
