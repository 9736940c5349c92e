//! The ops table of docs/scenario-format.md, generated from [`OPS`].

use super::OPS;
use std::fmt::Write;

/// The ops as a Markdown table (docs/scenario-format.md embeds it; a test keeps them equal).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| op | arguments | what it does | model (kernel path) | real kernel (`iomc conform`) | zoned |\n",
    );
    out.push_str("|---|---|---|---|---|---|\n");
    for s in OPS {
        let args: Vec<String> = s
            .args
            .iter()
            .map(|a| {
                let opt = if a.optional { " (optional)" } else { "" };
                format!("`{}`: {}{opt}", a.name, a.kind.describe())
            })
            .collect();
        let mut args = if args.is_empty() { "none".to_string() } else { args.join("; ") };
        if s.range_optional {
            args.push_str(" (both or neither: the whole file)");
        }
        let cell = |t: &str| t.replace('|', "\\|");
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | `{}` | {} | {} |",
            s.name,
            cell(&args),
            cell(s.summary),
            s.kernel,
            cell(s.real),
            if s.zoned { "yes" } else { "no" }
        );
    }
    out
}
