//! `clearance fmt`: rewrite policies in the canonical layout.

use super::{plain_error, style, ColorChoice, NoDecision};
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

/// Writes `text` to `path` atomically: a sibling temporary file, then a rename.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.clearance-fmt.tmp"));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

pub fn run(args: FmtArgs) -> Result<u8, NoDecision> {
    let style = style(args.color);
    let files = super::policy_files(&args.paths)?;
    let mut changed = 0usize;
    let mut errors = String::new();
    for f in &files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| plain_error(format!("cannot read `{}`: {e}", f.display())))?;
        let formatted = match crate::fmt::format_source(&text) {
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
            let diff = similar::TextDiff::from_lines(&text, &formatted);
            super::emit(&format!(
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&name, &format!("{name} (formatted)"))
            ))?;
        } else {
            write_atomically(f, &formatted)
                .map_err(|e| plain_error(format!("cannot write `{}`: {e}", f.display())))?;
            eprintln!("formatted {}", f.display());
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
