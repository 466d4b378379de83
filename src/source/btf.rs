//! A reader of the kernel's BTF (`/sys/kernel/btf/vmlinux`), for the
//! field offsets the owners' BPF iterator needs.
//!
//! Written here rather than taken from a crate: the program needs a
//! dozen member offsets and sizes, and must fall back rather than guess
//! on anything it does not understand. `btf-rs` would parse the same
//! format, but it is one more dependency for about 300 lines, and its
//! treatment of kinds newer than it is not ours to decide; libbpf (C,
//! through libbpf-sys) and aya (rustc 1.98 here) need a toolchain this
//! project does not have. The format is include/uapi/linux/btf.h:
//! a header, a type section of variable-length records whose ids are
//! their positions (1, 2, ...; 0 is void), and a string section.
//!
//! Every read is bounds-checked; a kind this reader does not know makes
//! the whole file unreadable (the ids of the records after it could not
//! be known), as do a bad header, a string past the section, a type id
//! past the last record, a bit field or a member off a byte boundary
//! where an offset is asked for, type chains (typedefs, qualifiers,
//! arrays, anonymous members) deeper than 32 and member look-ups through
//! more than 65,536 members. An error names what it met. Parsing
//! this machine's 5.5 MB vmlinux BTF (about 150,000 records) is one pass
//! over the type section that keeps each record's position.

use std::path::{Path, PathBuf};

/// include/uapi/linux/btf.h: BTF_MAGIC.
const MAGIC: u16 = 0xeb9f;
/// include/uapi/linux/btf.h: struct btf_header is 24 bytes (version 1).
const HEADER_LEN: usize = 24;
/// struct btf_type: name_off, info, size/type.
const TYPE_LEN: usize = 12;
/// How deep typedef/const chains, arrays and anonymous members are
/// followed.
const MAX_DEPTH: usize = 32;
/// How many members one look-up may go through, anonymous members'
/// included: task_struct has about 300 here. Anonymous structs shared by
/// several members (BTF dedup merges identical ones) could otherwise make
/// a corrupt file's look-up exponential.
const MAX_VISITS: usize = 1 << 16;

/// include/uapi/linux/btf.h: BTF_KIND_*.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Ptr,
    Array,
    Struct,
    Union,
    Enum,
    Fwd,
    Typedef,
    Volatile,
    Const,
    Restrict,
    Func,
    FuncProto,
    Var,
    Datasec,
    Float,
    DeclTag,
    TypeTag,
    Enum64,
}

impl Kind {
    fn from_raw(k: u32) -> Option<Kind> {
        Some(match k {
            1 => Kind::Int,
            2 => Kind::Ptr,
            3 => Kind::Array,
            4 => Kind::Struct,
            5 => Kind::Union,
            6 => Kind::Enum,
            7 => Kind::Fwd,
            8 => Kind::Typedef,
            9 => Kind::Volatile,
            10 => Kind::Const,
            11 => Kind::Restrict,
            12 => Kind::Func,
            13 => Kind::FuncProto,
            14 => Kind::Var,
            15 => Kind::Datasec,
            16 => Kind::Float,
            17 => Kind::DeclTag,
            18 => Kind::TypeTag,
            19 => Kind::Enum64,
            _ => return None,
        })
    }

    /// The bytes after struct btf_type for a record of this kind with
    /// `vlen` entries (include/uapi/linux/btf.h).
    fn extra(self, vlen: usize) -> usize {
        match self {
            Kind::Int | Kind::Var | Kind::DeclTag => 4,
            Kind::Array => 12,
            Kind::Struct | Kind::Union | Kind::Datasec | Kind::Enum64 => 12 * vlen,
            Kind::Enum | Kind::FuncProto => 8 * vlen,
            Kind::Ptr
            | Kind::Fwd
            | Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::Func
            | Kind::Float
            | Kind::TypeTag => 0,
        }
    }
}

