//! The one definition of the scenario ops.
//!
//! [`OPS`] lists every op a scenario may use: its name, its arguments (each with an
//! [`ArgKind`] that fixes how it is parsed, checked, written and generated), the kernel path
//! the model drives, and the system calls that stand for it on the real kernel. The parser, the
//! scenario writer, the generator, `iomc list` and docs/scenario-format.md all follow from this
//! table; [`OpKind`] is the typed form the model and the real-kernel runner match on.
//!
//! Adding an op is: a row here, a variant of [`OpKind`] with its arms in
//! [`OpKind::from_args`] and [`OpKind::args`] (the compiler points at both), its model
//! function (iomc-harness `exec.rs`) and its real counterpart (iomc-realfs `ops.rs`).

use crate::{MAX_FILE_BYTES, POISON};
use std::fmt::Write;

/// Error tags `errortag` accepts.
pub const ERRORTAG_NAMES: &[&str] = &["drop_writes"];

/// Errors a `writeback` op can inject into its delalloc conversions.
pub const WRITEBACK_ERRORS: &[&str] = &["ENOSPC", "EIO"];

/// The type of one op argument: how it is parsed and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// Start of a byte range (goes with a [`ArgKind::Length`]); the range ends at most at
    /// [`MAX_FILE_BYTES`].
    Offset,
    /// Length of a byte range, > 0.
    Length,
    /// A data byte: 1..=255, never [`POISON`] (0 would make a lost write look like zeroing).
    Fill,
    /// A file size, at most [`MAX_FILE_BYTES`].
    Size,
    /// A byte count, less than [`MAX_FILE_BYTES`].
    Bytes,
    /// A name from a fixed list; `what` names the list in messages ("error tag").
    Name {
        /// What the names are.
        what: &'static str,
        /// The names accepted.
        names: &'static [&'static str],
    },
    /// An integer in `0..=max`.
    Small(u64),
    /// `true` or `false`; left out means `false`.
    Flag,
}

impl ArgKind {
    /// How the argument is written, for listings and docs.
    pub fn describe(self) -> String {
        match self {
            ArgKind::Offset => "byte offset".into(),
            ArgKind::Length => "bytes, > 0; offset + length <= 1 MiB".into(),
            ArgKind::Fill => "byte 1..=255, not 0xA5".into(),
            ArgKind::Size => "bytes, <= 1 MiB".into(),
            ArgKind::Bytes => "bytes, < 1 MiB".into(),
            ArgKind::Name { what, names } => format!("{what}: one of {}", names.join(", ")),
            ArgKind::Small(max) => format!("integer 0..={max}"),
            ArgKind::Flag => "true or false (default false)".into(),
        }
    }
}

/// One argument of an op.
#[derive(Clone, Copy, Debug)]
pub struct ArgSpec {
    /// Key in the op's table.
    pub name: &'static str,
    /// Its type.
    pub kind: ArgKind,
    /// May be left out (listed in brackets).
    pub optional: bool,
}

/// How an op's generated instances look (see [`crate::generate`]).
#[derive(Clone, Copy, Debug)]
pub struct GenSpec {
    /// Relative weight among generated thread ops; 0: never generated.
    pub weight: u32,
    /// Cap on a generated range's length (e.g. mmap stores are kept short).
    pub max_length: Option<u64>,
    /// Generated ranges start and end on a multiple of this (O_DIRECT's 512-byte sectors), so
    /// they exercise the op rather than its -EINVAL.
    pub align: Option<u64>,
}

const NEVER: GenSpec = GenSpec { weight: 0, max_length: None, align: None };

/// One op: its name, arguments and what it stands for.
#[derive(Clone, Copy, Debug)]
pub struct OpSpec {
    /// Name as written in scenario files (`op = "pwrite"`).
    pub name: &'static str,
    /// Arguments besides `op`.
    pub args: &'static [ArgSpec],
    /// `offset` and `length` may both be left out (the whole file).
    pub range_optional: bool,
    /// What the op does, in a line.
    pub summary: &'static str,
    /// The kernel entry point the model runs for it.
    pub kernel: &'static str,
    /// The system calls that stand for it on a real XFS mount (`iomc conform`).
    pub real: &'static str,
    /// How the generator draws it.
    pub generate: GenSpec,
    /// The model has it on zoned XFS (`[geometry] zoned = true`); the others are rejected there.
    pub zoned: bool,
}

