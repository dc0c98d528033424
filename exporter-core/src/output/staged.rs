//! Files written anew: a staging file beside the target, renamed over it only when complete.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use sha2::Digest;

use super::growing::{GrowingFile, Progress};
use super::spool::{HashingFile, Spool};
use super::{FileReport, Fsync, hex, sync_dir};
use crate::validate::Finding;

/// A validator reading a staged file as it is written: its place in the sink's `validate`
/// list, and the thread that returns its findings.
///
/// ```
/// use exporter_core::{Follower, Fsync, StagedFile};
/// let dir = tempfile::tempdir().unwrap();
/// let file = StagedFile::create(&dir.path().join("a.csv"), Fsync::Never).unwrap();
/// let followers: Vec<Follower> = file.finish().unwrap().take_followers();
/// assert!(followers.is_empty()); // no validator read this file as it was written
/// ```
pub type Follower = (usize, JoinHandle<Vec<Finding>>);

static STAGING_SEQ: AtomicU64 = AtomicU64::new(0);

/// A file being written to a staging name (`.NAME.PID-N.tmp`) in the target's directory.
///
/// Dropping it before [`StagedFile::finish`] and [`PendingFile::commit`] removes the staging
/// file, so an error path never leaves a partial file behind; a killed process leaves only the
/// hidden staging file, which the next run removes. The final name is never touched until
/// commit.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir().unwrap();
/// let target = dir.path().join("out.csv");
/// std::fs::write(&target, "previous").unwrap();
/// let mut f = exporter_core::StagedFile::create(&target, exporter_core::Fsync::Never).unwrap();
/// f.write_all(b"new").unwrap();
/// drop(f); // an error, say: the previous file is untouched and no staging file is left
/// assert_eq!(std::fs::read_to_string(&target).unwrap(), "previous");
/// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
/// ```
pub struct StagedFile {
    writer: Option<Spool>,
    target: PathBuf,
    staging: PathBuf,
    rows: u64,
    started: Instant,
    fsync: Fsync,
    /// How far the file is written, for readers of it as it grows ([`StagedFile::growing`]).
    progress: Arc<Progress>,
    followers: Vec<Follower>,
}

fn staging_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.")
}

/// Removes staging files of `target` left by processes that no longer run (a `kill -9`).
fn remove_stale_staging(target: &Path) {
    let (Some(dir), prefix) = (target.parent(), staging_prefix(target)) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(rest) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true // cannot tell: keep the file
    }
}

