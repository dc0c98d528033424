//! Output files: where a sink may write (the output directory), and the two ways it writes:
//! [`StagedFile`] for files written anew and committed atomically, [`AppendFile`] for logs
//! appended to across runs by many writers.

mod append;
mod growing;
mod spool;
mod staged;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use append::AppendFile;
pub use growing::GrowingFile;
pub use staged::{Follower, PendingFile, StagedFile};

use crate::error::SinkError;
use crate::validate::Validator;

/// Durability of committed files, per sink (`fsync` in the manifest).
///
/// - `on_commit` (default): a staged file's data is fsynced before it is renamed over the
///   target, and the directory is fsynced after the rename, so once the run reports success
///   the new file survives a power loss; an append file is fsynced after every batch.
/// - `never`: no fsync. A crash of the process still never leaves a partial file at a final
///   name (the rename is atomic), but after a power loss or kernel crash the file may hold
///   the previous content, or be empty or missing, and the last appended batches may be gone.
///
/// ```
/// use exporter_core::Fsync;
/// assert_eq!(Fsync::default(), Fsync::OnCommit);
/// let f: Fsync = serde_json::from_str("\"never\"").unwrap();
/// assert_eq!(f, Fsync::Never);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fsync {
    /// Sync data and directory before reporting success.
    #[default]
    OnCommit,
    /// Leave durability to the operating system.
    Never,
}

/// A written file as reported to the summary: where, how many rows and bytes, its SHA-256,
/// how long writing took, and whether its validators passed. Only the output files build one
/// (a [`StagedFile`] when it is finished, an [`AppendFile`] when it is done), from what was
/// really written: a sink cannot report a file it did not write through them.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir().unwrap();
/// let mut f = exporter_core::StagedFile::create(&dir.path().join("a.csv"), exporter_core::Fsync::Never).unwrap();
/// f.write_all(b"a,b\n1,2\n").unwrap();
/// f.add_rows(1);
/// let report = f.finish().unwrap().report("results", "a.csv".into());
/// assert_eq!((report.rows(), report.bytes(), report.sink()), (1, 8, "results"));
/// assert_eq!(serde_json::to_value(&report).unwrap()["rows"], 1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct FileReport {
    sink: String,
    path: String,
    rows: u64,
    bytes: u64,
    sha256: String,
    write_ms: f64,
    validated: bool,
    appended: bool,
}

impl FileReport {
    pub(crate) fn new(
        sink: &str,
        path: String,
        rows: u64,
        bytes: u64,
        sha256: String,
        write_ms: f64,
        appended: bool,
    ) -> Self {
        FileReport {
            sink: sink.to_string(),
            path,
            rows,
            bytes,
            sha256,
            write_ms,
            validated: false,
            appended,
        }
    }

    /// Name of the sink that wrote it.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"abc\n", 1).unwrap();
    /// let report = log.finish().unwrap().stamped("errors", false);
    /// assert_eq!(report.sink(), "errors");
    /// ```
    pub fn sink(&self) -> &str {
        &self.sink
    }

