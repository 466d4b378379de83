//! The /proc/net/unix parser, structure-aware: the input drives a generator
//! that writes whole lines field by field as unix_seq_show() does
//! (net/unix/af_unix.c), with names that are unnamed, paths, abstract
//! (`@`), or hold newlines followed by another generated record line (the
//! forged-row case), then mutates inside fields (see sockscope_fuzz::Gen).
//! The raw input is also parsed as a table, as before. Callers' questions
//! are asked of each entry. Errors are fine; a panic fails, and so does one
//! inode coming out twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::source::unix_proc;
use sockscope::text as escape;
use sockscope_fuzz::Gen;

const HEADER: &[u8] = b"Num       RefCount Protocol Flags    Type St Inode Path\n";

/// The fields of one record, without its name.
fn record_fields(g: &mut Gen) -> Vec<Vec<u8>> {
    let ty = [1u8, 2, 5, 3][usize::from(g.below(4))];
    let flags = if g.one_in(3) { 0x0001_0000u32 } else { 0 };
    // Inodes from a small set, so that claims collide.
    let inode = u64::from(g.below(8)) * u64::from(g.u8());
    vec![
        format!("{:016x}:", g.u64()).into_bytes(),
        format!("{:08X}", g.below(4)).into_bytes(),
        b"00000000".to_vec(),
        format!("{flags:08X}").into_bytes(),
        format!("{ty:04X}").into_bytes(),
        format!("{:02X}", g.below(6)).into_bytes(),
        format!("{inode:5}").into_bytes(),
    ]
}

fn name(g: &mut Gen, depth: u8) -> Option<Vec<u8>> {
    match g.below(5) {
        0 => None,
        1 => Some([b"/".to_vec(), g.bytes(40)].concat()),
        2 => Some([b"@".to_vec(), g.bytes(40)].concat()),
        3 if depth == 0 => {
            // A name holding a newline and a whole record line.
            let mut inner = Vec::new();
            line(g, 1, &mut inner);
            inner.pop();
            Some([b"@x\n".to_vec(), inner].concat())
        }
        _ => Some([g.bytes(20), b"\n".to_vec(), g.bytes(20)].concat()),
    }
}

fn line(g: &mut Gen, depth: u8, out: &mut Vec<u8>) {
    let mut fields = record_fields(g);
    if let Some(n) = name(g, depth) {
        fields.push(n);
    }
    g.write_fields(fields, b" ", out);
}

fn check(text: &[u8]) {
    let mut inodes = Vec::new();
    let _ = unix_proc::parse(text, |e| {
        let _ = unix_proc::ss_state_name(&e);
        let _ = e.state();
        let _ = unix_proc::listed_by_ss(&e);
        let _ = e.is_abstract();
        if let Some(p) = &e.path {
            let _ = escape::escape_bytes(p);
        }
        if e.inode != 0 {
            inodes.push(e.inode);
        }
    });
    let n = inodes.len();
    inodes.sort_unstable();
    inodes.dedup();
    assert_eq!(inodes.len(), n, "one inode came out as two rows");
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut g = Gen::new(data);
    let mut text = HEADER.to_vec();
    while !g.done() {
        line(&mut g, 0, &mut text);
    }
    check(&text);
});
