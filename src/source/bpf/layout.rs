//! The offsets and sizes the task_file program loads, from BTF.
//!
//! Each is checked for the shape the program relies on (an int of the
//! size it loads, a pointer to the struct it walks into); anything else is
//! an error, so the program is never assembled with a guessed offset. The
//! verifier checks each load against the same BTF too (offset inside a
//! member, size not above it), but a load that lands on another member of
//! the right size would pass it: these checks and the run's self-check
//! (`super::SelfCheck`) are what stop that.

use super::super::btf::{Btf, BtfError, Field, Kind, Shape, Type, TypeId};

/// Where each value the program reads is, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The BTF id of FUNC `bpf_iter_task_file` (the program's
    /// attach_btf_id).
    pub func_id: TypeId,
    /// The iterator context's slots (kernel/bpf/task_iter.c:
    /// DEFINE_BPF_ITER_FUNC(task_file, meta, task, fd, file); each
    /// argument a u64 slot of the context).
    pub ctx_meta: i16,
    pub ctx_task: i16,
    pub ctx_fd: i16,
    pub ctx_file: i16,
    /// include/linux/bpf.h: struct bpf_iter_meta.seq
    pub meta_seq: i16,
    /// include/linux/sched.h: task_struct.pid, .tgid (pid_t), .thread_pid
    pub task_pid: i16,
    pub task_tgid: i16,
    pub task_thread_pid: i16,
    /// include/linux/pid.h: struct pid.level, .numbers[] (struct upid:
    /// .nr), and sizeof(struct upid)
    pub pid_level: i16,
    pub pid_numbers: i16,
    pub upid_size: i16,
    pub upid_nr: i16,
    /// How many pid namespace levels the program can read (up to
    /// [`MAX_LEVELS`]).
    pub pid_levels: u32,
    /// include/linux/fs.h: file.f_inode, inode.i_mode (umode_t),
    /// inode.i_ino (unsigned long)
    pub file_inode: i16,
    pub inode_mode: i16,
    pub inode_mode_size: u32,
    pub inode_ino: i16,
    pub inode_ino_size: u32,
}

/// The deepest pid namespace (0 is the initial one) the program
/// translates pids for; the kernel allows 32 (MAX_PID_NS_LEVEL), a
/// container in a container is 2.
pub const MAX_LEVELS: u32 = 8;

/// include/linux/bpf.h: MAX_BPF_FUNC_ARGS, the most arguments (u64 context
/// slots) a tracing program's context has.
pub const MAX_CTX_ARGS: usize = 12;

/// What [`Layout::from_btf`] looks up: each type, and the members it reads
/// (a FUNC's prototype is read whole). The BTF fixture extract keeps these.
pub const READS: &[(Kind, &str, &[&str])] = &[
    (Kind::Func, "bpf_iter_task_file", &[]),
    (Kind::Struct, "task_struct", &["pid", "tgid", "thread_pid"]),
    (Kind::Struct, "pid", &["level", "numbers"]),
    (Kind::Struct, "upid", &["nr"]),
    (Kind::Struct, "bpf_iter_meta", &["seq"]),
    (Kind::Struct, "file", &["f_inode"]),
    (Kind::Struct, "inode", &["i_mode", "i_ino"]),
    (Kind::Struct, "seq_file", &[]),
];

/// Every name [`Layout::from_btf`] looks up: the types and members of
/// [`READS`] and the context's parameters, and "" (anonymous); for the
/// generators of test and fuzz BTF.
pub fn names() -> Vec<&'static str> {
    let mut names = vec!["", "meta", "task", "fd", "file", "int"];
    for (_, ty, members) in READS {
        names.push(ty);
        names.extend_from_slice(members);
    }
    names.sort_unstable();
    names.dedup();
    names
}

/// A pointer's size (the program runs on 64-bit kernels only).
const PTR_SIZE: u32 = 8;

fn unexpected(what: &str, found: &Shape) -> BtfError {
    BtfError::Unexpected {
        what: what.to_owned(),
        found: format!("{found:?}"),
    }
}

