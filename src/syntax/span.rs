//! Source files and byte spans.

use std::sync::{Arc, OnceLock};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file. Spans never take part in AST equality.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.end.saturating_sub(s.start)).into()
    }
}

/// One policy (or waivers) file as read from disk.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user gave it (or as resolved from an import), used in messages.
    pub name: String,
    pub text: Arc<str>,
    /// Where each line starts, as miette counts lines (after `\n`, `\r\n`
    /// or a lone `\r`), built the first time a diagnostic is drawn.
    line_starts: Arc<OnceLock<Vec<usize>>>,
    /// Whether the text holds raw control characters, found once.
    controls: Arc<OnceLock<bool>>,
    /// Where each line starts for [`SourceFile::line_col`] (after `\n`).
    newlines: Arc<OnceLock<Vec<usize>>>,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset: what
    /// [`line_col`] gives, from a line index built once per file (a lint
    /// run locates every finding; scanning from the start for each was
    /// quadratic).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        if !self.text.is_char_boundary(offset) {
            return line_col(&self.text, offset);
        }
        let starts = self.newlines.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let start = starts.get(line - 1).copied().unwrap_or(0);
        let col = self.text.get(start..offset).unwrap_or("").chars().count() + 1;
        (line, col)
    }

    /// The file as miette reads it for a diagnostic's snippet.
    pub fn named_source(&self) -> Snippets {
        Snippets {
            name: self.name.clone(),
            text: self.text.clone(),
            line_starts: self.line_starts.clone(),
        }
    }

    /// Whether the text holds control characters other than tab, line feed
    /// and carriage return (a diagnostic then cites it by position: shown,
    /// the terminal would act on them).
    pub fn has_controls(&self) -> bool {
        *self.controls.get_or_init(|| {
            self.text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        })
    }
}

/// A source file for miette's snippets. miette finds a span's lines by
/// reading the text from its first byte, once per label, which for many
/// diagnostics over a large policy is quadratic; this gives miette only a
/// window of whole lines around the span (found in the file's line index)
/// and shifts what it reads back to the file's lines and offsets, so the
/// drawn diagnostic is byte for byte the one miette draws from the whole
/// text (tests/diagnostics.rs and every snapshot hold it to that).
pub struct Snippets {
    name: String,
    text: Arc<str>,
    line_starts: Arc<OnceLock<Vec<usize>>>,
}

impl Snippets {
    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let bytes = self.text.as_bytes();
            let mut starts = vec![0];
            let mut i = 0;
            while i < bytes.len() {
                match bytes.get(i) {
                    Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => {
                        i += 1;
                        starts.push(i + 1);
                    }
                    Some(b'\r' | b'\n') => starts.push(i + 1),
                    _ => {}
                }
                i += 1;
            }
            starts
        })
    }
}

impl miette::SourceCode for Snippets {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let starts = self.line_starts();
        let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let first = line_of(span.offset());
        let last = line_of(span.offset() + span.len());
        // Whole lines, with a line to spare on each side of the context
        // miette keeps, so it makes the same choices as on the whole text.
        let from_line = first.saturating_sub(context_lines_before + 1);
        let to_line = last + context_lines_after + 2;
        let from = starts.get(from_line).copied().unwrap_or(0);
        let to = starts
            .get(to_line)
            .copied()
            .unwrap_or(self.text.len())
            .min(self.text.len());
        let window = self.text.as_bytes().get(from..to).unwrap_or_default();
        let shifted: miette::SourceSpan = (span.offset().saturating_sub(from), span.len()).into();
        let inner = <[u8] as miette::SourceCode>::read_span(
            window,
            &shifted,
            context_lines_before,
            context_lines_after,
        )?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            (inner.span().offset() + from, inner.span().len()).into(),
            inner.line() + from_line,
            inner.column(),
            inner.line_count() + from_line,
        )))
    }
}

/// 1-based line and column of `offset` in `text`; CR before LF is not counted
/// as a column so CRLF files report the same positions as LF files.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before.get(line_start..).unwrap_or("").chars().count() + 1;
    (line, col)
}

/// All source files of one compilation: the policy, its imports, waiver files.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
            line_starts: Default::default(),
            controls: Default::default(),
            newlines: Default::default(),
        });
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The source text a span points into ("" if the span is foreign).
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start..span.end))
            .unwrap_or("")
    }

    /// `file:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> (String, usize, usize) {
        match self.get(span.file) {
            Some(f) => {
                let (l, c) = f.line_col(span.start);
                (f.name.clone(), l, c)
            }
            None => (String::from("<unknown>"), 0, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_read_what_miette_reads_from_the_whole_text() {
        use miette::{SourceCode, SpanContents};
        let text = "line one\nline two\r\nthird\rfourth\n\n\nseventh é\nlast";
        let mut map = SourceMap::default();
        let id = map.add("p.clr", text);
        let Some(file) = map.get(id) else {
            panic!("the file was added");
        };
        let window = file.named_source();
        let whole = miette::NamedSource::new("p.clr", text.to_string());
        for start in 0..=text.len() {
            if !text.is_char_boundary(start) {
                continue;
            }
            for len in [0, 1, 3, 12, 30] {
                let len = len.min(text.len() - start);
                for (before, after) in [(0, 0), (1, 1), (2, 3), (5, 5)] {
                    let span: miette::SourceSpan = (start, len).into();
                    let (Ok(a), Ok(b)) = (
                        window.read_span(&span, before, after),
                        whole.read_span(&span, before, after),
                    ) else {
                        panic!("{start}+{len}: both read");
                    };
                    let shown = |c: &dyn SpanContents<'_>| {
                        (
                            c.data().to_vec(),
                            c.span().offset(),
                            c.span().len(),
                            c.line(),
                            c.column(),
                            c.line_count(),
                            c.name().map(str::to_string),
                        )
                    };
                    assert_eq!(
                        shown(a.as_ref()),
                        shown(b.as_ref()),
                        "span {start}+{len}, context {before}/{after}"
                    );
                }
            }
        }
    }

    #[test]
    fn indexed_line_col_is_line_col() {
        let text = "ab\r\ncd\n\né x\ry\nlast";
        let mut map = SourceMap::default();
        let id = map.add("p.clr", text);
        let Some(file) = map.get(id) else {
            panic!("the file was added");
        };
        for offset in 0..=text.len() + 2 {
            assert_eq!(file.line_col(offset), line_col(text, offset), "{offset}");
        }
    }

    #[test]
    fn line_col_counts_from_one_and_ignores_cr() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab\r\ncd", 5), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
    }
}
