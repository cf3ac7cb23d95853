//! Batch manifests: the articles a batch narrates (TOML, JSON Lines, or a directory), each with an optional voice and output path inside the output directory.
//!
//! TOML:
//! ```toml
//! voice = "joe"              # optional: the default for every article
//! [[article]]
//! input = "stories/budget.txt"
//! [[article]]
//! input = "https://example.com/news/ferry.html"
//! voice = "openai-alloy"
//! output = "ferry/ferry.mp3"
//! ```
//! JSON Lines: one article per line, `{"input": "...", "voice": "...", "output": "..."}` or
//! just `"path.md"`; blank lines and lines starting with `#` are skipped.
//!
//! A directory: every `.txt`, `.md`, `.markdown`, `.html` and `.htm` under it (hidden entries
//! and earlier batch outputs skipped), each output at the same relative path as a `.wav`.
//!
//! Relative inputs are relative to the manifest's directory. Outputs are relative to the
//! batch's output directory and may not leave it; any problem with the manifest itself is
//! found before anything is narrated.

use crate::error::{Error, Result};
use crate::ingest::Source;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// The directory, inside a batch's output directory, where its progress is kept.
pub const STATE_DIR: &str = ".aloud-batch";

/// Article extensions a directory manifest takes.
const ARTICLE_EXTENSIONS: &[&str] = &["txt", "md", "markdown", "html", "htm"];

/// The articles of a batch, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub path: PathBuf,
    pub articles: Vec<Article>,
}

