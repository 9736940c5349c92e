//! A found execution as Chrome trace-event JSON (`iomc replay TOKEN --chrome-trace FILE`), the
//! format that <https://ui.perfetto.dev> and `chrome://tracing` open.
//!
//! Time is the execution's global event order: the recorded event at index `i` is a slice
//! (`"ph":"X"`) at `ts = i` of duration 1 on its actor's track, named after its kernel
//! function, with what it did in `args`. Each actor is a track (`tid`) named by a
//! `thread_name` metadata event: `setup`, then the scenario's threads in order, then the
//! oracle's own flush after the threads joined. A lock or a folio lock held is a slice from
//! the event that took it to the one that dropped it (or to the end, `"held_to_end": true`), on the track of the actor that took it; holds that overlap without
//! nesting (a track's slices must nest) go to an extra track beside it, `<actor> locks <n>`.
//! The oracle's finding is a global instant event (`"ph":"i","s":"g"`) after the last event,
//! named by its verdict class.

use crate::oracle::Violation;
use crate::render::describe;
use crate::CheckResult;
use iomc_models::{Event, What};
use serde::Serialize;
use serde_json::{Map, Value};
use std::cmp::Reverse;

/// The process id every event carries (one execution, one process).
pub const PID: u64 = 1;

/// A trace file: `{"traceEvents": [...], "displayTimeUnit": "ns"}`.
#[derive(Clone, Debug, Serialize)]
pub struct Trace {
    /// The events, metadata first, then by time.
    #[serde(rename = "traceEvents")]
    pub trace_events: Vec<TraceEvent>,
    /// How viewers label time.
    #[serde(rename = "displayTimeUnit")]
    pub display_time_unit: &'static str,
}

/// One trace event.
#[derive(Clone, Debug, Serialize)]
pub struct TraceEvent {
    /// Slice, track or instant name.
    pub name: String,
    /// Category: `kernel`, `lock`, `oracle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cat: Option<&'static str>,
    /// Phase: `X` complete slice, `i` instant, `M` metadata.
    pub ph: &'static str,
    /// Process id.
    pub pid: u64,
    /// Track (thread) id.
    pub tid: u64,
    /// Start, in the execution's event order.
    pub ts: u64,
    /// Duration of an `X` slice (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dur: Option<u64>,
    /// Scope of an instant (`g`: global).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s: Option<&'static str>,
    /// Details.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
}

impl TraceEvent {
    fn meta(name: &str, tid: u64, key: &str, value: Value) -> TraceEvent {
        let mut args = Map::new();
        args.insert(key.into(), value);
        TraceEvent { name: name.into(), cat: None, ph: "M", pid: PID, tid, ts: 0, dur: None, s: None, args }
    }

    fn slice(name: String, cat: &'static str, tid: u64, ts: u64, dur: u64, args: Map<String, Value>) -> TraceEvent {
        TraceEvent { name, cat: Some(cat), ph: "X", pid: PID, tid, ts, dur: Some(dur.max(1)), s: None, args }
    }
}

impl Trace {
    /// The trace as JSON bytes.
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }
}

/// What an event takes or drops: the hold's key and its slice's name.
enum HoldStep {
    Take(String, String),
    Drop(String),
}

fn hold_step(w: &What) -> Option<HoldStep> {
    match *w {
        What::Lock { name, excl } => {
            Some(HoldStep::Take(name.into(), format!("{name} ({})", if excl { "excl" } else { "shared" })))
        }
        What::Unlock { name } => Some(HoldStep::Drop(name.into())),
        What::FolioLocked { pos } => Some(HoldStep::Take(format!("folio {pos}"), format!("folio lock {pos}"))),
        What::FolioUnlocked { pos } => Some(HoldStep::Drop(format!("folio {pos}"))),
        _ => None,
    }
}

fn is_lock_event(w: &What) -> bool {
    matches!(w, What::Lock { .. } | What::Unlock { .. } | What::FolioLocked { .. } | What::FolioUnlocked { .. })
}

/// A hold: on `track`, events `[start, end)`.
struct Hold {
    key: String,
    name: String,
    track: usize,
    start: u64,
    end: Option<u64>,
}

/// The holds in `events`, each on the track `track_of` gives its taking event. A drop closes
/// the latest open hold of its key on its own track, else on any track (a lock may be dropped
/// by another actor than the one that took it).
fn holds(events: &[Event], track_of: impl Fn(usize, &Event) -> usize) -> Vec<Hold> {
    let mut out: Vec<Hold> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let track = track_of(i, e);
        match hold_step(&e.what) {
            Some(HoldStep::Take(key, name)) => out.push(Hold { key, name, track, start: i as u64, end: None }),
            Some(HoldStep::Drop(key)) => {
                let open = |h: &Hold| h.end.is_none() && h.key == key;
                let pos = out.iter().rposition(|h| open(h) && h.track == track).or_else(|| out.iter().rposition(open));
                if let Some(p) = pos {
                    out[p].end = Some(i as u64 + 1);
                }
            }
            None => {}
        }
    }
    out
}