    /// Path relative to the output directory (absolute when outside it).
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"abc\n", 1).unwrap();
    /// let report = log.finish().unwrap().stamped("errors", false);
    /// assert!(report.path().ends_with("log.csv"));
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Data rows written (header excluded); for an appended file, rows appended by this run.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"abc\n", 1).unwrap();
    /// let report = log.finish().unwrap().stamped("errors", false);
    /// assert_eq!(report.rows(), 1);
    /// ```
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// File size in bytes.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"abc\n", 1).unwrap();
    /// let report = log.finish().unwrap().stamped("errors", false);
    /// assert_eq!(report.bytes(), 4);
    /// ```
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Lowercase hex SHA-256 of the whole file.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"abc\n", 1).unwrap();
    /// let report = log.finish().unwrap().stamped("errors", false);
    /// assert_eq!(report.sha256(), exporter_core::digest(&b"abc\n"[..]).unwrap().1);
    /// ```
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Milliseconds from opening the file to having it flushed.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"abc\n", 1).unwrap();
    /// let report = log.finish().unwrap().stamped("errors", false);
    /// assert!(report.write_ms() >= 0.0);
    /// ```
    pub fn write_ms(&self) -> f64 {
        self.write_ms
    }

    /// Whether validators ran on it and all passed.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"abc\n", 1).unwrap();
    /// let report = log.finish().unwrap().stamped("errors", false);
    /// assert!(!report.validated()); // stamped so above
    /// ```
    pub fn validated(&self) -> bool {
        self.validated
    }

    /// Whether the file is appended to across runs (an error log): `bytes` and `sha256` then
    /// describe the file as this run left it, which later writers extend.
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut log = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap();
    /// log.append(b"abc\n", 1).unwrap();
    /// let report = log.finish().unwrap().stamped("errors", false);
    /// assert!(report.appended());
    /// ```
    pub fn appended(&self) -> bool {
        self.appended
    }

    /// The report as the pipeline files it: under the sink that handed it back, and whether
    /// its validators passed (what a sink says of either is not taken).
    ///
    /// ```
    /// use exporter_core::{AppendFile, Fsync};
    /// let dir = tempfile::tempdir().unwrap();
    /// let report = AppendFile::open(&dir.path().join("log.csv"), Fsync::Never).unwrap().finish().unwrap();
    /// let report = report.stamped("errors", true);
    /// assert_eq!((report.sink(), report.validated()), ("errors", true));
    /// ```
    pub fn stamped(mut self, sink: &str, validated: bool) -> Self {
        sink.clone_into(&mut self.sink);
        self.validated = validated;
        self
    }
}

/// Where one sink may create files: the run's output directory, plus the sink's own settings.
/// Cheap to clone, so a sink can keep it to open more files later (rollover).
///
/// ```
/// use exporter_core::{OutputFiles, Fsync};
/// let dir = tempfile::tempdir().unwrap();
/// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
/// let mut f = files.stage("results.csv").unwrap();
/// std::io::Write::write_all(&mut f, b"a,b\r\n").unwrap();
/// f.add_rows(0);
/// let report = f.finish().unwrap().commit().unwrap();
/// assert_eq!(report.bytes(), 5);
/// assert_eq!(std::fs::read(dir.path().join("results.csv")).unwrap(), b"a,b\r\n");
/// ```
#[derive(Clone, Debug)]
pub struct OutputFiles {
    inner: Arc<OutputInner>,
}

struct OutputInner {
    dir: PathBuf,
    sink: String,
    fsync: Fsync,
    allow_outside: bool,
    /// Validators that read each staged file as it is written, with their place in the
    /// sink's `validate` list.
    followers: Vec<(usize, Arc<dyn Validator>)>,
}

impl std::fmt::Debug for OutputInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputInner")
            .field("dir", &self.dir)
            .field("sink", &self.sink)
            .field("followers", &self.followers.len())
            .finish_non_exhaustive()
    }
}

impl OutputFiles {
    /// Files of sink `sink` under `dir`.
    ///
    /// ```
    /// use exporter_core::{Fsync, OutputFiles};
    /// let dir = tempfile::tempdir().unwrap();
    /// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
    /// assert_eq!((files.dir(), files.sink()), (dir.path(), "results"));
    /// ```
    pub fn new(
        dir: impl Into<PathBuf>,
        sink: impl Into<String>,
        fsync: Fsync,
        allow_outside: bool,
    ) -> Self {
        OutputFiles {
            inner: Arc::new(OutputInner {
                dir: dir.into(),
                sink: sink.into(),
                fsync,
                allow_outside,
                followers: Vec::new(),
            }),
        }
    }

