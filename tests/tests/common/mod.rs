//! Helpers shared by the end-to-end tests: a temp workspace with a manifest and inputs, and
//! the binaries under test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The CLI with the test-only plugins.
pub fn exporter_test() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_exporter-test"));
    cmd.env_remove("RUST_LOG")
        .env("SOURCE_DATE_EPOCH", "1764144000");
    cmd
}

/// A temporary folder holding a manifest and inputs; commands run inside it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.dir.path().join(name).exists()
    }

    /// Runs the test binary with `args` inside the workspace.
    pub fn run(&self, args: &[&str]) -> Output {
        exporter_test()
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap()
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

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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