/// What was wrong with the BTF, or what it lacked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    #[error("it is not BTF (magic {0:#06x})")]
    Magic(u16),
    #[error("BTF version {0} is not known")]
    Version(u8),
    #[error("its header is cut or points outside the file")]
    Header,
    #[error("type {id} is cut at byte {at} of the type section")]
    Truncated { id: u32, at: usize },
    #[error("type {id} is of a kind this reader does not know ({kind})")]
    UnknownKind { id: u32, kind: u32 },
    #[error("a name points outside the string section ({0})")]
    Name(u32),
    #[error("type id {0} does not exist")]
    NoSuchType(u32),
    #[error("no {kind} named {name}")]
    Missing { kind: &'static str, name: String },
    #[error("more than one {kind} named {name}")]
    Ambiguous { kind: &'static str, name: String },
    #[error("{0}: not found as a member")]
    NoMember(String),
    #[error("{0}: a bit field or not on a byte boundary")]
    Bitfield(String),
    #[error("{what}: {found}, not what the program needs")]
    Unexpected { what: String, found: String },
    #[error("type chains nest deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("a member look-up goes through more than {MAX_VISITS} members")]
    TooMany,
}

/// The BTF could not be read from its file.
#[derive(Debug, thiserror::Error)]
pub enum BtfFileError {
    #[error("cannot read {}", crate::text::escape_path(path))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", crate::text::escape_path(path))]
    Parse {
        path: PathBuf,
        #[source]
        source: BtfError,
    },
}

/// A type id (0 is void).
pub type TypeId = u32;

/// One record's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Type {
    pub id: TypeId,
    pub kind: Kind,
    pub name_off: u32,
    pub vlen: usize,
    pub kind_flag: bool,
    /// `size` for INT, ENUM, STRUCT, UNION, DATASEC, FLOAT; `type` for
    /// the others that refer to a type.
    pub size_or_type: u32,
    /// Where the record's extra bytes start in the type section.
    extra: usize,
}

/// What a member's or parameter's type comes to once typedefs and
/// qualifiers are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Int {
        size: u32,
        signed: bool,
    },
    /// A pointer, and the name of the struct or union it points to (none
    /// for void or anything else).
    Ptr {
        to: Option<String>,
    },
    /// An array: its element type's id and size, and its length (0 for a
    /// flexible array member).
    Array {
        elem: TypeId,
        elem_size: u32,
        len: u32,
    },
    Struct {
        id: TypeId,
        size: u32,
    },
    Other(Kind),
}

/// A member found by name: its byte offset from the start of the
/// outermost struct, and its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub offset: u32,
    pub shape: Shape,
}

/// A parsed BTF blob.
#[derive(Debug)]
pub struct Btf {
    data: Bytes,
    /// Where the type and string sections are in `data`.
    types_at: std::ops::Range<usize>,
    strings_at: std::ops::Range<usize>,
    /// Position of type id `i + 1` in the type section.
    starts: Vec<u32>,
}

/// The file's bytes: mapped (sysfs, read-only and never changing), or
/// read.
#[derive(Debug)]
enum Bytes {
    Owned(Vec<u8>),
    Mapped(map::Map),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m.bytes(),
        }
    }
}

/// A private read-only mapping of a sysfs file, the only unsafe code of
/// the reader. /sys/kernel/btf/vmlinux answers reads 4 KiB at a time
/// (kernfs), 1,350 read(2)s and 4.5 ms for its 5.5 MB here, while a
/// mapping (Linux 6.16+) costs 0.2 ms to touch whole. Only sysfs files
/// are mapped: they cannot be truncated under the mapping (a regular
/// file could, and a read past its new end would be SIGBUS).
mod map {
    use std::os::fd::AsFd;

    #[derive(Debug)]
    pub struct Map {
        ptr: std::ptr::NonNull<u8>,
        len: usize,
    }

    // SAFETY: the mapping is read-only and owned by this value alone.
    unsafe impl Send for Map {}
    unsafe impl Sync for Map {}

    /// include/uapi/linux/magic.h: SYSFS_MAGIC.
    const SYSFS_MAGIC: i64 = 0x6265_6572;

    impl Map {
        /// Maps `file` whole when it is on sysfs; `None` otherwise or when
        /// the kernel refuses (older kernels cannot map BTF).
        pub fn sysfs(file: &std::fs::File, len: usize) -> Option<Map> {
            let fs = rustix::fs::fstatfs(file).ok()?;
            if fs.f_type as i64 != SYSFS_MAGIC || len == 0 {
                return None;
            }
            // SAFETY: a new private read-only mapping of `len` bytes of an
            // open file, at an address the kernel chooses; nothing else
            // aliases it, and sysfs BTF does not change while it exists.
            let ptr = unsafe {
                rustix::mm::mmap(
                    std::ptr::null_mut(),
                    len,
                    rustix::mm::ProtFlags::READ,
                    rustix::mm::MapFlags::PRIVATE,
                    file.as_fd(),
                    0,
                )
            }
            .ok()?;
            Some(Map {
                ptr: std::ptr::NonNull::new(ptr.cast())?,
                len,
            })
        }

        pub fn bytes(&self) -> &[u8] {
            // SAFETY: `ptr` maps `len` readable bytes until drop.
            unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
        }
    }

    impl Drop for Map {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `sysfs`, unmapped once.
            let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len) };
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(bytes.try_into().ok()?))
}