const OFFSET: ArgSpec = ArgSpec { name: "offset", kind: ArgKind::Offset, optional: false };
const LENGTH: ArgSpec = ArgSpec { name: "length", kind: ArgKind::Length, optional: false };
const FILL: ArgSpec = ArgSpec { name: "fill", kind: ArgKind::Fill, optional: false };

/// Every op, in the order listings show them.
pub const OPS: &[OpSpec] = &[
    OpSpec {
        name: "pwrite",
        args: &[OFFSET, LENGTH, FILL],
        range_optional: false,
        summary: "buffered write of `length` bytes of `fill` at `offset`",
        kernel: "xfs_file_buffered_write -> iomap_file_buffered_write",
        real: "pwrite(2)",
        generate: GenSpec { weight: 4, max_length: None, align: None },
        zoned: true,
    },
    OpSpec {
        name: "mmap_write",
        args: &[OFFSET, LENGTH, FILL],
        range_optional: false,
        summary: "store through a shared mapping: read fault if absent, page_mkwrite, then the store",
        kernel: "filemap_fault, xfs_filemap_page_mkwrite -> iomap_page_mkwrite, user store",
        real: "MAP_SHARED mapping; the store through process_vm_writev (EFAULT, not SIGBUS, beyond EOF)",
        generate: GenSpec { weight: 2, max_length: Some(64), align: None },
        zoned: true,
    },
    OpSpec {
        name: "read",
        args: &[OFFSET, LENGTH, ArgSpec { name: "direct", kind: ArgKind::Flag, optional: true }],
        range_optional: false,
        summary: "read; the oracle checks the bytes it returns. `direct = true`: O_DIRECT (offset and length \
                  multiples of 512), flushing the range's dirty page cache first and reading the disk",
        kernel: "xfs_file_buffered_read -> filemap_read; direct: xfs_file_dio_read -> iomap_dio_rw",
        real: "pread(2); direct: pread(2) on an O_DIRECT descriptor",
        generate: GenSpec { weight: 1, max_length: None, align: None },
        zoned: true,
    },
    OpSpec {
        name: "dio_write",
        args: &[OFFSET, LENGTH, FILL],
        range_optional: false,
        summary: "O_DIRECT write (offset and length multiples of 512): flush and invalidate the range, \
                  allocate unwritten blocks, write the disk; completion converts them, moves the size and \
                  invalidates the page cache again without i_rwsem or the invalidate lock (as an AIO \
                  completion does)",
        kernel: "xfs_file_dio_write_aligned/_unaligned -> iomap_dio_rw, xfs_direct_write_iomap_begin, \
                 xfs_dio_write_end_io, kiocb_invalidate_post_direct_write",
        real: "pwrite(2) on an O_DIRECT descriptor (a synchronous completion: a subset of the model's orders)",
        generate: GenSpec { weight: 1, max_length: None, align: Some(512) },
        zoned: false,
    },
    OpSpec {
        name: "writeback",
        args: &[
            OFFSET,
            LENGTH,
            ArgSpec {
                name: "error",
                kind: ArgKind::Name { what: "writeback error", names: WRITEBACK_ERRORS },
                optional: true,
            },
        ],
        range_optional: true,
        summary: "one writepages pass over the range (whole file without one), I/O submission and completion; \
                  with `error`, every delalloc conversion of the pass fails with it and the pass stops at the \
                  first failing folio (xfs_discard_folio)",
        kernel: "xfs_vm_writepages -> iomap_writepages, xfs_end_ioend; xfs_map_blocks -> xfs_discard_folio",
        real: "sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER); with `error`: not runnable (no way to make \
               one delalloc conversion fail on demand)",
        generate: GenSpec { weight: 3, max_length: None, align: None },
        zoned: true,
    },
    OpSpec {
        name: "reclaim",
        args: &[OFFSET, LENGTH],
        range_optional: true,
        summary: "try once to evict each clean folio in the range (whole file without one); a large folio \
                  partly in the range is split first",
        kernel: "madvise(MADV_PAGEOUT): split_folio, shrink_folio_list -> __remove_mapping (kswapd's eviction)",
        real: "madvise(MADV_PAGEOUT) over a shared mapping with the cached, uptodate pages faulted in (no read-around)",
        generate: GenSpec { weight: 3, max_length: None, align: None },
        zoned: true,
    },
    OpSpec {
        name: "fallocate",
        args: &[OFFSET, LENGTH, ArgSpec { name: "keep_size", kind: ArgKind::Flag, optional: true }],
        range_optional: false,
        summary: "preallocate unwritten extents; the size grows to the range's end unless `keep_size = true`",
        kernel: "xfs_file_fallocate -> xfs_alloc_file_space (then xfs_vn_setattr_size unless KEEP_SIZE)",
        real: "fallocate(2), mode 0 or FALLOC_FL_KEEP_SIZE",
        generate: GenSpec { weight: 1, max_length: None, align: None },
        zoned: false,
    },
    OpSpec {
        name: "punch_hole",
        args: &[OFFSET, LENGTH],
        range_optional: false,
        summary: "free the range's blocks, keeping the size",
        kernel: "xfs_file_fallocate(PUNCH_HOLE) -> xfs_free_file_space",
        real: "fallocate(2), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE",
        generate: GenSpec { weight: 1, max_length: None, align: None },
        zoned: false,
    },
    OpSpec {
        name: "zero_range",
        args: &[OFFSET, LENGTH],
        range_optional: false,
        summary: "zero a range: write back and drop its page cache, free its whole blocks, zero the partial \
                  blocks at its edges through the page cache, then preallocate unwritten blocks over it; the \
                  size grows to the range's end",
        kernel: "xfs_file_fallocate(ZERO_RANGE) -> xfs_free_file_space + xfs_alloc_file_space",
        real: "fallocate(2), FALLOC_FL_ZERO_RANGE",
        generate: GenSpec { weight: 1, max_length: None, align: None },
        zoned: false,
    },
    OpSpec {
        name: "clone_range",
        args: &[
            ArgSpec { name: "src", kind: ArgKind::Offset, optional: false },
            ArgSpec { name: "dst", kind: ArgKind::Offset, optional: false },
            LENGTH,
        ],
        range_optional: false,
        summary: "share `length` bytes of blocks from `src` at `dst` within the file (reflink; block-aligned, the \
                  ranges must not overlap): later writes to either copy go through the COW fork",
        kernel: "xfs_file_remap_range -> xfs_reflink_remap_prep, xfs_reflink_remap_blocks",
        real: "ioctl(FICLONERANGE) from the file to itself",
        generate: GenSpec { weight: 0, max_length: None, align: None },
        zoned: false,
    },
    OpSpec {
        name: "truncate",
        args: &[ArgSpec { name: "size", kind: ArgKind::Size, optional: false }],
        range_optional: false,
        summary: "set the file size",
        kernel: "xfs_setattr_size",
        real: "ftruncate(2)",
        generate: GenSpec { weight: 1, max_length: None, align: None },
        zoned: true,
    },
    OpSpec {
        name: "fsync",
        args: &[],
        range_optional: false,
        summary: "write back and wait for the whole file",
        kernel: "xfs_file_fsync",
        real: "fsync(2)",
        generate: NEVER,
        zoned: true,
    },
    OpSpec {
        name: "drop_caches",
        args: &[],
        range_optional: false,
        summary: "drop the file's clean, unmapped page cache",
        kernel: "invalidate_mapping_pages (echo 1 > /proc/sys/vm/drop_caches)",
        real: "echo 1 > /proc/sys/vm/drop_caches",
        generate: NEVER,
        zoned: true,
    },
    OpSpec {
        name: "errortag",
        args: &[
            ArgSpec { name: "name", kind: ArgKind::Name { what: "error tag", names: ERRORTAG_NAMES }, optional: false },
            ArgSpec { name: "value", kind: ArgKind::Small(1), optional: false },
        ],
        range_optional: false,
        summary: "set an XFS error injection tag (a kernel without the tag rejects it: verdict `unsupported`)",
        kernel: "xfs_errortag_set",
        real: "/sys/fs/xfs/<dev>/errortag/<name> (CONFIG_XFS_DEBUG kernels only)",
        generate: NEVER,
        zoned: false,
    },
    OpSpec {
        name: "short_copy",
        args: &[ArgSpec { name: "bytes", kind: ArgKind::Bytes, optional: false }],
        range_optional: false,
        summary: "the thread's next pwrite copies only `bytes` bytes from its buffer, as if the user buffer faulted",
        kernel: "copy_folio_from_iter_atomic coming up short in iomap_write_iter",
        real: "the next pwrite's buffer runs into a PROT_NONE page after `bytes` bytes",
        generate: NEVER,
        zoned: true,
    },
    OpSpec {
        name: "crash",
        args: &[],
        range_optional: false,
        summary: "power failure here: the oracle checks what the disk holds at this point (the crash view); \
                  nothing after it counts for that view",
        kernel: "none: the durable state (completed data I/O, on-disk extent map and size)",
        real: "not runnable on the real kernel (no power failure on demand)",
        generate: NEVER,
        zoned: false,
    },
];

