//! `trace`'s parsers of kernel bytes on arbitrary input: a tracepoint
//! `format` file (`Format::parse`, kernel/trace/trace_events.c: f_show),
//! then a decoder built from it in place of inet_sock_set_state's recorded
//! format (any offsets and sizes: it must refuse or read within bounds),
//! and a raw PERF_SAMPLE_RAW record through the decoder of the recorded
//! 6.18 formats, also wrapped in a PERF_RECORD_SAMPLE (`parse_record`),
//! or an ftrace ring-buffer page (`parse_page`, the recorded 6.18
//! header_page/header_event layout) whose events go through the decoder.
//! The first byte picks the mode. Errors are fine; only a panic fails.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use sockscope::source::ftrace::{PageFormat, PageItem, parse_page};
use sockscope::source::perf::parse_record;
use sockscope::source::tracefs::{Decoder, Format, Formats};

macro_rules! recorded {
    ($tp:literal) => {
        include_str!(concat!("../../fixtures/tracefs/6.18/events/", $tp, "/format"))
    };
}

fn formats() -> Formats {
    let one = |name: &str, text: &str| (PathBuf::from(name), Format::parse(text).expect("recorded"));
    Formats {
        set_state: one("set_state", recorded!("sock/inet_sock_set_state")),
        retransmit: one("retransmit", recorded!("tcp/tcp_retransmit_skb")),
        send_reset: one("send_reset", recorded!("tcp/tcp_send_reset")),
        receive_reset: one("receive_reset", recorded!("tcp/tcp_receive_reset")),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 4 == 3 {
        let fmt = PageFormat::parse(
            include_str!("../../fixtures/tracefs/6.18/events/header_page"),
            include_str!("../../fixtures/tracefs/6.18/events/header_event"),
        )
        .expect("recorded headers");
        let d = Decoder::new(&formats()).expect("recorded formats");
        let _ = parse_page(&fmt, rest, &mut |item| {
            if let PageItem::Event { raw, .. } = item {
                let _ = d.decode(raw);
            }
        });
    } else if mode & 1 == 0 {
        let text = String::from_utf8_lossy(rest);
        if let Ok(format) = Format::parse(&text) {
            let mut fs = formats();
            fs.set_state.1 = format;
            if let Ok(d) = Decoder::new(&fs) {
                let sample = include_bytes!("../../fixtures/tracefs/6.18/samples/set_state_connect.bin");
                let _ = d.decode(sample);
                let _ = d.decode(rest);
            }
        }
    } else {
        let d = Decoder::new(&formats()).expect("recorded formats");
        let _ = d.decode(rest);
        // The same bytes as a ring record: header, pid/tid, time, cpu, raw.
        let mut rec = Vec::with_capacity(rest.len() + 40);
        rec.extend_from_slice(&9u32.to_ne_bytes());
        rec.extend_from_slice(&0u16.to_ne_bytes());
        rec.extend_from_slice(&((rest.len() + 40) as u16).to_ne_bytes());
        rec.extend_from_slice(&[0; 24]);
        rec.extend_from_slice(&(rest.len() as u32).to_ne_bytes());
        rec.extend_from_slice(rest);
        let _ = parse_record(&rec, 0);
        let _ = parse_record(rest, 0);
    }
});