impl Btf {
    /// Reads and parses a BTF file; errors carry the path.
    pub fn from_file(path: &Path) -> Result<Btf, BtfFileError> {
        use std::io::Read;
        let read_err = |source| BtfFileError::Read {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(read_err)?;
        let len = file.metadata().map_err(read_err)?.len() as usize;
        let data = match map::Map::sysfs(&file, len) {
            Some(m) => Bytes::Mapped(m),
            None => {
                let mut v = Vec::with_capacity(len);
                file.read_to_end(&mut v).map_err(read_err)?;
                Bytes::Owned(v)
            }
        };
        Btf::from_bytes(data).map_err(|source| BtfFileError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Parses a BTF blob in this machine's byte order.
    pub fn parse(data: &[u8]) -> Result<Btf, BtfError> {
        Btf::from_bytes(Bytes::Owned(data.to_vec()))
    }

    fn from_bytes(bytes: Bytes) -> Result<Btf, BtfError> {
        let (types_at, strings_at, starts) = Btf::sections(&bytes)?;
        Ok(Btf {
            data: bytes,
            types_at,
            strings_at,
            starts,
        })
    }

    /// The sections' places, and each type's start.
    #[allow(clippy::type_complexity)]
    fn sections(
        data: &[u8],
    ) -> Result<(std::ops::Range<usize>, std::ops::Range<usize>, Vec<u32>), BtfError> {
        // include/uapi/linux/btf.h: struct btf_header
        let magic = data
            .get(0..2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
            .ok_or(BtfError::Header)?;
        if magic != MAGIC {
            return Err(BtfError::Magic(magic));
        }
        let version = *data.get(2).ok_or(BtfError::Header)?;
        if version != 1 {
            return Err(BtfError::Version(version));
        }
        let field = |at| u32_at(data, at).map(|v| v as usize).ok_or(BtfError::Header);
        let hdr_len = field(4)?;
        if hdr_len < HEADER_LEN || hdr_len > data.len() {
            return Err(BtfError::Header);
        }
        let body = &data[hdr_len..];
        let section = |off: usize, len: usize| {
            body.get(off..off.checked_add(len)?)
                .ok_or(BtfError::Header)
                .ok()
        };
        let (type_off, type_len, str_off, str_len) =
            (field(8)?, field(12)?, field(16)?, field(20)?);
        if type_off % 4 != 0 {
            return Err(BtfError::Header);
        }
        let types = section(type_off, type_len).ok_or(BtfError::Header)?;
        let strings = section(str_off, str_len).ok_or(BtfError::Header)?;
        let types_at = hdr_len + type_off..hdr_len + type_off + type_len;
        let strings_at = hdr_len + str_off..hdr_len + str_off + str_len;
        // The string section starts with the empty name (offset 0).
        if strings.first().is_some_and(|&b| b != 0) {
            return Err(BtfError::Header);
        }
        let mut starts = Vec::with_capacity(types.len() / 24);
        let mut at = 0usize;
        while at < types.len() {
            let id = u32::try_from(starts.len() + 1).map_err(|_| BtfError::Header)?;
            let cut = || BtfError::Truncated { id, at };
            let info = u32_at(types, at + 4).ok_or_else(cut)?;
            if u32_at(types, at + 8).is_none() {
                return Err(cut());
            }
            let raw_kind = (info >> 24) & 0x1f;
            let kind =
                Kind::from_raw(raw_kind).ok_or(BtfError::UnknownKind { id, kind: raw_kind })?;
            let vlen = (info & 0xffff) as usize;
            let end = at + TYPE_LEN + kind.extra(vlen);
            if end > types.len() {
                return Err(cut());
            }
            starts.push(at as u32);
            at = end;
        }
        Ok((types_at, strings_at, starts))
    }

    fn types(&self) -> &[u8] {
        &self.data[self.types_at.clone()]
    }

    fn strings(&self) -> &[u8] {
        &self.data[self.strings_at.clone()]
    }

    /// How many types there are (ids 1..=len).
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The record of type `id` (not void).
    pub fn get(&self, id: TypeId) -> Result<Type, BtfError> {
        let at = *id
            .checked_sub(1)
            .and_then(|i| self.starts.get(i as usize))
            .ok_or(BtfError::NoSuchType(id))? as usize;
        // Checked when parsed: the head and its extra bytes are there.
        let word = |n: usize| u32_at(self.types(), at + 4 * n).ok_or(BtfError::NoSuchType(id));
        let info = word(1)?;
        let kind = Kind::from_raw((info >> 24) & 0x1f).ok_or(BtfError::NoSuchType(id))?;
        Ok(Type {
            id,
            kind,
            name_off: word(0)?,
            vlen: (info & 0xffff) as usize,
            kind_flag: info & (1 << 31) != 0,
            size_or_type: word(2)?,
            extra: at + TYPE_LEN,
        })
    }

    /// Where record `id` (head and extra bytes) is in the type section.
    pub fn span(&self, id: TypeId) -> Result<std::ops::Range<usize>, BtfError> {
        let i = id.checked_sub(1).ok_or(BtfError::NoSuchType(id))? as usize;
        let start = *self.starts.get(i).ok_or(BtfError::NoSuchType(id))? as usize;
        let end = match self.starts.get(i + 1) {
            Some(&next) => next as usize,
            None => self.types().len(),
        };
        Ok(start..end)
    }

    /// The name at `off` in the string section (empty for 0).
    pub fn name(&self, off: u32) -> Result<&str, BtfError> {
        let rest = self
            .strings()
            .get(off as usize..)
            .ok_or(BtfError::Name(off))?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(BtfError::Name(off))?;
        std::str::from_utf8(&rest[..end]).map_err(|_| BtfError::Name(off))
    }

    /// The one type of `kind` named `name`; none or several is an error.
    pub fn find(&self, kind: Kind, name: &str) -> Result<Type, BtfError> {
        let [found] = self.find_all([(kind, name)])?;
        found
    }

    /// [`Btf::find`] for several (kind, name) pairs, in one pass over the
    /// types (each pass is ~150,000 records in vmlinux).
    pub fn find_all<const N: usize>(
        &self,
        wanted: [(Kind, &str); N],
    ) -> Result<[Result<Type, BtfError>; N], BtfError> {
        let mut found: [Option<Result<Type, BtfError>>; N] = std::array::from_fn(|_| None);
        let (types, strings) = (self.types(), self.strings());
        // The raw kinds wanted, as a bit set: most records are of none.
        let kinds: u32 = wanted.iter().fold(0, |m, (k, _)| m | 1 << raw_kind(*k));
        for (i, &at) in self.starts.iter().enumerate() {
            // The name and kind straight from the record, compared as
            // bytes.
            let at = at as usize;
            let Some(head) = types.get(at..at + 8) else {
                continue;
            };
            let info = u32::from_ne_bytes([head[4], head[5], head[6], head[7]]);
            if kinds & (1 << ((info >> 24) & 0x1f)) == 0 {
                continue;
            }
            let name_off = u32::from_ne_bytes([head[0], head[1], head[2], head[3]]);
            let Some(kind) = Kind::from_raw((info >> 24) & 0x1f) else {
                continue;
            };
            if name_off == 0 {
                continue;
            }
            let Some(name) = strings.get(name_off as usize..) else {
                return Err(BtfError::Name(name_off));
            };
            // The NUL right after it first: one byte rules out most names.
            let is =
                |want: &str| name.get(want.len()) == Some(&0) && name.starts_with(want.as_bytes());
            for (w, (k, want)) in wanted.iter().enumerate() {
                if *k != kind || !is(want) {
                    continue;
                }
                let t = self.get(i as u32 + 1)?;
                let (i, kind, name) = (w, *k, *want);
                found[i] = Some(match found[i] {
                    None => Ok(t),
                    Some(_) => Err(BtfError::Ambiguous {
                        kind: kind_name(kind),
                        name: name.to_owned(),
                    }),
                });
            }
        }
        Ok(std::array::from_fn(|i| {
            found[i].take().unwrap_or_else(|| {
                Err(BtfError::Missing {
                    kind: kind_name(wanted[i].0),
                    name: wanted[i].1.to_owned(),
                })
            })
        }))
    }

    /// Skips typedefs, qualifiers and type tags from `id`.
    pub fn resolve(&self, mut id: TypeId) -> Result<Option<Type>, BtfError> {
        for _ in 0..MAX_DEPTH {
            if id == 0 {
                return Ok(None);
            }
            let t = self.get(id)?;
            match t.kind {
                Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                    id = t.size_or_type;
                }
                _ => return Ok(Some(t)),
            }
        }
        Err(BtfError::TooDeep)
    }

    /// The shape of type `id`.
    pub fn shape(&self, id: TypeId) -> Result<Shape, BtfError> {
        self.shape_in(id, 0)
    }

    /// `depth`: how many arrays enclose it (an array may name itself as its
    /// element type in a corrupt file).
    fn shape_in(&self, id: TypeId, depth: usize) -> Result<Shape, BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep);
        }
        let Some(t) = self.resolve(id)? else {
            return Ok(Shape::Other(Kind::Typedef));
        };
        Ok(match t.kind {
            Kind::Int => {
                // include/uapi/linux/btf.h: BTF_INT_ENCODING, _OFFSET, _BITS
                let enc = u32_at(self.types(), t.extra).ok_or(BtfError::NoSuchType(t.id))?;
                let bits = enc & 0xff;
                let bit_offset = (enc >> 16) & 0xff;
                if bit_offset != 0 || bits != t.size_or_type.saturating_mul(8) {
                    return Ok(Shape::Other(Kind::Int));
                }
                Shape::Int {
                    size: t.size_or_type,
                    signed: (enc >> 24) & 1 != 0,
                }
            }
            Kind::Enum => Shape::Int {
                size: t.size_or_type,
                signed: t.kind_flag,
            },
            Kind::Ptr => {
                let to = match self.resolve(t.size_or_type)? {
                    Some(p) if matches!(p.kind, Kind::Struct | Kind::Union) && p.name_off != 0 => {
                        Some(self.name(p.name_off)?.to_owned())
                    }
                    _ => None,
                };
                Shape::Ptr { to }
            }
            Kind::Array => {
                // struct btf_array: type, index_type, nelems
                let elem = u32_at(self.types(), t.extra).ok_or(BtfError::NoSuchType(t.id))?;
                let len = u32_at(self.types(), t.extra + 8).ok_or(BtfError::NoSuchType(t.id))?;
                let elem_size = match self.shape_in(elem, depth + 1)? {
                    Shape::Int { size, .. } => size,
                    Shape::Ptr { .. } => 8,
                    Shape::Struct { size, .. } => size,
                    _ => 0,
                };
                Shape::Array {
                    elem,
                    elem_size,
                    len,
                }
            }
            Kind::Struct | Kind::Union => Shape::Struct {
                id: t.id,
                size: t.size_or_type,
            },
            k => Shape::Other(k),
        })
    }