/// The op named `name`.
pub fn spec(name: &str) -> Option<&'static OpSpec> {
    OPS.iter().find(|s| s.name == name)
}

/// The ops the model has on zoned XFS, in [`OPS`] order.
pub fn zoned_names() -> Vec<&'static str> {
    OPS.iter().filter(|s| s.zoned).map(|s| s.name).collect()
}

/// Every op name, in [`OPS`] order.
pub fn names() -> Vec<&'static str> {
    OPS.iter().map(|s| s.name).collect()
}

/// A checked argument value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgValue {
    /// An integer argument.
    Int(u64),
    /// A string argument.
    Str(String),
    /// A flag argument.
    Bool(bool),
}

/// The arguments of one op, by name, as checked by the parser or drawn by the generator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args(Vec<(&'static str, ArgValue)>);

impl Args {
    /// Set `name` to `value`.
    pub fn set(&mut self, name: &'static str, value: ArgValue) {
        self.0.retain(|(k, _)| *k != name);
        self.0.push((name, value));
    }

    /// An integer argument, if given.
    pub fn int(&self, name: &str) -> Option<u64> {
        self.0.iter().find_map(|(k, v)| match v {
            ArgValue::Int(n) if *k == name => Some(*n),
            _ => None,
        })
    }

    /// A string argument, if given.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.iter().find_map(|(k, v)| match v {
            ArgValue::Str(s) if *k == name => Some(s.as_str()),
            _ => None,
        })
    }

    /// A flag argument; `false` if left out.
    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| *k == name && *v == ArgValue::Bool(true))
    }

    fn range(&self) -> Option<(u64, u64)> {
        Some((self.int("offset")?, self.int("length")?))
    }
}