    /// The same, with validators that start reading each staged file as soon as it is
    /// created (those whose [`Validator::follows_writes`] is true; the pipeline joins them
    /// when the file is finished).
    ///
    /// ```
    /// use exporter_core::{Exists, Fsync, OutputFiles};
    /// let dir = tempfile::tempdir().unwrap();
    /// let v: exporter_core::NamedValidator = ("exists".into(), std::sync::Arc::new(Exists));
    /// let files = OutputFiles::new(dir.path(), "s", Fsync::Never, false).followed_by(&[v]);
    /// assert_eq!(files.sink(), "s"); // `exists` does not follow writes: nothing starts
    /// ```
    pub fn followed_by(mut self, validators: &[crate::NamedValidator]) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("not shared yet");
        inner.followers = validators
            .iter()
            .enumerate()
            .filter(|(_, (_, v))| v.follows_writes())
            .map(|(i, (_, v))| (i, Arc::clone(v)))
            .collect();
        self
    }

    /// The output directory.
    ///
    /// ```
    /// use exporter_core::{Fsync, OutputFiles};
    /// let dir = tempfile::tempdir().unwrap();
    /// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
    /// assert_eq!(files.dir(), dir.path());
    /// ```
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The sink's name.
    ///
    /// ```
    /// use exporter_core::{Fsync, OutputFiles};
    /// let dir = tempfile::tempdir().unwrap();
    /// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
    /// assert_eq!(files.sink(), "results");
    /// ```
    pub fn sink(&self) -> &str {
        &self.inner.sink
    }

    /// Resolves `path` against the output directory, refusing (unless the sink allows it) a
    /// path that leaves it lexically (`..`, absolute) or through a symbolic link.
    ///
    /// ```
    /// use exporter_core::{Fsync, OutputFiles};
    /// let dir = tempfile::tempdir().unwrap();
    /// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
    /// assert_eq!(files.resolve("parts/a.csv").unwrap(), dir.path().join("parts/a.csv"));
    /// assert!(files.resolve("../elsewhere.csv").is_err()); // unless `allow_outside`
    /// ```
    pub fn resolve(&self, path: impl AsRef<Path>) -> Result<PathBuf, SinkError> {
        let path = path.as_ref();
        if !self.inner.allow_outside {
            check_inside(path).map_err(|msg| SinkError::new(msg).at(path))?;
            check_no_symlinks(&self.inner.dir, path)?;
        }
        Ok(self.inner.dir.join(path))
    }

    /// Creates a staging file for `path` (relative to the output directory). Nothing appears at
    /// the final name until the pipeline commits it.
    ///
    /// ```
    /// use std::io::Write;
    /// use exporter_core::{Fsync, OutputFiles};
    /// let dir = tempfile::tempdir().unwrap();
    /// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
    /// let mut file = files.stage("results.csv").unwrap();
    /// file.write_all(b"id\n").unwrap();
    /// assert!(!dir.path().join("results.csv").exists()); // until the run commits it
    /// ```
    pub fn stage(&self, path: impl AsRef<Path>) -> Result<StagedFile, SinkError> {
        let target = self.resolve(path)?;
        if target.is_dir() {
            // found now, not when the run's work is done and the rename fails
            return Err(SinkError::new(
                "a folder has this name; the file cannot be written over it",
            )
            .at(&target));
        }
        let mut file =
            StagedFile::create(&target, self.inner.fsync).map_err(|e| SinkError::io(e, &target))?;
        let name = self.display_path(&target);
        for (index, validator) in &self.inner.followers {
            let mut growing = file.growing(&name).map_err(|e| SinkError::io(e, &target))?;
            let validator = Arc::clone(validator);
            let thread = std::thread::Builder::new()
                .name("validate".into())
                .spawn(move || {
                    background_priority();
                    validator.check_while_written(&mut growing)
                })
                .map_err(|e| SinkError::io(e, &target))?;
            file.add_follower((*index, thread));
        }
        Ok(file)
    }

    /// Opens `path` for appending under an exclusive lock per batch, creating it if missing.
    ///
    /// ```
    /// use exporter_core::{Fsync, OutputFiles};
    /// let dir = tempfile::tempdir().unwrap();
    /// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
    /// let mut log = files.append("error_log.csv").unwrap();
    /// log.append(b"row\n", 1).unwrap();
    /// assert_eq!(log.finish().unwrap().path(), "error_log.csv"); // shown relative to the folder
    /// ```
    pub fn append(&self, path: impl AsRef<Path>) -> Result<AppendFile, SinkError> {
        let target = self.resolve(path)?;
        let file =
            AppendFile::open(&target, self.inner.fsync).map_err(|e| SinkError::io(e, &target))?;
        Ok(file.shown_as(self.display_path(&target)))
    }

    /// The path to show for `target`: relative to the output directory when inside it.
    ///
    /// ```
    /// use exporter_core::{Fsync, OutputFiles};
    /// let dir = tempfile::tempdir().unwrap();
    /// let files = OutputFiles::new(dir.path(), "results", Fsync::Never, false);
    /// assert_eq!(files.display_path(&dir.path().join("a/b.csv")), "a/b.csv");
    /// assert_eq!(files.display_path(std::path::Path::new("/tmp/x.csv")), "/tmp/x.csv");
    /// ```
    pub fn display_path(&self, target: &Path) -> String {
        target
            .strip_prefix(&self.inner.dir)
            .unwrap_or(target)
            .to_string_lossy()
            .into_owned()
    }
}

