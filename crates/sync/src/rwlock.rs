//! A reader-writer lock whose backend is chosen at run time (a kernel rw_semaphore).

use crate::waits::{self, Kind, LockId, Mode, Tid};
use crate::Backend;
use std::ops::{Deref, DerefMut};

/// A reader-writer lock over loom, shuttle or std, standing for a kernel `rw_semaphore`
/// (`i_rwsem`/XFS_IOLOCK, `mapping->invalidate_lock`). Poisoning is collapsed as in [`crate::Mutex`].
#[derive(Debug)]
pub struct RwLock<T> {
    inner: Inner<T>,
    /// Identity in the wait-for record of the execution that created it.
    id: LockId,
}

#[derive(Debug)]
enum Inner<T> {
    Loom(loom::sync::RwLock<T>),
    Shuttle(shuttle::sync::RwLock<T>),
    Std(std::sync::RwLock<T>),
}

/// Shared guard of a [`RwLock`].
#[derive(Debug)]
pub struct RwLockReadGuard<'a, T> {
    inner: ReadInner<'a, T>,
    holder: Option<Tid>,
    id: LockId,
}

#[derive(Debug)]
enum ReadInner<'a, T> {
    Loom(loom::sync::RwLockReadGuard<'a, T>),
    Shuttle(shuttle::sync::RwLockReadGuard<'a, T>),
    Std(std::sync::RwLockReadGuard<'a, T>),
}

/// Exclusive guard of a [`RwLock`].
#[derive(Debug)]
pub struct RwLockWriteGuard<'a, T> {
    inner: WriteInner<'a, T>,
    holder: Option<Tid>,
    id: LockId,
}

#[derive(Debug)]
enum WriteInner<'a, T> {
    Loom(loom::sync::RwLockWriteGuard<'a, T>),
    Shuttle(shuttle::sync::RwLockWriteGuard<'a, T>),
    Std(std::sync::RwLockWriteGuard<'a, T>),
}

impl<T> RwLock<T> {
    /// A new unlocked lock for `backend`.
    pub fn new(backend: Backend, value: T) -> Self {
        Self::with_name(backend, None, value)
    }

    /// A new unlocked lock with a name for deadlock reports (e.g. `"i_rwsem"`); an unnamed one
    /// is reported as `rwlock #N`, N counting the execution's locks in creation order.
    pub fn named(backend: Backend, name: impl Into<String>, value: T) -> Self {
        Self::with_name(backend, Some(name.into()), value)
    }

    fn with_name(backend: Backend, name: Option<String>, value: T) -> Self {
        let inner = match backend {
            Backend::Loom => Inner::Loom(loom::sync::RwLock::new(value)),
            Backend::Shuttle => Inner::Shuttle(shuttle::sync::RwLock::new(value)),
            Backend::Std => Inner::Std(std::sync::RwLock::new(value)),
        };
        RwLock { inner, id: waits::new_lock(backend, Kind::RwLock, name) }
    }

    fn backend(&self) -> Backend {
        match self.inner {
            Inner::Loom(_) => Backend::Loom,
            Inner::Shuttle(_) => Backend::Shuttle,
            Inner::Std(_) => Backend::Std,
        }
    }

    /// Take the lock shared (`down_read`). A scheduling point under loom and shuttle.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        let holder = waits::me(self.backend());
        waits::wait(holder, self.id, Mode::Shared);
        let inner = match &self.inner {
            Inner::Loom(l) => ReadInner::Loom(l.read().unwrap_or_else(|e| e.into_inner())),
            Inner::Shuttle(l) => ReadInner::Shuttle(l.read().unwrap_or_else(|e| e.into_inner())),
            Inner::Std(l) => ReadInner::Std(l.read().unwrap_or_else(|e| e.into_inner())),
        };
        waits::acquired(holder, self.id, Mode::Shared);
        RwLockReadGuard { inner, holder, id: self.id }
    }

    /// Take the lock exclusive (`down_write`). A scheduling point under loom and shuttle.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        let holder = waits::me(self.backend());
        waits::wait(holder, self.id, Mode::Exclusive);
        let inner = match &self.inner {
            Inner::Loom(l) => WriteInner::Loom(l.write().unwrap_or_else(|e| e.into_inner())),
            Inner::Shuttle(l) => WriteInner::Shuttle(l.write().unwrap_or_else(|e| e.into_inner())),
            Inner::Std(l) => WriteInner::Std(l.write().unwrap_or_else(|e| e.into_inner())),
        };
        waits::acquired(holder, self.id, Mode::Exclusive);
        RwLockWriteGuard { inner, holder, id: self.id }
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        waits::released(self.holder, self.id);
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        waits::released(self.holder, self.id);
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.inner {
            ReadInner::Loom(g) => g,
            ReadInner::Shuttle(g) => g,
            ReadInner::Std(g) => g,
        }
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.inner {
            WriteInner::Loom(g) => g,
            WriteInner::Shuttle(g) => g,
            WriteInner::Std(g) => g,
        }
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.inner {
            WriteInner::Loom(g) => &mut *g,
            WriteInner::Shuttle(g) => &mut *g,
            WriteInner::Std(g) => &mut *g,
        }
    }
}