/// One file operation, with its arguments. All offsets, lengths and sizes are in bytes; see
/// [`OPS`] for what each stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// `pwrite(2)` of `length` bytes of `fill` at `offset`.
    Pwrite {
        /// Start of the range.
        offset: u64,
        /// Length of the range, > 0.
        length: u64,
        /// Byte written, never 0 nor [`POISON`].
        fill: u8,
    },
    /// Store of `length` bytes of `fill` at `offset` through a shared mapping.
    MmapWrite {
        /// Start of the range.
        offset: u64,
        /// Length of the range, > 0.
        length: u64,
        /// Byte written, never 0 nor [`POISON`].
        fill: u8,
    },
    /// `pread(2)` of a range.
    Read {
        /// Start of the range.
        offset: u64,
        /// Length of the range, > 0.
        length: u64,
        /// O_DIRECT.
        direct: bool,
    },
    /// `pwrite(2)` on an O_DIRECT descriptor.
    DioWrite {
        /// Start of the range.
        offset: u64,
        /// Length of the range, > 0.
        length: u64,
        /// Byte written, never 0 nor [`POISON`].
        fill: u8,
    },
    /// Writeback of dirty page cache over a range, or the whole file.
    Writeback {
        /// `(offset, length)`, or `None` for the whole file.
        range: Option<(u64, u64)>,
        /// An errno name from [`WRITEBACK_ERRORS`] every delalloc conversion of the pass fails
        /// with, or `None`.
        error: Option<String>,
    },
    /// Reclaim (eviction) of clean page cache over a range, or the whole file.
    Reclaim {
        /// `(offset, length)`, or `None` for the whole file.
        range: Option<(u64, u64)>,
    },
    /// `fallocate(2)` preallocation (unwritten extents) of a range.
    Fallocate {
        /// Start of the range.
        offset: u64,
        /// Length of the range, > 0.
        length: u64,
        /// FALLOC_FL_KEEP_SIZE.
        keep_size: bool,
    },
    /// `fallocate(FALLOC_FL_ZERO_RANGE)` of a range.
    ZeroRange {
        /// Start of the range.
        offset: u64,
        /// Length of the range, > 0.
        length: u64,
    },
    /// `fallocate(FALLOC_FL_PUNCH_HOLE)` of a range.
    PunchHole {
        /// Start of the range.
        offset: u64,
        /// Length of the range, > 0.
        length: u64,
    },
    /// `ioctl(FICLONERANGE)` of `length` bytes from `src` to `dst` in the same file.
    CloneRange {
        /// Source offset.
        src: u64,
        /// Destination offset.
        dst: u64,
        /// Bytes, > 0.
        length: u64,
    },
    /// `ftruncate(2)` to `size`.
    Truncate {
        /// New file size, at most [`MAX_FILE_BYTES`].
        size: u64,
    },
    /// `fsync(2)`.
    Fsync,
    /// Drop the clean page cache (`echo 1 > /proc/sys/vm/drop_caches`).
    DropCaches,
    /// Set an XFS error injection tag.
    Errortag {
        /// Tag name, one of [`ERRORTAG_NAMES`].
        name: String,
        /// Tag value, 0 or 1.
        value: u64,
    },
    /// Make the next buffered write's user copy come up short after `bytes` bytes.
    ShortCopy {
        /// Bytes copied before the fault, less than 1 MiB.
        bytes: u64,
    },
    /// A power failure: the oracle's crash view is the disk as it is here.
    Crash,
}