impl StagedFile {
    /// Creates the staging file for `target` (and the target's directory if missing).
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// assert_eq!(file.target(), target);
    /// assert!(!target.exists()); // the staging file is hidden beside it
    /// ```
    pub fn create(target: &Path, fsync: Fsync) -> io::Result<Self> {
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        remove_stale_staging(target);
        let staging = target.with_file_name(format!(
            "{}{}-{}.tmp",
            staging_prefix(target),
            std::process::id(),
            STAGING_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staging)?;
        let progress = Arc::new(Progress::default());
        Ok(StagedFile {
            writer: Some(Spool::new(HashingFile::new(file, progress.clone()))),
            target: target.to_path_buf(),
            staging,
            rows: 0,
            started: Instant::now(),
            fsync,
            progress,
            followers: Vec::new(),
        })
    }

    /// A reader of this file as it is written, for a validator to check it alongside the
    /// run; `name` is what its findings call the file. See [`GrowingFile`].
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut staged = exporter_core::StagedFile::create(&dir.path().join("a.txt"), exporter_core::Fsync::Never).unwrap();
    /// let mut growing = staged.growing("a.txt").unwrap();
    /// staged.write_all(b"abc").unwrap();
    /// let pending = staged.finish().unwrap();
    /// let mut text = String::new();
    /// growing.read_to_string(&mut text).unwrap();
    /// assert_eq!(text, "abc");
    /// # drop(pending);
    /// ```
    pub fn growing(&mut self, name: &str) -> io::Result<GrowingFile> {
        GrowingFile::open(&self.staging, name.to_string(), self.progress.clone())
    }

    /// Keeps a validator's thread with the file, to be joined when the file is checked.
    pub(crate) fn add_follower(&mut self, follower: Follower) {
        self.followers.push(follower);
    }

    /// Writes `value` as pretty-printed JSON with a final newline: how every JSON report is
    /// laid out (stable key order comes from the value).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut f = exporter_core::StagedFile::create(&dir.path().join("r.json"), exporter_core::Fsync::Never).unwrap();
    /// f.write_json(&serde_json::json!({"a": 1})).unwrap();
    /// let report = f.finish().unwrap().commit().unwrap();
    /// assert_eq!(std::fs::read_to_string(dir.path().join("r.json")).unwrap(), "{\n  \"a\": 1\n}\n");
    /// # let _ = report;
    /// ```
    pub fn write_json(&mut self, value: &impl serde::Serialize) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *self, value).map_err(io::Error::other)?;
        self.write_all(b"\n")
    }

    /// Counts `n` more data rows (the sink knows what a row is; headers are not rows).
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"id\n1\n2\n").unwrap();
    /// file.add_rows(2); // the header is not a row
    /// assert_eq!(file.rows(), 2);
    /// ```
    pub fn add_rows(&mut self, n: u64) {
        self.rows += n;
    }

    /// Data rows counted so far.
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// assert_eq!(file.rows(), 0);
    /// ```
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes written so far (including what is still buffered).
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"abc").unwrap();
    /// assert_eq!(file.bytes(), 3); // buffered or not
    /// ```
    pub fn bytes(&self) -> u64 {
        self.writer.as_ref().map_or(0, Spool::bytes)
    }

    /// The final path this file will be committed to.
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// assert_eq!(file.target(), target);
    /// ```
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes and (per [`Fsync`]) syncs the data; the file is then ready for validation.
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"id\n").unwrap();
    /// let pending = file.finish().unwrap();
    /// assert_eq!(std::fs::read(pending.staging_path()).unwrap(), b"id\n");
    /// ```
    pub fn finish(mut self) -> io::Result<PendingFile> {
        let writer = self.writer.take().expect("finish called once");
        let synced = writer.finish().and_then(|inner| {
            if self.fsync == Fsync::OnCommit {
                super::sync_file(&inner.file, &self.staging)?;
            }
            Ok(inner)
        });
        let inner = match synced {
            Ok(inner) => inner,
            Err(e) => {
                // the last bytes did not reach the disk (EFBIG, ENOSPC): the staging file goes,
                // and with it the space it took
                let _ = fs::remove_file(&self.staging);
                return Err(e);
            }
        };
        self.progress.complete(self.rows);
        let write_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        Ok(PendingFile {
            target: std::mem::take(&mut self.target),
            staging: Some(std::mem::take(&mut self.staging)),
            rows: self.rows,
            bytes: inner.bytes,
            sha256: hex(&inner.hasher.finalize()),
            write_ms,
            fsync: self.fsync,
            followers: std::mem::take(&mut self.followers),
        })
    }
}

impl std::fmt::Debug for StagedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedFile")
            .field("target", &self.target)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.as_mut().expect("not finished").write_all(buf)
    }
    /// Hands the buffered bytes on to be written (readers of the growing file see them
    /// once they are); errors of earlier writes surface here or at the next write.
    fn flush(&mut self) -> io::Result<()> {
        self.writer.as_mut().expect("not finished").hand_over()
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        self.progress.abandon(); // readers stop, unless the file was finished
        if self.writer.is_some() {
            self.writer = None; // close before removing
            let _ = fs::remove_file(&self.staging);
        }
    }
}

/// A complete, flushed staging file waiting for validation and commit. Dropping it removes
/// the staging file.
///
/// ```
/// use std::io::Write;
/// use exporter_core::{Fsync, StagedFile};
/// let dir = tempfile::tempdir().unwrap();
/// let target = dir.path().join("out.csv");
/// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
/// file.write_all(b"id\n1\n").unwrap();
/// file.add_rows(1);
/// let pending = file.finish().unwrap();
/// // validators read the staging file; nothing is at the final name yet
/// assert_eq!(std::fs::read(pending.staging_path()).unwrap(), b"id\n1\n");
/// assert!(!target.exists());
/// let report = pending.commit().unwrap();
/// assert_eq!((report.rows(), report.bytes()), (1, 5));
/// assert_eq!(std::fs::read_to_string(&target).unwrap(), "id\n1\n");
/// ```
pub struct PendingFile {
    target: PathBuf,
    staging: Option<PathBuf>,
    rows: u64,
    bytes: u64,
    sha256: String,
    write_ms: f64,
    fsync: Fsync,
    followers: Vec<Follower>,
}

