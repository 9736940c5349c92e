//! # iomc-sync: one synchronisation API over loom, shuttle and OS threads
//!
//! The kernel models in `iomc-models` are written once, against the types in this crate.
//! Which checker runs them is a *run-time* choice, carried by a [`Backend`] value that the
//! harness passes when it builds a model world:
//!
//! * [`Backend::Loom`]: every lock operation is a loom object operation, so loom's bounded
//!   DPOR sees it and can explore the interleavings around it exhaustively.
//! * [`Backend::Shuttle`]: the same operations are shuttle scheduling points; shuttle's
//!   randomised schedulers (random, PCT) and its DFS pick the order.
//! * [`Backend::Std`]: real OS threads and `std::sync` locks, for the `stress` strategy, which
//!   shows how unlikely the same race is without a checker.
//!
//! There are no generics and no `cfg`s in model code: a [`Mutex`] is an enum over the three
//! backends' mutexes, and the harness never mixes backends inside one execution.
//!
//! ```
//! use iomc_sync::{Backend, Mutex, Spawner};
//! // Outside a checker only the Std backend can run.
//! let m = std::sync::Arc::new(Mutex::new(Backend::Std, 0u32));
//! let spawner = Spawner::new(Backend::Std);
//! let m2 = m.clone();
//! let h = spawner.spawn("writer", move || *m2.lock() += 1).unwrap();
//! h.join().unwrap();
//! assert_eq!(*m.lock(), 1);
//! ```
//!
//! Locks may carry a name ([`Mutex::named`], [`RwLock::named`]) for reports: while an explorer
//! records an execution ([`waits::begin_execution`]), every lock operation, join and yield
//! updates a per-execution wait-for record (who holds and who waits for which lock), without
//! adding a scheduling point, so that a deadlock or a spinning thread is reported with its
//! actors and locks.
//!
//! Every lock acquisition is a scheduling point under loom and shuttle, except a merged one
//! ([`Mutex::lock_merged`]), which joins the caller's current step under loom. Models use these
//! types only for objects the kernel really contends on or accesses as a unit (a rwsem, a
//! folio lock, the xarray, the ILOCK-protected fork); plain per-actor data stays in ordinary
//! Rust values, because every checker object multiplies the search.

mod mutex;
mod rwlock;
mod thread;
pub mod waits;

pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use thread::{yield_now, JoinHandle, Spawner, TooManyThreads};

/// Which checker (or none) runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// tokio-rs/loom 0.7.3: bounded DPOR, at most [`LOOM_MAX_THREADS`] threads per execution.
    Loom,
    /// awslabs/shuttle 0.9.9: randomised and DFS schedulers, no thread limit.
    Shuttle,
    /// OS threads and `std::sync`: no control over the schedule.
    Std,
}

/// loom's hard limit on threads per execution, counting the main thread and threads that
/// have already been joined (`loom::MAX_THREADS`, rt/mod.rs in loom 0.7.3).
pub const LOOM_MAX_THREADS: usize = 5;

impl Backend {
    /// The most threads (main included) one execution may create, if the backend has a limit.
    pub fn max_threads(self) -> Option<usize> {
        match self {
            Backend::Loom => Some(LOOM_MAX_THREADS),
            Backend::Shuttle | Backend::Std => None,
        }
    }

    /// The backend's name as used on the command line and in replay tokens.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Loom => "loom",
            Backend::Shuttle => "shuttle",
            Backend::Std => "std",
        }
    }
}
