//! ss-style detail text (stub until the full module lands).

/// ss -o: `timer:(on,716ms,0)`.
pub fn timer_text(kind: &str, expires_ms: u64, retrans: u32) -> String {
    format!("timer:({kind},{},{retrans})", ms_text(expires_ms))
}

/// ss's print_ms_timer.
pub fn ms_text(ms: u64) -> String {
    let mut secs = ms / 1000;
    let minutes = secs / 60;
    secs %= 60;
    let mut msecs = ms % 1000;
    let mut out = String::new();
    if minutes > 0 {
        msecs = 0;
        out.push_str(&format!("{minutes}min"));
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs > 0 {
        if secs > 9 {
            msecs = 0;
        }
        out.push_str(&format!("{secs}{}", if msecs > 0 { "." } else { "sec" }));
    }
    if msecs > 0 {
        out.push_str(&format!("{msecs:03}ms"));
    }
    out
}