/// Lowers the calling thread's scheduling priority (nice 19 on Linux), so a validator that
/// follows a file uses the time the run leaves idle and does not slow the run down. Nice
/// weighs only while the cores are contended: once the run waits for the validator, the
/// thread has a core to itself.
fn background_priority() {
    // on Linux a thread id names the thread alone to setpriority
    #[cfg(target_os = "linux")]
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
}

/// Lexical check that a sink path stays inside the output directory: relative, and no `..`
/// climbing above it.
///
/// ```
/// use exporter_core::check_inside;
/// assert!(check_inside("reports/a.json".as_ref()).is_ok());
/// assert!(check_inside("../a.json".as_ref()).is_err());
/// assert!(check_inside("/tmp/a.json".as_ref()).is_err());
/// ```
pub fn check_inside(path: &Path) -> Result<(), String> {
    let mut depth: i64 = 0;
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => {
                return Err(format!(
                    "path {} is absolute; sink paths are relative to the output directory (set `allow_outside = true` to allow)",
                    path.display()
                ));
            }
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!(
                        "path {} leaves the output directory (set `allow_outside = true` to allow)",
                        path.display()
                    ));
                }
            }
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
        }
    }
    if depth == 0 {
        return Err(format!(
            "path {:?} names no file",
            path.display().to_string()
        ));
    }
    Ok(())
}

/// A path with `.` removed and `..` applied to the names before it, as the file system would
/// resolve it without links: how two spellings of one file (`same.csv`, `./same.csv`,
/// `x/../same.csv`) are told to be one.
///
/// ```
/// use exporter_core::normalize;
/// assert_eq!(normalize("x/../same.csv".as_ref()), normalize("./same.csv".as_ref()));
/// assert_eq!(normalize("a/./b/../c.csv".as_ref()), std::path::Path::new("a/c.csv"));
/// ```
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The path of part `n` (1-based) of a file written in numbered parts: the first keeps its
/// name, then `results-0002.csv`, `results-0003.csv`, ...
///
/// ```
/// use exporter_core::part_path;
/// use std::path::Path;
/// assert_eq!(part_path(Path::new("results.csv"), 1), Path::new("results.csv"));
/// assert_eq!(part_path(Path::new("sub/results.csv"), 2), Path::new("sub/results-0002.csv"));
/// assert_eq!(part_path(Path::new("table"), 12), Path::new("table-0012"));
/// ```
pub fn part_path(base: &Path, n: usize) -> PathBuf {
    if n == 1 {
        return base.to_path_buf();
    }
    numbered_part_path(base, n)
}

/// The path of part `n` of a file delivered in numbered parts from the first on (the parts
/// of a followed stream, one or more per commit): `results-0001.csv`, `results-0002.csv`, ...
///
/// ```
/// use exporter_core::numbered_part_path;
/// use std::path::Path;
/// assert_eq!(numbered_part_path(Path::new("results.csv"), 1), Path::new("results-0001.csv"));
/// assert_eq!(numbered_part_path(Path::new("results.csv"), 2), Path::new("results-0002.csv"));
/// ```
pub fn numbered_part_path(base: &Path, n: usize) -> PathBuf {
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}-{n:04}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n:04}"),
    };
    base.with_file_name(name)
}

