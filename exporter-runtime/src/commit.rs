//! Committing a run's files as one set, across a crash.
//!
//! The staged files are renamed over their targets one after the other, and a crash (a kill
//! -9, a power loss, a failed rename) between two renames would leave a mixed set: a new table
//! beside an old summary describing other bytes. So, as SQLite does with its journal, the
//! commit first writes the list of its renames (and of the files it removes) to
//! `.exporter.journal` in the output directory, synced, and only then renames; the journal
//! goes once the last rename is done. Whoever next takes the directory's lock (the next run,
//! or `exporter check`) finds a journal left behind and rolls the commit forward: every
//! staging file still there is renamed over its target, every removal done. The set on disk
//! is then always one run's.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use exporter_core::PendingFile;
use exporter_core::{sync_dir, sync_file};
use serde::{Deserialize, Serialize};

use exporter_core::digest;

/// The journal's name in the output directory.
pub const JOURNAL_FILE: &str = ".exporter.journal";

/// A test-only hook: `EXPORTER_TEST_ABORT_AFTER_RENAMES=N` stops the process (as a kill -9
/// would, no clean-up) once the journal is written and `N` files are renamed, so tests can
/// interrupt a commit at every step.
const ABORT_HOOK: &str = "EXPORTER_TEST_ABORT_AFTER_RENAMES";

/// What a commit does, as its journal records it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    /// Staging file to target, with the SHA-256 the staging file must have.
    renames: Vec<Rename>,
    /// Files the commit removes (numbered parts an earlier run wrote beyond this one's).
    removals: Vec<PathBuf>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Rename {
    staging: PathBuf,
    target: PathBuf,
    sha256: String,
}

/// What rolling an interrupted commit forward did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Recovered {
    /// Staging files renamed over their targets now.
    pub renamed: usize,
    /// Renames the interrupted commit had done already.
    pub done_before: usize,
    /// Files removed now.
    pub removed: usize,
    /// Renames that could not be made (the staging file gone with its target, or its bytes
    /// not the journal's): what the set on disk lacks.
    pub missing: Vec<String>,
}

impl std::fmt::Display for Recovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rolled an interrupted commit forward: {} file(s) renamed now, {} renamed before, {} removed",
            self.renamed, self.done_before, self.removed
        )?;
        if !self.missing.is_empty() {
            write!(f, "; could not restore {}", self.missing.join(", "))?;
        }
        Ok(())
    }
}

