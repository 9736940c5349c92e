//! Models shared by the explorer's tests.

use iomc_explore::Exec;
use iomc_sync::{Mutex, Spawner};
use std::sync::Arc;

/// Three threads "a", "b", "c" each append their letter to one string under one mutex; returns
/// the string once all have joined. Every one of the 3! orders is a distinct outcome.
pub fn append_abc(e: &Exec) -> String {
    let b = e.backend;
    let s = Arc::new(Mutex::new(b, String::new()));
    let sp = Spawner::new(b);
    let hs: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|l| {
            let s = s.clone();
            sp.spawn(l, move || s.lock().push_str(l)).unwrap()
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let last = s.lock().clone();
    last
}
