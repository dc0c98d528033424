//! Files appended to across runs, by many threads and processes at once.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{FileReport, Fsync, sync_dir};

/// A file opened in append mode. Each [`AppendFile::append`] writes one whole batch under an
/// exclusive advisory lock with a single `write_all` on an `O_APPEND` descriptor, so batches
/// from several processes never interleave; a sink that serializes its own threads (it gets
/// `&mut self`) therefore never tears a row.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("log.csv");
/// let mut log = exporter_core::AppendFile::open(&path, exporter_core::Fsync::Never).unwrap();
/// log.locked(|file| { if file.metadata()?.len() == 0 { log_header(file)?; } Ok(()) }).unwrap();
/// log.append(b"1,a\n", 1).unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "n,v\n1,a\n");
/// # fn log_header(f: &mut std::fs::File) -> std::io::Result<()> { use std::io::Write; f.write_all(b"n,v\n") }
/// ```
pub struct AppendFile {
    file: File,
    path: PathBuf,
    /// The name its report carries: relative to the output directory when opened through
    /// [`OutputFiles::append`](super::OutputFiles::append).
    shown: String,
    rows: u64,
    started: Instant,
    fsync: Fsync,
}

impl AppendFile {
    /// Opens (creating if missing) `path` for appending.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let log = AppendFile::open(&dir.path().join("logs/error_log.csv"), Fsync::Never).unwrap();
    /// assert!(log.path().exists()); // created, with its folder
    /// ```
    pub fn open(path: &Path, fsync: Fsync) -> io::Result<Self> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)?;
        }
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        if !existed
            && fsync == Fsync::OnCommit
            && let Some(dir) = dir
        {
            sync_dir(dir)?;
        }
        Ok(AppendFile {
            file,
            path: path.to_path_buf(),
            shown: path.to_string_lossy().into_owned(),
            rows: 0,
            started: Instant::now(),
            fsync,
        })
    }

    /// The file's path.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("log.csv");
    /// assert_eq!(AppendFile::open(&path, Fsync::Never).unwrap().path(), path);
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the file under the exclusive lock: to check or write a header, or to
    /// repair a torn last line, without racing other writers. Writes go to the end.
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// // the header only if the file is empty, decided under the lock
    /// log.locked(|f| if f.metadata()?.len() == 0 { f.write_all(b"n\n") } else { Ok(()) }).unwrap();
    /// assert_eq!(std::fs::read(log.path()).unwrap(), b"n\n");
    /// ```
    pub fn locked<T>(&mut self, f: impl FnOnce(&mut File) -> io::Result<T>) -> io::Result<T> {
        lock(&mut self.file, f)
    }

    /// Appends `batch` (whole rows only) and counts `rows`, under the lock; fsyncs after the
    /// batch when the sink's [`Fsync`] is `on_commit`.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"1\n2\n", 2).unwrap();
    /// assert_eq!(log.rows(), 2);
    /// ```
    pub fn append(&mut self, batch: &[u8], rows: u64) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let fsync = self.fsync;
        let path = &self.path;
        lock(&mut self.file, |file| {
            // under the lock no other writer appends: what this write leaves of a batch that
            // failed part-way (EFBIG, ENOSPC) is cut away again, so no torn row stays behind
            let before = file.metadata()?.len();
            if let Err(e) = file.write_all(batch) {
                let _ = file.set_len(before);
                return Err(e);
            }
            if fsync == Fsync::OnCommit {
                super::sync_file(file, path)?;
            }
            Ok(())
        })?;
        self.rows += rows;
        Ok(())
    }

    /// Names the file `shown` in its report.
    pub(crate) fn shown_as(mut self, shown: String) -> Self {
        self.shown = shown;
        self
    }

    /// Rows appended through this handle.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("log.csv");
    /// std::fs::write(&path, "earlier\n").unwrap();
    /// let mut log = AppendFile::open(&path, Fsync::Never).unwrap();
    /// log.append(b"now\n", 1).unwrap();
    /// assert_eq!(log.rows(), 1); // this handle's rows, not the file's
    /// ```
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Reports the file: rows appended by this run, and the size and SHA-256 of the whole file
    /// as it is now (read under the lock, so no half-written batch of another writer is seen).
    /// The report names the file where it was opened: a sink cannot pass another file off as
    /// this one.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("log.csv");
    /// std::fs::write(&path, "earlier\n").unwrap();
    /// let mut log = AppendFile::open(&path, Fsync::Never).unwrap();
    /// log.append(b"now\n", 1).unwrap();
    /// let report = log.finish().unwrap();
    /// assert_eq!((report.rows(), report.bytes(), report.appended()), (1, 12, true));
    /// ```
    pub fn finish(mut self) -> io::Result<FileReport> {
        let write_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let (bytes, sha256) = self.locked(|file| {
            file.seek(SeekFrom::Start(0))?;
            super::digest(&mut *file)
        })?;
        Ok(FileReport::new(
            "", self.shown, self.rows, bytes, sha256, write_ms, true,
        ))
    }
}

/// Runs `f` with `file` under its exclusive lock.
fn lock<T>(file: &mut File, f: impl FnOnce(&mut File) -> io::Result<T>) -> io::Result<T> {
    file.lock()?;
    let result = f(file);
    let unlocked = file.unlock();
    let value = result?;
    unlocked?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_from_threads_never_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        std::thread::scope(|s| {
            for t in 0..4 {
                let path = path.clone();
                s.spawn(move || {
                    let mut f = AppendFile::open(&path, Fsync::Never).unwrap();
                    for i in 0..500 {
                        let line = format!("{t}:{i}:{}\n", "x".repeat(1000 + i));
                        f.append(line.as_bytes(), 1).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2000);
        for l in lines {
            let mut parts = l.split(':');
            let (_, i, xs) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
            assert_eq!(xs.len(), 1000 + i.parse::<usize>().unwrap());
        }
    }
}
