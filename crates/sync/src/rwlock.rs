//! A reader-writer lock whose backend is chosen at run time (a kernel rw_semaphore).

use crate::Backend;
use std::ops::{Deref, DerefMut};

/// A reader-writer lock over loom, shuttle or std, standing for a kernel `rw_semaphore`
/// (`i_rwsem`/XFS_IOLOCK, `mapping->invalidate_lock`). Poisoning is collapsed as in [`crate::Mutex`].
#[derive(Debug)]
pub struct RwLock<T> {
    inner: Inner<T>,
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
        let inner = match backend {
            Backend::Loom => Inner::Loom(loom::sync::RwLock::new(value)),
            Backend::Shuttle => Inner::Shuttle(shuttle::sync::RwLock::new(value)),
            Backend::Std => Inner::Std(std::sync::RwLock::new(value)),
        };
        RwLock { inner }
    }

    /// Take the lock shared (`down_read`). A scheduling point under loom and shuttle.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        let inner = match &self.inner {
            Inner::Loom(l) => ReadInner::Loom(l.read().unwrap_or_else(|e| e.into_inner())),
            Inner::Shuttle(l) => ReadInner::Shuttle(l.read().unwrap_or_else(|e| e.into_inner())),
            Inner::Std(l) => ReadInner::Std(l.read().unwrap_or_else(|e| e.into_inner())),
        };
        RwLockReadGuard { inner }
    }

    /// Take the lock exclusive (`down_write`). A scheduling point under loom and shuttle.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        let inner = match &self.inner {
            Inner::Loom(l) => WriteInner::Loom(l.write().unwrap_or_else(|e| e.into_inner())),
            Inner::Shuttle(l) => WriteInner::Shuttle(l.write().unwrap_or_else(|e| e.into_inner())),
            Inner::Std(l) => WriteInner::Std(l.write().unwrap_or_else(|e| e.into_inner())),
        };
        RwLockWriteGuard { inner }
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
