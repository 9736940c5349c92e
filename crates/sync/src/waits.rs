//! Who holds and who waits for which lock, recorded per execution so that a deadlock or a
//! runaway model can be reported with its actors and the locks they wait on.
//!
//! loom and shuttle run every model thread of an execution as a coroutine on the one OS thread
//! that called the checker, so the record is a plain thread-local of that OS thread: every model
//! thread of the execution writes to it, and the explorer reads it after the checker has
//! unwound (a deadlock or a step budget is reported by a panic out of the checker). Recording is
//! off unless the explorer turned it on with [`begin_execution`], and never on for
//! [`Backend::Std`], whose threads are real OS threads. iomc-explore searches with it off (a
//! lock operation then only checks a thread-local flag) and turns it on to replay a failing
//! execution, and in explicit replays.
//!
//! Recording adds no scheduling point and calls nothing in the checker that could: it asks the
//! checker which model thread is running (`loom::thread::current`, `shuttle::current::me`)
//! and appends to or removes from a few short vectors. A model with a handful of threads and
//! locks keeps every vector at a handful of entries.

use crate::Backend;
use std::cell::RefCell;
use std::fmt;

/// How a lock is held or wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A mutex, or a reader-writer lock taken for writing (`down_write`).
    Exclusive,
    /// A reader-writer lock taken for reading (`down_read`).
    Shared,
}

/// What kind of lock, for the default name of an unnamed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Mutex,
    RwLock,
}

/// A model thread of the current execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tid {
    Loom(loom::thread::ThreadId),
    Shuttle(shuttle::scheduler::TaskId),
}

/// The identity of one lock within the execution that created it (0: created while nothing
/// was recording).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LockId(u32);

/// What a blocked thread waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Lock(LockId, Mode),
    /// `join` of the thread with this name.
    Join(String),
}

#[derive(Debug, Default)]
struct Record {
    /// Lock names by `LockId - 1`.
    locks: Vec<String>,
    /// Thread names, registered the first time a thread touches a lock or yields.
    threads: Vec<(Tid, String)>,
    holds: Vec<(Tid, LockId, Mode)>,
    waits: Vec<(Tid, Target)>,
    /// `yield_now` calls per thread in this execution (a spin loop shows up here).
    yields: Vec<(Tid, u64)>,
}

thread_local! {
    static RECORD: RefCell<Option<Record>> = const { RefCell::new(None) };
}

/// Run `f` on the record if recording is on (and the record is not already borrowed).
fn with_record<R>(f: impl FnOnce(&mut Record) -> R) -> Option<R> {
    RECORD.try_with(|r| r.try_borrow_mut().ok().and_then(|mut r| r.as_mut().map(f))).ok().flatten()
}

fn recording() -> bool {
    RECORD.try_with(|r| r.try_borrow().map(|r| r.is_some()).unwrap_or(false)).unwrap_or(false)
}

/// Start recording a new execution on this OS thread, forgetting the previous one.
pub fn begin_execution() {
    let _ = RECORD.try_with(|r| {
        if let Ok(mut r) = r.try_borrow_mut() {
            *r = Some(Record::default());
        }
    });
}

/// Stop recording on this OS thread and return what the last execution left.
pub fn end_execution() -> Option<WaitFor> {
    let rec = RECORD.try_with(|r| r.try_borrow_mut().ok().and_then(|mut r| r.take())).ok().flatten();
    rec.map(|r| r.snapshot())
}

/// The state of the execution being recorded: who holds what and who waits for what.
pub fn snapshot() -> Option<WaitFor> {
    with_record(|r| r.snapshot())
}

/// The running model thread.
fn current(backend: Backend) -> Option<Tid> {
    match backend {
        Backend::Loom => Some(Tid::Loom(loom::thread::current().id())),
        Backend::Shuttle => Some(Tid::Shuttle(shuttle::current::me())),
        Backend::Std => None,
    }
}

/// The running model thread's name (`None` for the thread that runs the execution).
fn current_name(tid: Tid) -> Option<String> {
    match tid {
        Tid::Loom(_) => loom::thread::current().name().map(str::to_string),
        // shuttle names the thread that runs the execution "main-thread".
        Tid::Shuttle(_) => shuttle::thread::current().name().filter(|n| *n != "main-thread").map(str::to_string),
    }
}