/// Lane of each hold of one track so that every lane's slices nest (holds sorted by start,
/// longest first). Lane 0 is the actor's own track: its unit event slices nest in any hold.
fn lanes(spans: &[(u64, u64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| (spans[i].0, Reverse(spans[i].1)));
    let mut stacks: Vec<Vec<u64>> = Vec::new();
    let mut lane = vec![0; spans.len()];
    for i in order {
        let (start, end) = spans[i];
        let fits = |stack: &mut Vec<u64>| {
            while stack.last().is_some_and(|&e| e <= start) {
                stack.pop();
            }
            stack.last().is_none_or(|&e| e >= end)
        };
        let l = match stacks.iter_mut().position(fits) {
            Some(l) => l,
            None => {
                stacks.push(Vec::new());
                stacks.len() - 1
            }
        };
        stacks[l].push(end);
        lane[i] = l;
    }
    lane
}

/// The trace of violation `v` in an execution whose actors are `names` (index 0 `setup`, then
/// the scenario's threads), titled `title`.
pub fn trace(v: &Violation, names: &[String], title: &str) -> Trace {
    let n = v.events.len() as u64;
    // Tracks: one per actor, then the oracle's flush; tid = track + 1.
    let mut track_names: Vec<String> = names.to_vec();
    let max_actor = v.events.iter().map(|e| usize::from(e.actor)).max().unwrap_or(0);
    while track_names.len() <= max_actor {
        track_names.push(format!("actor {}", track_names.len()));
    }
    let oracle = track_names.len();
    track_names.push("oracle (after the threads joined)".into());
    let track_of = |i: usize, e: &Event| if i >= v.events_before_check { oracle } else { usize::from(e.actor) };

    let mut meta = vec![TraceEvent::meta("process_name", 0, "name", Value::from(title))];
    let mut events = Vec::new();
    for (i, e) in v.events.iter().enumerate() {
        let mut args = Map::new();
        args.insert("what".into(), Value::from(describe(&e.what)));
        args.insert("step".into(), Value::from(i));
        let cat = if is_lock_event(&e.what) { "lock" } else { "kernel" };
        events.push(TraceEvent::slice(e.func.into(), cat, track_of(i, e) as u64 + 1, i as u64, 1, args));
    }

    let holds = holds(&v.events, track_of);
    let mut extra: Vec<(usize, usize)> = Vec::new(); // (track, lane) of each extra track, in tid order
    let first_extra = track_names.len() as u64 + 1;
    for (track, _) in track_names.iter().enumerate() {
        let mine: Vec<&Hold> = holds.iter().filter(|h| h.track == track).collect();
        let spans: Vec<(u64, u64)> = mine.iter().map(|h| (h.start, h.end.unwrap_or(n).max(h.start + 1))).collect();
        for (h, (&(start, end), lane)) in mine.iter().zip(spans.iter().zip(lanes(&spans))) {
            let tid = if lane == 0 {
                track as u64 + 1
            } else {
                let at = extra.iter().position(|&x| x == (track, lane)).unwrap_or_else(|| {
                    extra.push((track, lane));
                    extra.len() - 1
                });
                first_extra + at as u64
            };
            let mut args = Map::new();
            if h.end.is_none() {
                args.insert("held_to_end".into(), Value::from(true));
            }
            events.push(TraceEvent::slice(h.name.clone(), "lock", tid, start, end - start, args));
        }
    }

    // Track names, in the order the race diagram shows them; extra lock tracks beside their actor's.
    for (t, name) in track_names.iter().enumerate() {
        let tid = t as u64 + 1;
        meta.push(TraceEvent::meta("thread_name", tid, "name", Value::from(name.as_str())));
        meta.push(TraceEvent::meta("thread_sort_index", tid, "sort_index", Value::from(tid * 100)));
    }
    for (k, &(track, lane)) in extra.iter().enumerate() {
        let tid = first_extra + k as u64;
        let name = format!("{} locks {lane}", track_names[track]);
        meta.push(TraceEvent::meta("thread_name", tid, "name", Value::from(name)));
        let sort = (track as u64 + 1) * 100 + lane as u64;
        meta.push(TraceEvent::meta("thread_sort_index", tid, "sort_index", Value::from(sort)));
    }

    // Parents before children: by start, longest first.
    events.sort_by_key(|e| (e.ts, Reverse(e.dur)));
    let mut args = Map::new();
    args.insert("summary".into(), Value::from(v.summary.as_str()));
    args.insert("detail".into(), Value::from(v.detail.clone()));
    events.push(TraceEvent {
        name: v.verdict.to_string(),
        cat: Some("oracle"),
        ph: "i",
        pid: PID,
        tid: oracle as u64 + 1,
        ts: n,
        dur: None,
        s: Some("g"),
        args,
    });
    meta.extend(events);
    Trace { trace_events: meta, display_time_unit: "ns" }
}

/// The trace of a check's violation (None if it found none), titled with the scenario and preset.
pub fn of_result(r: &CheckResult) -> Option<Trace> {
    let f = r.report.found.as_ref()?;
    let p = &r.prepared;
    let sets = if p.overrides.is_empty() { String::new() } else { format!(" --set {}", p.overrides.join(",")) };
    let title = format!("iomc: {} [{}{sets}]", p.scenario.name, p.preset);
    Some(trace(&f.finding, &p.actor_names, &title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iomc_scenario::Verdict;

    fn ev(actor: u8, func: &'static str, what: What) -> Event {
        Event { actor, func, what }
    }

    #[test]
    fn overlapping_holds_get_lanes_that_nest() {
        // [0,10) and [2,5) nest; [3,12) overlaps both without nesting; [12,13) after all.
        assert_eq!(lanes(&[(0, 10), (2, 5), (3, 12), (12, 13)]), [0, 0, 1, 0]);
        assert_eq!(lanes(&[]), Vec::<usize>::new());
    }

    #[test]
    fn tracks_slices_holds_and_the_finding() {
        let events = vec![
            ev(0, "setup_write", What::Note("setup")),
            ev(1, "xfs_file_buffered_write", What::Lock { name: "IOLOCK", excl: true }),
            ev(2, "write_cache_pages", What::FolioLocked { pos: 0 }),
            ev(1, "iomap_write_begin", What::Zero { from: 0, to: 8 }),
            ev(1, "xfs_file_buffered_write", What::Lock { name: "MMAPLOCK", excl: false }),
            ev(1, "xfs_file_buffered_write", What::Unlock { name: "IOLOCK" }),
            ev(2, "folio_unlock", What::FolioUnlocked { pos: 0 }),
            ev(0, "oracle_flush", What::Note("flush")),
        ];
        let v = Violation {
            verdict: Verdict::ZeroedData,
            summary: "zeroes".into(),
            detail: vec!["more".into()],
            events,
            events_before_check: 7,
            ops: Vec::new(),
        };
        let names = vec!["setup".to_string(), "writer".into(), "flusher".into()];
        let t = trace(&v, &names, "t");
        let json: Value = serde_json::from_slice(&t.to_json().unwrap()).unwrap();
        let evs = json["traceEvents"].as_array().unwrap();
        let thread = |tid: u64| {
            evs.iter()
                .find(|e| e["ph"] == "M" && e["name"] == "thread_name" && e["tid"] == tid)
                .map(|e| e["args"]["name"].as_str().unwrap().to_string())
        };
        assert_eq!(thread(1).as_deref(), Some("setup"));
        assert_eq!(thread(2).as_deref(), Some("writer"));
        assert_eq!(thread(3).as_deref(), Some("flusher"));
        assert!(thread(4).unwrap().starts_with("oracle"));
        // IOLOCK [1,6) and MMAPLOCK [4,8) (never dropped) overlap on the writer: two lanes.
        assert_eq!(thread(5).as_deref(), Some("writer locks 1"));
        let slice = |name: &str| evs.iter().find(|e| e["ph"] == "X" && e["name"] == name).unwrap();
        assert_eq!((slice("IOLOCK (excl)")["ts"].as_u64(), slice("IOLOCK (excl)")["dur"].as_u64()), (Some(1), Some(5)));
        assert_eq!(slice("MMAPLOCK (shared)")["args"]["held_to_end"], true);
        assert_eq!(slice("MMAPLOCK (shared)")["tid"], 5);
        assert_eq!((slice("folio lock 0")["tid"].as_u64(), slice("folio lock 0")["dur"].as_u64()), (Some(3), Some(5)));
        assert_eq!(slice("oracle_flush")["tid"], 4);
        let last = evs.last().unwrap();
        assert_eq!(
            (last["ph"].as_str(), last["s"].as_str(), last["name"].as_str()),
            (Some("i"), Some("g"), Some("zeroed-data"))
        );
        assert_eq!(last["ts"], 8);
        assert_eq!(json["displayTimeUnit"], "ns");
        let mut ts = 0;
        for e in evs.iter().filter(|e| e["ph"] != "M") {
            let t = e["ts"].as_u64().unwrap();
            assert!(t >= ts);
            ts = t;
        }
    }
}
