//! A mutex whose backend is chosen at run time.

use crate::waits::{self, Kind, LockId, Mode, Tid};
use crate::Backend;
use std::ops::{Deref, DerefMut};

/// A mutual-exclusion lock over loom, shuttle or std. Poisoning is collapsed: a poisoned lock
/// means an earlier panic already failed the execution, so the guard is handed out anyway.
#[derive(Debug)]
pub struct Mutex<T> {
    inner: Inner<T>,
    /// Identity in the wait-for record of the execution that created it.
    id: LockId,
}

#[derive(Debug)]
enum Inner<T> {
    Loom(loom::sync::Mutex<T>),
    Shuttle(shuttle::sync::Mutex<T>),
    Std(std::sync::Mutex<T>),
}

/// The guard of a [`Mutex`]; the lock is released when it is dropped.
#[derive(Debug)]
pub struct MutexGuard<'a, T> {
    inner: GuardInner<'a, T>,
    /// Holder and lock, to take the hold out of the wait-for record on release.
    holder: Option<Tid>,
    id: LockId,
}

#[derive(Debug)]
enum GuardInner<'a, T> {
    Loom(loom::sync::MutexGuard<'a, T>),
    Shuttle(shuttle::sync::MutexGuard<'a, T>),
    Std(std::sync::MutexGuard<'a, T>),
}

impl<T> Mutex<T> {
    /// A new unlocked mutex for `backend`. Under loom and shuttle it must be created inside
    /// an execution.
    pub fn new(backend: Backend, value: T) -> Self {
        Self::with_name(backend, None, value)
    }

    /// A new unlocked mutex with a name for deadlock reports (e.g. `"folio 8192"`); an unnamed
    /// one is reported as `mutex #N`, N counting the execution's locks in creation order.
    pub fn named(backend: Backend, name: impl Into<String>, value: T) -> Self {
        Self::with_name(backend, Some(name.into()), value)
    }

    fn with_name(backend: Backend, name: Option<String>, value: T) -> Self {
        let inner = match backend {
            Backend::Loom => Inner::Loom(loom::sync::Mutex::new(value)),
            Backend::Shuttle => Inner::Shuttle(shuttle::sync::Mutex::new(value)),
            Backend::Std => Inner::Std(std::sync::Mutex::new(value)),
        };
        Mutex { inner, id: waits::new_lock(backend, Kind::Mutex, name) }
    }

    fn backend(&self) -> Backend {
        match self.inner {
            Inner::Loom(_) => Backend::Loom,
            Inner::Shuttle(_) => Backend::Shuttle,
            Inner::Std(_) => Backend::Std,
        }
    }

    /// Block until the lock is held. A scheduling point under loom and shuttle.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let holder = waits::me(self.backend());
        waits::wait(holder, self.id, Mode::Exclusive);
        let inner = match &self.inner {
            Inner::Loom(m) => GuardInner::Loom(m.lock().unwrap_or_else(|e| e.into_inner())),
            Inner::Shuttle(m) => GuardInner::Shuttle(m.lock().unwrap_or_else(|e| e.into_inner())),
            Inner::Std(m) => GuardInner::Std(m.lock().unwrap_or_else(|e| e.into_inner())),
        };
        waits::acquired(holder, self.id, Mode::Exclusive);
        MutexGuard { inner, holder, id: self.id }
    }

    /// Take the lock as part of the caller's current step: under loom the acquisition is not
    /// a preemption point (`loom::stop_exploring` around a `try_lock`, then
    /// `loom::explore`), so loom never switches threads just before it; the access is still
    /// recorded, and a later dependent access of another thread backtracks to the caller's
    /// previous scheduling point, the start of the step this access now belongs to. If the
    /// lock is held (someone holds it across a scheduling point), this is [`Mutex::lock`].
    /// Under shuttle and std it is [`Mutex::lock`].
    ///
    /// Sound only where no other actor's operation between the caller's previous scheduling
    /// point and this one can make a difference (the caller's comment says why): right after
    /// acquiring another lock (an acquisition is a right mover: Lipton's reduction, it
    /// commutes with every operation of another thread on other objects), or where the kernel
    /// performs both under one lock.
    pub fn lock_merged(&self) -> MutexGuard<'_, T> {
        if self.backend() != Backend::Loom {
            return self.lock();
        }
        loom::stop_exploring();
        let got = self.try_lock();
        loom::explore();
        match got {
            Some(g) => g,
            None => self.lock(),
        }
    }

    /// [`Mutex::lock_merged`] when `merged`, else [`Mutex::lock`]: for a site whose step joins
    /// the one before only on some paths (the caller says which and why).
    pub fn lock_merged_if(&self, merged: bool) -> MutexGuard<'_, T> {
        if merged {
            self.lock_merged()
        } else {
            self.lock()
        }
    }

    /// [`Mutex::try_lock`] as part of the caller's current step (no preemption point before
    /// it under loom, as [`Mutex::lock_merged`], with the same condition on the caller).
    pub fn try_lock_merged(&self) -> Option<MutexGuard<'_, T>> {
        if self.backend() != Backend::Loom {
            return self.try_lock();
        }
        loom::stop_exploring();
        let got = self.try_lock();
        loom::explore();
        got
    }

    /// Take the lock if it is free (like `folio_trylock`). A scheduling point too.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        use std::sync::TryLockError as E;
        macro_rules! attempt {
            ($m:expr, $v:ident) => {
                match $m.try_lock() {
                    Ok(g) => Some(GuardInner::$v(g)),
                    Err(E::Poisoned(p)) => Some(GuardInner::$v(p.into_inner())),
                    Err(E::WouldBlock) => None,
                }
            };
        }
        let inner = match &self.inner {
            Inner::Loom(m) => attempt!(m, Loom),
            Inner::Shuttle(m) => attempt!(m, Shuttle),
            Inner::Std(m) => attempt!(m, Std),
        };
        let holder = inner.as_ref().and_then(|_| waits::me(self.backend()));
        waits::acquired(holder, self.id, Mode::Exclusive);
        inner.map(|inner| MutexGuard { inner, holder, id: self.id })
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        waits::released(self.holder, self.id);
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.inner {
            GuardInner::Loom(g) => g,
            GuardInner::Shuttle(g) => g,
            GuardInner::Std(g) => g,
        }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.inner {
            GuardInner::Loom(g) => &mut *g,
            GuardInner::Shuttle(g) => &mut *g,
            GuardInner::Std(g) => &mut *g,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex as StdMutex};

    /// Thread A takes lock `a` and then `m` (merged or not) and writes 1; thread B reads `m`.
    /// Returns what B read over every execution and how many executions loom ran.
    fn explore(merged: bool) -> (BTreeSet<u32>, usize) {
        let seen = Arc::new(StdMutex::new((BTreeSet::new(), 0usize)));
        let s = seen.clone();
        loom::model(move || {
            let a = Arc::new(Mutex::new(Backend::Loom, ()));
            let m = Arc::new(Mutex::new(Backend::Loom, 0u32));
            let (a2, m2) = (a.clone(), m.clone());
            let t = loom::thread::spawn(move || {
                let _g = a2.lock();
                let mut v = m2.lock_merged_if(merged);
                *v = 1;
            });
            let read = *m.lock();
            t.join().unwrap();
            let mut g = s.lock().unwrap();
            g.0.insert(read);
            g.1 += 1;
        });
        let g = seen.lock().unwrap();
        (g.0.clone(), g.1)
    }

    /// A merged acquisition is no preemption point, yet DPOR still orders the access it guards
    /// both ways against another thread's: both values are read, in no more executions.
    #[test]
    fn a_merged_acquisition_keeps_both_orders() {
        let (plain, n_plain) = explore(false);
        let (merged, n_merged) = explore(true);
        assert_eq!(plain, BTreeSet::from([0, 1]));
        assert_eq!(merged, plain);
        assert!(n_merged <= n_plain, "{n_merged} vs {n_plain}");
    }
}