impl std::fmt::Debug for PendingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingFile")
            .field("target", &self.target)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl PendingFile {
    /// The staging file holding the bytes (what validators read).
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"id\n1\n").unwrap();
    /// file.add_rows(1);
    /// let pending = file.finish().unwrap();
    /// assert!(pending.staging_path().exists() && pending.staging_path() != target);
    /// ```
    pub fn staging_path(&self) -> &Path {
        self.staging.as_deref().expect("pending")
    }

    /// The final path.
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"id\n1\n").unwrap();
    /// file.add_rows(1);
    /// let pending = file.finish().unwrap();
    /// assert_eq!(pending.target(), target);
    /// ```
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Data rows written.
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"id\n1\n").unwrap();
    /// file.add_rows(1);
    /// let pending = file.finish().unwrap();
    /// assert_eq!(pending.rows(), 1);
    /// ```
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The threads of validators that read the file as it was written.
    ///
    /// ```
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut pending = StagedFile::create(&dir.path().join("a.csv"), Fsync::Never).unwrap().finish().unwrap();
    /// assert!(pending.take_followers().is_empty()); // created outside `OutputFiles`: none
    /// ```
    pub fn take_followers(&mut self) -> Vec<Follower> {
        std::mem::take(&mut self.followers)
    }

    /// The report for this file, before commit (`validated` false, paths as given).
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"id\n1\n").unwrap();
    /// file.add_rows(1);
    /// let pending = file.finish().unwrap();
    /// let report = pending.report("results", "out.csv".into());
    /// assert_eq!((report.rows(), report.bytes(), report.validated()), (1, 5, false));
    /// ```
    pub fn report(&self, sink: &str, path: String) -> FileReport {
        FileReport::new(
            sink,
            path,
            self.rows,
            self.bytes,
            self.sha256.clone(),
            self.write_ms,
            false,
        )
    }

    /// Renames the staging file over the target atomically, then syncs the directory (per
    /// [`Fsync`]).
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"id\n1\n").unwrap();
    /// file.add_rows(1);
    /// let pending = file.finish().unwrap();
    /// pending.commit().unwrap();
    /// assert_eq!(std::fs::read_to_string(&target).unwrap(), "id\n1\n");
    /// ```
    pub fn commit(mut self) -> io::Result<FileReport> {
        let staging = self.staging.as_deref().expect("pending");
        fs::rename(staging, &self.target)?; // on failure, dropping removes the staging file
        self.staging = None;
        if self.fsync == Fsync::OnCommit
            && let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty())
        {
            sync_dir(dir)?;
        }
        let path = self.target.to_string_lossy().into_owned();
        Ok(self.report("", path))
    }

    /// Keeps the staging file as `TARGET.rejected` for inspection; the target is untouched.
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, StagedFile};
    /// let dir = tempfile::tempdir().unwrap();
    /// let target = dir.path().join("out.csv");
    /// let mut file = StagedFile::create(&target, Fsync::Never).unwrap();
    /// file.write_all(b"id\n1\n").unwrap();
    /// file.add_rows(1);
    /// let pending = file.finish().unwrap();
    /// let kept = pending.reject().unwrap();
    /// assert_eq!(kept, dir.path().join("out.csv.rejected"));
    /// assert!(!target.exists());
    /// ```
    pub fn reject(mut self) -> io::Result<PathBuf> {
        let staging = self.staging.take().expect("pending");
        let mut name = self.target.clone().into_os_string();
        name.push(".rejected");
        let rejected = PathBuf::from(name);
        fs::rename(&staging, &rejected)?;
        Ok(rejected)
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(staging) = &self.staging {
            let _ = fs::remove_file(staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_and_reports_hash() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/a.txt");
        let mut f = StagedFile::create(&target, Fsync::OnCommit).unwrap();
        f.write_all(b"abc").unwrap();
        f.add_rows(1);
        assert!(!target.exists());
        let pending = f.finish().unwrap();
        assert!(!target.exists());
        let report = pending.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"abc");
        assert_eq!(report.bytes, 3);
        assert_eq!(report.rows, 1);
        assert_eq!(
            report.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(fs::read_dir(target.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn reject_keeps_previous() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.txt");
        fs::write(&target, "old").unwrap();
        let mut f = StagedFile::create(&target, Fsync::Never).unwrap();
        f.write_all(b"bad").unwrap();
        let rejected = f.finish().unwrap().reject().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(fs::read(&rejected).unwrap(), b"bad");
        assert!(rejected.to_string_lossy().ends_with("a.txt.rejected"));
    }

    #[test]
    fn stale_staging_files_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.txt");
        let stale = dir.path().join(".a.txt.999999999-0.tmp");
        fs::write(&stale, "partial").unwrap();
        let f = StagedFile::create(&target, Fsync::Never).unwrap();
        assert!(!stale.exists());
        drop(f);
    }
}
