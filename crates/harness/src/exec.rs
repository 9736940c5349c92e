//! One execution: build the world, run setup, run the threads, join, ask the oracle.

use crate::oracle::{self, Violation};
use crate::Prepared;
use iomc_models::iomap::UserBuf;
use iomc_models::pagecache::{invalidate_mapping_pages, madvise_pageout_range};
use iomc_models::xfs;
use iomc_models::{Ctx, OpDesc, What, World};
use iomc_scenario::observe::OpResult;
use iomc_scenario::OpKind;
use iomc_sync::{Backend, Spawner};
use std::sync::Arc;

/// Per-actor state the scenario ops carry between them.
#[derive(Default)]
pub(crate) struct ActorState {
    /// `short_copy`: the next pwrite can read only this many bytes of its buffer.
    short_copy: Option<u64>,
    /// The actor's shared writable mapping of the file.
    vma: xfs::Vma,
}

/// Run one scenario op as its kernel entry point, recording it in the history, and return
/// what it returned to its caller: the value it records with `rec.respond` (0 for
/// `short_copy`, which only arms the next pwrite). With `KEEP` false (exploration) the
/// returned `data` is always empty, so nothing is allocated or copied; with `KEEP` true a
/// read's bytes are copied into it (they also go to the history).
pub(crate) fn run_op<const KEEP: bool>(cx: &Ctx<'_>, op: &OpKind, st: &mut ActorState) -> OpResult {
    let w = cx.w;
    let span = w.geo.span;
    let rec = &w.rec;
    match *op {
        OpKind::Pwrite { offset, length, fill } => {
            let faulting = st.short_copy.take();
            let readable = faulting.unwrap_or(length).min(length);
            let h = rec.invoke(cx.actor, OpDesc::Write { offset, length, fill });
            let buf = UserBuf { fill, length, readable };
            let (ret, ran_short) = if w.geo.zoned {
                xfs::xfs_file_buffered_write_zoned(cx, offset, buf)
            } else {
                (xfs::xfs_file_buffered_write(cx, offset, buf), false)
            };
            rec.respond(h, ret, Vec::new());
            if ret < length as i64 && faulting.is_none() && !ran_short {
                // Nothing here can make a write short (no fault on the buffer, no ENOSPC,
                // no signal; a zoned write whose reservation ran out is the kernel's own short
                // write, kernel.md §9.9): a short return is a model bug, e.g. a stale map
                // ending the write.
                cx.warn("short-write", format!("pwrite of {length} bytes at {offset} returned {ret}"));
            }
            OpResult { ret, data: Vec::new() }
        }
        OpKind::Read { offset, length, direct } => {
            let h = rec.invoke(cx.actor, OpDesc::Read { offset, length });
            let (data, ret) = if direct {
                match xfs::xfs_file_dio_read(cx, offset, length) {
                    Ok(d) => {
                        let n = d.len() as i64;
                        (d, n)
                    }
                    Err(e) => (Vec::new(), e),
                }
            } else {
                let d = xfs::xfs_file_buffered_read(cx, offset, length);
                let n = d.len() as i64;
                (d, n)
            };
            let kept = if KEEP { data.clone() } else { Vec::new() };
            if rec.is_on() {
                // Built only when recording: the runs allocate, and reads are on the hot path.
                let func = if direct { "xfs_file_dio_read" } else { "xfs_file_buffered_read" };
                cx.ev(func, What::Returned { offset, runs: iomc_models::events::byte_runs(offset, &data) });
            }
            rec.respond(h, ret, data);
            OpResult { ret, data: kept }
        }
        OpKind::Writeback { range, ref error } => {
            let (s, e) = range.map(|(o, l)| (o, o + l)).unwrap_or((0, span));
            let inject = error.as_deref().map(|name| match name {
                "EIO" => iomc_models::iomap::EIO,
                _ => iomc_models::iomap::ENOSPC,
            });
            let h = rec.invoke(cx.actor, OpDesc::Neutral("writeback"));
            let ret = xfs::xfs_vm_writepages(cx, s, e, inject).err().unwrap_or(0);
            rec.respond(h, ret, Vec::new());
            OpResult { ret, data: Vec::new() }
        }
        OpKind::Reclaim { range } => {
            let (s, e) = range.map(|(o, l)| (o, o + l)).unwrap_or((0, span));
            let h = rec.invoke(cx.actor, OpDesc::Neutral("reclaim"));
            madvise_pageout_range(cx, s, e);
            rec.respond(h, 0, Vec::new());
            OpResult::default()
        }
        OpKind::DioWrite { offset, length, fill } => {
            let h = rec.invoke(cx.actor, OpDesc::DirectWrite { offset, length, fill });
            let ret = match xfs::xfs_file_dio_write(cx, offset, length, fill) {
                xfs::DioWrite::Done(n) => n,
                // xfs_file_write_iter: -ENOTBLK falls back to a buffered write.
                xfs::DioWrite::FallBackToBuffered => {
                    xfs::xfs_file_buffered_write(cx, offset, UserBuf { fill, length, readable: length })
                }
            };
            rec.respond(h, ret, Vec::new());
            OpResult { ret, data: Vec::new() }
        }
        OpKind::Fallocate { offset, length, keep_size } => {
            let h = rec.invoke(cx.actor, OpDesc::Neutral("fallocate"));
            xfs::xfs_file_fallocate(cx, offset, length, keep_size);
            rec.respond(h, 0, Vec::new());
            OpResult::default()
        }
        OpKind::ZeroRange { offset, length } => {
            let h = rec.invoke(cx.actor, OpDesc::Zero { offset, length });
            xfs::xfs_file_zero_range(cx, offset, length);
            rec.respond(h, 0, Vec::new());
            OpResult::default()
        }
        OpKind::CloneRange { src, dst, length } => {
            let h = rec.invoke(cx.actor, OpDesc::Neutral("clone_range"));
            let ret = xfs::xfs_file_remap_range(cx, src, dst, length);
            rec.respond(h, ret, Vec::new());
            OpResult { ret, data: Vec::new() }
        }
        OpKind::Crash => {
            let h = rec.invoke(cx.actor, OpDesc::Neutral("crash"));
            xfs::power_fail(cx);
            rec.respond(h, 0, Vec::new());
            OpResult::default()
        }
        OpKind::PunchHole { offset, length } => {
            let h = rec.invoke(cx.actor, OpDesc::Zero { offset, length });
            xfs::xfs_free_file_space(cx, offset, length);
            rec.respond(h, 0, Vec::new());
            OpResult::default()
        }
        OpKind::Truncate { size } => {
            let h = rec.invoke(cx.actor, OpDesc::Zero { offset: size, length: span.saturating_sub(size) });
            xfs::xfs_setattr_size(cx, size);
            rec.respond(h, 0, Vec::new());
            OpResult::default()
        }
        OpKind::Fsync => {
            let h = rec.invoke(cx.actor, OpDesc::Neutral("fsync"));
            xfs::xfs_file_fsync(cx);
            rec.respond(h, 0, Vec::new());
            OpResult::default()
        }
        OpKind::DropCaches => {
            let h = rec.invoke(cx.actor, OpDesc::Neutral("drop_caches"));
            invalidate_mapping_pages(cx, 0, span);
            rec.respond(h, 0, Vec::new());
            OpResult::default()
        }
        OpKind::Errortag { ref name, value } => {
            let h = rec.invoke(cx.actor, OpDesc::Neutral("errortag"));
            let ret = xfs::xfs_errortag_set(cx, name, value).err().unwrap_or(0);
            if ret != 0 {
                let why = format!(
                    "xfs_errortag_set({name}) = -EINVAL: this kernel has no {name} error tag \
                     (removed in 6e8af15ccdc4, \"xfs: drop write error injection is unfixable, remove it\")"
                );
                cx.warn("unsupported", why);
            }
            rec.respond(h, ret, Vec::new());
            OpResult { ret, data: Vec::new() }
        }
        OpKind::ShortCopy { bytes } => {
            st.short_copy = Some(bytes);
            OpResult::default()
        }
        OpKind::MmapWrite { offset, length, fill } => {
            let h = rec.invoke(cx.actor, OpDesc::Store { offset, length, fill });
            let ret = xfs::xfs_mmap_store(cx, &mut st.vma, offset, length, fill);
            rec.respond(h, ret, Vec::new());
            OpResult { ret, data: Vec::new() }
        }
    }
}

