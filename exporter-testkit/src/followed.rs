//! A validator that checks files while they are written, held to what it finds in the
//! finished file.

use exporter_core::{FileUnderCheck, Finding, Fsync, StagedFile, Validator};

/// `v`'s findings in `bytes` written through a staged file in small flushed pieces while it
/// [checks them as they are written](Validator::check_while_written), and its findings in the
/// finished file: for a validator's own tests of its following path (the two must agree).
///
/// ```
/// use exporter_core::Exists;
/// use exporter_testkit::followed_and_finished;
/// let (followed, finished) = followed_and_finished(&Exists, b"a\nb\n", "t.txt", 2).unwrap();
/// assert_eq!(followed, finished);
/// assert!(finished.is_empty());
/// ```
pub fn followed_and_finished(
    v: &dyn Validator,
    bytes: &[u8],
    name: &str,
    rows: u64,
) -> Result<(Vec<Finding>, Vec<Finding>), String> {
    use std::io::Write;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut staged =
        StagedFile::create(&dir.path().join(name), Fsync::Never).map_err(|e| e.to_string())?;
    let mut growing = staged.growing(name).map_err(|e| e.to_string())?;
    std::thread::scope(|scope| {
        let follower = scope.spawn(|| v.check_while_written(&mut growing));
        let written = (|| {
            // pieces of a prime size, so they end at every place within a row
            for piece in bytes.chunks(97) {
                staged.write_all(piece)?;
                staged.flush()?;
            }
            staged.add_rows(rows);
            staged.finish()
        })();
        // a failed write drops the file, which ends the follower too
        let followed = follower
            .join()
            .map_err(|_| "the validator panicked".to_string())?;
        let pending = written.map_err(|e| e.to_string())?;
        let finished = v.check(&FileUnderCheck {
            path: pending.staging_path(),
            name,
            rows: Some(rows),
        });
        Ok((followed, finished))
    })
}
