//! The way bytes reach a staging file: gathered into large buffers, then hashed and written.
//! Once a file outgrows one buffer, a writer thread of its own does the hashing and the
//! `write` calls, so they overlap the sink's work instead of adding to it.

use std::fs::File;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use super::growing::Progress;

/// Bytes per buffer handed over.
const BUFFER: usize = 256 * 1024;
/// Full buffers waiting for the writer thread (memory stays under `(QUEUED + 2) * BUFFER`).
const QUEUED: usize = 4;

/// The file with what has been written to it: counted and hashed on the way, so nothing is
/// re-read to report it, and announced to readers of the growing file.
pub(super) struct HashingFile {
    pub(super) file: File,
    pub(super) hasher: Sha256,
    pub(super) bytes: u64,
    progress: Arc<Progress>,
}

impl HashingFile {
    pub(super) fn new(file: File, progress: Arc<Progress>) -> Self {
        HashingFile {
            file,
            hasher: Sha256::new(),
            bytes: 0,
            progress,
        }
    }

    fn write_buffer(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)?;
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        self.progress.written(self.bytes);
        Ok(())
    }
}

/// Where full buffers go.
enum Out {
    /// Written by the caller: a file that has not yet filled one buffer.
    Here(HashingFile),
    /// Written by a thread of its own.
    Thread {
        full: SyncSender<Vec<u8>>,
        empty: Receiver<Vec<u8>>,
        thread: JoinHandle<io::Result<HashingFile>>,
    },
    /// A write failed (the error went to the caller then).
    Failed,
}

/// Buffers a staging file's bytes and hands them over in large pieces.
pub(super) struct Spool {
    buf: Vec<u8>,
    /// Bytes handed over (written, or queued for the writer thread).
    handed: u64,
    out: Out,
}

impl Spool {
    pub(super) fn new(file: HashingFile) -> Self {
        Spool {
            buf: Vec::with_capacity(BUFFER),
            handed: 0,
            out: Out::Here(file),
        }
    }

    /// Bytes given to the spool so far.
    pub(super) fn bytes(&self) -> u64 {
        self.handed + self.buf.len() as u64
    }

    pub(super) fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BUFFER {
            self.hand_over()?;
        }
        Ok(())
    }

    /// Hands over what is buffered: written here for a small file, else queued for the
    /// writer thread (started on the first full buffer).
    pub(super) fn hand_over(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Out::Here(file) = &mut self.out {
            if self.buf.len() < BUFFER {
                let result = file.write_buffer(&self.buf);
                return self.settle(result);
            }
            let Out::Here(file) = std::mem::replace(&mut self.out, Out::Failed) else {
                unreachable!()
            };
            self.out = start_writer(file)?;
        }
        let Out::Thread { full, empty, .. } = &self.out else {
            return Err(earlier_failure());
        };
        let next = empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BUFFER));
        let buf = std::mem::replace(&mut self.buf, next);
        let len = buf.len() as u64;
        if full.send(buf).is_err() {
            // the writer stopped: its error says why
            return match self.stop_writer() {
                Err(e) => Err(e),
                Ok(_) => Err(earlier_failure()),
            };
        }
        self.handed += len;
        Ok(())
    }

    /// Writes everything and gives the file back.
    pub(super) fn finish(mut self) -> io::Result<HashingFile> {
        if let Out::Here(file) = &mut self.out {
            file.write_buffer(&self.buf)?;
        } else {
            self.hand_over()?;
        }
        match std::mem::replace(&mut self.out, Out::Failed) {
            Out::Here(file) => Ok(file),
            out => {
                self.out = out;
                self.stop_writer()
            }
        }
    }

    fn settle(&mut self, result: io::Result<()>) -> io::Result<()> {
        match result {
            Ok(()) => {
                self.handed += self.buf.len() as u64;
                self.buf.clear();
                Ok(())
            }
            Err(e) => {
                self.out = Out::Failed;
                Err(e)
            }
        }
    }

    /// Lets the writer thread write what is queued and end; its file, or its error.
    fn stop_writer(&mut self) -> io::Result<HashingFile> {
        match std::mem::replace(&mut self.out, Out::Failed) {
            Out::Thread { full, thread, .. } => {
                drop(full);
                thread
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            }
            Out::Here(_) | Out::Failed => Err(earlier_failure()),
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // the thread must be done with the file before the caller removes it
        if let Out::Thread { .. } = self.out {
            let _ = self.stop_writer();
        }
    }
}

fn start_writer(mut file: HashingFile) -> io::Result<Out> {
    let (full, work) = sync_channel::<Vec<u8>>(QUEUED);
    let (give_back, empty) = channel::<Vec<u8>>();
    let thread = std::thread::Builder::new()
        .name("write".into())
        .spawn(move || {
            for mut buf in work {
                file.write_buffer(&buf)?;
                buf.clear();
                let _ = give_back.send(buf);
            }
            Ok(file)
        })?;
    Ok(Out::Thread {
        full,
        empty,
        thread,
    })
}

fn earlier_failure() -> io::Error {
    io::Error::other("an earlier write to this file failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(dir: &std::path::Path) -> Spool {
        let file = File::create(dir.join("f")).unwrap();
        Spool::new(HashingFile::new(file, Arc::new(Progress::default())))
    }

    #[test]
    fn small_and_large_files_hash_and_count_the_same_bytes() {
        for len in [0, 10, BUFFER - 1, BUFFER, 3 * BUFFER + 7] {
            let dir = tempfile::tempdir().unwrap();
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut s = spool(dir.path());
            for piece in data.chunks(1000) {
                s.write_all(piece).unwrap();
            }
            s.hand_over().unwrap();
            assert_eq!(s.bytes(), len as u64);
            let file = s.finish().unwrap();
            assert_eq!(file.bytes, len as u64);
            assert_eq!(file.hasher.finalize()[..], Sha256::digest(&data)[..]);
            assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), data);
        }
    }
}
