//! The machine the figures were taken on, and what this process has used (from `/proc`).

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the report says about the machine and the build.
#[derive(Clone, Debug)]
pub struct Machine {
    /// `nproc` (the CPUs this process may run on).
    pub nproc: String,
    /// `model name` from /proc/cpuinfo.
    pub cpu: String,
    /// MemTotal from /proc/meminfo.
    pub memory: String,
    /// /proc/sys/kernel/osrelease.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// loom and shuttle versions from Cargo.lock.
    pub checkers: String,
    /// Commit of the work tree, `+ local changes` when it is not clean.
    pub commit: String,
    /// UTC date and time of the run.
    pub date: String,
    /// Release or debug build of this binary.
    pub profile: &'static str,
}

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// `name version` for each of `names` in the Cargo.lock at `lock`.
fn locked_versions(lock: &Path, names: &[&str]) -> String {
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    let mut out = Vec::new();
    for name in names {
        let header = format!("name = \"{name}\"\n");
        let version = text.split("[[package]]\n").find_map(|pkg| {
            let rest = pkg.strip_prefix(&header)?;
            let line = rest.lines().next()?;
            Some(line.strip_prefix("version = ")?.trim_matches('"').to_string())
        });
        out.push(format!("{name} {}", version.unwrap_or_else(|| "?".into())));
    }
    out.join(", ")
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub fn now_utc() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", s / 3600, (s / 60) % 60)
}

/// Describe this machine; `root` is the workspace (for Cargo.lock and the commit).
pub fn describe(root: &Path) -> Machine {
    let cpuinfo = read("/proc/cpuinfo");
    let meminfo = read("/proc/meminfo");
    let nproc = run("nproc", &[])
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.to_string()))
        .unwrap_or_else(|| "?".into());
    let cpu = field(&cpuinfo, "model name").unwrap_or("?").to_string();
    let memory = field(&meminfo, "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0)))
        .unwrap_or_else(|| "?".into());
    let rustc = std::env::var("RUSTC").ok().unwrap_or_else(|| "rustc".into());
    let rustc = run(&rustc, &["--version"]).unwrap_or_else(|| "?".into());
    let dir = root.to_string_lossy().to_string();
    let commit = match run("git", &["-C", &dir, "rev-parse", "--short=12", "HEAD"]) {
        Some(c) => {
            let dirty = run("git", &["-C", &dir, "status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{c} + local changes")
            } else {
                c
            }
        }
        // A tree without git (e.g. a `git archive` export) can name its commit itself.
        None => std::env::var("IOMC_BENCH_COMMIT").unwrap_or_else(|_| "?".into()),
    };
    Machine {
        nproc,
        cpu,
        memory,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        rustc,
        checkers: locked_versions(&root.join("Cargo.lock"), &["loom", "shuttle"]),
        commit,
        date: now_utc(),
        profile: if cfg!(debug_assertions) { "debug (figures are not representative)" } else { "release" },
    }
}

/// Peak and current resident set size of this process, in KiB (VmHWM, VmRSS).
pub fn memory_kib() -> (u64, u64) {
    let status = read("/proc/self/status");
    let kib = |k| field(&status, k).and_then(|v| v.trim_end_matches("kB").trim().parse().ok()).unwrap_or(0);
    (kib("VmHWM"), kib("VmRSS"))
}

/// The 1, 5 and 15 minute load averages (/proc/loadavg).
pub fn loadavg() -> String {
    read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// CPU time of the whole machine and of this process, to tell how much else ran meanwhile.
#[derive(Clone, Copy, Debug)]
pub struct Busy {
    /// Non-idle CPU seconds of all CPUs since boot (/proc/stat).
    system: f64,
    /// CPU seconds of this process and its waited-for children.
    own: f64,
    /// When it was read.
    at: std::time::Instant,
}

impl Busy {
    /// Read /proc/stat and /proc/self/stat.
    pub fn now() -> Busy {
        let hz = clk_tck();
        let stat = read("/proc/stat");
        let cpu: Vec<f64> = stat
            .lines()
            .find(|l| l.starts_with("cpu "))
            .map(|l| l.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect())
            .unwrap_or_default();
        // user nice system idle iowait irq softirq steal (guest time is inside user). Niced
        // processes (nice time) are left out: they yield to the benchmark.
        let busy: f64 = [0, 2, 5, 6, 7].iter().filter_map(|&i| cpu.get(i)).sum();
        let own = read("/proc/self/stat");
        let rest = own.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<f64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0.0)).collect();
        let own: f64 = (11..=14).filter_map(|i| f.get(i)).sum();
        Busy { system: busy / hz, own: own / hz, at: std::time::Instant::now() }
    }

    /// Seconds since `earlier`.
    pub fn secs_since(&self, earlier: &Busy) -> f64 {
        self.at.duration_since(earlier.at).as_secs_f64()
    }

    /// Cores kept busy by other (not niced) processes since `earlier`, on average.
    pub fn others_since(&self, earlier: &Busy) -> f64 {
        let wall = self.at.duration_since(earlier.at).as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        (((self.system - earlier.system) - (self.own - earlier.own)) / wall).max(0.0)
    }
}

/// Clock ticks per second for /proc/<pid>/stat.
fn clk_tck() -> f64 {
    static HZ: OnceLock<f64> = OnceLock::new();
    *HZ.get_or_init(|| run("getconf", &["CLK_TCK"]).and_then(|s| s.parse().ok()).unwrap_or(100.0))
}

/// User and system CPU seconds used by this process so far (all threads).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cpu {
    /// User time, seconds.
    pub user: f64,
    /// System time, seconds.
    pub sys: f64,
}

impl Cpu {
    /// Read /proc/self/stat.
    pub fn now() -> Cpu {
        let stat = read("/proc/self/stat");
        // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let hz = clk_tck();
        Cpu { user: tick(11) / hz, sys: tick(12) / hz }
    }

    /// CPU used since `earlier`.
    pub fn since(self, earlier: Cpu) -> Cpu {
        Cpu { user: self.user - earlier.user, sys: self.sys - earlier.sys }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(civil(20_417), (2025, 11, 25));
    }
}
