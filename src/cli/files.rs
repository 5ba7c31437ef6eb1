//! Writing files without ever destroying one the user did not ask us to
//! replace: outputs that name an input are refused, and every write goes to
//! a temporary sibling that is renamed into place only once the whole run
//! has succeeded, so a run that ends without a decision leaves no file
//! claiming one.

use super::{plain_error, NoDecision};
use std::path::{Path, PathBuf};

/// What identifies a file whatever path reaches it: hard links, `..` and
/// symlinks all lead to the same device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity {
    device: u64,
    inode: u64,
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    Some(Identity {
        device: meta.dev(),
        inode: meta.ino(),
    })
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<Identity> {
    None
}

/// A file this run read, by canonical path and identity.
#[derive(Debug)]
pub struct Input {
    shown: String,
    canonical: PathBuf,
    identity: Option<Identity>,
}

/// The inputs among `paths` that are files on disk (standard input and
/// files that vanished since are skipped: nothing to protect).
pub fn inputs<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<Input> {
    paths
        .into_iter()
        .filter(|p| *p != "-" && *p != "<stdin>")
        .filter_map(|p| {
            let canonical = std::fs::canonicalize(p).ok()?;
            let identity = std::fs::metadata(&canonical)
                .ok()
                .and_then(|m| identity(&m));
            Some(Input {
                shown: p.to_string(),
                canonical,
                identity,
            })
        })
        .collect()
}

/// Where an output will be written, resolved before anything is.
#[derive(Debug)]
pub struct Target {
    /// As the user wrote it, for messages.
    pub shown: PathBuf,
    /// The real file: symlinks followed, so a symlinked output keeps its link.
    real: PathBuf,
    /// Devices and FIFOs (`/dev/stdout`, `>(...)`) are written in place:
    /// they cannot be renamed over.
    in_place: bool,
}

/// Resolves `path` as an output and refuses it when it would replace one of
/// `inputs` (directly, through `..`, a symlink or a hard link) or is a directory.
pub fn target(path: &Path, inputs: &[Input], flag: &str) -> Result<Target, NoDecision> {
    let shown = path.display();
    let refuse = |why: String| plain_error(format!("refusing `{flag}`: {why}"));
    let (real, in_place, identity) = match std::fs::symlink_metadata(path) {
        Ok(_) => {
            let meta = std::fs::metadata(path).map_err(|e| {
                refuse(format!(
                    "`{shown}` is a symlink to a file that cannot be reached ({e})"
                ))
            })?;
            if meta.is_dir() {
                return Err(plain_error(format!(
                    "cannot write `{shown}` (`{flag}`): it is a directory"
                )));
            }
            let real = std::fs::canonicalize(path)
                .map_err(|e| refuse(format!("cannot resolve `{shown}`: {e}")))?;
            (real, !meta.is_file(), identity(&meta))
        }
        Err(_) => {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let name = path
                .file_name()
                .ok_or_else(|| refuse(format!("`{shown}` does not name a file")))?;
            let dir = std::fs::canonicalize(parent).map_err(|e| {
                refuse(format!(
                    "the directory `{}` cannot be used ({e})",
                    parent.display()
                ))
            })?;
            (dir.join(name), false, None)
        }
    };
    for input in inputs {
        let same = input.canonical == real || (identity.is_some() && identity == input.identity);
        if same {
            return Err(refuse(format!(
                "`{shown}` is the input `{}`; writing the report there would destroy it",
                input.shown
            )));
        }
    }
    Ok(Target {
        shown: path.to_path_buf(),
        real,
        in_place,
    })
}

/// Refuses two targets that are the same file (the second would silently
/// replace the first).
pub fn distinct(targets: &[Target]) -> Result<(), NoDecision> {
    for (i, a) in targets.iter().enumerate() {
        if let Some(b) = targets
            .get(..i)
            .and_then(|before| before.iter().find(|b| b.real == a.real))
        {
            return Err(plain_error(format!(
                "`--output` names the same file twice (`{}` and `{}`)",
                b.shown.display(),
                a.shown.display()
            )));
        }
    }
    Ok(())
}

/// Text written to a temporary sibling of its target, put in place by
/// [`Staged::commit`]. Dropped uncommitted, it removes the temporary file.
pub struct Staged {
    temp: Option<PathBuf>,
    target: Target,
    text: String,
}

impl Staged {
    /// Writes `text` next to the target (for a device, nothing is written
    /// until the commit).
    pub fn new(target: Target, text: String) -> Result<Staged, NoDecision> {
        if target.in_place {
            return Ok(Staged {
                temp: None,
                target,
                text,
            });
        }
        let name = target
            .real
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = target
            .real
            .with_file_name(format!(".{name}.clearance-{}.tmp", std::process::id()));
        std::fs::write(&temp, &text).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            plain_error(format!("cannot write `{}`: {e}", target.shown.display()))
        })?;
        // A file that existed keeps its permissions.
        if let Ok(meta) = std::fs::metadata(&target.real) {
            let _ = std::fs::set_permissions(&temp, meta.permissions());
        }
        Ok(Staged {
            temp: Some(temp),
            target,
            text: String::new(),
        })
    }

    /// Puts the text in place: a rename, or a write for a device.
    pub fn commit(mut self) -> Result<(), NoDecision> {
        let shown = self.target.shown.display().to_string();
        match self.temp.take() {
            Some(temp) => std::fs::rename(&temp, &self.target.real).map_err(|e| {
                let _ = std::fs::remove_file(&temp);
                plain_error(format!("cannot write `{shown}`: {e}"))
            }),
            None => std::fs::write(&self.target.real, &self.text)
                .map_err(|e| plain_error(format!("cannot write `{shown}`: {e}"))),
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}