/// The member's offset as a load's, if `size` bytes there are inside
/// `owner` (its size as BTF says): a corrupt file may put a member past
/// its struct's end, where the kernel's real struct has something else.
fn offset(what: &str, owner: &Type, field: &Field, size: u32) -> Result<i16, BtfError> {
    let end = u64::from(field.offset) + u64::from(size);
    if end > u64::from(owner.size_or_type) {
        return Err(BtfError::Unexpected {
            what: what.to_owned(),
            found: format!(
                "{size} bytes at offset {} past the end of its struct ({} bytes)",
                field.offset, owner.size_or_type
            ),
        });
    }
    i16::try_from(field.offset).map_err(|_| BtfError::Unexpected {
        what: what.to_owned(),
        found: format!("offset {} beyond a load's reach", field.offset),
    })
}

/// A member that must be an int of one of `sizes`.
fn int(btf: &Btf, owner: &Type, member: &str, sizes: &[u32]) -> Result<(i16, u32), BtfError> {
    let f = btf.member(owner, member)?;
    let what = format!("{}.{member}", btf.name(owner.name_off)?);
    match f.shape {
        Shape::Int { size, .. } if sizes.contains(&size) => {
            Ok((offset(&what, owner, &f, size)?, size))
        }
        ref other => Err(unexpected(&what, other)),
    }
}

/// A member that must be a pointer to struct `to`.
fn ptr(btf: &Btf, owner: &Type, member: &str, to: &str) -> Result<i16, BtfError> {
    let f = btf.member(owner, member)?;
    let what = format!("{}.{member}", btf.name(owner.name_off)?);
    match &f.shape {
        Shape::Ptr { to: Some(name) } if name == to => offset(&what, owner, &f, PTR_SIZE),
        other => Err(unexpected(&what, other)),
    }
}

impl Layout {
    /// Reads every offset from `btf`, checking each one's shape.
    pub fn from_btf(btf: &Btf) -> Result<Layout, BtfError> {
        let [func, task, pid, upid, meta, file, inode] = btf.find_all([
            (Kind::Func, "bpf_iter_task_file"),
            (Kind::Struct, "task_struct"),
            (Kind::Struct, "pid"),
            (Kind::Struct, "upid"),
            (Kind::Struct, "bpf_iter_meta"),
            (Kind::Struct, "file"),
            (Kind::Struct, "inode"),
        ])?;
        let (func, task, pid, upid, meta, file, inode) =
            (func?, task?, pid?, upid?, meta?, file?, inode?);
        let params = btf.params(&func)?;
        let slot = |name: &str, ok: &dyn Fn(&Shape) -> bool| -> Result<i16, BtfError> {
            let what = format!("bpf_iter_task_file({name})");
            let (i, (_, shape)) = params
                .iter()
                .enumerate()
                .find(|(_, (n, _))| n == name)
                .ok_or_else(|| BtfError::NoMember(what.clone()))?;
            if !ok(shape) {
                return Err(unexpected(&what, shape));
            }
            if i >= MAX_CTX_ARGS {
                return Err(BtfError::Unexpected {
                    what,
                    found: format!("argument {i}, past the context's {MAX_CTX_ARGS} slots"),
                });
            }
            Ok(i as i16 * 8)
        };
        let ptr_to =
            |to: &'static str| move |s: &Shape| matches!(s, Shape::Ptr { to: Some(n) } if n == to);
        let ctx_meta = slot("meta", &ptr_to("bpf_iter_meta"))?;
        let ctx_task = slot("task", &ptr_to("task_struct"))?;
        let ctx_fd = slot("fd", &|s| matches!(s, Shape::Int { size: 4, .. }))?;
        let ctx_file = slot("file", &ptr_to("file"))?;

        let (task_pid, _) = int(btf, &task, "pid", &[4])?;
        let (task_tgid, _) = int(btf, &task, "tgid", &[4])?;
        let task_thread_pid = ptr(btf, &task, "thread_pid", "pid")?;
        let (pid_level, _) = int(btf, &pid, "level", &[4])?;
        let numbers = btf.member(&pid, "numbers")?;
        let (upid_size, pid_levels) = match numbers.shape {
            // An array of struct upid: a flexible one (the verifier lets
            // loads go past the struct's end only then) holds a level per
            // nested namespace; a fixed one only its length.
            Shape::Array {
                elem,
                elem_size,
                len,
            } if btf.resolve(elem)?.map(|t| t.id) == Some(upid.id)
                && elem_size == upid.size_or_type
                && elem_size > 0 =>
            {
                let levels = match len {
                    0 => MAX_LEVELS,
                    n => n.min(MAX_LEVELS),
                };
                (elem_size, levels)
            }
            ref other => return Err(unexpected("pid.numbers", other)),
        };
        let upid_size = i16::try_from(upid_size).map_err(|_| unexpected("upid", &numbers.shape))?;
        // A fixed array's levels lie inside struct pid; a flexible one
        // starts at most at its end.
        let fixed = match numbers.shape {
            Shape::Array { len, .. } if len > 0 => pid_levels * upid_size as u32,
            _ => 0,
        };
        let pid_numbers = offset("pid.numbers", &pid, &numbers, fixed)?;
        let (upid_nr, _) = int(btf, &upid, "nr", &[4])?;
        let meta_seq = ptr(btf, &meta, "seq", "seq_file")?;
        let file_inode = ptr(btf, &file, "f_inode", "inode")?;
        let (inode_mode, inode_mode_size) = int(btf, &inode, "i_mode", &[2, 4])?;
        let (inode_ino, inode_ino_size) = int(btf, &inode, "i_ino", &[4, 8])?;
        Ok(Layout {
            func_id: func.id,
            ctx_meta,
            ctx_task,
            ctx_fd,
            ctx_file,
            meta_seq,
            task_pid,
            task_tgid,
            task_thread_pid,
            pid_level,
            pid_numbers,
            upid_size,
            upid_nr,
            pid_levels,
            file_inode,
            inode_mode,
            inode_mode_size,
            inode_ino,
            inode_ino_size,
        })
    }
}

