//! Turns a source (plain text, Markdown or an HTML page; a file, a URL or standard input)
//! into a Document.
//!
//! Every [`Sentence`] keeps the byte range it came from in the *file*, so later stages (and
//! people reading a timing sidecar) can point back at the exact source text. For HTML the
//! range is found again in the page after extraction (see the `html` module); for a page in
//! another charset than UTF-8 it indexes the decoded text.

mod boilerplate;
pub mod fetch;
pub mod guard;
mod html;
mod markdown;
mod page_copy;
mod text;

pub use fetch::{DEFAULT_MAX_BYTES, FetchOptions, Fetched};
pub use guard::{AddressPolicy, is_public};

use crate::document::{Document, Sentence};
use crate::error::{Error, Result};
use crate::segment::split_sentences;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

const BYTE_ORDER_MARK: char = '\u{feff}';

/// How an article is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Limits for fetching a URL; `max_bytes` bounds standard input too.
    pub fetch: FetchOptions,
    /// Narrate every block: no page furniture is dropped from plain text, and none of the
    /// blocks of an HTML page's article that its text marks as furniture (the page's
    /// navigation, asides and figures are still left out before the article is found).
    /// Off by default; `Document::dropped` lists what was left out.
    pub keep_all: bool,
}

/// The kinds of source `aloud` can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
}

impl Format {
    /// Trusts a `.md`/`.markdown`/`.txt`/`.html`/`.htm`/`.xhtml` extension; otherwise calls
    /// the contents HTML if they open with `<!doctype html` or `<html`, Markdown if any line
    /// opens with a `#` or `##` heading, and plain text if not.
    pub fn detect(path: &Path, contents: &str) -> Format {
        Format::from_extension(path).unwrap_or_else(|| Format::sniff(contents.as_bytes()))
    }

    fn from_extension(path: &Path) -> Option<Format> {
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("md" | "markdown") => Some(Format::Markdown),
            Some("txt") => Some(Format::Text),
            Some("html" | "htm" | "xhtml") => Some(Format::Html),
            _ => None,
        }
    }

    /// The format of contents with no name to go by. Works on bytes, so that an HTML page
    /// can be recognised before its charset is known.
    fn sniff(contents: &[u8]) -> Format {
        if html::looks_like_html(contents) {
            Format::Html
        } else if std::str::from_utf8(contents).is_ok_and(looks_like_markdown) {
            Format::Markdown
        } else {
            Format::Text
        }
    }
}

fn looks_like_markdown(contents: &str) -> bool {
    let contents = contents.strip_prefix(BYTE_ORDER_MARK).unwrap_or(contents);
    contents
        .lines()
        .any(|line| line.starts_with("# ") || line.starts_with("## "))
}

/// Reads a file: Error::InputNotFound if missing, Error::NotText{offset} if not valid UTF-8
/// (or contains NUL bytes — a binary), Error::EmptyInput if there is nothing to narrate
/// (after ingest, zero sentences), Error::Io otherwise. A UTF-8 BOM is skipped; source
/// offsets stay relative to the file's bytes. An HTML file is decoded in the charset its
/// `<meta>` declares (Error::NotTextIn if it does not decode), and Error::NoArticle if it has
/// text but no story.
pub fn load(path: &Path) -> Result<Document> {
    load_with(path, &ReadOptions::default())
}

/// [`load`], reading as `options` say.
pub fn load_with(path: &Path, options: &ReadOptions) -> Result<Document> {
    let bytes = std::fs::read(path).map_err(|source| Error::input(path, source))?;
    parse_file_bytes(&bytes, path, options)
}

