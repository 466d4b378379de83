//! What the live views report, shared by `watch`, `events` and `trace`:
//! the kind of each event (the `"event"` field of their JSON lines) and
//! the wall-clock time it is stamped with (RFC 3339, milliseconds, UTC).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The kind of one live event (README, "Live views").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// watch: a socket that was not in the snapshot before.
    Open,
    /// watch: a socket gone since the snapshot before; events: a socket the
    /// kernel destroyed.
    Close,
    /// watch: a socket whose state changed between two snapshots; trace: a
    /// state transition as the kernel made it.
    State,
    /// watch: an owner change, or a queue crossing its threshold.
    Queue,
    /// trace: tcp:tcp_retransmit_skb.
    Retransmit,
    /// trace: tcp:tcp_send_reset.
    SendReset,
    /// trace: tcp:tcp_receive_reset.
    ReceiveReset,
    /// trace, events: the kernel dropped events (a ring or socket buffer
    /// overflowed); the line says how many where known.
    Lost,
}

impl EventKind {
    /// The word of the `"event"` field and of the table's EVENT column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Open => "open",
            EventKind::Close => "close",
            EventKind::State => "state",
            EventKind::Queue => "queue",
            EventKind::Retransmit => "retransmit",
            EventKind::SendReset => "send_reset",
            EventKind::ReceiveReset => "receive_reset",
            EventKind::Lost => "lost",
        }
    }
}

/// A moment in wall-clock time, as the live views stamp events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(pub SystemTime);

impl Stamp {
    pub fn now() -> Stamp {
        Stamp(SystemTime::now())
    }

    /// `2026-11-29T20:06:28.123Z`: RFC 3339 in UTC with milliseconds (a
    /// time before 1970 is shown as the epoch).
    pub fn rfc3339(self) -> String {
        let since = self.0.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let secs = since.as_secs();
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days as i64);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            since.subsec_millis()
        )
    }

    /// `20:06:28.123`: the time of day in UTC, for tables.
    pub fn clock(self) -> String {
        let full = self.rfc3339();
        full[11..23].to_owned()
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's civil_from_days algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_rfc3339_with_milliseconds() {
        let at = |s: u64, ms: u64| Stamp(UNIX_EPOCH + Duration::from_millis(s * 1000 + ms));
        assert_eq!(at(0, 0).rfc3339(), "1970-01-01T00:00:00.000Z");
        // date -u -d @1795982788
        assert_eq!(at(1_795_982_788, 7).rfc3339(), "2026-11-29T20:06:28.007Z");
        assert_eq!(at(951_782_400, 999).rfc3339(), "2000-02-29T00:00:00.999Z");
        assert_eq!(at(1_795_982_788, 7).clock(), "20:06:28.007");
        assert_eq!(EventKind::SendReset.as_str(), "send_reset");
    }
}