/// Run the scenario once and return what the oracle saw, violation or not ([`oracle::observe`]).
pub fn execute_observed(p: &Prepared, backend: Backend) -> Violation {
    let (world, _) = run_scenario::<false>(p, backend);
    oracle::observe(&world, p)
}

/// Build a world for `backend`, run the scenario once, and check it.
pub fn execute(p: &Prepared, backend: Backend) -> Option<Violation> {
    let (world, _) = run_scenario::<false>(p, backend);
    if !p.instrument.oracle {
        return None;
    }
    oracle::check(&world, p)
}

/// Build a world for `backend`, run the setup ops on this thread (actor 0), run each scenario
/// thread as a model thread and join them; return the world (for the oracle) and, with `KEEP`,
/// per scenario thread what each of its ops returned ([`run_op`]). Without `KEEP` the result
/// list stays empty and allocates nothing (the exploration hot path). A thread that panicked
/// (a model bug, recorded as a `model-panic` warning) or could not be spawned gets an empty
/// result list.
pub(crate) fn run_scenario<const KEEP: bool>(p: &Prepared, backend: Backend) -> (Arc<World>, Vec<Vec<OpResult>>) {
    let world = Arc::new(World::with_recording(backend, p.geo.clone(), p.behaviour, p.instrument.record));
    if p.geo.zoned && !p.behaviour.zoned {
        let why = "zoned XFS (mkfs.xfs -r zoned=1) is not in this kernel: it came with 6.15".to_string();
        world.rec.warn(0, "unsupported", why);
        return (world, vec![Vec::new(); if KEEP { p.scenario.threads.len() } else { 0 }]);
    }
    {
        let cx = Ctx { w: &world, actor: 0 };
        let mut st = ActorState::default();
        for op in &p.scenario.setup {
            run_op::<false>(&cx, &op.kind, &mut st);
        }
    }
    let spawner = Spawner::new(backend);
    let mut handles = Vec::new();
    for (i, t) in p.scenario.threads.iter().enumerate() {
        let w = world.clone();
        let ops: Vec<OpKind> = t.ops.iter().map(|o| o.kind.clone()).collect();
        let actor = (i + 1) as u8;
        let spawned = spawner.spawn(&t.name, move || {
            if backend == Backend::Std {
                iomc_explore::quiet_this_thread();
            }
            let cx = Ctx { w: &w, actor };
            let mut st = ActorState::default();
            let mut results = Vec::new();
            for op in &ops {
                let r = run_op::<KEEP>(&cx, op, &mut st);
                if KEEP {
                    results.push(r);
                }
            }
            results
        });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                world.rec.warn(0, "harness", e.to_string());
                break;
            }
        }
    }
    let mut panicked = Vec::new();
    let mut results = Vec::new();
    for h in handles {
        match h.join() {
            Ok(r) if KEEP => results.push(r),
            Ok(_) => {}
            Err(p) => {
                panicked.push(iomc_explore::panic_message(&*p));
                if KEEP {
                    results.push(Vec::new());
                }
            }
        }
    }
    if KEEP {
        results.resize(p.scenario.threads.len(), Vec::new());
    }
    if let Some(msg) = panicked.first() {
        world.rec.warn(0, "model-panic", msg.clone());
    }
    (world, results)
}