/// A file's bytes read exactly as [`load_with`] reads the file at `path` (a queued job
/// carries an article file's bytes to a worker that does not have the file).
pub fn parse_file_bytes(bytes: &[u8], path: &Path, options: &ReadOptions) -> Result<Document> {
    let keep_all = options.keep_all;
    let format = Format::from_extension(path);
    if format == Some(Format::Html) || (format.is_none() && html::looks_like_html(bytes)) {
        let contents = decode_page(bytes, None, true, path)?;
        return parse_with(&contents, Format::Html, path, options);
    }
    let contents = decode_text(bytes).map_err(|offset| Error::NotText {
        path: path.to_path_buf(),
        offset,
    })?;
    let format = Format::detect(path, contents);
    parse_titled(
        contents,
        format,
        path,
        &title_from_file_name(path),
        keep_all,
    )
}

/// A passage given as text (`aloud preview --text`): no title line, every line spoken.
pub fn parse_passage(text: &str) -> Result<Document> {
    let document = text::parse_passage(text, "Preview");
    if document.is_empty() {
        return Err(Error::Usage {
            message: "--text: there is nothing to say in it".to_string(),
        });
    }
    Ok(document)
}

/// Parses text already in memory; `name` is for error messages and for a fallback title
/// (file stem). A leading BOM is skipped; source offsets stay relative to `contents`.
pub fn parse(contents: &str, format: Format, name: &Path) -> Result<Document> {
    parse_with(contents, format, name, &ReadOptions::default())
}

/// [`parse`], reading as `options` say.
pub fn parse_with(
    contents: &str,
    format: Format,
    name: &Path,
    options: &ReadOptions,
) -> Result<Document> {
    let fallback_title = title_from_file_name(name);
    parse_titled(contents, format, name, &fallback_title, options.keep_all)
}

fn parse_titled(
    contents: &str,
    format: Format,
    name: &Path,
    fallback_title: &str,
    keep_all: bool,
) -> Result<Document> {
    // Parsers must not see the BOM (it would hide a leading `# Title`), but ranges have to
    // index the original bytes, so parse what follows it and shift every range back.
    let body = contents.strip_prefix(BYTE_ORDER_MARK).unwrap_or(contents);
    let body_offset = contents.len() - body.len();
    let mut document = match format {
        Format::Text => text::parse(body, fallback_title, keep_all),
        Format::Markdown => markdown::parse(body, fallback_title),
        Format::Html => match html::parse(body, fallback_title, keep_all) {
            html::Outcome::Article(document) => document,
            html::Outcome::Blank => Document {
                title: fallback_title.to_string(),
                chapters: Vec::new(),
                dropped: Vec::new(),
            },
            html::Outcome::NoArticle => {
                return Err(Error::NoArticle {
                    input: name.display().to_string(),
                });
            }
        },
    };
    if document.is_empty() {
        // Text that was all page furniture has no story, as a page of only links has none.
        if !document.dropped.is_empty() {
            return Err(Error::NoArticle {
                input: name.display().to_string(),
            });
        }
        return Err(Error::EmptyInput {
            path: name.to_path_buf(),
        });
    }
    shift_sources(&mut document, body_offset);
    Ok(document)
}

/// Where an article comes from, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
    /// Standard input (`-`).
    Stdin,
}

/// How standard input is named in errors.
pub const STDIN_NAME: &str = "standard input";

/// URL schemes that are refused by name even without `//` (`mailto:x`): anything else
/// before a colon could be part of a file name.
const OTHER_URL_SCHEMES: &[&str] = &[
    "file",
    "ftp",
    "ftps",
    "sftp",
    "data",
    "javascript",
    "mailto",
    "about",
    "blob",
    "gopher",
    "ws",
    "wss",
];