/// The running model thread, registered in the record; `None` when not recording.
pub(crate) fn me(backend: Backend) -> Option<Tid> {
    // While unwinding, the checker may be tearing the execution down: ask it nothing.
    if backend == Backend::Std || std::thread::panicking() || !recording() {
        return None;
    }
    let tid = current(backend)?;
    let known = with_record(|r| r.threads.iter().any(|(t, _)| *t == tid))?;
    if !known {
        let name = current_name(tid).unwrap_or_else(|| "main".to_string());
        with_record(|r| r.threads.push((tid, name)));
    }
    Some(tid)
}

/// A new lock: its identity in this execution.
pub(crate) fn new_lock(backend: Backend, kind: Kind, name: Option<String>) -> LockId {
    if backend == Backend::Std {
        return LockId(0);
    }
    with_record(|r| {
        let id = u32::try_from(r.locks.len() + 1).unwrap_or(u32::MAX);
        let name = name.unwrap_or_else(|| match kind {
            Kind::Mutex => format!("mutex #{id}"),
            Kind::RwLock => format!("rwlock #{id}"),
        });
        r.locks.push(name);
        LockId(id)
    })
    .unwrap_or(LockId(0))
}

/// `tid` is about to block on `lock`.
pub(crate) fn wait(tid: Option<Tid>, lock: LockId, mode: Mode) {
    if let (Some(tid), true) = (tid, lock.0 != 0) {
        with_record(|r| r.waits.push((tid, Target::Lock(lock, mode))));
    }
}

/// `tid` got `lock` (after waiting for it, or by a successful try).
pub(crate) fn acquired(tid: Option<Tid>, lock: LockId, mode: Mode) {
    if let (Some(tid), true) = (tid, lock.0 != 0) {
        with_record(|r| {
            r.waits.retain(|(t, _)| *t != tid);
            r.holds.push((tid, lock, mode));
        });
    }
}

/// `tid` released `lock`. Skipped while unwinding: a deadlocked or runaway execution is being
/// torn down, and its last state is what the report shows.
pub(crate) fn released(tid: Option<Tid>, lock: LockId) {
    if std::thread::panicking() {
        return;
    }
    if let (Some(tid), true) = (tid, lock.0 != 0) {
        with_record(|r| {
            if let Some(i) = r.holds.iter().rposition(|(t, l, _)| *t == tid && *l == lock) {
                r.holds.remove(i);
            }
        });
    }
}

/// The running thread is about to join the thread named `name`.
pub(crate) fn wait_join(backend: Backend, name: Option<&str>) -> Option<Tid> {
    let tid = me(backend)?;
    let name = name.unwrap_or("an unnamed thread").to_string();
    with_record(|r| r.waits.push((tid, Target::Join(name))));
    Some(tid)
}

/// The join that `tid` was waiting for returned.
pub(crate) fn joined(tid: Option<Tid>) {
    if let Some(tid) = tid {
        with_record(|r| r.waits.retain(|(t, _)| *t != tid));
    }
}

/// The running thread yielded (`cond_resched`).
pub(crate) fn yielded(backend: Backend) {
    if let Some(tid) = me(backend) {
        with_record(|r| match r.yields.iter_mut().find(|(t, _)| *t == tid) {
            Some((_, n)) => *n += 1,
            None => r.yields.push((tid, 1)),
        });
    }
}

/// One model thread's part in a [`WaitFor`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadState {
    /// The thread's name (`"main"` for the thread that runs the execution).
    pub thread: String,
    /// Locks it holds, by name, with `(shared)` for a read-held rwlock.
    pub holds: Vec<String>,
    /// What it is blocked on: a lock (with its holders) or a join.
    pub waits_for: Option<String>,
    /// `yield_now` calls it made in this execution.
    pub yields: u64,
}

/// The lock state of one execution: who holds and who waits for which lock. Its `Display`
/// reads like "writer holds folio 0, waits for ilock (held by flusher); flusher holds ilock,
/// waits for folio 0 (held by writer)".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitFor {
    /// Every thread that touched a lock, joined or yielded, in order of first appearance.
    pub threads: Vec<ThreadState>,
}

