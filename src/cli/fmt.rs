//! `clearance fmt`: rewrite policies in the canonical layout.

use super::{files, plain_error, style, ColorChoice, NoDecision};
use crate::report;
use crate::syntax::SourceMap;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Policy files or directories (walked for `*.clr`); default `.`.
    pub paths: Vec<PathBuf>,
    /// Change nothing: print a unified diff of what would change and exit 1 if anything would.
    #[arg(long)]
    pub check: bool,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// Replaces the policy at `path` with `text`: through a symlink to the file
/// it names (the link stays a link), by a temporary sibling and a rename (a
/// crash never leaves half a policy), and never over a read-only file (its
/// owner said not to change it).
fn rewrite(path: &Path, text: String) -> Result<(), NoDecision> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).map_err(|e| plain_error(format!("cannot write `{shown}`: {e}")))?;
    if meta.permissions().readonly() {
        return Err(plain_error(format!(
            "`{shown}` is read-only; not formatting it (make it writable, or use `clearance fmt --check`)"
        )));
    }
    let target = files::target(path, &[], "fmt")?;
    files::Staged::new(target, text)?.commit()
}

pub fn run(args: FmtArgs, limits: &crate::limits::Limits) -> Result<u8, NoDecision> {
    let style = style(args.color);
    let files = super::policy_files(&args.paths)?;
    let mut changed = 0usize;
    let mut errors = String::new();
    for f in &files {
        let shown = f.display().to_string();
        let text = match crate::load::read_policy(f, &shown, limits) {
            Ok(text) => text,
            Err(e) => {
                errors.push_str(&report::render_diagnostic(
                    e,
                    None,
                    &SourceMap::default(),
                    style,
                ));
                continue;
            }
        };
        let formatted = match crate::fmt::format_source_with(&text, limits.expr_depth) {
            Ok(t) => t,
            Err(e) => {
                let mut sources = SourceMap::default();
                sources.add(f.display().to_string(), text.as_str());
                let span = e.span();
                errors.push_str(&report::render_diagnostic(e, Some(span), &sources, style));
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        if args.check {
            let name = f.display().to_string();
            super::emit(&crate::fmt::unified_diff(&text, &formatted, &name))?;
        } else {
            match rewrite(f, formatted) {
                Ok(()) => eprintln!("formatted {}", f.display()),
                Err(NoDecision(message)) => errors.push_str(&message),
            }
        }
    }
    if !errors.is_empty() {
        return Err(NoDecision(errors));
    }
    if args.check && changed > 0 {
        eprintln!(
            "{changed} file{} would be reformatted; run `clearance fmt` to apply",
            if changed == 1 { "" } else { "s" }
        );
        return Ok(1);
    }
    Ok(0)
}
