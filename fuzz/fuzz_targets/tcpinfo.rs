//! The INET_DIAG_INFO (struct tcp_info) and INET_DIAG_SKMEMINFO parsers on
//! arbitrary bytes, and the `ss -i`/`-m` text printed from what they give.
//! Only a panic (or a sanitizer report) fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::output::detail;
use sockscope::source::tcpinfo::{parse_skmeminfo, parse_tcp_info};

fuzz_target!(|data: &[u8]| {
    let info = parse_tcp_info(data);
    let _ = detail::tcp_info_text(&info, None);
    let _ = detail::tcp_info_text_with_options(&info, Some("cubic"));
    if let Some(m) = parse_skmeminfo(data) {
        let _ = detail::skmem_text(&m);
    }
});
