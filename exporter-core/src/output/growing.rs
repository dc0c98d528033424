//! Reading a staged file while its sink is still writing it, so a validator can check it
//! alongside the run instead of after it.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use crate::validate::FileUnderCheck;

/// How far a staged file has been written, shared by its writer and its readers.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    state: Mutex<State>,
    grown: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes in the file (written with `write`, not merely buffered).
    written: u64,
    end: End,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum End {
    #[default]
    Open,
    /// Flushed for good, with the data rows the sink counted.
    Complete { rows: u64 },
    /// Dropped unfinished (the run failed): the staging file is gone.
    Abandoned,
}

impl Progress {
    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
        self.grown.notify_all();
    }

    pub(crate) fn written(&self, bytes: u64) {
        self.update(|s| s.written = bytes);
    }

    pub(crate) fn complete(&self, rows: u64) {
        self.update(|s| s.end = End::Complete { rows });
    }

    pub(crate) fn abandon(&self) {
        self.update(|s| {
            if s.end == End::Open {
                s.end = End::Abandoned;
            }
        });
    }

    /// Bytes readable past `offset`, waiting while there are none and the file is open;
    /// 0 at the end of a complete (or abandoned) file.
    fn readable_past(&self, offset: u64) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if s.end == End::Abandoned {
                return 0;
            }
            if s.written > offset {
                return s.written - offset;
            }
            match s.end {
                End::Open => s = self.grown.wait(s).unwrap_or_else(|p| p.into_inner()),
                _ => return 0,
            }
        }
    }

    fn wait_end(&self) -> io::Result<()> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match s.end {
                End::Complete { .. } => return Ok(()),
                End::Abandoned => {
                    return Err(io::Error::other(
                        "the file was abandoned before it was complete",
                    ));
                }
                End::Open => s = self.grown.wait(s).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }

    fn rows(&self) -> Option<u64> {
        match self.state.lock().unwrap_or_else(|p| p.into_inner()).end {
            End::Complete { rows } => Some(rows),
            _ => None,
        }
    }
}

/// A staged file as its sink writes it: reading blocks until more bytes are written, and
/// reaches the end once the sink has finished the file, or given it up (a failed run: then
/// [`GrowingFile::under_check`] has no `rows`). Validators that
/// [follow writes](crate::Validator::follows_writes) get one, on a thread of their own.
///
/// ```
/// use std::io::{Read, Write};
/// use exporter_core::{Fsync, OutputFiles};
/// let dir = tempfile::tempdir().unwrap();
/// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
/// let mut staged = files.stage("a.txt").unwrap();
/// let mut growing = staged.growing("a.txt").unwrap();
/// let reader = std::thread::spawn(move || {
///     let mut text = String::new();
///     growing.read_to_string(&mut text).unwrap(); // ends when the file is finished
///     (text, growing.under_check().rows)
/// });
/// staged.write_all(b"one\n").unwrap();
/// staged.flush().unwrap();
/// staged.write_all(b"two\n").unwrap();
/// staged.add_rows(2);
/// let pending = staged.finish().unwrap();
/// assert_eq!(reader.join().unwrap(), ("one\ntwo\n".to_string(), Some(2)));
/// # drop(pending);
/// ```
#[derive(Debug)]
pub struct GrowingFile {
    file: File,
    offset: u64,
    progress: Arc<Progress>,
    path: PathBuf,
    name: String,
}

impl GrowingFile {
    pub(crate) fn open(path: &Path, name: String, progress: Arc<Progress>) -> io::Result<Self> {
        Ok(GrowingFile {
            file: File::open(path)?,
            offset: 0,
            progress,
            path: path.to_path_buf(),
            name,
        })
    }

    /// Waits until the sink has finished the file (or abandoned it: then an error).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut staged = exporter_core::StagedFile::create(&dir.path().join("a.txt"), exporter_core::Fsync::Never).unwrap();
    /// let growing = staged.growing("a.txt").unwrap();
    /// drop(staged); // the run failed
    /// assert!(growing.wait_until_complete().is_err());
    /// ```
    pub fn wait_until_complete(&self) -> io::Result<()> {
        self.progress.wait_end()
    }

    /// The file as [`crate::Validator::check`] sees it; `rows` is known once it is complete
    /// (and stays unknown if it was given up).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut staged = exporter_core::StagedFile::create(&dir.path().join("a.txt"), exporter_core::Fsync::Never).unwrap();
    /// let growing = staged.growing("a.txt").unwrap();
    /// assert_eq!((growing.under_check().name, growing.under_check().rows), ("a.txt", None));
    /// staged.add_rows(3);
    /// let pending = staged.finish().unwrap();
    /// assert_eq!(growing.under_check().rows, Some(3));
    /// # drop(pending);
    /// ```
    pub fn under_check(&self) -> FileUnderCheck<'_> {
        FileUnderCheck {
            path: &self.path,
            name: &self.name,
            rows: self.progress.rows(),
        }
    }
}

impl Read for GrowingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // only what `write` has returned for is read: every byte of it is in place
        let readable = self.progress.readable_past(self.offset);
        if readable == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(readable).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file is shorter than what was written to it",
            ));
        }
        self.offset += n as u64;
        Ok(n)
    }
}