/// Renames every pending file over its target and removes `removals`, as one set: the
/// journal first (synced when `sync`), then the renames and removals, then the journal goes.
pub(crate) fn commit_set(
    dir: &Path,
    files: Vec<PendingFile>,
    removals: Vec<PathBuf>,
    sync: bool,
) -> io::Result<()> {
    let journal = Journal {
        renames: files
            .iter()
            .map(|f| Rename {
                staging: f.staging_path().to_path_buf(),
                target: f.target().to_path_buf(),
                sha256: f.report("", String::new()).sha256().to_string(),
            })
            .collect(),
        removals,
    };
    let path = dir.join(JOURNAL_FILE);
    let text = serde_json::to_vec_pretty(&journal).map_err(io::Error::other)?;
    let partial = dir.join(format!("{JOURNAL_FILE}.{}", std::process::id()));
    let mut file = fs::File::create(&partial)?;
    file.write_all(&text)?;
    if sync {
        sync_file(&file, &partial)?;
    }
    drop(file);
    // whole or absent: a journal is only ever found complete
    fs::rename(&partial, &path)?;
    if sync {
        sync_dir(dir)?;
    }
    let abort_after: Option<usize> = std::env::var(ABORT_HOOK).ok().and_then(|n| n.parse().ok());
    let count = files.len();
    for (done, file) in files.into_iter().enumerate() {
        if abort_after == Some(done) {
            std::process::abort();
        }
        file.commit()?;
    }
    if abort_after == Some(count) {
        std::process::abort(); // every rename done, the removals and the journal's end not
    }
    for removed in &journal.removals {
        match fs::remove_file(removed) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => tracing::info!(path = %removed.display(), "removed a part of an earlier run"),
        }
    }
    if sync {
        sync_dir(dir)?;
    }
    fs::remove_file(&path)?;
    if sync {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Rolls forward a commit that a crash interrupted in `dir`, if its journal is there. Call it
/// holding the directory's lock, before anything else is written there.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert_eq!(exporter_runtime::recover(dir.path()).unwrap(), None);
/// ```
pub fn recover(dir: &Path) -> io::Result<Option<Recovered>> {
    let path = dir.join(JOURNAL_FILE);
    let text = match fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let journal: Journal = serde_json::from_slice(&text).map_err(|e| {
        io::Error::other(format!("{} is not a commit journal: {e}", path.display()))
    })?;
    let mut recovered = Recovered::default();
    for rename in &journal.renames {
        let staged = fs::File::open(&rename.staging).and_then(digest);
        match staged {
            Ok((_, sha)) if sha == rename.sha256 => {
                fs::rename(&rename.staging, &rename.target)?;
                recovered.renamed += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match fs::File::open(&rename.target).and_then(digest) {
                    Ok((_, sha)) if sha == rename.sha256 => recovered.done_before += 1,
                    _ => recovered.missing.push(rename.target.display().to_string()),
                }
            }
            _ => recovered.missing.push(rename.target.display().to_string()),
        }
    }
    for removal in &journal.removals {
        match fs::remove_file(removal) {
            Ok(()) => recovered.removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    sync_dir(dir)?;
    fs::remove_file(&path)?;
    sync_dir(dir)?;
    tracing::warn!("{}: {recovered}", dir.display());
    Ok(Some(recovered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use exporter_core::{Fsync, StagedFile};

    fn pending(dir: &Path, name: &str, text: &str) -> PendingFile {
        let mut f = StagedFile::create(&dir.join(name), Fsync::Never).unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.finish().unwrap()
    }

    #[test]
    fn a_commit_replaces_the_set_and_leaves_no_journal() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old a").unwrap();
        fs::write(dir.path().join("stale.txt"), "old part").unwrap();
        let files = vec![
            pending(dir.path(), "a.txt", "new a"),
            pending(dir.path(), "b.txt", "new b"),
        ];
        commit_set(dir.path(), files, vec![dir.path().join("stale.txt")], true).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "new a"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("b.txt")).unwrap(),
            "new b"
        );
        assert!(!dir.path().join("stale.txt").exists());
        assert!(!dir.path().join(JOURNAL_FILE).exists());
        assert_eq!(recover(dir.path()).unwrap(), None);
    }

    #[test]
    fn an_interrupted_commit_is_rolled_forward_from_any_step() {
        // the journal written, then k of the three renames done: what a crash leaves
        for k in 0..=3 {
            let dir = tempfile::tempdir().unwrap();
            for name in ["a", "b", "c"] {
                fs::write(dir.path().join(name), format!("old {name}")).unwrap();
            }
            let files: Vec<PendingFile> = ["a", "b", "c"]
                .iter()
                .map(|n| pending(dir.path(), n, &format!("new {n}")))
                .collect();
            let journal = Journal {
                renames: files
                    .iter()
                    .map(|f| Rename {
                        staging: f.staging_path().to_path_buf(),
                        target: f.target().to_path_buf(),
                        sha256: f.report("", String::new()).sha256().to_string(),
                    })
                    .collect(),
                removals: Vec::new(),
            };
            fs::write(
                dir.path().join(JOURNAL_FILE),
                serde_json::to_vec(&journal).unwrap(),
            )
            .unwrap();
            for (i, f) in files.into_iter().enumerate() {
                if i < k {
                    f.commit().unwrap();
                } else {
                    std::mem::forget(f); // the process died: its staging file stays
                }
            }
            let recovered = recover(dir.path()).unwrap().unwrap();
            assert_eq!((recovered.renamed, recovered.done_before), (3 - k, k));
            for name in ["a", "b", "c"] {
                assert_eq!(
                    fs::read_to_string(dir.path().join(name)).unwrap(),
                    format!("new {name}")
                );
            }
            assert!(!dir.path().join(JOURNAL_FILE).exists());
        }
    }
}
