//! `-s`: ss's summary, then the per-state counts ss -s does not give.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Protocol, TcpState};
use crate::pipeline::Summary;
use crate::source::sockstat::{SockStat, ss_summary_text};

/// ss -s's text, then one line per protocol with its states.
pub fn write_text(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    write_totals(out, &s.stat)?;
    write_states(out, &s.states)
}

/// The part `ss -s` prints, from the kernel's counters alone.
pub fn write_totals(out: &mut dyn Write, stat: &SockStat) -> io::Result<()> {
    out.write_all(ss_summary_text(stat).as_bytes())
}

/// The per-state counts (from a dump, so they come later on a big host).
pub fn write_states(out: &mut dyn Write, states: &[(Protocol, TcpState, usize)]) -> io::Result<()> {
    let mut text = String::from("States (counted from the kernel dump):\n");
    let mut current = None;
    for (proto, state, n) in states {
        if current != Some(*proto) {
            if current.is_some() {
                text.push('\n');
            }
            let _ = write!(text, "{}:", proto.name().to_uppercase());
            current = Some(*proto);
        }
        let _ = write!(text, " {} {n}", state.name_for(*proto));
    }
    if current.is_some() {
        text.push('\n');
    }
    out.write_all(text.as_bytes())
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    /// The /proc/net/sockstat(6) and snmp numbers, as read.
    sockstat: &'a SockStat,
    /// `{"tcp": {"ESTABLISHED": 10, ...}, "udp": {...}}`, from the dump.
    states:
        std::collections::BTreeMap<&'static str, std::collections::BTreeMap<&'static str, usize>>,
}

/// One JSON object.
pub fn write_json(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let mut states: std::collections::BTreeMap<_, std::collections::BTreeMap<_, _>> =
        std::collections::BTreeMap::new();
    for (proto, state, n) in &s.states {
        states
            .entry(proto.name())
            .or_default()
            .insert(state.name_for(*proto), *n);
    }
    super::json::to_writer(
        &mut *out,
        &JsonSummary {
            sockstat: &s.stat,
            states,
        },
    )?;
    out.write_all(b"\n")
}
