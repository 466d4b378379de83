//! `sockscope counters`' readers on arbitrary bytes: the input is read as
//! /proc/net/snmp or netstat (line pairs) and as snmp6 or a --delta state
//! file (`Name value` lines); what parses is compared with itself read
//! again (the --delta path) and printed as text. Errors are fine; only a
//! panic (or a sanitizer report) fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::analysis::counters::{Select, rows};
use sockscope::model::Counters;
use sockscope::output::counters::{Basis, counters_text};
use sockscope::source::counters::{parse_lines, parse_pairs};

fuzz_target!(|data: &[u8]| {
    let mut now = Counters::new();
    let _ = parse_pairs(data, &mut now);
    let mut before = Counters::new();
    let _ = parse_lines(data, &mut before);
    let select = Select {
        patterns: vec!["*Tcp*".into()],
        zeros: data.first().is_some_and(|b| b & 1 == 1),
    };
    let shown = rows(&now, Some(&before), &select);
    let _ = counters_text(&mut std::io::sink(), &shown, Basis::SinceLastRun, true);
    let shown = rows(&before, None, &Select::default());
    let _ = counters_text(&mut std::io::sink(), &shown, Basis::Absolute, false);
});