impl Source {
    /// `-` is standard input; `http://...` and `https://...` are URLs; another URL scheme
    /// (`file:`, `ftp:`, anything with `://`) is Error::UnsupportedScheme; the rest are files.
    pub fn parse(arg: &str) -> Result<Source> {
        if arg == "-" {
            return Ok(Source::Stdin);
        }
        let Some((scheme, rest)) = arg.split_once(':') else {
            return Ok(Source::File(PathBuf::from(arg)));
        };
        let is_scheme = scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        let scheme_lower = scheme.to_ascii_lowercase();
        if !is_scheme
            || !(rest.starts_with("//") || OTHER_URL_SCHEMES.contains(&scheme_lower.as_str()))
        {
            return Ok(Source::File(PathBuf::from(arg)));
        }
        match scheme_lower.as_str() {
            "http" | "https" => {
                fetch::check_url(arg)?;
                Ok(Source::Url(arg.to_string()))
            }
            _ => Err(Error::UnsupportedScheme {
                url: arg.to_string(),
                scheme: scheme.to_string(),
            }),
        }
    }

    /// The WAV name to use when none is given, in the current directory: a file's stem
    /// (`story.md` -> `story.wav`); for a URL its last path segment without extension, or
    /// its host; for standard input the article's title. Only `[A-Za-z0-9._-]` are kept.
    pub fn default_output(&self, document: &Document) -> PathBuf {
        match self {
            Source::Stdin => Self::named_wav(file_name_safe(&document.title)),
            _ => self.default_name(),
        }
    }

    /// [`Source::default_output`] for what can be named before it is read: a file's stem,
    /// a URL's last segment or host (standard input is `article.wav`).
    pub fn default_name(&self) -> PathBuf {
        match self {
            Source::File(path) => {
                let stem = path.file_stem().unwrap_or(path.as_os_str());
                PathBuf::from(stem).with_extension("wav")
            }
            Source::Url(url) => Self::named_wav(url_stem(url)),
            Source::Stdin => Self::named_wav(String::new()),
        }
    }

    fn named_wav(stem: String) -> PathBuf {
        let stem = if stem.is_empty() {
            "article".to_string()
        } else {
            stem
        };
        PathBuf::from(format!("{stem}.wav"))
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Url(url) => f.write_str(url),
            Source::Stdin => f.write_str(STDIN_NAME),
        }
    }
}

/// `https://example.com/news/2025/ferry-night-service.html?x=1` -> `ferry-night-service`;
/// `https://example.com/` -> `example.com`.
fn url_stem(url: &str) -> String {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return String::new();
    };
    let segment = parsed
        .path_segments()
        .and_then(|mut segments| segments.rfind(|segment| !segment.is_empty()))
        .map(|segment| {
            let segment = segment.split('.').next().unwrap_or(segment);
            file_name_safe(segment)
        })
        .filter(|segment| !segment.is_empty());
    segment.unwrap_or_else(|| file_name_safe(parsed.host_str().unwrap_or_default()))
}

/// Words of `text` joined by `-`, keeping ASCII letters, digits, `.` and `_`; at most 80
/// characters.
fn file_name_safe(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let joined = cleaned.split_whitespace().collect::<Vec<_>>().join("-");
    let joined = joined.trim_matches(|c| c == '.' || c == '-');
    joined.chars().take(80).collect()
}

/// Loads an article from a file, a URL (with [`FetchOptions::default`]) or standard input.
/// Blocking; from async code use [`load_source_async`].
pub fn load_source(source: &Source) -> Result<Document> {
    load_source_with(source, &ReadOptions::default())
}

/// [`load_source`] with explicit limits (they bound standard input's size, too) and cleaning.
pub fn load_source_with(source: &Source, options: &ReadOptions) -> Result<Document> {
    match source {
        Source::File(path) => load_with(path, options),
        Source::Url(url) => {
            parse_fetched_with(&fetch::fetch_blocking(url, &options.fetch)?, options)
        }
        Source::Stdin => read_input_with(std::io::stdin().lock(), STDIN_NAME, options),
    }
}