impl OpKind {
    /// Builds the op `name` from arguments the parser or generator checked against its
    /// [`OpSpec`]; `None` if the name is unknown or a required argument is missing.
    pub fn from_args(name: &str, a: &Args) -> Option<OpKind> {
        let int = |k| a.int(k);
        let fill = || int("fill").and_then(|f| u8::try_from(f).ok());
        Some(match name {
            "pwrite" => OpKind::Pwrite { offset: int("offset")?, length: int("length")?, fill: fill()? },
            "mmap_write" => OpKind::MmapWrite { offset: int("offset")?, length: int("length")?, fill: fill()? },
            "read" => OpKind::Read { offset: int("offset")?, length: int("length")?, direct: a.flag("direct") },
            "dio_write" => OpKind::DioWrite { offset: int("offset")?, length: int("length")?, fill: fill()? },
            "writeback" => OpKind::Writeback { range: a.range(), error: a.str("error").map(str::to_string) },
            "reclaim" => OpKind::Reclaim { range: a.range() },
            "fallocate" => {
                OpKind::Fallocate { offset: int("offset")?, length: int("length")?, keep_size: a.flag("keep_size") }
            }
            "zero_range" => OpKind::ZeroRange { offset: int("offset")?, length: int("length")? },
            "clone_range" => OpKind::CloneRange { src: int("src")?, dst: int("dst")?, length: int("length")? },
            "punch_hole" => OpKind::PunchHole { offset: int("offset")?, length: int("length")? },
            "truncate" => OpKind::Truncate { size: int("size")? },
            "fsync" => OpKind::Fsync,
            "drop_caches" => OpKind::DropCaches,
            "errortag" => OpKind::Errortag { name: a.str("name")?.to_string(), value: int("value")? },
            "short_copy" => OpKind::ShortCopy { bytes: int("bytes")? },
            "crash" => OpKind::Crash,
            _ => return None,
        })
    }

