//! The output directory's lock: one run at a time writes and commits there.

use std::path::Path;

/// The lock file of an output directory: held exclusively by the run writing into it, and
/// holding that run's process id for anyone who waits.
pub const LOCK_FILE: &str = ".exporter.lock";

/// An exclusive lock on an output directory, held while a run writes and commits its files
/// (and while `exporter check` reads them), so the files committed there are always one run's.
/// Released when dropped (or when the process ends, however it ends: the lock is the
/// kernel's `flock`).
///
/// ```
/// use exporter_runtime::DirLock;
/// let dir = tempfile::tempdir().unwrap();
/// let lock = DirLock::acquire(dir.path(), false).unwrap();
/// // a second taker that will not wait is refused, naming the holder
/// let err = DirLock::acquire(dir.path(), false).unwrap_err();
/// assert!(err.to_string().contains(&format!("pid {}", std::process::id())), "{err}");
/// drop(lock);
/// assert!(DirLock::acquire(dir.path(), false).is_ok());
/// ```
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    /// Takes the lock on `dir` (which must exist). When another process holds it: waits,
    /// saying so in the log, or with `wait` false fails at once; either way naming the
    /// holder's process id.
    pub fn acquire(dir: &Path, wait: bool) -> std::io::Result<DirLock> {
        use std::io::{Read, Seek, Write};
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "another process".to_string(),
                    pid => format!("pid {pid}"),
                };
                if !wait {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        format!(
                            "the output directory is locked by {holder} (another run writing into it); \
                             try again when it is done, or leave out --no-wait to wait for it"
                        ),
                    ));
                }
                tracing::warn!(
                    "waiting for the lock on {} held by {holder}",
                    path.display()
                );
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        file.set_len(0)?;
        file.seek(std::io::SeekFrom::Start(0))?;
        write!(file, "{}", std::process::id())?;
        Ok(DirLock { _file: file })
    }
}
