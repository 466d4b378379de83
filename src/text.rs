//! The text every layer shares: the one escaping function every untrusted
//! string passes before a table or a message, the one `ADDR:PORT` form
//! ([`host_port`]) and the one plural ([`plural`]) of messages and explain
//! views.
//!
//! The rule (README, "Escaping"): a backslash becomes `\\`; the C0
//! controls (U+0000..U+001F, so also TAB, CR and LF) and DEL become `\xNN`,
//! and so does every byte that is not UTF-8 (UNIX names); the C1 controls
//! (U+0080..U+009F), the Unicode format characters (general category Cf:
//! bidirectional overrides, embeddings and isolates, marks, zero-width
//! characters, the BOM, tags) and the line and paragraph separators
//! (U+2028, U+2029) become `\u{NNNN}`. Everything else is printed as it is.
//!
//! So nothing printed can move the cursor, set a title, ring the bell,
//! split a line, reorder the rest of a line (U+202E and friends, the
//! "Trojan Source" trick) or hide inside a name; and the escaping is
//! reversible: `\xNN` is that one byte, `\u{N}` that one character, `\\` a
//! backslash, and every other character stands for itself.

use std::borrow::Cow;
use std::fmt::Write;

/// Unicode format characters (general category Cf, Unicode 15), as
/// inclusive ranges, sorted.
const FORMAT: &[(u32, u32)] = &[
    (0x00ad, 0x00ad),   // soft hyphen
    (0x0600, 0x0605),   // Arabic number signs
    (0x061c, 0x061c),   // Arabic letter mark (bidi)
    (0x06dd, 0x06dd),   // Arabic end of ayah
    (0x070f, 0x070f),   // Syriac abbreviation mark
    (0x0890, 0x0891),   // Arabic pound/piastre mark above
    (0x08e2, 0x08e2),   // Arabic disputed end of ayah
    (0x180e, 0x180e),   // Mongolian vowel separator
    (0x200b, 0x200f),   // zero width space, ZWNJ, ZWJ, LRM, RLM
    (0x202a, 0x202e),   // LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x2064),   // word joiner, invisible operators
    (0x2066, 0x206f),   // LRI, RLI, FSI, PDI, deprecated format controls
    (0xfeff, 0xfeff),   // zero width no-break space (BOM)
    (0xfff9, 0xfffb),   // interlinear annotation
    (0x110bd, 0x110bd), // Kaithi number sign
    (0x110cd, 0x110cd), // Kaithi number sign above
    (0x13430, 0x1343f), // Egyptian hieroglyph format controls
    (0x1bca0, 0x1bca3), // shorthand format controls
    (0x1d173, 0x1d17a), // musical symbol beams, ties, slurs, phrases
    (0xe0001, 0xe0001), // language tag
    (0xe0020, 0xe007f), // tag characters
];

/// A character the table shows as `\u{NNNN}`: a C1 control, a format
/// character or a line/paragraph separator.
fn is_invisible(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x80 {
        return false;
    }
    if cp <= 0x9f || cp == 0x2028 || cp == 0x2029 {
        return true;
    }
    FORMAT
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// True for a character [`escape`] rewrites (so it is never printed as
/// itself).
pub fn needs_escape(c: char) -> bool {
    c == '\\' || c < ' ' || c == '\x7f' || is_invisible(c)
}

/// Escapes `s` by the rule above; borrowed when nothing needs escaping.
pub fn escape(s: &str) -> Cow<'_, str> {
    // Printable ASCII without a backslash: the common case, checked bytewise.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\') {
        return Cow::Borrowed(s);
    }
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    push_escaped(&mut out, s);
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if c < ' ' || c == '\x7f' {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else if is_invisible(c) {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
}

/// [`escape`] for raw bytes (UNIX paths): valid UTF-8 is escaped as text,
/// every invalid byte shows as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return escape(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        push_escaped(&mut out, chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// [`escape_bytes`] for a path (a file named on the command line or in an
/// environment variable, repeated in a message).
pub fn escape_path(path: &std::path::Path) -> Cow<'_, str> {
    use std::os::unix::ffi::OsStrExt;
    escape_bytes(path.as_os_str().as_bytes())
}

/// `ADDR:PORT` as ss and URLs write it: `1.2.3.4:80`, IPv6 in brackets
/// `[::1]:80`, and a nonzero IPv6 scope (an interface index) after `%`,
/// `[fe80::1%2]:80`. A scope of 0 is none; an IPv4 address has none.
pub fn host_port(ip: std::net::IpAddr, scope: u32, port: u16) -> String {
    match ip {
        std::net::IpAddr::V6(v6) if scope != 0 => format!("[{v6}%{scope}]:{port}"),
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
    }
}