    /// The op's arguments, in its [`OpSpec`]'s order (a left-out optional range is absent).
    pub fn args(&self) -> Args {
        let mut a = Args::default();
        let range = |a: &mut Args, offset: u64, length: u64| {
            a.set("offset", ArgValue::Int(offset));
            a.set("length", ArgValue::Int(length));
        };
        match self {
            OpKind::Pwrite { offset, length, fill }
            | OpKind::MmapWrite { offset, length, fill }
            | OpKind::DioWrite { offset, length, fill } => {
                range(&mut a, *offset, *length);
                a.set("fill", ArgValue::Int(u64::from(*fill)));
            }
            OpKind::Read { offset, length, direct } => {
                range(&mut a, *offset, *length);
                a.set("direct", ArgValue::Bool(*direct));
            }
            OpKind::Fallocate { offset, length, keep_size } => {
                range(&mut a, *offset, *length);
                a.set("keep_size", ArgValue::Bool(*keep_size));
            }
            OpKind::ZeroRange { offset, length }
            | OpKind::PunchHole { offset, length }
            | OpKind::Reclaim { range: Some((offset, length)) } => range(&mut a, *offset, *length),
            OpKind::Reclaim { range: None } => {}
            OpKind::Writeback { range: r, error } => {
                if let Some((offset, length)) = r {
                    range(&mut a, *offset, *length);
                }
                if let Some(e) = error {
                    a.set("error", ArgValue::Str(e.clone()));
                }
            }
            OpKind::Truncate { size } => a.set("size", ArgValue::Int(*size)),
            OpKind::CloneRange { src, dst, length } => {
                a.set("src", ArgValue::Int(*src));
                a.set("dst", ArgValue::Int(*dst));
                a.set("length", ArgValue::Int(*length));
            }
            OpKind::Fsync | OpKind::DropCaches | OpKind::Crash => {}
            OpKind::Errortag { name, value } => {
                a.set("name", ArgValue::Str(name.clone()));
                a.set("value", ArgValue::Int(*value));
            }
            OpKind::ShortCopy { bytes } => a.set("bytes", ArgValue::Int(*bytes)),
        }
        a
    }

