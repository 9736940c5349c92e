//! Scenario → TOML text (for scenarios written by `iomc fuzz`). The text parses back to the
//! same scenario (a round-trip test guards it).

use crate::Scenario;
use std::fmt::Write;

/// `s` as a double-quoted string literal that is valid both as a TOML basic string and as a
/// JSON string: `"` and `\` escaped, a newline as `\n`, every other control character as
/// `\uXXXX` (both formats read that escape the same way).
pub fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Scenario {
    /// The scenario as a scenario file, with `comment` lines (without `#`) at the top.
    pub fn to_toml(&self, comment: &[String]) -> String {
        let mut out = String::new();
        for c in comment {
            let _ = writeln!(out, "# {c}");
        }
        let _ = writeln!(out, "name = {}", quoted(&self.name));
        let _ = writeln!(out, "summary = {}", quoted(&self.summary));
        let _ = writeln!(out, "source = {}", quoted(&self.source));
        out.push_str("\nsetup = [\n");
        for op in &self.setup {
            let _ = writeln!(out, "  {},", op.kind.to_toml());
        }
        out.push_str("]\n\n[geometry]\n");
        let g = &self.geometry;
        let pages: Vec<String> = g.folio_pages.iter().map(|p| p.to_string()).collect();
        let _ = writeln!(
            out,
            "block_size = {}\npage_size = {}\nfolio_pages = [{}]",
            g.block_size,
            g.page_size,
            pages.join(", ")
        );
        if g.always_cow {
            out.push_str("always_cow = true\n");
        }
        if g.zoned {
            out.push_str("zoned = true\n");
        }
        for t in &self.threads {
            let _ = writeln!(out, "\n[[thread]]\nname = {}\nops = [", quoted(&t.name));
            for op in &t.ops {
                let _ = writeln!(out, "  {},", op.kind.to_toml());
            }
            out.push_str("]\n");
        }
        out.push_str("\n[expect]\n");
        for (preset, v, _) in &self.expect {
            let _ = writeln!(out, "{} = {}", quoted(preset), quoted(&v.to_string()));
        }
        let e = &self.explore;
        if e.preemption_bound.is_some() || e.iterations.is_some() {
            out.push_str("\n[explore]\n");
            if let Some(b) = e.preemption_bound {
                let _ = writeln!(out, "preemption_bound = {b}");
            }
            if let Some(i) = e.iterations {
                let _ = writeln!(out, "iterations = {i}");
            }
        }
        out
    }
}
