//! Writing to stdout and stderr without `println!`'s panic on a closed stream.
//!
//! `iomc check scenarios/ | head -1`: once `head` exits, a write to stdout fails with
//! `BrokenPipe`, and `println!` would panic ("failed printing to stdout"). Here that write
//! marks the stream closed, makes every later write a no-op, and sets the run's interrupt
//! flag so the search stops before its next execution; `main` then exits with
//! [`EXIT_CLOSED`] without another word, as a Unix tool killed by SIGPIPE does. Other write
//! errors on stdout are treated the same way (nothing more can be said there); errors on
//! stderr are ignored.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status after stdout was closed: 128 + SIGPIPE, what a shell shows for a Unix tool
/// that SIGPIPE ended.
pub const EXIT_CLOSED: u8 = 141;

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Has a write to stdout failed (the reader went away)?
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Write `s` to stdout and flush; on failure, mark stdout closed and interrupt the run.
pub fn stdout(s: &str) {
    if stdout_closed() {
        return;
    }
    let mut o = std::io::stdout().lock();
    if o.write_all(s.as_bytes()).and_then(|()| o.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        crate::INTERRUPTED.store(true, Ordering::Relaxed);
    }
}

/// Write `s` to stderr; a failure is ignored (there is nowhere left to report it). Nothing is
/// written once stdout is closed: the run is ending quietly.
pub fn stderr(s: &str) {
    if stdout_closed() {
        return;
    }
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(s.as_bytes()).and_then(|()| e.flush());
}

/// `print!` to [`stdout`].
macro_rules! out {
    ($($t:tt)*) => { $crate::out::stdout(&format!($($t)*)) };
}

/// `println!` to [`stdout`].
macro_rules! outln {
    () => { $crate::out::stdout("\n") };
    ($($t:tt)*) => { $crate::out::stdout(&format!("{}\n", format_args!($($t)*))) };
}

/// `eprintln!` to [`stderr`].
macro_rules! errln {
    ($($t:tt)*) => { $crate::out::stderr(&format!("{}\n", format_args!($($t)*))) };
}
