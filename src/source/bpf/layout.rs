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

fn unexpected(what: &str, found: &Shape) -> BtfError {
    BtfError::Unexpected {
        what: what.to_owned(),
        found: format!("{found:?}"),
    }
}

fn offset(what: &str, field: &Field) -> Result<i16, BtfError> {
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
        Shape::Int { size, .. } if sizes.contains(&size) => Ok((offset(&what, &f)?, size)),
        ref other => Err(unexpected(&what, other)),
    }
}

/// A member that must be a pointer to struct `to`.
fn ptr(btf: &Btf, owner: &Type, member: &str, to: &str) -> Result<i16, BtfError> {
    let f = btf.member(owner, member)?;
    let what = format!("{}.{member}", btf.name(owner.name_off)?);
    match &f.shape {
        Shape::Ptr { to: Some(name) } if name == to => offset(&what, &f),
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
        let pid_numbers = offset("pid.numbers", &numbers)?;
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
