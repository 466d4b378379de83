//! A small structure-aware generator for the text-table fuzz targets: the
//! fuzz input is read as a stream of choices. A target builds each line's
//! fields well formed from the next bytes (so the parser's checks pass and
//! the code behind them runs), and [`Gen::write_fields`] then mutates
//! inside some fields: a byte replaced by a multi-byte UTF-8 character or a
//! byte the kernel never writes, a byte inserted or deleted, the field cut.
//! libFuzzer's byte mutations of the input thus become field mutations.

/// Byte strings a field mutation puts in: multi-byte UTF-8 (2, 3 and 4
/// bytes), invalid UTF-8, separators, a sign, a non-hex letter, NUL.
const SPECIAL: &[&[u8]] = &[
    "\u{e9}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{1F600}".as_bytes(),
    b"\xff",
    b"\xc3",
    b":",
    b" ",
    b"\n",
    b"-",
    b"G",
    b"@",
    b"\0",
];

/// The fuzz input read as a stream of choices; zeros once it is used up.
pub struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Gen<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Gen { data, pos: 0 }
    }

    /// True once every input byte was used.
    pub fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// A value below `n` (n > 0).
    pub fn below(&mut self, n: u8) -> u8 {
        self.u8() % n.max(1)
    }

    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: u8) -> bool {
        self.below(n) == 0
    }

    /// Some bytes straight from the input, up to `max`.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = usize::from(self.u8()) % (max + 1);
        (0..n).map(|_| self.u8()).collect()
    }

    /// Mutates one field in place.
    pub fn mutate(&mut self, f: &mut Vec<u8>) {
        let pos = usize::from(self.u8()) % (f.len() + 1);
        let special = SPECIAL[usize::from(self.u8()) % SPECIAL.len()];
        match self.below(5) {
            // Overwrite, keeping the field's length where it fits: a
            // multi-byte character inside a fixed-width hex field.
            0 => {
                let end = (pos + special.len()).min(f.len());
                f.splice(pos..end, special.iter().copied());
            }
            1 => {
                f.splice(pos..pos, special.iter().copied());
            }
            2 => {
                if pos < f.len() {
                    f.remove(pos);
                }
            }
            3 => f.truncate(pos),
            _ => {
                let b = self.u8();
                if let Some(x) = f.get_mut(pos) {
                    *x = b;
                }
            }
        }
    }

    /// Writes `fields` separated by `sep`, mutating about one in eight,
    /// then a newline.
    pub fn write_fields(&mut self, fields: Vec<Vec<u8>>, sep: &[u8], out: &mut Vec<u8>) {
        for (i, mut f) in fields.into_iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(sep);
            }
            if self.one_in(8) {
                self.mutate(&mut f);
            }
            out.extend_from_slice(&f);
        }
        out.push(b'\n');
    }
}

/// NETLINK_SOCK_DIAG replies built from the input, lengths consistent, so
/// the fuzzer spends its time inside records and attributes rather than
/// on framing; [`Gen::mutate`] still breaks a length or a field now and
/// then (include/uapi/linux/netlink.h, rtnetlink.h NLA framing).
pub mod nl {
    use super::Gen;

    /// SOCK_DIAG_BY_FAMILY, NLMSG_DONE, NLMSG_ERROR.
    const TYPES: [u16; 3] = [20, 3, 2];
    const NLM_F_MULTI: u16 = 2;

    fn pad4(v: &mut Vec<u8>) {
        while v.len() % 4 != 0 {
            v.push(0);
        }
    }

    /// One attribute: nla_len, nla_type, value, padding.
    pub fn attr(g: &mut Gen, kind: u16, value: Vec<u8>, out: &mut Vec<u8>) {
        let mut a = Vec::new();
        a.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(&value);
        if g.one_in(16) {
            g.mutate(&mut a);
        }
        out.extend_from_slice(&a);
        pad4(out);
    }

    /// Attributes of the kinds `0..kinds`, values of the sizes the kernel
    /// sends (`sizes[kind]`, or from the input when 0).
    pub fn attrs(g: &mut Gen, sizes: &[usize], out: &mut Vec<u8>) {
        for _ in 0..g.below(6) {
            let kind = g.below(sizes.len() as u8);
            let size = match sizes[usize::from(kind)] {
                0 => usize::from(g.below(64)),
                n if g.one_in(8) => usize::from(g.below(n as u8 + 8)),
                n => n,
            };
            let value = (0..size).map(|_| g.u8()).collect();
            attr(g, u16::from(kind), value, out);
        }
    }

    /// One message around `payload`, mostly SOCK_DIAG_BY_FAMILY.
    pub fn message(g: &mut Gen, payload: Vec<u8>, out: &mut Vec<u8>) {
        let ty = if g.one_in(8) {
            TYPES[usize::from(g.below(3))]
        } else {
            TYPES[0]
        };
        let mut m = Vec::new();
        m.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&NLM_F_MULTI.to_ne_bytes());
        m.extend_from_slice(&g.u32().to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&payload);
        if g.one_in(32) {
            g.mutate(&mut m);
        }
        out.extend_from_slice(&m);
        pad4(out);
    }

    /// A dump: records built by `record`, then NLMSG_DONE.
    pub fn dump(g: &mut Gen, mut record: impl FnMut(&mut Gen) -> Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        while !g.done() {
            let payload = record(g);
            message(g, payload, &mut out);
        }
        out.extend_from_slice(&20u32.to_ne_bytes());
        out.extend_from_slice(&3u16.to_ne_bytes());
        out.extend_from_slice(&NLM_F_MULTI.to_ne_bytes());
        out.extend_from_slice(&[0; 12]);
        out
    }
}