/// `one` when `n` is 1, `many` otherwise: `plural(n, "", "s")` after
/// "socket", `plural(n, "", "es")` after "process", `plural(n, "it",
/// "them")`.
pub fn plural<'a, N: PartialEq + From<u8>>(n: N, one: &'a str, many: &'a str) -> &'a str {
    if n == N::from(1) { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_brackets_v6_and_its_scope() {
        let v6: std::net::IpAddr = "fe80::1".parse().unwrap();
        let v4: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(host_port(v6, 0, 80), "[fe80::1]:80");
        assert_eq!(host_port(v6, 2, 80), "[fe80::1%2]:80");
        assert_eq!(host_port(v4, 2, 443), "10.0.0.1:443");
        // What SocketAddr's Display gives, scope included.
        let sa: std::net::SocketAddr = "[fe80::1%3]:22".parse().unwrap();
        let scope = match sa {
            std::net::SocketAddr::V6(a) => a.scope_id(),
            std::net::SocketAddr::V4(_) => 0,
        };
        assert_eq!(host_port(sa.ip(), scope, sa.port()), sa.to_string());
    }

    #[test]
    fn plural_of_one_and_others() {
        assert_eq!(plural(1usize, "", "s"), "");
        assert_eq!(plural(0u32, "", "s"), "s");
        assert_eq!(plural(2u64, "it", "them"), "them");
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape("nginx: worker"), Cow::Borrowed(_)));
        assert!(matches!(escape("ünïcode ok"), Cow::Borrowed(_)));
        assert!(matches!(escape_bytes(b"/run/x.sock"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(escape("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(escape("bell\x07\r\n\t"), "bell\\x07\\x0d\\x0a\\x09");
        assert_eq!(escape("\0del\x7f"), "\\x00del\\x7f");
        // C1 controls are characters (two bytes in UTF-8): \u{...}.
        assert_eq!(escape("c1\u{9b}31m\u{80}"), "c1\\u{009b}31m\\u{0080}");
        assert_eq!(escape("back\\slash"), "back\\\\slash");
        assert_eq!(escape("ünïcode ok"), "ünïcode ok");
        // Not controls: U+00A0 (no-break space) and U+00A1 stay.
        assert_eq!(escape("a\u{a0}b\u{a1}"), "a\u{a0}b\u{a1}");
    }

    #[test]
    fn bidi_and_invisible_characters_are_escaped() {
        assert_eq!(escape("a\u{202e}gnp.exe"), "a\\u{202e}gnp.exe");
        assert_eq!(
            escape("\u{2066}x\u{2069}\u{200f}"),
            "\\u{2066}x\\u{2069}\\u{200f}"
        );
        assert_eq!(escape("ngi\u{200b}nx\u{feff}"), "ngi\\u{200b}nx\\u{feff}");
        assert_eq!(escape("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
        assert_eq!(escape("\u{ad}\u{61c}"), "\\u{00ad}\\u{061c}");
        assert_eq!(escape("t\u{e0041}"), "t\\u{e0041}");
        // Neighbours of the ranges stay.
        let kept = "\u{ac}\u{ae}\u{2027}\u{202f}\u{2065}\u{2070}\u{fefe}\u{ff00}";
        assert_eq!(escape(kept), kept);
    }

    #[test]
    fn format_table_is_sorted_and_disjoint() {
        for w in FORMAT.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:x?}");
        }
    }

    #[test]
    fn bytes_with_invalid_utf8() {
        assert_eq!(escape_bytes(b"/run/ok.sock"), "/run/ok.sock");
        assert_eq!(
            escape_bytes(b"/tmp/\xff\x1b[2J\n"),
            "/tmp/\\xff\\x1b[2J\\x0a"
        );
        // A lone continuation byte and a raw 0x9b (C1 CSI in Latin-1) are
        // bytes; U+009B in UTF-8 is a character.
        assert_eq!(escape_bytes(b"a\x80b\x9b1m"), "a\\x80b\\x9b1m");
        assert_eq!(escape_bytes(b"\xc2\x9b1m"), "\\u{009b}1m");
        assert_eq!(escape_bytes(b"\\\xe2\x80\xae\xc0"), "\\\\\\u{202e}\\xc0");
    }

    /// `\x41` typed literally is not `A`: the backslash is escaped, so the
    /// output is never ambiguous.
    #[test]
    fn escaping_is_reversible() {
        for s in ["a\\x41", "\\u{202e}", "\u{202e}", "\x1b", "\\\\", "é\u{9b}"] {
            assert_eq!(unescape(&escape(s)), s.as_bytes(), "{s:?}");
        }
        let raw = b"\\x9b\x9b\xc2\x9b\xff\\";
        assert_eq!(unescape(&escape_bytes(raw)), raw);
    }

    /// The inverse of the rule: `\xNN` a byte, `\u{N}` a character, `\\` a
    /// backslash.
    fn unescape(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(i) = rest.find('\\') {
            out.extend_from_slice(&rest.as_bytes()[..i]);
            let tail = &rest[i + 1..];
            if let Some(t) = tail.strip_prefix('\\') {
                out.push(b'\\');
                rest = t;
            } else if let Some(t) = tail.strip_prefix('x') {
                out.push(u8::from_str_radix(&t[..2], 16).unwrap());
                rest = &t[2..];
            } else if let Some(t) = tail.strip_prefix("u{") {
                let end = t.find('}').unwrap();
                let c = char::from_u32(u32::from_str_radix(&t[..end], 16).unwrap()).unwrap();
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                rest = &t[end + 1..];
            } else {
                panic!("bare backslash in {s:?}");
            }
        }
        out.extend_from_slice(rest.as_bytes());
        out
    }

    fn printable(e: &str) -> bool {
        !e.chars().any(|c| c.is_control() || is_invisible(c))
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_is_printable_and_reversible(
            s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}a-z]*|[\\u{200b}-\\u{2070}\\u{feff}a\\\\x{}]*"
        ) {
            let e = escape(&s);
            proptest::prop_assert!(printable(&e));
            proptest::prop_assert_eq!(unescape(&e), s.as_bytes());
        }

        #[test]
        fn escaped_bytes_are_printable_and_reversible(
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..64)
        ) {
            let e = escape_bytes(&b);
            proptest::prop_assert!(printable(&e));
            proptest::prop_assert_eq!(unescape(&e), b);
        }
    }
}
