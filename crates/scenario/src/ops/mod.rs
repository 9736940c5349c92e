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

mod doc;
mod kind;

pub use doc::markdown_table;
pub(crate) use kind::check_int;
pub use kind::{ArgValue, Args, OpKind};

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