/// [`load_source_with`] for async callers: the fetch is async, file and stdin reads run on
/// tokio's blocking pool.
pub async fn load_source_async(source: &Source, options: &ReadOptions) -> Result<Document> {
    let blocking_failed = |error: tokio::task::JoinError| {
        Error::io(
            source.to_string(),
            std::io::Error::other(format!("reading thread failed: {error}")),
        )
    };
    match source {
        Source::File(path) => {
            let (path, options) = (path.clone(), options.clone());
            tokio::task::spawn_blocking(move || load_with(&path, &options))
                .await
                .map_err(blocking_failed)?
        }
        Source::Url(url) => parse_fetched_with(&fetch::fetch(url, &options.fetch).await?, options),
        Source::Stdin => {
            let options = options.clone();
            tokio::task::spawn_blocking(move || {
                read_input_with(std::io::stdin().lock(), STDIN_NAME, &options)
            })
            .await
            .map_err(blocking_failed)?
        }
    }
}

/// Reads an article from any reader (standard input, in the binary), at most `max_bytes` of
/// it (Error::TooLarge past that), and detects its format from the contents. `name` is for
/// error messages. Source offsets index what was read.
pub fn read_input(reader: impl Read, name: &str, max_bytes: u64) -> Result<Document> {
    let options = ReadOptions {
        fetch: FetchOptions {
            max_bytes,
            ..FetchOptions::default()
        },
        keep_all: false,
    };
    read_input_with(reader, name, &options)
}

/// [`read_input`], reading as `options` say (`options.fetch.max_bytes` is the limit).
pub fn read_input_with(reader: impl Read, name: &str, options: &ReadOptions) -> Result<Document> {
    let max_bytes = options.fetch.max_bytes;
    let mut bytes = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| Error::io(name, source))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::TooLarge {
            input: name.to_string(),
            limit: max_bytes,
        });
    }
    let path = Path::new(name);
    if Format::sniff(&bytes) == Format::Html {
        let contents = decode_page(&bytes, None, true, path)?;
        return parse_titled(&contents, Format::Html, path, UNTITLED, options.keep_all);
    }
    let contents = decode_text(&bytes).map_err(|offset| Error::NotText {
        path: path.to_path_buf(),
        offset,
    })?;
    let format = Format::sniff(&bytes);
    parse_titled(contents, format, path, UNTITLED, options.keep_all)
}

/// Turns a fetched page into a Document: its Content-Type decides the format (HTML, plain
/// text or Markdown; without one, the contents do) and its charset parameter the decoding.
pub fn parse_fetched(page: &Fetched) -> Result<Document> {
    parse_fetched_with(page, &ReadOptions::default())
}

/// [`parse_fetched`], reading as `options` say.
pub fn parse_fetched_with(page: &Fetched, options: &ReadOptions) -> Result<Document> {
    let content_type = page.content_type.as_deref().unwrap_or_default();
    let essence = fetch::mime_essence(content_type);
    if !content_type.is_empty() && !fetch::is_narratable(content_type) {
        return Err(Error::UnsupportedContent {
            url: page.url.clone(),
            content_type: content_type.to_string(),
        });
    }
    let format = match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Format::Html,
        "text/markdown" | "text/x-markdown" => Format::Markdown,
        // Servers label many a page text/plain, or nothing at all.
        _ => Format::sniff(&page.body),
    };
    let charset = fetch::charset_parameter(content_type);
    let name = Path::new(&page.url);
    let contents = decode_page(&page.body, charset, format == Format::Html, name)?;
    let fallback_title = url_title(&page.url);
    parse_titled(&contents, format, name, &fallback_title, options.keep_all)
}

const UNTITLED: &str = "Untitled";

/// `https://example.com/news/ferry-night-service.html` -> `ferry night service`.
fn url_title(url: &str) -> String {
    let stem = url_stem(url).replace(['-', '_'], " ");
    let title = spoken_text(&stem);
    if title.is_empty() {
        UNTITLED.to_string()
    } else {
        title
    }
}

