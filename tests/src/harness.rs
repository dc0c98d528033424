//! Helpers shared by the end-to-end tests of every crate: a temporary folder with a manifest
//! and inputs, in which a binary under test runs.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// `SOURCE_DATE_EPOCH` the harness sets: 2025-11-26T08:00:00Z.
pub const SOURCE_DATE_EPOCH: &str = "1764144000";

/// A command for `bin` with a clean, reproducible environment.
pub fn command(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_remove("RUST_LOG")
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH);
    cmd
}

/// A temporary folder holding a manifest and inputs; the binary under test runs inside it.
pub struct Workspace {
    /// The folder (removed on drop).
    pub dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Workspace {
    /// A new empty folder for running `bin` (use `env!("CARGO_BIN_EXE_...")`).
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
            bin: bin.into(),
        }
    }

    /// A command for the binary under test, running in the folder.
    pub fn command(&self) -> Command {
        let mut cmd = command(&self.bin);
        cmd.current_dir(self.dir.path());
        cmd
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating folders), returning its path.
    /// Writes a file (creating folders), returning its path.
    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Reads a file as text; panics with its name when missing.
    /// Reads a file as text; panics with its name when missing.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Whether a file exists.
    pub fn exists(&self, name: &str) -> bool {
        self.dir.path().join(name).exists()
    }

    /// Runs the binary with `args` inside the folder.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs the binary with `args` (which name `-`, standard input, as the input) with
    /// `input` waiting in a pipe on its standard input; also what of `input` it left unread.
    /// All of it left proves the run stopped before it read any input (`input` must fit the
    /// pipe's buffer, 64 KiB).
    pub fn run_unread(&self, args: &[&str], input: &[u8]) -> (Output, Vec<u8>) {
        use std::io::{Read, Write};
        let (reader, mut writer) = std::io::pipe().unwrap();
        assert!(
            input.len() <= 60 << 10,
            "the input must fit a pipe's buffer"
        );
        let mut ours = reader.try_clone().unwrap();
        writer.write_all(input).unwrap();
        let out = std::process::Command::new(&self.bin)
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
            .args(args)
            .stdin(reader)
            .output()
            .unwrap();
        drop(writer); // the child's end is closed too: what is left reads to its end
        let mut left = Vec::new();
        ours.read_to_end(&mut left).unwrap();
        (out, left)
    }

    /// Staging files (`.NAME.PID-N.tmp`) left anywhere in the folder.
    pub fn staging_files(&self) -> Vec<String> {
        self.files()
            .into_iter()
            .filter(|f| {
                let name = f.rsplit('/').next().unwrap_or(f);
                name.starts_with('.') && name.ends_with(".tmp")
            })
            .collect()
    }

    /// Every file under the workspace, relative, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(
                        p.strip_prefix(self.dir.path())
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
        out.sort();
        out
    }
}

/// A file of the repository's `examples/` folder.
pub fn example(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Standard error as text.
/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output as text.
/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A small stream with every event kind, passwords, a bad line and a blank line.
pub const EVENTS: &str = r#"{"type":"campaign","id":"acme-2026","name":"ACME"}
{"type":"record","data":{"place_id":"p1","name":"Dr. \"Smith\"\nsecond line"}}

{"type":"record","data":{"name":"no id"}}
{"type":"request","ts":"2026-11-26T08:00:01.250Z","proxy":"http://user:hunter2@10.0.0.7:8080","url":"https://example.com/a","status":200,"latency_ms":312.5,"bytes":20480}
{"type":"error","ts":"2026-11-26T08:00:02Z","kind":"Timeout","message":"read timed out via http://u:hunter2@h:1","proxy":"http://u:p%40hunter2@10.0.0.9:8080","context":{"proxy_url":"socks5://a:hunter2@c:1"}}
{"type":"request","ts":"2026-11-26T08:00:03Z","proxy":"http://user:hunter2@10.0.0.7:8080","latency_ms":"3ms"}
"#;

/// Makes a directory unwritable for real, even for root (who ignores permission bits): with
/// the immutable attribute as root, with mode 0555 otherwise. Undone on drop. Panics when the
/// fault cannot be produced, so a test never passes without it.
#[cfg(unix)]
pub struct ReadOnlyDir {
    path: PathBuf,
    immutable: bool,
}

#[cfg(unix)]
impl ReadOnlyDir {
    /// Makes `path` read-only until the guard drops.
    pub fn new(path: &Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let immutable = root
            && std::process::Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .is_ok_and(|s| s.success());
        if !immutable {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        let guard = ReadOnlyDir {
            path: path.to_path_buf(),
            immutable,
        };
        let probe = path.join(".probe");
        assert!(
            std::fs::write(&probe, "x").is_err(),
            "could not make {} read-only",
            path.display()
        );
        guard
    }
}

#[cfg(unix)]
impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.immutable {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&self.path)
                .status();
        } else {
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o755));
        }
    }
}
