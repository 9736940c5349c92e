//! Spawning and joining model threads (kernel actors), with loom's thread limit as an error.

use crate::waits;
use crate::Backend;
use std::cell::Cell;
use std::fmt;

/// Stack for each model thread. loom's default generator stack is 32 KiB and shuttle's is
/// 60 KiB; model frames are small (data lives on the heap) but 256 KiB leaves a wide margin.
const STACK_SIZE: usize = 256 * 1024;

/// Returned when an execution would create more threads than its backend allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyThreads {
    /// The backend that refused.
    pub backend: Backend,
    /// Threads the execution asked for, main included.
    pub wanted: usize,
    /// The backend's limit, main included.
    pub limit: usize,
}

impl fmt::Display for TooManyThreads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} allows at most {} threads per execution (main included), this needs {}; \
             use a shuttle strategy (--backend pct|random|dfs) or fewer threads",
            self.backend.name(),
            self.limit,
            self.wanted
        )
    }
}

impl std::error::Error for TooManyThreads {}

/// Spawns model threads for one execution and counts them against the backend's limit, so
/// that exceeding loom's limit is an error value instead of loom's bare assertion panic.
#[derive(Debug)]
pub struct Spawner {
    backend: Backend,
    /// Threads created so far in this execution, main included.
    threads: Cell<usize>,
}

/// Handle to a spawned model thread.
#[derive(Debug)]
pub enum JoinHandle<T> {
    /// loom thread.
    Loom(loom::thread::JoinHandle<T>),
    /// shuttle task.
    Shuttle(shuttle::thread::JoinHandle<T>),
    /// OS thread.
    Std(std::thread::JoinHandle<T>),
}

impl Spawner {
    /// A spawner for one execution; the calling thread counts as main.
    pub fn new(backend: Backend) -> Self {
        Spawner { backend, threads: Cell::new(1) }
    }

    /// Check ahead of time that `actors` threads plus main fit the backend's limit.
    pub fn check_fits(backend: Backend, actors: usize) -> Result<(), TooManyThreads> {
        match backend.max_threads() {
            Some(limit) if actors + 1 > limit => Err(TooManyThreads { backend, wanted: actors + 1, limit }),
            _ => Ok(()),
        }
    }

    /// Spawn a named model thread (a kernel actor such as "writer" or "kswapd").
    pub fn spawn<F, T>(&self, name: &str, f: F) -> Result<JoinHandle<T>, TooManyThreads>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let wanted = self.threads.get() + 1;
        if let Some(limit) = self.backend.max_threads() {
            if wanted > limit {
                return Err(TooManyThreads { backend: self.backend, wanted, limit });
            }
        }
        self.threads.set(wanted);
        let name = name.to_string();
        // Spawning only fails on OS resource exhaustion; that is not a model outcome.
        let handle = match self.backend {
            Backend::Loom => JoinHandle::Loom(
                loom::thread::Builder::new().name(name).stack_size(STACK_SIZE).spawn(f).expect("loom spawn"),
            ),
            Backend::Shuttle => JoinHandle::Shuttle(
                shuttle::thread::Builder::new().name(name).stack_size(STACK_SIZE).spawn(f).expect("shuttle spawn"),
            ),
            Backend::Std => JoinHandle::Std(
                std::thread::Builder::new().name(name).stack_size(STACK_SIZE).spawn(f).expect("os thread spawn"),
            ),
        };
        Ok(handle)
    }
}

impl<T> JoinHandle<T> {
    /// Wait for the thread; `Err` carries its panic payload.
    pub fn join(self) -> std::thread::Result<T> {
        let waiter = match &self {
            JoinHandle::Loom(h) => waits::wait_join(Backend::Loom, h.thread().name()),
            JoinHandle::Shuttle(h) => waits::wait_join(Backend::Shuttle, h.thread().name()),
            JoinHandle::Std(_) => None,
        };
        let r = match self {
            JoinHandle::Loom(h) => h.join(),
            JoinHandle::Shuttle(h) => h.join(),
            JoinHandle::Std(h) => h.join(),
        };
        waits::joined(waiter);
        r
    }
}

/// Offer the scheduler a switch (`cond_resched`).
pub fn yield_now(backend: Backend) {
    waits::yielded(backend);
    match backend {
        Backend::Loom => loom::thread::yield_now(),
        Backend::Shuttle => shuttle::thread::yield_now(),
        Backend::Std => std::thread::yield_now(),
    }
}