    /// The member `name` of struct (or union) `owner`, looked for among its
    /// own members and, through anonymous struct and union members,
    /// theirs; its offset from the start of `owner`.
    pub fn member(&self, owner: &Type, name: &str) -> Result<Field, BtfError> {
        let what = || format!("{}.{name}", self.name(owner.name_off).unwrap_or("?"));
        let mut visits = 0;
        match self.member_in(owner, name, 0, 0, &mut visits)? {
            Some(Ok(f)) => Ok(f),
            Some(Err(())) => Err(BtfError::Bitfield(what())),
            None => Err(BtfError::NoMember(what())),
        }
    }

    /// `Some(Err)` for a bit field or a member off a byte boundary.
    fn member_in(
        &self,
        owner: &Type,
        name: &str,
        base_bits: u64,
        depth: usize,
        visits: &mut usize,
    ) -> Result<Option<Result<Field, ()>>, BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep);
        }
        if !matches!(owner.kind, Kind::Struct | Kind::Union) {
            return Ok(None);
        }
        for i in 0..owner.vlen {
            *visits += 1;
            if *visits > MAX_VISITS {
                return Err(BtfError::TooMany);
            }
            // struct btf_member: name_off, type, offset
            let at = owner.extra + 12 * i;
            let word =
                |n: usize| u32_at(self.types(), at + 4 * n).ok_or(BtfError::NoSuchType(owner.id));
            let (name_off, ty, raw_offset) = (word(0)?, word(1)?, word(2)?);
            // With kind_flag: bitfield_size << 24 | bit offset.
            let (bits, bitfield) = if owner.kind_flag {
                (raw_offset & 0x00ff_ffff, raw_offset >> 24)
            } else {
                (raw_offset, 0)
            };
            let offset = base_bits + u64::from(bits);
            if name_off == 0 {
                let Some(inner) = self.resolve(ty)? else {
                    continue;
                };
                if let Some(found) = self.member_in(&inner, name, offset, depth + 1, visits)? {
                    return Ok(Some(found));
                }
                continue;
            }
            if self.name(name_off)? != name {
                continue;
            }
            if bitfield != 0 || !offset.is_multiple_of(8) {
                return Ok(Some(Err(())));
            }
            let Ok(offset) = u32::try_from(offset / 8) else {
                return Ok(Some(Err(())));
            };
            return Ok(Some(Ok(Field {
                offset,
                shape: self.shape(ty)?,
            })));
        }
        Ok(None)
    }

    /// The parameters (name, shape) of the prototype of FUNC `func`.
    pub fn params(&self, func: &Type) -> Result<Vec<(String, Shape)>, BtfError> {
        let proto = self
            .resolve(func.size_or_type)?
            .filter(|p| p.kind == Kind::FuncProto)
            .ok_or_else(|| BtfError::Unexpected {
                what: self.name(func.name_off).unwrap_or("?").to_owned(),
                found: "a function without a prototype".to_owned(),
            })?;
        (0..proto.vlen)
            .map(|i| {
                // struct btf_param: name_off, type
                let at = proto.extra + 8 * i;
                let name_off = u32_at(self.types(), at).ok_or(BtfError::NoSuchType(proto.id))?;
                let ty = u32_at(self.types(), at + 4).ok_or(BtfError::NoSuchType(proto.id))?;
                Ok((self.name(name_off)?.to_owned(), self.shape(ty)?))
            })
            .collect()
    }
}