/// One article of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// Where the manifest names it: `line 3`, `article 2`, or the file's relative path.
    pub place: String,
    pub source: Source,
    /// A voice for this article alone.
    pub voice: Option<String>,
    /// The output's path relative to the batch's output directory (`.wav` or `.mp3`).
    pub output: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlManifest {
    voice: Option<String>,
    #[serde(default, alias = "articles")]
    article: Vec<EntryFields>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFields {
    input: String,
    voice: Option<String>,
    output: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum JsonLine {
    Input(String),
    Fields(EntryFields),
}

impl Manifest {
    /// Reads a manifest: a directory of articles, a `.toml`, or JSON Lines (`.jsonl`,
    /// `.ndjson`, `.json`; another name is sniffed by its first character).
    pub fn load(path: &Path) -> Result<Manifest> {
        if path.is_dir() {
            return Self::from_directory(path);
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e))?;
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let json_lines = match extension.as_deref() {
            Some("toml") => false,
            Some("jsonl" | "ndjson" | "json") => true,
            _ => text.trim_start().starts_with(['{', '"']),
        };
        if json_lines {
            Self::from_json_lines(&text, path)
        } else {
            Self::from_toml(&text, path)
        }
    }

    /// Parses TOML text; relative inputs are resolved against `path`'s directory.
    pub fn from_toml(text: &str, path: &Path) -> Result<Manifest> {
        let parsed: TomlManifest = toml::from_str(text).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            place: match e.span() {
                Some(span) => format!("line {}", line_of(text, span.start)),
                None => "TOML".to_string(),
            },
            message: e.message().to_string(),
        })?;
        let entries = parsed
            .article
            .into_iter()
            .enumerate()
            .map(|(i, mut fields)| {
                fields.voice = fields.voice.or_else(|| parsed.voice.clone());
                (format!("article {}", i + 1), fields)
            })
            .collect();
        Self::build(path, entries)
    }

    /// Parses JSON Lines; relative inputs are resolved against `path`'s directory.
    pub fn from_json_lines(text: &str, path: &Path) -> Result<Manifest> {
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let place = format!("line {}", number + 1);
            let fields = match serde_json::from_str::<JsonLine>(line) {
                Ok(JsonLine::Input(input)) => EntryFields {
                    input,
                    voice: None,
                    output: None,
                },
                Ok(JsonLine::Fields(fields)) => fields,
                Err(e) => {
                    return Err(Error::Manifest {
                        path: path.to_path_buf(),
                        place,
                        message: format!(
                            "expected {{\"input\": ..., \"voice\": ..., \"output\": ...}} or a string: {e}"
                        ),
                    });
                }
            };
            entries.push((place, fields));
        }
        Self::build(path, entries)
    }

    /// Every article file under `dir`, in path order, each output at its relative path.
    pub fn from_directory(dir: &Path) -> Result<Manifest> {
        let mut files = Vec::new();
        collect_articles(dir, dir, &mut files)?;
        files.sort();
        let articles = files
            .into_iter()
            .map(|relative| Article {
                place: relative.display().to_string(),
                source: Source::File(dir.join(&relative)),
                voice: None,
                output: relative.with_extension("wav"),
            })
            .collect::<Vec<_>>();
        if articles.is_empty() {
            return Err(Error::Manifest {
                path: dir.to_path_buf(),
                place: "directory".into(),
                message: format!(
                    "no articles in it (looked for {})",
                    ARTICLE_EXTENSIONS
                        .iter()
                        .map(|e| format!(".{e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        Ok(Manifest {
            path: dir.to_path_buf(),
            articles,
        })
    }

    fn build(path: &Path, entries: Vec<(String, EntryFields)>) -> Result<Manifest> {
        // A manifest in the current directory leaves its relative inputs as they are.
        let base = path.parent().unwrap_or(Path::new(""));
        let fail = |place: &str, message: String| Error::Manifest {
            path: path.to_path_buf(),
            place: place.to_string(),
            message,
        };
        let mut articles = Vec::with_capacity(entries.len());
        let mut named = Vec::with_capacity(entries.len());
        for (place, fields) in entries {
            named.push(fields.output.is_some());
            let source = match Source::parse(fields.input.trim()) {
                Ok(Source::Stdin) => {
                    return Err(fail(
                        &place,
                        "standard input cannot be a batch article".into(),
                    ));
                }
                Ok(Source::File(file)) if file.is_relative() => Source::File(base.join(file)),
                Ok(source) => source,
                Err(e) => return Err(fail(&place, e.to_string())),
            };
            let output = match &fields.output {
                Some(output) => inside_output_dir(output).map_err(|m| fail(&place, m))?,
                None => source.default_name(),
            };
            articles.push(Article {
                place,
                source,
                voice: fields.voice.filter(|v| !v.trim().is_empty()),
                output,
            });
        }
        if articles.is_empty() {
            return Err(fail("manifest", "it lists no articles".into()));
        }
        disambiguate_outputs(&mut articles, &named).map_err(|(place, m)| fail(&place, m))?;
        Ok(Manifest {
            path: path.to_path_buf(),
            articles,
        })
    }
}

/// Checks an output path from a manifest: relative, no `..`, ending `.wav` or `.mp3`.
fn inside_output_dir(output: &str) -> std::result::Result<PathBuf, String> {
    let path = PathBuf::from(output.trim());
    let leaves = path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if path.as_os_str().is_empty() || leaves {
        return Err(format!(
            "output \"{output}\" must be a relative path inside the output directory (no leading /, no ..)"
        ));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(extension.as_deref(), Some("wav" | "mp3")) {
        return Err(format!("output \"{output}\" must end in .wav or .mp3"));
    }
    Ok(path)
}

/// Two articles may not share an output: a default name that is taken gets `-2`, `-3`, ...;
/// an output the manifest names twice is an error. Names differing only in case collide too
/// (they are one file on some filesystems).
fn disambiguate_outputs(
    articles: &mut [Article],
    named: &[bool],
) -> std::result::Result<(), (String, String)> {
    let key = |p: &Path| p.to_string_lossy().to_lowercase();
    let mut taken: HashMap<String, String> = HashMap::new();
    for (article, named) in articles.iter_mut().zip(named) {
        if let Some(first) = taken.get(&key(&article.output)) {
            if *named {
                return Err((
                    article.place.clone(),
                    format!("output {} is also {first}'s", article.output.display()),
                ));
            }
            let stem = article
                .output
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let free = (2..)
                .map(|n| article.output.with_file_name(format!("{stem}-{n}.wav")))
                .find(|candidate| !taken.contains_key(&key(candidate)));
            if let Some(free) = free {
                article.output = free;
            }
        }
        taken.insert(key(&article.output), article.place.clone());
    }
    Ok(())
}

fn collect_articles(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            // An earlier batch's output directory holds no articles of its own.
            if !path.join(STATE_DIR).exists() {
                collect_articles(root, &path, found)?;
            }
        } else if is_article(&path)
            && let Ok(relative) = path.strip_prefix(root)
        {
            found.push(relative.to_path_buf());
        }
    }
    Ok(())
}

fn is_article(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ARTICLE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(manifest: &Manifest) -> Vec<String> {
        manifest
            .articles
            .iter()
            .map(|a| a.output.display().to_string())
            .collect()
    }

    #[test]
    fn toml_articles_take_the_default_voice_and_resolve_against_the_manifest() {
        let text = r#"
voice = "joe"
[[article]]
input = "stories/budget.txt"
[[article]]
input = "https://example.com/news/ferry.html?x=1"
voice = "openai-alloy"
output = "audio/ferry.mp3"
"#;
        let manifest = Manifest::from_toml(text, Path::new("/jobs/today.toml")).unwrap();
        let [first, second] = &manifest.articles[..] else {
            panic!("two articles")
        };
        assert_eq!(
            first.source,
            Source::File(PathBuf::from("/jobs/stories/budget.txt"))
        );
        assert_eq!(first.voice.as_deref(), Some("joe"));
        assert_eq!(first.output, PathBuf::from("budget.wav"));
        assert_eq!(
            second.source,
            Source::Url("https://example.com/news/ferry.html?x=1".into())
        );
        assert_eq!(second.voice.as_deref(), Some("openai-alloy"));
        assert_eq!(second.output, PathBuf::from("audio/ferry.mp3"));
        assert_eq!(second.place, "article 2");
    }

    #[test]
    fn json_lines_take_objects_or_strings_and_name_the_bad_line() {
        let text = "# today\n\"a.md\"\n\n{\"input\": \"b.txt\", \"voice\": \"joe\"}\n";
        let manifest = Manifest::from_json_lines(text, Path::new("m.jsonl")).unwrap();
        assert_eq!(outputs(&manifest), ["a.wav", "b.wav"]);
        assert_eq!(manifest.articles[1].place, "line 4");

        let bad = "\"a.md\"\n{\"input\": \"b.txt\", \"speed\": 2}\n";
        let message = Manifest::from_json_lines(bad, Path::new("m.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("manifest m.jsonl: line 2:"),
            "{message}"
        );
    }

    #[test]
    fn outputs_may_not_leave_the_output_directory() {
        for output in ["../x.wav", "/tmp/x.wav", "a/../../x.wav", "x.ogg", ""] {
            let text = format!("[[article]]\ninput = \"a.md\"\noutput = \"{output}\"\n");
            let error = Manifest::from_toml(&text, Path::new("m.toml")).unwrap_err();
            assert!(error.to_string().contains("article 1"), "{output}: {error}");
        }
        let fine = "[[article]]\ninput = \"a.md\"\noutput = \"./deep/er/x.mp3\"\n";
        assert!(Manifest::from_toml(fine, Path::new("m.toml")).is_ok());
    }

    #[test]
    fn default_outputs_that_collide_are_numbered_and_named_ones_refused() {
        let text = "\"one/story.md\"\n\"two/story.txt\"\n\"three/Story.html\"\n";
        let manifest = Manifest::from_json_lines(text, Path::new("m.jsonl")).unwrap();
        assert_eq!(
            outputs(&manifest),
            ["story.wav", "story-2.wav", "Story-3.wav"]
        );

        let named = "{\"input\": \"a.md\", \"output\": \"x.wav\"}\n{\"input\": \"b.md\", \"output\": \"X.wav\"}\n";
        let message = Manifest::from_json_lines(named, Path::new("m.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("line 2") && message.contains("line 1's"),
            "{message}"
        );
    }

    #[test]
    fn standard_input_and_other_schemes_are_refused_by_place() {
        for input in ["-", "ftp://example.com/a.txt"] {
            let text = format!("\"a.md\"\n\"{input}\"\n");
            let message = Manifest::from_json_lines(&text, Path::new("m.jsonl"))
                .unwrap_err()
                .to_string();
            assert!(message.contains("line 2"), "{input}: {message}");
        }
    }

    #[test]
    fn a_directory_lists_its_articles_recursively_skipping_outputs_and_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("world")).unwrap();
        std::fs::create_dir_all(root.join("out").join(STATE_DIR)).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for file in [
            "b.md",
            "a.TXT",
            "world/c.html",
            "notes.pdf",
            ".draft.md",
            "out/old.md",
            ".git/x.md",
        ] {
            std::fs::write(root.join(file), "x").unwrap();
        }
        let manifest = Manifest::load(root).unwrap();
        assert_eq!(outputs(&manifest), ["a.wav", "b.wav", "world/c.wav"]);
        assert_eq!(manifest.articles[2].place, "world/c.html");

        let empty = tempfile::tempdir().unwrap();
        let message = Manifest::load(empty.path()).unwrap_err().to_string();
        assert!(message.contains("no articles"), "{message}");
    }

    #[test]
    fn a_toml_error_names_its_line() {
        let text = "[[article]]\ninput = \"a.md\"\n\n[[article]]\nimput = \"b.md\"\n";
        let message = Manifest::from_toml(text, Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("manifest m.toml: line 5"), "{message}");
    }
}