    /// The op's [`OpSpec`].
    pub fn spec(&self) -> &'static OpSpec {
        let name = match self {
            OpKind::Pwrite { .. } => "pwrite",
            OpKind::MmapWrite { .. } => "mmap_write",
            OpKind::Read { .. } => "read",
            OpKind::DioWrite { .. } => "dio_write",
            OpKind::Writeback { .. } => "writeback",
            OpKind::Reclaim { .. } => "reclaim",
            OpKind::Fallocate { .. } => "fallocate",
            OpKind::PunchHole { .. } => "punch_hole",
            OpKind::ZeroRange { .. } => "zero_range",
            OpKind::CloneRange { .. } => "clone_range",
            OpKind::Truncate { .. } => "truncate",
            OpKind::Fsync => "fsync",
            OpKind::DropCaches => "drop_caches",
            OpKind::Errortag { .. } => "errortag",
            OpKind::ShortCopy { .. } => "short_copy",
            OpKind::Crash => "crash",
        };
        spec(name).unwrap_or(&OPS[0])
    }

    /// The op's name as written in scenario files (`"pwrite"`, `"mmap_write"`, ...).
    pub fn name(&self) -> &'static str {
        self.spec().name
    }

    /// End of the furthest byte this op names (range end or size); 0 for ops without one.
    pub fn end(&self) -> u64 {
        let a = self.args();
        if let OpKind::CloneRange { src, dst, length } = *self {
            return src.max(dst).saturating_add(length);
        }
        match (a.range(), a.int("size")) {
            (Some((o, l)), _) => o.saturating_add(l),
            (None, Some(size)) => size,
            _ => 0,
        }
    }

    /// The op as an inline TOML table, e.g. `{ op = "pwrite", offset = 0, length = 4096, fill = 0x42 }`.
    pub fn to_toml(&self) -> String {
        let spec = self.spec();
        let args = self.args();
        let mut out = format!("{{ op = \"{}\"", spec.name);
        for a in spec.args {
            let _ = match (a.kind, args.0.iter().find(|(k, _)| *k == a.name).map(|(_, v)| v)) {
                (_, None) => Ok(()),
                (ArgKind::Fill, Some(ArgValue::Int(n))) => write!(out, ", {} = {n:#04x}", a.name),
                (_, Some(ArgValue::Int(n))) => write!(out, ", {} = {n}", a.name),
                (_, Some(ArgValue::Str(s))) => write!(out, ", {} = {}", a.name, crate::quoted(s)),
                // A false flag is the default: left out.
                (_, Some(ArgValue::Bool(false))) => Ok(()),
                (_, Some(ArgValue::Bool(true))) => write!(out, ", {} = true", a.name),
            };
        }
        out.push_str(" }");
        out
    }
}

/// Checks one argument value against its kind; the error says what is wrong (without location).
/// `label` names the argument in messages (`"truncate size"`).
pub(crate) fn check_int(kind: ArgKind, label: &str, n: u64) -> Result<(), String> {
    match kind {
        ArgKind::Offset => Ok(()),
        ArgKind::Length if n == 0 => Err("zero-length ops are rejected: `length` must be > 0".into()),
        ArgKind::Length => Ok(()),
        ArgKind::Fill if n == 0 => {
            Err("fill must not be 0: zero would make lost data indistinguishable from zeroing".into())
        }
        ArgKind::Fill if n == u64::from(POISON) => Err(format!(
            "fill must not be {POISON:#04X}: that byte is the model disk's poison, meaning \"never written\""
        )),
        ArgKind::Fill if n > 255 => Err(format!("fill must be a byte in 1..=255, found {n}")),
        ArgKind::Fill => Ok(()),
        ArgKind::Size if n > MAX_FILE_BYTES => {
            Err(format!("{label} {n} is past the {MAX_FILE_BYTES}-byte (1 MiB) file limit"))
        }
        ArgKind::Size => Ok(()),
        ArgKind::Bytes if n >= MAX_FILE_BYTES => {
            Err(format!("{label} must be less than 1 MiB ({MAX_FILE_BYTES}), found {n}"))
        }
        ArgKind::Bytes => Ok(()),
        ArgKind::Small(1) if n > 1 => Err(format!("{label} must be 0 or 1, found {n}")),
        ArgKind::Small(max) if n > max => Err(format!("{label} must be in 0..={max}, found {n}")),
        ArgKind::Small(_) => Ok(()),
        ArgKind::Name { .. } => Err(format!("{label}: expected a string, found an integer")),
        ArgKind::Flag => Err(format!("{label}: expected true or false, found an integer")),
    }
}