/// The BTF_KIND_* number of `kind`.
fn raw_kind(kind: Kind) -> u32 {
    (1..=19)
        .find(|&k| Kind::from_raw(k) == Some(kind))
        .unwrap_or(0)
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Struct => "struct",
        Kind::Union => "union",
        Kind::Func => "function",
        Kind::Typedef => "typedef",
        _ => "type",
    }
}

/// A tiny BTF writer, for tests, fixtures and the fuzz target: records
/// are appended in id order.
pub mod build {
    use std::collections::HashMap;

    use super::{Btf, BtfError, Kind, TYPE_LEN, TypeId, u32_at};

    /// A BTF blob under construction.
    #[derive(Debug, Default)]
    pub struct Builder {
        pub types: Vec<u8>,
        pub strings: Vec<u8>,
        pub count: u32,
        /// Names already in `strings`, written once.
        names: HashMap<String, u32>,
    }

    impl Builder {
        pub fn new() -> Builder {
            Builder {
                types: Vec::new(),
                strings: vec![0],
                count: 0,
                names: HashMap::new(),
            }
        }

        /// A builder holding `blob`'s records and strings, to edit them in
        /// place (`types` is the type section) or append more.
        pub fn from_blob(blob: &[u8]) -> Result<Builder, BtfError> {
            let btf = Btf::parse(blob)?;
            Ok(Builder {
                types: btf.types().to_vec(),
                strings: btf.strings().to_vec(),
                count: u32::try_from(btf.len()).map_err(|_| BtfError::Header)?,
                names: HashMap::new(),
            })
        }

