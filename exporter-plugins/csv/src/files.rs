//! The results files: one staged file after another as rows pass the per-file limit, each
//! with its header (and BOM in the Excel dialect). All are committed together at the end.

use std::path::{Path, PathBuf};

use exporter_core::{OutputFiles, SinkError, StagedFile};
use exporter_tabular::{BOM, Dialect, RowWriter};

/// The staged files of one table.
pub struct TableFiles {
    out: OutputFiles,
    base: PathBuf,
    dialect: Dialect,
    writer: RowWriter,
    header: Vec<String>,
    max_rows: Option<u64>,
    /// Following a stream: every file is numbered, the first of this generation `first`.
    first: Option<usize>,
    current: Option<StagedFile>,
    rows_in_current: u64,
    done: Vec<StagedFile>,
    /// One encoded row, reused.
    row: Vec<u8>,
}

/// The path of the `n`th file (1-based): `results.csv`, `results-0002.csv`, ...
pub use exporter_core::part_path as rollover_path;

impl TableFiles {
    /// Prepares the table at `base`; the first file is created at once so that an empty run
    /// still delivers a table with its header.
    pub fn open(
        out: &OutputFiles,
        base: &Path,
        dialect: Dialect,
        delimiter: u8,
        header: Vec<String>,
        max_rows: Option<u64>,
        first: Option<usize>,
    ) -> Result<TableFiles, SinkError> {
        let mut files = TableFiles {
            out: out.clone(),
            // errors name the file as the user finds it: inside the output directory
            base: out.dir().join(base),
            dialect,
            writer: RowWriter::new(dialect, delimiter),
            header,
            max_rows,
            first,
            current: None,
            rows_in_current: 0,
            done: Vec::new(),
            row: Vec::new(),
        };
        files.start_file()?;
        Ok(files)
    }

    fn start_file(&mut self) -> Result<(), SinkError> {
        let n = self.done.len() + usize::from(self.current.is_some()) + 1;
        let path = match self.first {
            Some(first) => exporter_core::numbered_part_path(&self.base, first + n - 1),
            None => rollover_path(&self.base, n),
        };
        let relative = path.strip_prefix(self.out.dir()).unwrap_or(&path);
        let mut file = self.out.stage(relative)?;
        if self.dialect.bom() {
            std::io::Write::write_all(&mut file, BOM).map_err(|e| SinkError::io(e, &path))?;
        }
        self.row.clear();
        self.writer.write_row(&self.header, &mut self.row);
        std::io::Write::write_all(&mut file, &self.row).map_err(|e| SinkError::io(e, &path))?;
        if let Some(mut previous) = self.current.replace(file) {
            previous.add_rows(self.rows_in_current);
            self.done.push(previous);
        }
        self.rows_in_current = 0;
        Ok(())
    }

    /// Writes one data row, starting the next file first when this one is full.
    pub fn write_row<I, T>(&mut self, cells: I) -> Result<(), SinkError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        if self.max_rows.is_some_and(|m| self.rows_in_current >= m) {
            self.start_file()?;
        }
        self.row.clear();
        self.writer.write_row(cells, &mut self.row);
        let file = self.current.as_mut().expect("a file is open");
        std::io::Write::write_all(file, &self.row).map_err(|e| SinkError::io(e, &self.base))?;
        self.rows_in_current += 1;
        Ok(())
    }

    /// Every file, in order, ready to commit.
    pub fn finish(mut self) -> Result<Vec<StagedFile>, SinkError> {
        if let Some(mut file) = self.current.take() {
            file.add_rows(self.rows_in_current);
            self.done.push(file);
        }
        Ok(std::mem::take(&mut self.done))
    }
}
