//! The typed form of an op ([`OpKind`]) and its checked arguments ([`Args`]).

use super::{spec, ArgKind, OpSpec, OPS};
use crate::{MAX_FILE_BYTES, POISON};

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
pub struct Args(pub(crate) Vec<(&'static str, ArgValue)>);

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