/// The ops as a Markdown table (docs/scenario-format.md embeds it; a test keeps them equal).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| op | arguments | what it does | model (kernel path) | real kernel (`iomc conform`) | zoned |\n",
    );
    out.push_str("|---|---|---|---|---|---|\n");
    for s in OPS {
        let args: Vec<String> = s
            .args
            .iter()
            .map(|a| {
                let opt = if a.optional { " (optional)" } else { "" };
                format!("`{}`: {}{opt}", a.name, a.kind.describe())
            })
            .collect();
        let mut args = if args.is_empty() { "none".to_string() } else { args.join("; ") };
        if s.range_optional {
            args.push_str(" (both or neither: the whole file)");
        }
        let cell = |t: &str| t.replace('|', "\\|");
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | `{}` | {} | {} |",
            s.name,
            cell(&args),
            cell(s.summary),
            s.kernel,
            cell(s.real),
            if s.zoned { "yes" } else { "no" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every op's typed form goes to its arguments and back, and names the spec it came from.
    #[test]
    fn from_args_inverts_args() {
        let ops = [
            OpKind::Pwrite { offset: 1, length: 2, fill: 3 },
            OpKind::MmapWrite { offset: 4, length: 5, fill: 6 },
            OpKind::Read { offset: 7, length: 8, direct: false },
            OpKind::Read { offset: 512, length: 1024, direct: true },
            OpKind::DioWrite { offset: 512, length: 512, fill: 9 },
            OpKind::Writeback { range: None, error: None },
            OpKind::Writeback { range: Some((9, 10)), error: None },
            OpKind::Writeback { range: None, error: Some("ENOSPC".into()) },
            OpKind::Reclaim { range: None },
            OpKind::Reclaim { range: Some((11, 12)) },
            OpKind::Fallocate { offset: 13, length: 14, keep_size: false },
            OpKind::Fallocate { offset: 13, length: 14, keep_size: true },
            OpKind::PunchHole { offset: 15, length: 16 },
            OpKind::ZeroRange { offset: 19, length: 20 },
            OpKind::CloneRange { src: 0, dst: 4096, length: 4096 },
            OpKind::Truncate { size: 17 },
            OpKind::Fsync,
            OpKind::DropCaches,
            OpKind::Errortag { name: "drop_writes".into(), value: 1 },
            OpKind::ShortCopy { bytes: 18 },
            OpKind::Crash,
        ];
        let mut seen: Vec<&str> = Vec::new();
        for op in ops {
            let back = OpKind::from_args(op.name(), &op.args());
            assert_eq!(back.as_ref(), Some(&op), "{op:?}");
            // Every argument the op carries is one its spec declares.
            for (k, _) in &op.args().0 {
                assert!(op.spec().args.iter().any(|a| a.name == *k), "{op:?}: {k}");
            }
            seen.push(op.name());
        }
        seen.dedup();
        assert_eq!(seen, names(), "one test op per spec, in OPS order");
    }

    #[test]
    fn ends_and_toml() {
        assert_eq!(OpKind::Truncate { size: 5 }.end(), 5);
        assert_eq!(OpKind::ShortCopy { bytes: 7 }.end(), 0);
        assert_eq!(OpKind::Writeback { range: None, error: None }.end(), 0);
        assert_eq!(
            OpKind::Writeback { range: Some((0, 8192)), error: Some("EIO".into()) }.to_toml(),
            "{ op = \"writeback\", offset = 0, length = 8192, error = \"EIO\" }"
        );
        assert_eq!(OpKind::Read { offset: 3, length: 4, direct: false }.end(), 7);
        assert_eq!(
            OpKind::Read { offset: 0, length: 512, direct: true }.to_toml(),
            "{ op = \"read\", offset = 0, length = 512, direct = true }"
        );
        assert_eq!(
            OpKind::Fallocate { offset: 0, length: 512, keep_size: false }.to_toml(),
            "{ op = \"fallocate\", offset = 0, length = 512 }"
        );
        assert_eq!(
            OpKind::Pwrite { offset: 0, length: 4096, fill: 0x42 }.to_toml(),
            "{ op = \"pwrite\", offset = 0, length = 4096, fill = 0x42 }"
        );
        assert_eq!(OpKind::Reclaim { range: None }.to_toml(), "{ op = \"reclaim\" }");
        assert_eq!(
            OpKind::Errortag { name: "drop_writes".into(), value: 1 }.to_toml(),
            "{ op = \"errortag\", name = \"drop_writes\", value = 1 }"
        );
    }
}
