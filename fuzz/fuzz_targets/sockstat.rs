//! The `ss -s` readers on arbitrary bytes: the input is read as
//! /proc/net/sockstat, as sockstat6 and as snmp, all into one record (as
//! `sockstat::read` fills it from the three files), which is then printed
//! as `ss -s` text. Errors are fine; only a panic (or a sanitizer report)
//! fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::model::SockStat;
use sockscope::output::summary::ss_summary_text;
use sockscope::source::sockstat::{parse_snmp, parse_sockstat, parse_sockstat6};

fuzz_target!(|data: &[u8]| {
    let mut s = SockStat::default();
    let _ = parse_sockstat(data, &mut s);
    let _ = parse_sockstat6(data, &mut s);
    let _ = parse_snmp(data, &mut s);
    let _ = ss_summary_text(&s);
});