/// Decodes a page or a fetched text (see `html::decode`), naming `name` if it is not text.
fn decode_page(
    bytes: &[u8],
    declared_charset: Option<&str>,
    sniff_meta: bool,
    name: &Path,
) -> Result<String> {
    html::decode(bytes, declared_charset, sniff_meta).map_err(|undecodable| {
        if undecodable.encoding == encoding_rs::UTF_8 {
            Error::NotText {
                path: name.to_path_buf(),
                offset: undecodable.offset,
            }
        } else {
            Error::NotTextIn {
                input: name.display().to_string(),
                charset: undecodable.encoding.name().to_string(),
                offset: undecodable.offset,
            }
        }
    })
}

/// The file as text, or the offset of the first byte that shows it is not: invalid UTF-8,
/// or a NUL, which text never contains but binaries (and UTF-16) nearly always do.
fn decode_text(bytes: &[u8]) -> std::result::Result<&str, usize> {
    let first_nul = bytes.iter().position(|&byte| byte == 0);
    match (std::str::from_utf8(bytes), first_nul) {
        (Ok(text), None) => Ok(text),
        (Ok(_), Some(nul)) => Err(nul),
        (Err(invalid), None) => Err(invalid.valid_up_to()),
        (Err(invalid), Some(nul)) => Err(invalid.valid_up_to().min(nul)),
    }
}

fn shift_sources(document: &mut Document, by: usize) {
    if by == 0 {
        return;
    }
    for dropped in &mut document.dropped {
        dropped.source = dropped.source.start + by..dropped.source.end + by;
    }
    for chapter in &mut document.chapters {
        let paragraph_sentences = chapter
            .paragraphs
            .iter_mut()
            .flat_map(|paragraph| paragraph.sentences.iter_mut());
        for sentence in chapter.heading.iter_mut().chain(paragraph_sentences) {
            sentence.source = sentence.source.start + by..sentence.source.end + by;
        }
    }
}

/// `my-first_post.md` -> `my first post`: something speakable when the source has no title.
fn title_from_file_name(name: &Path) -> String {
    let stem = name
        .file_stem()
        .map(|stem| stem.to_string_lossy())
        .unwrap_or_default();
    let title = spoken_text(&stem.replace(['-', '_'], " "));
    if title.is_empty() {
        "Untitled".to_string()
    } else {
        title
    }
}