/// Which part (2 or more) of `base` the file name `candidate` is, if it is one: the inverse
/// of [`part_path`], for finding parts left by earlier runs and names that clash with them.
///
/// ```
/// use exporter_core::part_number;
/// use std::path::Path;
/// assert_eq!(part_number(Path::new("results.csv"), "results-0002.csv"), Some(2));
/// assert_eq!(part_number(Path::new("results.csv"), "results-12345.csv"), Some(12345));
/// assert_eq!(part_number(Path::new("results.csv"), "results-0001.csv"), None);
/// assert_eq!(part_number(Path::new("results.csv"), "results-x.csv"), None);
/// ```
pub fn part_number(base: &Path, candidate: &str) -> Option<usize> {
    let stem = base.file_stem()?.to_string_lossy();
    let rest = candidate.strip_prefix(&*stem)?.strip_prefix('-')?;
    let digits = match base.extension() {
        Some(ext) => rest
            .strip_suffix(&*ext.to_string_lossy())?
            .strip_suffix('.')?,
        None => rest,
    };
    if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: usize = digits.parse().ok()?;
    (n >= 2 && part_path(base, n).file_name()? == candidate).then_some(n)
}

/// The numbered parts of `base` beyond the first `keep` files that are on disk: what an
/// earlier run wrote when it rolled over more often. A run that commits fewer parts removes
/// them, so nobody reading `results*.csv` reads stale rows.
///
/// ```
/// use exporter_core::stale_parts;
/// let dir = tempfile::tempdir().unwrap();
/// for name in ["r.csv", "r-0002.csv", "r-0003.csv", "r-log.csv"] {
///     std::fs::write(dir.path().join(name), "x").unwrap();
/// }
/// let stale = stale_parts(&dir.path().join("r.csv"), 2).unwrap();
/// assert_eq!(stale, [dir.path().join("r-0003.csv")]);
/// ```
pub fn stale_parts(base: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let dir = match base.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if part_number(base, &name.to_string_lossy()).is_some_and(|n| n > keep) {
            stale.push(base.with_file_name(name));
        }
    }
    stale.sort();
    Ok(stale)
}

/// Refuses a path whose existing components below `root` include a symbolic link: it could
/// point anywhere.
fn check_no_symlinks(root: &Path, rel: &Path) -> Result<(), SinkError> {
    let mut at = root.to_path_buf();
    for c in rel.components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(SinkError::new(format!(
                    "{} is a symbolic link; sink paths must not go through links (set `allow_outside = true` to allow)",
                    at.display()
                ))
                .at(&at))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(SinkError::io(e, &at)),
        }
    }
    Ok(())
}

/// Syncs a file's data (and the size that finds it) to the disk. Each sync is logged at debug
/// level as `synced`, so a run's syncs can be counted (`RUST_LOG=exporter_core=debug`).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.txt");
/// let file = std::fs::File::create(&path).unwrap();
/// exporter_core::sync_file(&file, &path).unwrap();
/// ```
pub fn sync_file(file: &std::fs::File, path: &Path) -> std::io::Result<()> {
    file.sync_data()?;
    tracing::debug!(path = %path.display(), "synced");
    Ok(())
}

/// Syncs a directory, so that a rename or a new file in it is durable; logged like
/// [`sync_file`].
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// exporter_core::sync_dir(dir.path()).unwrap();
/// ```
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
        tracing::debug!(path = %dir.display(), "synced");
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Size and lowercase hex SHA-256 of everything `reader` yields.
///
/// ```
/// let (bytes, sha) = exporter_core::digest(&b"abc"[..]).unwrap();
/// assert_eq!(bytes, 3);
/// assert_eq!(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// ```
pub fn digest(mut reader: impl std::io::Read) -> std::io::Result<(u64, String)> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex(&hasher.finalize())))
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_outside() {
        for bad in ["../x", "a/../../x", "/etc/passwd", "", "."] {
            assert!(check_inside(Path::new(bad)).is_err(), "{bad}");
        }
        for good in ["x.csv", "a/b.csv", "a/../b.csv", "./x"] {
            assert!(check_inside(Path::new(good)).is_ok(), "{good}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("f"), dir.path().join("f.csv")).unwrap();
        let files = OutputFiles::new(dir.path(), "s", Fsync::Never, false);
        assert!(
            files
                .stage("link/x.csv")
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
        assert!(
            files
                .stage("f.csv")
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
        let allowed = OutputFiles::new(dir.path(), "s", Fsync::Never, true);
        assert!(allowed.stage("link/x.csv").is_ok());
    }
}