/// A broken invariant of a [`Layout`] against the BTF it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layout invariant broken: {0}")]
pub struct Broken(pub String);

impl Layout {
    /// Checks what [`Layout::from_btf`] promises, against `btf` again (for
    /// property tests and the fuzz target): every load of `size` bytes at
    /// its offset inside the struct that holds it as BTF sizes it, context
    /// slots distinct multiples of 8 within [`MAX_CTX_ARGS`], sizes the
    /// program can load, between 1 and [`MAX_LEVELS`] pid levels, and
    /// `func_id` the FUNC bpf_iter_task_file.
    pub fn check(&self, btf: &Btf) -> Result<(), Broken> {
        let broken = |what: String| Err(Broken(what));
        let size = |name: &str| {
            btf.find(Kind::Struct, name)
                .map(|t| i64::from(t.size_or_type))
                .map_err(|e| Broken(format!("struct {name}: {e}")))
        };
        let func = btf
            .get(self.func_id)
            .map_err(|e| Broken(format!("func_id: {e}")))?;
        if func.kind != Kind::Func || btf.name(func.name_off).ok() != Some("bpf_iter_task_file") {
            return broken(format!(
                "func_id {} is not bpf_iter_task_file",
                self.func_id
            ));
        }
        let slots = [self.ctx_meta, self.ctx_task, self.ctx_fd, self.ctx_file];
        for (i, s) in slots.iter().enumerate() {
            if *s < 0 || s % 8 != 0 || *s as usize >= 8 * MAX_CTX_ARGS {
                return broken(format!("context slot {s}"));
            }
            if slots[..i].contains(s) {
                return broken(format!("context slot {s} twice"));
            }
        }
        let (task, pid, upid, meta, file, inode) = (
            size("task_struct")?,
            size("pid")?,
            size("upid")?,
            size("bpf_iter_meta")?,
            size("file")?,
            size("inode")?,
        );
        if !matches!(self.inode_mode_size, 2 | 4) || !matches!(self.inode_ino_size, 4 | 8) {
            return broken(format!(
                "load sizes {} and {}",
                self.inode_mode_size, self.inode_ino_size
            ));
        }
        if self.pid_levels == 0 || self.pid_levels > MAX_LEVELS {
            return broken(format!("{} pid levels", self.pid_levels));
        }
        if i64::from(self.upid_size) != upid {
            return broken(format!("upid size {} for {upid}", self.upid_size));
        }
        let ptr = i64::from(PTR_SIZE);
        let loads = [
            ("task_struct.pid", self.task_pid, 4, task),
            ("task_struct.tgid", self.task_tgid, 4, task),
            ("task_struct.thread_pid", self.task_thread_pid, ptr, task),
            ("pid.level", self.pid_level, 4, pid),
            ("pid.numbers", self.pid_numbers, 0, pid),
            ("upid.nr", self.upid_nr, 4, upid),
            ("bpf_iter_meta.seq", self.meta_seq, ptr, meta),
            ("file.f_inode", self.file_inode, ptr, file),
            (
                "inode.i_mode",
                self.inode_mode,
                i64::from(self.inode_mode_size),
                inode,
            ),
            (
                "inode.i_ino",
                self.inode_ino,
                i64::from(self.inode_ino_size),
                inode,
            ),
        ];
        for (what, at, len, within) in loads {
            if at < 0 || i64::from(at) + len > within {
                return broken(format!("{what}: {len} bytes at {at} in {within}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::btf::build::{self, Builder};
    use std::path::{Path, PathBuf};

    /// The extract of this machine's vmlinux BTF (fixtures/btf/README).
    const FIXTURE: &str = "fixtures/btf/vmlinux-6.18-extract.btf";
    /// `uname -r` of the kernel it was extracted from.
    const RELEASE: &str = "fixtures/btf/release";
    const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

    fn repo(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    fn fixture() -> Vec<u8> {
        std::fs::read(repo(FIXTURE)).unwrap()
    }

    fn layout_of(blob: &[u8]) -> Result<Layout, BtfError> {
        Layout::from_btf(&Btf::parse(blob)?)
    }

    #[test]
    fn extract_is_this_kernels() {
        let update = std::env::var_os("UPDATE_FIXTURES").is_some();
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let release = release.trim();
        if update {
            let live = Btf::from_file(Path::new(VMLINUX)).unwrap();
            let blob = build::extract(&live, READS).unwrap();
            std::fs::create_dir_all(repo("fixtures/btf")).unwrap();
            std::fs::write(repo(FIXTURE), &blob).unwrap();
            std::fs::write(repo(RELEASE), format!("{release}\n")).unwrap();
        }
        let recorded = std::fs::read_to_string(repo(RELEASE)).unwrap();
        if recorded.trim() != release || !Path::new(VMLINUX).exists() {
            eprintln!(
                "{FIXTURE} comes from {}; this is {release}: not compared with {VMLINUX}",
                recorded.trim()
            );
            return;
        }
        let live = Btf::from_file(Path::new(VMLINUX)).unwrap();
        let blob = build::extract(&live, READS).unwrap();
        assert!(
            blob == fixture(),
            "{FIXTURE} is stale: run `UPDATE_FIXTURES=1 cargo test --lib extract_is_this_kernels` and commit it"
        );
        // The same offsets as the kernel's whole BTF; only the ids differ.
        let whole = Layout::from_btf(&live).unwrap();
        let extract = layout_of(&blob).unwrap();
        assert_eq!(
            Layout {
                func_id: 0,
                ..whole
            },
            Layout {
                func_id: 0,
                ..extract
            }
        );
        whole.check(&live).unwrap();
    }

    /// The extract's layout, as read with pahole-like care from its
    /// records (fixtures/btf/README): bit offsets / 8.
    fn recorded() -> Layout {
        Layout {
            func_id: 2,
            // bpf_iter_task_file(meta, task, fd, file)
            ctx_meta: 0,
            ctx_task: 8,
            ctx_fd: 16,
            ctx_file: 24,
            // bpf_iter_meta: an anonymous union holding seq at 0
            meta_seq: 0,
            // task_struct (3264 bytes): pid 10112 bits, tgid 10144,
            // thread_pid 10944
            task_pid: 1264,
            task_tgid: 1268,
            task_thread_pid: 1368,
            // pid (144 bytes): level at 32 bits, numbers[] (flexible) at
            // 1152, the struct's end; upid is 16 bytes, nr at 0
            pid_level: 4,
            pid_numbers: 144,
            upid_size: 16,
            upid_nr: 0,
            pid_levels: MAX_LEVELS,
            // file.f_inode at 256 bits
            file_inode: 32,
            // inode: i_mode (umode_t, unsigned short) at 0, i_ino
            // (unsigned long) at 512 bits
            inode_mode: 0,
            inode_mode_size: 2,
            inode_ino: 64,
            inode_ino_size: 8,
        }
    }

    #[test]
    fn extract_gives_the_recorded_offsets() {
        let btf = Btf::parse(&fixture()).unwrap();
        let layout = Layout::from_btf(&btf).unwrap();
        assert_eq!(layout, recorded());
        layout.check(&btf).unwrap();
        // Members it does not read are there by name, with a placeholder.
        let task = btf.find(Kind::Struct, "task_struct").unwrap();
        assert_eq!(task.size_or_type, 3264);
        let comm = btf.member(&task, "comm").unwrap();
        assert_eq!(comm.shape, Shape::Other(Kind::Fwd));
    }

    /// The extract, to edit in place (record and member positions from
    /// the unedited parse) or append records to.
    struct Edit {
        b: Builder,
        btf: Btf,
    }

    impl Edit {
        fn new() -> Edit {
            let blob = fixture();
            Edit {
                b: Builder::from_blob(&blob).unwrap(),
                btf: Btf::parse(&blob).unwrap(),
            }
        }

        fn ty(&self, kind: Kind, name: &str) -> Type {
            self.btf.find(kind, name).unwrap()
        }

        /// Where record `name`'s head is in the type section.
        fn record(&self, kind: Kind, name: &str) -> usize {
            self.btf.span(self.ty(kind, name).id).unwrap().start
        }

        /// Where struct `owner`'s own member `name` (its btf_member) is.
        fn member(&self, owner: &str, name: &str) -> usize {
            let t = self.ty(Kind::Struct, owner);
            let first = self.btf.span(t.id).unwrap().start + 12;
            (0..t.vlen)
                .map(|i| first + 12 * i)
                .find(|&at| self.btf.name(self.word(at)).unwrap() == name)
                .unwrap()
        }

        fn word(&self, at: usize) -> u32 {
            u32::from_ne_bytes(self.b.types[at..at + 4].try_into().unwrap())
        }

        fn set(&mut self, at: usize, value: u32) {
            self.b.types[at..at + 4].copy_from_slice(&value.to_ne_bytes());
        }

        fn parse(&self) -> Result<Btf, BtfError> {
            Btf::parse(&self.b.finish())
        }

        fn layout(&self) -> Result<Layout, BtfError> {
            layout_of(&self.b.finish())
        }
    }

    fn unexpected_with(r: Result<Layout, BtfError>, text: &str) {
        match r {
            Err(BtfError::Unexpected { found, .. }) if found.contains(text) => {}
            other => panic!("wanted Unexpected({text}), got {other:?}"),
        }
    }

    #[test]
    fn unknown_kinds_are_errors_never_offsets() {
        for kind in [0, 20, 31] {
            let mut e = Edit::new();
            let at = e.record(Kind::Struct, "task_struct") + 4;
            let info = e.word(at);
            e.set(at, (info & !(0x1f << 24)) | (kind << 24));
            assert_eq!(
                e.parse().unwrap_err(),
                BtfError::UnknownKind { id: 3, kind },
                "kind {kind}"
            );
        }
    }

    #[test]
    fn pid_and_tgid_inside_anonymous_members_sum_their_offsets() {
        // randstruct-like: task_struct { ...; union { struct { pid; tgid } } }
        let mut e = Edit::new();
        let pid_t = e.ty(Kind::Typedef, "pid_t").id;
        let (pid_at, tgid_at) = (
            e.member("task_struct", "pid"),
            e.member("task_struct", "tgid"),
        );
        let pid_bits = e.word(pid_at + 8);
        assert_eq!(pid_bits, 1264 * 8);
        let inner =
            e.b.composite(false, "", 12, &[("pid", pid_t, 32), ("tgid", pid_t, 64)]);
        let outer = e.b.composite(true, "", 16, &[("", inner, 32)]);
        e.set(pid_at, 0);
        e.set(pid_at + 4, outer);
        e.set(pid_at + 8, pid_bits - 64);
        let moved = e.b.name("tgid_was_here");
        e.set(tgid_at, moved);
        assert_eq!(e.layout().unwrap(), recorded());
    }

    #[test]
    fn a_fixed_numbers_array_gives_its_levels() {
        let mut e = Edit::new();
        let numbers = e.member("pid", "numbers");
        let array = e.word(numbers + 4);
        let array_at = e.btf.span(array).unwrap().start;
        e.set(array_at + 12 + 8, 1); // nelems
        // struct pid { ...; struct upid numbers[1]; } is 16 bytes longer.
        let pid = e.record(Kind::Struct, "pid");
        e.set(pid + 8, 144 + 16);
        let layout = e.layout().unwrap();
        assert_eq!(layout.pid_levels, 1);
        assert_eq!(
            layout,
            Layout {
                pid_levels: 1,
                ..recorded()
            }
        );
        // Regression: a fixed array past its struct's end was accepted.
        e.set(pid + 8, 144);
        unexpected_with(e.layout(), "past the end");
    }

    #[test]
    fn a_bit_field_i_mode_is_an_error() {
        let mut e = Edit::new();
        let inode = e.record(Kind::Struct, "inode");
        let info = e.word(inode + 4);
        e.set(inode + 4, info | 1 << 31); // kind_flag: bitfield sizes
        let mode = e.member("inode", "i_mode");
        e.set(mode + 8, 12 << 24);
        assert!(matches!(e.layout(), Err(BtfError::Bitfield(w)) if w == "inode.i_mode"));
        // Off a byte boundary without kind_flag.
        let mut e = Edit::new();
        let mode = e.member("inode", "i_mode");
        e.set(mode + 8, 4);
        assert!(matches!(e.layout(), Err(BtfError::Bitfield(_))));
    }

    #[test]
    fn two_struct_files_are_ambiguous() {
        let mut e = Edit::new();
        e.b.composite(false, "file", 184, &[]);
        assert!(matches!(
            e.layout(),
            Err(BtfError::Ambiguous { kind: "struct", name }) if name == "file"
        ));
    }

    #[test]
    fn a_missing_member_is_an_error() {
        let mut e = Edit::new();
        let ino = e.member("inode", "i_ino");
        let renamed = e.b.name("i_ino_gone");
        e.set(ino, renamed);
        assert!(matches!(e.layout(), Err(BtfError::NoMember(w)) if w == "inode.i_ino"));
        let mut e = Edit::new();
        e.b.count = 0;
        e.b.types.clear();
        assert!(matches!(e.layout(), Err(BtfError::Missing { .. })));
    }

    #[test]
    fn a_4_byte_i_ino_is_loaded_as_4_bytes() {
        let mut e = Edit::new();
        let uint = e.ty(Kind::Int, "unsigned int").id;
        let ino = e.member("inode", "i_ino");
        e.set(ino + 4, uint);
        assert_eq!(
            e.layout().unwrap(),
            Layout {
                inode_ino_size: 4,
                ..recorded()
            }
        );
        // A 2-byte one is refused.
        let ushort = e.ty(Kind::Int, "short unsigned int").id;
        e.set(ino + 4, ushort);
        assert!(
            matches!(e.layout(), Err(BtfError::Unexpected { what, .. }) if what == "inode.i_ino")
        );
    }

    #[test]
    fn a_pointer_to_the_wrong_struct_is_unexpected() {
        let mut e = Edit::new();
        let file = e.ty(Kind::Struct, "file").id;
        let to_file = e.b.ptr(file);
        let f_inode = e.member("file", "f_inode");
        e.set(f_inode + 4, to_file);
        assert!(
            matches!(e.layout(), Err(BtfError::Unexpected { what, .. }) if what == "file.f_inode")
        );
        // A context slot pointing at the wrong struct too.
        let mut e = Edit::new();
        let proto = e
            .btf
            .span(e.ty(Kind::Func, "bpf_iter_task_file").size_or_type)
            .unwrap();
        let to_file = e.b.ptr(file);
        e.set(proto.start + 12 + 8 + 4, to_file); // task
        unexpected_with(e.layout(), "Ptr");
    }

    #[test]
    fn typedef_loops_are_too_deep() {
        let mut e = Edit::new();
        let pid_t = e.ty(Kind::Typedef, "pid_t").id;
        let kernel_pid_t = e.record(Kind::Typedef, "__kernel_pid_t");
        e.set(kernel_pid_t + 8, pid_t);
        assert_eq!(e.layout().unwrap_err(), BtfError::TooDeep);
    }

    #[test]
    fn offsets_beyond_a_load_or_the_struct_are_errors() {
        let mut e = Edit::new();
        let inode = e.record(Kind::Struct, "inode");
        let ino = e.member("inode", "i_ino");
        e.set(inode + 8, 50_000);
        e.set(ino + 8, 40_000 * 8);
        unexpected_with(e.layout(), "beyond a load's reach");
        // Regression: a member past its struct's end gave an offset.
        e.set(inode + 8, 616);
        e.set(ino + 8, 1000 * 8);
        unexpected_with(e.layout(), "past the end");
        e.set(ino + 8, 612 * 8); // 8 bytes from 612 end past 616
        unexpected_with(e.layout(), "past the end");
        e.set(ino + 8, 608 * 8);
        assert_eq!(
            e.layout().unwrap(),
            Layout {
                inode_ino: 608,
                ..recorded()
            }
        );
    }

    #[test]
    fn an_array_of_itself_is_too_deep() {
        // Regression: shape() recursed through the array's element type
        // without a bound (a stack overflow).
        let mut e = Edit::new();
        let int = e.ty(Kind::Int, "int").id;
        let me = e.b.count + 1;
        assert_eq!(e.b.array(me, int, 2), me);
        let ino = e.member("inode", "i_ino");
        e.set(ino + 4, me);
        assert_eq!(e.layout().unwrap_err(), BtfError::TooDeep);
    }

    #[test]
    fn shared_anonymous_members_do_not_explode() {
        // Regression: S0 { S1; S1 }, S1 { S2; S2 }, ... 30 levels deep
        // before i_ino made its look-up visit 2^31 members (a hang).
        let mut e = Edit::new();
        let mut below = e.b.composite(false, "", 4, &[("x", 1, 0)]);
        for _ in 0..30 {
            below =
                e.b.composite(false, "", 4, &[("", below, 0), ("", below, 0)]);
        }
        let ino = e.member("inode", "i_ino");
        let before = ino - 12; // a placeholder member just before it
        assert_eq!(e.word(before + 4), 1);
        e.set(before, 0);
        e.set(before + 4, below);
        assert_eq!(e.layout().unwrap_err(), BtfError::TooMany);
    }

    #[test]
    fn context_slots_stay_in_the_context() {
        // Regression: a prototype with "file" as its 5000th parameter
        // overflowed the slot's i16 (a panic in debug builds).
        let mut e = Edit::new();
        let func = e.ty(Kind::Func, "bpf_iter_task_file");
        let proto = e.btf.span(func.size_or_type).unwrap();
        let param = |i: usize| e.word(proto.start + 12 + 8 * i + 4);
        let (meta, task, fd, file) = (param(0), param(1), param(2), param(3));
        let mut params = vec![("meta", meta), ("task", task), ("fd", fd)];
        params.extend(std::iter::repeat_n(("pad", fd), 4996));
        params.push(("file", file));
        let long = e.b.func_proto(16, &params);
        let func_at = e.record(Kind::Func, "bpf_iter_task_file");
        e.set(func_at + 8, long);
        unexpected_with(e.layout(), "past the context");
    }

    /// A byte mutation of a blob.
    #[derive(Debug, Clone)]
    enum Mutation {
        Flip(proptest::sample::Index, u8),
        Insert(proptest::sample::Index, u8),
        Delete(proptest::sample::Index),
        Overwrite(proptest::sample::Index, u32),
    }

    fn mutation() -> impl proptest::strategy::Strategy<Value = Mutation> {
        use proptest::prelude::*;
        prop_oneof![
            (any::<proptest::sample::Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
            (any::<proptest::sample::Index>(), any::<u8>())
                .prop_map(|(i, b)| Mutation::Insert(i, b)),
            any::<proptest::sample::Index>().prop_map(Mutation::Delete),
            (any::<proptest::sample::Index>(), small_or_any())
                .prop_map(|(i, v)| Mutation::Overwrite(i, v)),
        ]
    }

    /// Values that are plausible ids, offsets and sizes, or anything.
    fn small_or_any() -> impl proptest::strategy::Strategy<Value = u32> {
        use proptest::prelude::*;
        prop_oneof![0u32..64, (0u32..5000).prop_map(|v| v * 8), any::<u32>()]
    }

    fn apply(blob: &mut Vec<u8>, m: &Mutation) {
        if blob.is_empty() {
            return;
        }
        match m {
            Mutation::Flip(i, bit) => {
                let at = i.index(blob.len());
                blob[at] ^= 1 << bit;
            }
            Mutation::Insert(i, b) => blob.insert(i.index(blob.len() + 1), *b),
            Mutation::Delete(i) => {
                blob.remove(i.index(blob.len()));
            }
            Mutation::Overwrite(i, v) => {
                let at = i.index(blob.len());
                for (k, b) in v.to_ne_bytes().into_iter().enumerate() {
                    if let Some(slot) = blob.get_mut(at + k) {
                        *slot = b;
                    }
                }
            }
        }
    }

    /// Parse and layout: no panic, and any layout keeps its invariants.
    fn holds(blob: &[u8]) -> Result<(), Broken> {
        let Ok(btf) = Btf::parse(blob) else {
            return Ok(());
        };
        match Layout::from_btf(&btf) {
            Ok(l) => l.check(&btf),
            Err(_) => Ok(()),
        }
    }

    /// Raw kinds 1..=19 and the bytes after their head for `vlen`.
    fn extra_len(kind: u32, vlen: u32) -> u32 {
        match kind {
            1 | 14 | 17 => 4,
            3 => 12,
            4 | 5 | 15 | 19 => 12 * vlen,
            6 | 13 => 8 * vlen,
            _ => 0,
        }
    }

    static NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(names);

    /// One valid record: raw kind, vlen, name, size_or_type, word seeds.
    type Spec = (u32, u32, usize, u32, Vec<u32>);

    fn spec() -> impl proptest::strategy::Strategy<Value = Spec> {
        (
            1u32..20,
            0u32..6,
            0..NAMES.len(),
            small_or_any(),
            proptest::collection::vec(small_or_any(), 18),
        )
    }

    /// A valid BTF blob of these records: type ids in range or past it,
    /// member and parameter names from NAMES.
    fn valid(specs: &[Spec]) -> Vec<u8> {
        let mut b = Builder::new();
        let names: Vec<u32> = NAMES.iter().map(|n| b.name(n)).collect();
        let n = specs.len() as u32;
        for (kind, vlen, name, size_or_type, seeds) in specs {
            let mut words = Vec::new();
            for i in 0..extra_len(*kind, *vlen) / 4 {
                let w = seeds[i as usize % seeds.len()].wrapping_add(i);
                let per = match kind {
                    4 | 5 => 3,
                    13 => 2,
                    _ => 0,
                };
                words.push(match (per, i % per.max(1)) {
                    (0, _) => w,
                    (_, 0) => names[w as usize % names.len()],
                    (_, 1) => w % (n + 2),
                    _ => w,
                });
            }
            let sot = match kind {
                2 | 8..=13 | 18 => size_or_type % (n + 2),
                _ => *size_or_type,
            };
            b.head_raw(NAMES[*name], kind << 24 | vlen, sot);
            b.words(&words);
        }
        b.finish()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn mutated_extracts_never_panic_nor_break_invariants(
            muts in proptest::collection::vec(mutation(), 1..8)
        ) {
            let mut blob = fixture();
            for m in &muts {
                apply(&mut blob, m);
            }
            proptest::prop_assert_eq!(holds(&blob), Ok(()));
        }

        #[test]
        fn mutated_fields_never_break_invariants(
            edits in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), small_or_any()), 1..6)
        ) {
            // Whole words of the type section: a name, an info (kind,
            // vlen, kind_flag), a size or type, a member's name, type or
            // offset.
            let mut e = Edit::new();
            let words = e.b.types.len() / 4;
            for (i, v) in &edits {
                e.set(4 * i.index(words), *v);
            }
            proptest::prop_assert_eq!(holds(&e.b.finish()), Ok(()));
        }

        #[test]
        fn valid_random_btf_parses(specs in proptest::collection::vec(spec(), 0..40)) {
            let blob = valid(&specs);
            let btf = Btf::parse(&blob);
            proptest::prop_assert!(btf.is_ok(), "{:?}", btf.err());
            let btf = btf.unwrap();
            proptest::prop_assert_eq!(btf.len(), specs.len());
            for (i, s) in specs.iter().enumerate() {
                let id = i as u32 + 1;
                let t = btf.get(id).unwrap();
                proptest::prop_assert_eq!(t.vlen as u32, s.1);
                let span = btf.span(id).unwrap();
                proptest::prop_assert_eq!(span.len() as u32, 12 + extra_len(s.0, s.1));
                // No panic anywhere below.
                let _ = btf.shape(id);
                let _ = btf.resolve(id);
                let _ = btf.member(&t, NAMES[i % NAMES.len()]);
                let _ = btf.params(&t);
            }
            proptest::prop_assert_eq!(holds(&blob), Ok(()));
        }
    }
}