/// Text as it is spoken: runs of whitespace, line breaks included, become one space.
fn spoken_text(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits `text` into sentences. `to_source` maps a (trimmed) byte range of `text` to the
/// range of the source file it was taken from.
fn sentences_in(text: &str, to_source: impl Fn(Range<usize>) -> Range<usize>) -> Vec<Sentence> {
    split_sentences(text)
        .into_iter()
        .map(|range| Sentence {
            text: spoken_text(&text[range.clone()]),
            source: to_source(range),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A file in a fresh directory that is removed when the test ends.
    struct TempFile {
        dir: PathBuf,
        path: PathBuf,
    }

    impl TempFile {
        fn new(name: &str, bytes: &[u8]) -> TempFile {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "aloud-ingest-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            let path = dir.join(name);
            std::fs::write(&path, bytes).expect("write temp file");
            TempFile { dir, path }
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn assert_sources_match_text(contents: &str, document: &Document) {
        for sentence in document.spoken_sentences() {
            let source = contents
                .get(sentence.source.clone())
                .unwrap_or_else(|| panic!("bad source range {:?}", sentence.source));
            assert_eq!(spoken_text(source), sentence.text);
        }
    }

    #[test]
    fn detects_format_from_extension_then_contents() {
        let cases = [
            ("a.md", "plain words", Format::Markdown),
            ("a.MARKDOWN", "plain words", Format::Markdown),
            ("a.txt", "# Looks like markdown", Format::Text),
            ("a", "Title\n\n## Section\n", Format::Markdown),
            ("a.html", "# Heading", Format::Html),
            ("a.HTM", "plain words", Format::Html),
            ("a", "<!DOCTYPE html><p>x", Format::Html),
            ("a", "\u{feff} <!-- c --> <html lang=en>", Format::Html),
            ("a", "<htmlx>", Format::Text),
            ("a.txt", "<!doctype html>", Format::Text),
            ("a", "\u{feff}# Heading after a BOM", Format::Markdown),
            ("a", "#hashtag is not a heading\nplain", Format::Text),
            ("a", "Just text.\n\nMore text.", Format::Text),
        ];
        for (path, contents, expected) in cases {
            assert_eq!(
                Format::detect(Path::new(path), contents),
                expected,
                "{path} {contents:?}"
            );
        }
    }

    #[test]
    fn fallback_title_prettifies_the_file_stem() {
        assert_eq!(
            title_from_file_name(Path::new("dir/my-first_post.md")),
            "my first post"
        );
        assert_eq!(title_from_file_name(Path::new("")), "Untitled");
    }

    #[test]
    fn loads_plain_text_with_offsets_into_the_file() {
        let contents = "My Title\n\nFirst sentence. Second one.\n";
        let file = TempFile::new("article.txt", contents.as_bytes());
        let document = load(&file.path).expect("loads");
        assert_eq!(document.title, "My Title");
        let texts: Vec<&str> = document
            .spoken_sentences()
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(texts, ["My Title", "First sentence.", "Second one."]);
        assert_sources_match_text(contents, &document);
    }

    #[test]
    fn sniffs_markdown_without_an_extension() {
        let file = TempFile::new("notes", b"# Heading\n\nSome *text* here.\n");
        let document = load(&file.path).expect("loads");
        assert_eq!(document.title, "Heading");
        let texts: Vec<&str> = document
            .spoken_sentences()
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(texts, ["Heading", "Some text here."]);
    }

    #[test]
    fn byte_order_mark_is_skipped_but_offsets_count_it() {
        for (name, body) in [
            ("bom.txt", "Title\n\nHello there."),
            ("bom.md", "# Title\n\nHello there."),
        ] {
            let contents = format!("\u{feff}{body}");
            let file = TempFile::new(name, contents.as_bytes());
            let document = load(&file.path).expect("loads");
            assert_eq!(document.title, "Title", "{name}");
            let heading = document.chapters[0].heading.as_ref().expect("heading");
            let title_at = contents.find("Title").expect("title in contents");
            assert_eq!(heading.source, title_at..title_at + "Title".len(), "{name}");
            assert_eq!(heading.source.start, 3 + body.find("Title").expect("title"));
            assert_sources_match_text(&contents, &document);
        }
    }

    #[test]
    fn invalid_utf8_reports_the_offset_of_the_bad_byte() {
        let mut bytes = b"Title\n\nGood text, then ".to_vec();
        let bad_at = bytes.len();
        bytes.extend_from_slice(&[0xC3, 0x28, b'.']);
        let file = TempFile::new("latin1.txt", &bytes);
        match load(&file.path) {
            Err(Error::NotText { offset, path }) => {
                assert_eq!(offset, bad_at);
                assert_eq!(path, file.path);
            }
            other => panic!("expected NotText, got {other:?}"),
        }
    }

    #[test]
    fn nul_bytes_mean_a_binary() {
        let file = TempFile::new("image.txt", b"PNG\0\x01\x02 looks like text");
        match load(&file.path) {
            Err(Error::NotText { offset, .. }) => assert_eq!(offset, 3),
            other => panic!("expected NotText, got {other:?}"),
        }
    }

    #[test]
    fn the_first_bad_byte_wins_between_nul_and_invalid_utf8() {
        assert_eq!(decode_text(b"ab\xffcd\0"), Err(2));
        assert_eq!(decode_text(b"ab\0cd\xff"), Err(2));
        assert_eq!(decode_text("é ok".as_bytes()), Ok("é ok"));
    }

    #[test]
    fn nothing_to_narrate_is_empty_input() {
        let cases: [(&str, &str); 6] = [
            ("empty.txt", ""),
            ("blank.txt", "  \n\n\t \n"),
            ("empty.md", ""),
            ("blank.md", "\n   \n"),
            ("code.md", "```rust\nfn main() {}\n```\n"),
            ("image.md", "![a picture](cat.png)\n\n<!-- a comment -->\n"),
        ];
        for (name, contents) in cases {
            let file = TempFile::new(name, contents.as_bytes());
            match load(&file.path) {
                Err(Error::EmptyInput { path }) => assert_eq!(path, file.path),
                other => panic!("{name}: expected EmptyInput, got {other:?}"),
            }
        }
    }

    #[test]
    fn text_that_is_all_page_furniture_has_no_article_unless_everything_is_kept() {
        let file = TempFile::new("widgets.txt", b"Share\nEmail\n\nAdvertisement\n");
        match load(&file.path) {
            Err(Error::NoArticle { input }) => assert!(input.ends_with("widgets.txt")),
            other => panic!("expected NoArticle, got {other:?}"),
        }
        let keep_all = ReadOptions {
            keep_all: true,
            ..ReadOptions::default()
        };
        let document = load_with(&file.path, &keep_all).expect("kept");
        assert_eq!(document.sentence_count(), 3);
    }

    #[test]
    fn parse_reports_empty_input_with_the_given_name() {
        match parse("   ", Format::Text, Path::new("inline")) {
            Err(Error::EmptyInput { path }) => assert_eq!(path, Path::new("inline")),
            other => panic!("expected EmptyInput, got {other:?}"),
        }
    }

    #[test]
    fn missing_file_is_input_not_found() {
        let path = std::env::temp_dir().join("aloud-definitely-missing/article.md");
        match load(&path) {
            Err(Error::InputNotFound { path: reported }) => assert_eq!(reported, path),
            other => panic!("expected InputNotFound, got {other:?}"),
        }
    }

    #[test]
    fn a_directory_is_an_io_error() {
        let file = TempFile::new("x.txt", b"x");
        match load(&file.dir) {
            Err(Error::Io { path, .. }) => assert_eq!(path, file.dir),
            other => panic!("expected Io, got {other:?}"),
        }
    }

    #[test]
    fn seed_article_loses_no_text() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/seed-article.txt");
        if !path.exists() {
            eprintln!(
                "skipping: {} is absent, so the seed article cannot be checked",
                path.display()
            );
            return;
        }
        let contents = std::fs::read_to_string(&path).expect("seed article is UTF-8");
        let keep_all = ReadOptions {
            keep_all: true,
            ..ReadOptions::default()
        };
        let whole = load_with(&path, &keep_all).expect("seed article loads");
        assert!(whole.dropped.is_empty());
        let cleaned = load(&path).expect("seed article loads");
        for document in [&whole, &cleaned] {
            assert_sources_match_text(&contents, document);
        }

        // Kept whole, every character is spoken, in order.
        let mut previous_end = 0;
        for sentence in whole.spoken_sentences() {
            assert!(previous_end <= sentence.source.start, "out of order");
            previous_end = sentence.source.end;
        }
        let spoken: String = whole
            .spoken_sentences()
            .flat_map(|s| s.text.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let original: String = contents.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(spoken, original);
        // A splitter that never split would pass the checks above; this article has 18
        // sentences (counted by hand), including an `Oct. 19, 2023.` that must stay whole.
        assert!(whole.sentence_count() >= 15, "{}", whole.sentence_count());
        let date = "Thursday, Oct. 19, 2023.";
        if contents.contains(date) {
            assert!(
                whole.spoken_sentences().any(|s| s.text.ends_with(date)),
                "split inside {date:?}"
            );
        }

        // Cleaned, what is not spoken is listed as dropped, and together they are the text.
        let mut pieces: Vec<Range<usize>> = cleaned
            .spoken_sentences()
            .map(|s| s.source.clone())
            .chain(cleaned.dropped.iter().map(|d| d.source.clone()))
            .collect();
        pieces.sort_by_key(|range| range.start);
        let accounted: String = pieces
            .iter()
            .flat_map(|range| contents[range.clone()].chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        assert_eq!(accounted, original);
    }
}
