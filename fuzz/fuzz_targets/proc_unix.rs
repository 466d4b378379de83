//! The /proc/net/unix parser on arbitrary bytes, with what callers ask of
//! each entry (ss's state name, whether ss lists it, the escaped name).
//! Errors are fine; only a panic (or a sanitizer report) fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::render::escape;
use sockscope::source::unix_proc;

fuzz_target!(|data: &[u8]| {
    let _ = unix_proc::parse(data, |e| {
        let _ = unix_proc::ss_state_name(&e);
        let _ = unix_proc::listed_by_ss(&e);
        let _ = e.is_abstract();
        if let Some(p) = &e.path {
            let _ = escape::escape_bytes(p);
        }
    });
});
