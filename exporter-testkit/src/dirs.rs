//! What a run left in a folder: the files under it, and the entries new or written over since
//! an earlier look.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Files under `dir`, relative, recursively.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap_or(&p).to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The names in `dir` (not recursively), without `tempfile`'s `.tmp*` scratch entries, each
/// with its modification time when it is a regular file (so a file written over is seen).
pub(crate) fn entries(dir: &Path) -> BTreeMap<OsString, Option<SystemTime>> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with(".tmp"))
                .map(|e| {
                    let modified = e
                        .metadata()
                        .ok()
                        .filter(|m| m.is_file())
                        .and_then(|m| m.modified().ok());
                    (e.file_name(), modified)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The first entry of `now` that is new or was written over since `was`. In a directory other
/// processes share (`shared`: the system's temporary directory, where a CI job's own log may
/// grow meanwhile) only new entries count, and rustdoc's scratch folders are not counted.
pub(crate) fn first_change(
    was: &BTreeMap<OsString, Option<SystemTime>>,
    now: &BTreeMap<OsString, Option<SystemTime>>,
    shared: bool,
) -> Option<OsString> {
    now.iter()
        .find(|(name, modified)| match was.get(*name) {
            None => !(shared && name.to_string_lossy().starts_with("rustdoctest")),
            Some(before) => !shared && before != *modified,
        })
        .map(|(name, _)| name.clone())
}
