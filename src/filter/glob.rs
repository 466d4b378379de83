//! Glob patterns on UNIX socket names, matched as ss matches them:
//! fnmatch(3) with FNM_CASEFOLD and no other flag, so `*` and `?` also
//! match `/` and a leading `.`, `[...]` is a set (`!` or `^` negates it,
//! `a-z` is a range), and a backslash quotes the next character.

/// True when `name` matches `pattern` (ASCII letters compared without case).
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    // Iterative with one backtrack point (the last `*`): linear in
    // practice, never recursive, whatever the pattern.
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p + 1, n));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((hit, next)) = set(pattern, p, name[n]) {
                        if hit {
                            p = next;
                            n += 1;
                            continue;
                        }
                    } else if name[n] == b'[' {
                        // An unclosed `[` is itself (fnmatch).
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if same(pattern[p + 1], name[n]) {
                        p += 2;
                        n += 1;
                        continue;
                    }
                }
                c => {
                    if same(c, name[n]) {
                        p += 1;
                        n += 1;
                        continue;
                    }
                }
            }
        }
        // No match here: let the last `*` take one more byte.
        match star {
            Some((sp, sn)) => {
                p = sp;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn same(a: u8, b: u8) -> bool {
    a.eq_ignore_ascii_case(&b)
}

/// The set starting at `pattern[at]` (a `[`): whether `c` is in it and
/// where the pattern goes on; `None` when no `]` closes it.
fn set(pattern: &[u8], at: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let &ch = pattern.get(i)?;
        if ch == b']' && !first {
            break;
        }
        first = false;
        let (lo, after) = if ch == b'\\' {
            (*pattern.get(i + 1)?, i + 2)
        } else {
            (ch, i + 1)
        };
        if pattern.get(after) == Some(&b'-') && pattern.get(after + 1).is_some_and(|&h| h != b']') {
            let (hi, end) = match pattern[after + 1] {
                b'\\' => (*pattern.get(after + 2)?, after + 3),
                h => (h, after + 2),
            };
            let lc = c.to_ascii_lowercase();
            let uc = c.to_ascii_uppercase();
            if (lo..=hi).contains(&lc) || (lo..=hi).contains(&uc) || (lo..=hi).contains(&c) {
                hit = true;
            }
            i = end;
        } else {
            if same(lo, c) {
                hit = true;
            }
            i = after;
        }
    }
    Some((hit != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn m(p: &str, n: &str) -> bool {
        matches(p.as_bytes(), n.as_bytes())
    }

    #[test]
    fn like_fnmatch_casefold() {
        assert!(m("/run/*.sock", "/run/docker.sock"));
        assert!(m("/run/*.sock", "/run/a/b.sock"), "no FNM_PATHNAME");
        assert!(m("/TMP/FQ*", "/tmp/fq1.sock"), "FNM_CASEFOLD");
        assert!(!m("/run/*.sock", "/run/docker.socket"));
        assert!(m("*", ""));
        assert!(!m("?", ""));
        assert!(m("@?????", "@00a1f"));
        assert!(m("/tmp/.X11-unix/*", "/tmp/.X11-unix/X0"));
        assert!(m("/x[0-9]", "/x7"));
        assert!(!m("/x[!0-9]", "/x7"));
        assert!(m("/x[^a]", "/xb"));
        assert!(m("/x[]]", "/x]"));
        assert!(m("/x[", "/x["), "an unclosed [ is itself");
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*d", "xxaxxbxxcxx"));
        assert!(m("/x[A-C]", "/xb"));
    }

    #[test]
    fn long_inputs_stay_fast() {
        let name = "a".repeat(10_000);
        let pattern = "*a".repeat(50) + "b";
        assert!(!m(&pattern, &name));
    }
}