        pub fn name(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            if let Some(&off) = self.names.get(name) {
                return off;
            }
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            self.names.insert(name.to_owned(), off);
            off
        }

        /// A record head with a raw `info` word (kind, vlen, kind_flag).
        pub fn head_raw(&mut self, name: &str, info: u32, size_or_type: u32) -> u32 {
            let name_off = self.name(name);
            self.words(&[name_off, info, size_or_type]);
            self.count += 1;
            self.count
        }

        fn head(&mut self, name: &str, kind: u32, vlen: u32, flag: bool, size_or_type: u32) -> u32 {
            let name_off = self.name(name);
            let info = (kind << 24) | (vlen & 0xffff) | if flag { 1 << 31 } else { 0 };
            for w in [name_off, info, size_or_type] {
                self.types.extend_from_slice(&w.to_ne_bytes());
            }
            self.count += 1;
            self.count
        }

        /// Appends words to the type section (a record's extra bytes).
        pub fn words(&mut self, words: &[u32]) {
            for w in words {
                self.types.extend_from_slice(&w.to_ne_bytes());
            }
        }

        pub fn int(&mut self, name: &str, size: u32, signed: bool) -> u32 {
            let id = self.head(name, 1, 0, false, size);
            self.words(&[(u32::from(signed) << 24) | (size * 8)]);
            id
        }

        pub fn ptr(&mut self, to: u32) -> u32 {
            self.head("", 2, 0, false, to)
        }

        pub fn array(&mut self, elem: u32, index: u32, len: u32) -> u32 {
            let id = self.head("", 3, 0, false, 0);
            self.words(&[elem, index, len]);
            id
        }

        /// A struct (or union) with (name, type, bit offset) members.
        pub fn composite(
            &mut self,
            union: bool,
            name: &str,
            size: u32,
            members: &[(&str, u32, u32)],
        ) -> u32 {
            let id = self.head(
                name,
                if union { 5 } else { 4 },
                members.len() as u32,
                false,
                size,
            );
            for (m, ty, bits) in members {
                let off = self.name(m);
                self.words(&[off, *ty, *bits]);
            }
            id
        }

        pub fn typedef(&mut self, name: &str, to: u32) -> u32 {
            self.head(name, 8, 0, false, to)
        }

        pub fn fwd(&mut self, name: &str) -> u32 {
            self.head(name, 7, 0, false, 0)
        }

        pub fn func_proto(&mut self, ret: u32, params: &[(&str, u32)]) -> u32 {
            let id = self.head("", 13, params.len() as u32, false, ret);
            for (p, ty) in params {
                let off = self.name(p);
                self.words(&[off, *ty]);
            }
            id
        }

        pub fn func(&mut self, name: &str, proto: u32) -> u32 {
            self.head(name, 12, 1, false, proto)
        }

        /// A record of a raw kind with `extra` bytes after it.
        pub fn raw(&mut self, kind: u32, vlen: u32, size_or_type: u32, extra: &[u8]) -> u32 {
            let id = self.head("", kind, vlen, false, size_or_type);
            self.types.extend_from_slice(extra);
            id
        }