impl WaitFor {
    /// True when no thread holds, waits for, or spun on anything.
    pub fn is_empty(&self) -> bool {
        self.threads.iter().all(|t| t.holds.is_empty() && t.waits_for.is_none() && t.yields == 0)
    }

    /// The threads that are blocked on something.
    pub fn blocked(&self) -> impl Iterator<Item = &ThreadState> {
        self.threads.iter().filter(|t| t.waits_for.is_some())
    }
}

impl fmt::Display for WaitFor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for t in &self.threads {
            let mut parts = Vec::new();
            if !t.holds.is_empty() {
                parts.push(format!("holds {}", t.holds.join(", ")));
            }
            if let Some(w) = &t.waits_for {
                parts.push(format!("waits for {w}"));
            }
            if t.yields > 0 {
                parts.push(format!("yielded {} times", t.yields));
            }
            if parts.is_empty() {
                continue;
            }
            write!(f, "{}{} {}", if first { "" } else { "; " }, t.thread, parts.join(", "))?;
            first = false;
        }
        if first {
            write!(f, "no thread holds or waits for a lock")?;
        }
        Ok(())
    }
}

impl Record {
    fn thread_name(&self, tid: Tid) -> String {
        self.threads.iter().find(|(t, _)| *t == tid).map_or_else(|| "a thread".to_string(), |(_, n)| n.clone())
    }

    fn lock_name(&self, id: LockId) -> String {
        let i = usize::try_from(id.0).unwrap_or(usize::MAX).wrapping_sub(1);
        self.locks.get(i).cloned().unwrap_or_else(|| format!("lock #{}", id.0))
    }

    fn held(&self, id: LockId, mode: Mode) -> String {
        let name = self.lock_name(id);
        match mode {
            Mode::Exclusive => name,
            Mode::Shared => format!("{name} (shared)"),
        }
    }

    fn snapshot(&self) -> WaitFor {
        let threads = self
            .threads
            .iter()
            .map(|&(tid, ref name)| {
                let holds = self.holds.iter().filter(|(t, _, _)| *t == tid).map(|&(_, l, m)| self.held(l, m)).collect();
                let waits_for = self.waits.iter().find(|(t, _)| *t == tid).map(|(_, target)| match target {
                    Target::Lock(l, m) => {
                        let holders: Vec<String> = self
                            .holds
                            .iter()
                            .filter(|(_, h, _)| h == l)
                            .map(|&(t, _, _)| self.thread_name(t))
                            .collect();
                        let how = if *m == Mode::Shared { " (shared)" } else { "" };
                        if holders.is_empty() {
                            format!("{}{how}", self.lock_name(*l))
                        } else {
                            format!("{}{how} (held by {})", self.lock_name(*l), holders.join(", "))
                        }
                    }
                    Target::Join(name) => format!("{name} to exit"),
                });
                let yields = self.yields.iter().find(|(t, _)| *t == tid).map_or(0, |&(_, n)| n);
                ThreadState { thread: name.clone(), holds, waits_for, yields }
            })
            .collect();
        WaitFor { threads }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_recorded_outside_an_execution_or_for_std() {
        assert_eq!(new_lock(Backend::Std, Kind::Mutex, None), LockId(0));
        assert!(snapshot().is_none());
        begin_execution();
        assert_eq!(new_lock(Backend::Std, Kind::Mutex, Some("x".into())), LockId(0));
        assert_eq!(me(Backend::Std), None);
        let w = end_execution().unwrap();
        assert!(w.is_empty());
        assert_eq!(w.to_string(), "no thread holds or waits for a lock");
        assert!(end_execution().is_none());
    }

    #[test]
    fn display_names_holders_and_waiters() {
        let w = WaitFor {
            threads: vec![
                ThreadState {
                    thread: "writer".into(),
                    holds: vec!["folio 0".into()],
                    waits_for: Some("ilock (held by flusher)".into()),
                    yields: 0,
                },
                ThreadState { thread: "idle".into(), ..ThreadState::default() },
                ThreadState { thread: "spinner".into(), yields: 7, ..ThreadState::default() },
            ],
        };
        assert_eq!(w.to_string(), "writer holds folio 0, waits for ilock (held by flusher); spinner yielded 7 times");
        assert_eq!(w.blocked().count(), 1);
    }
}
