//! Manifest errors with their place: file, line, column, sink and key, plus the source line.

use std::fmt;
use std::ops::Range;

/// Which plugin entry an error is about: its array (`sinks` or `sources`), its index there
/// and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkRef {
    /// `sinks` or `sources`.
    pub table: &'static str,
    /// 0-based index in the array.
    pub index: usize,
    /// The sink's name (or its type when it has no name).
    pub name: String,
}

/// One problem in a manifest.
///
/// ```
/// use exporter_runtime::Manifest;
/// let err = Manifest::parse("[[sinks]]\ntype = \"cvs\"\n", "m.toml", ".".as_ref()).unwrap_err();
/// let e = &err.errors()[0];
/// assert_eq!((e.line, e.column), (2, 8));
/// assert_eq!(e.key.as_deref(), Some("type"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest's name as given (its path).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The sink concerned.
    pub sink: Option<SinkRef>,
    /// The key concerned, as a path within its table (`schema.fields[0].name`).
    pub key: Option<String>,
    /// What is wrong (and, where it helps, what would be right).
    pub message: String,
    /// The source line and the underlined range in it (character columns, 0-based).
    pub snippet: Option<(String, usize, usize)>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(s) = &self.sink {
            write!(f, "\n  in {}[{}]", s.table, s.index)?;
            // a table with neither `name` nor a `type` has no name to show
            if !s.name.is_empty() {
                write!(f, " {:?}", s.name)?;
            }
        }
        match (&self.sink, &self.key) {
            (Some(_), Some(k)) => write!(f, ", key `{k}`")?,
            (None, Some(k)) => write!(f, "\n  key `{k}`")?,
            (_, None) => {}
        }
        if let Some((text, start, width)) = &self.snippet {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            write!(
                f,
                "\n  {pad} |\n  {num} | {text}\n  {pad} | {}{}",
                " ".repeat(*start),
                "^".repeat((*width).max(1))
            )?;
        }
        Ok(())
    }
}

/// Every problem found in a manifest, in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestErrors(pub(crate) Vec<ManifestError>);

impl ManifestErrors {
    /// The individual errors.
    pub fn errors(&self) -> &[ManifestError] {
        &self.0
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "error: {e}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n\n{} errors in the manifest", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestErrors {}

/// The manifest text, to turn byte spans into lines and columns.
pub(crate) struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn error(
        &self,
        span: Option<Range<usize>>,
        sink: Option<&SinkRef>,
        key: Option<&str>,
        message: impl Into<String>,
    ) -> ManifestError {
        let span = span.unwrap_or(0..0);
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let line_text = self.text[line_start..line_end].trim_end_matches('\r');
        let column = self.text[line_start..start].chars().count();
        let end = span.end.clamp(start, line_start + line_text.len());
        let width = self.text[start..end].chars().count();
        ManifestError {
            file: self.name.to_string(),
            line: self.text[..start].matches('\n').count() + 1,
            column: column + 1,
            sink: sink.cloned(),
            key: key.map(str::to_string),
            message: message.into(),
            snippet: Some((line_text.to_string(), column, width)),
        }
    }
}