        /// The blob: header, types, strings.
        pub fn finish(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&super::MAGIC.to_ne_bytes());
            out.push(1);
            out.push(0);
            for w in [
                24u32,
                0,
                self.types.len() as u32,
                self.types.len() as u32,
                self.strings.len() as u32,
            ] {
                out.extend_from_slice(&w.to_ne_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    /// The name of the placeholder type an extract gives the members it
    /// does not follow: a FWD, whose shape matches nothing a reader asks
    /// for.
    pub const PLACEHOLDER: &str = "__extract_placeholder";

    /// A small BTF blob holding, from `btf`, each `(kind, name, members)`
    /// of `keep` with every member (name, bit offset) in declaration order:
    /// those named in `members`, and anonymous ones (searched the same way),
    /// keep their real types and whatever those refer to; the others get
    /// [`PLACEHOLDER`] as their type. A FUNC keeps its prototype and
    /// parameter types; a struct or union reached only through those (or a
    /// pointer) is kept with its name and size but no members. So member
    /// look-ups by name, offsets and sizes are the real ones, in a few KB.
    /// Type ids are renumbered (1 is the placeholder).
    pub fn extract(btf: &Btf, keep: &[(Kind, &str, &[&str])]) -> Result<Vec<u8>, BtfError> {
        let mut x = Extract {
            btf,
            roots: HashMap::new(),
            ids: HashMap::new(),
            order: Vec::new(),
        };
        for &(kind, name, members) in keep {
            let t = btf.find(kind, name)?;
            x.roots.insert(t.id, members);
        }
        let mut b = Builder::new();
        b.fwd(PLACEHOLDER);
        for &(kind, name, _) in keep {
            let t = btf.find(kind, name)?;
            x.id(t.id, None);
        }
        let mut i = 0;
        while let Some(&(old, follow)) = x.order.get(i) {
            x.copy(&mut b, old, follow)?;
            i += 1;
        }
        Ok(b.finish())
    }

    struct Extract<'a> {
        btf: &'a Btf,
        /// The kept structs and the members they follow.
        roots: HashMap<TypeId, &'a [&'a str]>,
        /// Old id to new id.
        ids: HashMap<TypeId, u32>,
        /// Old ids in new id order (from 2), with the members followed when
        /// a struct or union.
        order: Vec<(TypeId, Option<&'a [&'a str]>)>,
    }

    impl<'a> Extract<'a> {
        /// The new id of `old`, given when first met. `follow`: the member
        /// list of the struct whose anonymous member `old` is.
        fn id(&mut self, old: TypeId, follow: Option<&'a [&'a str]>) -> u32 {
            if old == 0 {
                return 0;
            }
            if let Some(&new) = self.ids.get(&old) {
                return new;
            }
            let new = self.order.len() as u32 + 2;
            self.ids.insert(old, new);
            let follow = self.roots.get(&old).copied().or(follow);
            self.order.push((old, follow));
            new
        }

        fn copy(
            &mut self,
            b: &mut Builder,
            old: TypeId,
            follow: Option<&'a [&'a str]>,
        ) -> Result<(), BtfError> {
            let btf = self.btf;
            let t = btf.get(old)?;
            let name = btf.name(t.name_off)?;
            let word =
                |n: usize| u32_at(btf.types(), t.extra + 4 * n).ok_or(BtfError::NoSuchType(old));
            let span = btf.span(old)?;
            let info = u32_at(btf.types(), span.start + 4).ok_or(BtfError::NoSuchType(old))?;
            match t.kind {
                Kind::Int | Kind::Float | Kind::Fwd => {
                    b.head_raw(name, info, t.size_or_type);
                    let extra = btf.types().get(span.start + TYPE_LEN..span.end);
                    b.types.extend_from_slice(extra.unwrap_or_default());
                }
                Kind::Enum | Kind::Enum64 => {
                    // struct btf_enum: name_off, val; struct btf_enum64:
                    // name_off, val_lo32, val_hi32
                    let per = if t.kind == Kind::Enum { 2 } else { 3 };
                    let mut extra = Vec::with_capacity(per * t.vlen);
                    for i in 0..t.vlen {
                        extra.push(b.name(btf.name(word(per * i)?)?));
                        for k in 1..per {
                            extra.push(word(per * i + k)?);
                        }
                    }
                    b.head_raw(name, info, t.size_or_type);
                    b.words(&extra);
                }
                Kind::Ptr
                | Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::TypeTag
                | Kind::Func => {
                    let to = self.id(t.size_or_type, None);
                    b.head_raw(name, info, to);
                }
                Kind::Array => {
                    // struct btf_array: type, index_type, nelems
                    let elem = self.id(word(0)?, None);
                    let index = self.id(word(1)?, None);
                    b.head_raw(name, info, t.size_or_type);
                    b.words(&[elem, index, word(2)?]);
                }
                Kind::FuncProto => {
                    let ret = self.id(t.size_or_type, None);
                    let mut extra = Vec::with_capacity(2 * t.vlen);
                    for i in 0..t.vlen {
                        // struct btf_param: name_off, type
                        extra.push(b.name(btf.name(word(2 * i)?)?));
                        extra.push(self.id(word(2 * i + 1)?, None));
                    }
                    b.head_raw(name, info, ret);
                    b.words(&extra);
                }
                Kind::Struct | Kind::Union => {
                    let Some(follow) = follow else {
                        // Name and size only.
                        b.head_raw(name, info & !0xffff, t.size_or_type);
                        return Ok(());
                    };
                    let mut extra = Vec::with_capacity(3 * t.vlen);
                    for i in 0..t.vlen {
                        // struct btf_member: name_off, type, offset
                        let member = btf.name(word(3 * i)?)?;
                        let ty = word(3 * i + 1)?;
                        let ty = if member.is_empty() {
                            self.id(ty, Some(follow))
                        } else if follow.contains(&member) {
                            self.id(ty, None)
                        } else {
                            1
                        };
                        extra.extend([b.name(member), ty, word(3 * i + 2)?]);
                    }
                    b.head_raw(name, info, t.size_or_type);
                    b.words(&extra);
                }
                Kind::Var | Kind::Datasec | Kind::DeclTag => {
                    return Err(BtfError::Unexpected {
                        what: format!("type {old}"),
                        found: format!("{:?}, which an extract does not copy", t.kind),
                    });
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::build::Builder;
    use super::*;

    fn sample() -> Vec<u8> {
        let mut b = Builder::new();
        let int = b.int("int", 4, true); // 1
        let ushort = b.int("unsigned short", 2, false); // 2
        let pid_t = b.typedef("pid_t", int); // 3
        let inner = b.composite(false, "", 8, &[("pid", pid_t, 0), ("tgid", pid_t, 32)]); // 4
        let _task = b.composite(
            false,
            "task_struct",
            64,
            &[("state", int, 0), ("", inner, 128)],
        ); // 5
        let _bits = b.composite(false, "bits", 4, &[("mode", ushort, 4)]);
        b.finish()
    }

    #[test]
    fn members_through_anonymous_structs_and_typedefs() {
        let btf = Btf::parse(&sample()).unwrap();
        assert_eq!(btf.len(), 6);
        let task = btf.find(Kind::Struct, "task_struct").unwrap();
        let tgid = btf.member(&task, "tgid").unwrap();
        assert_eq!(tgid.offset, 20);
        assert_eq!(
            tgid.shape,
            Shape::Int {
                size: 4,
                signed: true
            }
        );
        assert_eq!(btf.member(&task, "pid").unwrap().offset, 16);
        assert!(matches!(
            btf.member(&task, "comm"),
            Err(BtfError::NoMember(_))
        ));
        let bits = btf.find(Kind::Struct, "bits").unwrap();
        assert!(matches!(
            btf.member(&bits, "mode"),
            Err(BtfError::Bitfield(_))
        ));
        assert!(matches!(
            btf.find(Kind::Struct, "file"),
            Err(BtfError::Missing { .. })
        ));
    }

    #[test]
    fn bad_headers() {
        let good = sample();
        assert_eq!(Btf::parse(&[]).unwrap_err(), BtfError::Header);
        let mut bad = good.clone();
        bad[0] ^= 0xff;
        assert!(matches!(Btf::parse(&bad), Err(BtfError::Magic(_))));
        let mut bad = good.clone();
        bad[2] = 2;
        assert_eq!(Btf::parse(&bad).unwrap_err(), BtfError::Version(2));
        // A type section longer than the file.
        let mut bad = good.clone();
        bad[12..16].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(Btf::parse(&bad).unwrap_err(), BtfError::Header);
        // Cut in the middle of a record.
        let mut b = Builder::new();
        b.int("int", 4, true);
        let mut blob = b.finish();
        let types_len = b.types.len() as u32 - 2;
        blob[12..16].copy_from_slice(&types_len.to_ne_bytes());
        blob[16..20].copy_from_slice(&types_len.to_ne_bytes());
        assert!(matches!(Btf::parse(&blob), Err(BtfError::Truncated { .. })));
    }

    #[test]
    fn unknown_kind_is_an_error() {
        let mut b = Builder::new();
        b.int("int", 4, true);
        b.raw(25, 0, 0, &[]);
        assert_eq!(
            Btf::parse(&b.finish()).unwrap_err(),
            BtfError::UnknownKind { id: 2, kind: 25 }
        );
    }

    #[test]
    fn duplicates_are_ambiguous() {
        let mut b = Builder::new();
        let int = b.int("int", 4, true);
        b.composite(false, "file", 4, &[("f", int, 0)]);
        b.composite(false, "file", 8, &[("f", int, 32)]);
        let btf = Btf::parse(&b.finish()).unwrap();
        assert!(matches!(
            btf.find(Kind::Struct, "file"),
            Err(BtfError::Ambiguous { .. })
        ));
    }

    #[test]
    fn typedef_loops_end() {
        let mut b = Builder::new();
        b.typedef("a", 2);
        b.typedef("b", 1);
        let btf = Btf::parse(&b.finish()).unwrap();
        assert_eq!(btf.resolve(1).unwrap_err(), BtfError::TooDeep);
    }
}
