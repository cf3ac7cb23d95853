//! Timing sidecars written beside the audio, all from one timeline: the JSON timeline, WebVTT captions and chapters, SRT, ffmetadata, Podcasting 2.0 chapters and a CUE sheet.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// When each chapter and sentence is heard, in seconds, with each sentence's source bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub title: String,
    pub voice: String,
    pub sample_rate: u32,
    pub duration: f64,
    pub chapters: Vec<TimedChapter>,
    pub sentences: Vec<TimedSentence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedChapter {
    pub title: String,
    pub start: f64,
    pub end: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedSentence {
    /// The sentence as written.
    pub text: String,
    /// What the backend was asked to say.
    pub spoken: String,
    pub start: f64,
    pub end: f64,
    /// Byte range `[start, end)` of the sentence in the source file.
    pub source: [usize; 2],
    /// When each word is heard, from backends that report it (Google, Polly, ElevenLabs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<TimedWord>,
    /// What the sentence begins, so a reader can lay the transcript out again (the read-along
    /// player does): a chapter's spoken heading or a paragraph. Absent for a sentence inside a
    /// paragraph, and in timelines written before aloud recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts: Option<Starts>,
}

/// The block a sentence opens (`"starts": "heading"` or `"paragraph"` in the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Starts {
    Heading,
    Paragraph,
}

/// One word of a sentence's spoken form, as the backend timed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedWord {
    pub text: String,
    pub start: f64,
    pub end: f64,
    /// Byte range `[start, end)` of the word in the sentence's `spoken` text.
    pub spoken: [usize; 2],
}

/// `article.wav` -> `article.timeline.json`, in the same directory.
pub fn timeline_path(audio: &Path) -> PathBuf {
    SidecarKind::Timeline.path(audio)
}

/// A sidecar fully written to a temporary file in its final directory, renamed into place by
/// [`PreparedSidecar::commit`] once the audio it describes is in place.
pub type PreparedSidecar = crate::fs::Prepared;

/// A sidecar format `--sidecars` can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SidecarKind {
    /// `OUT.timeline.json`: chapters, sentences (and words) with source offsets.
    Timeline,
    /// `OUT.vtt`: WebVTT captions, one cue per sentence.
    Vtt,
    /// `OUT.chapters.vtt`: WebVTT chapters, one cue per chapter.
    ChaptersVtt,
    /// `OUT.srt`: SubRip captions, one per sentence.
    Srt,
    /// `OUT.ffmeta`: ffmpeg metadata with chapters (`-map_chapters` makes an audiobook).
    Ffmetadata,
    /// `OUT.chapters.json`: Podcasting 2.0 JSON chapters.
    PodcastChapters,
    /// `OUT.cue`: a CUE sheet, one track per chapter.
    Cue,
}

impl SidecarKind {
    pub const ALL: [SidecarKind; 7] = [
        SidecarKind::Timeline,
        SidecarKind::Vtt,
        SidecarKind::ChaptersVtt,
        SidecarKind::Srt,
        SidecarKind::Ffmetadata,
        SidecarKind::PodcastChapters,
        SidecarKind::Cue,
    ];
    /// Written when nobody says: the timeline and captions.
    pub const DEFAULT: [SidecarKind; 2] = [SidecarKind::Timeline, SidecarKind::Vtt];

    pub fn name(self) -> &'static str {
        match self {
            SidecarKind::Timeline => "timeline",
            SidecarKind::Vtt => "vtt",
            SidecarKind::ChaptersVtt => "chapters-vtt",
            SidecarKind::Srt => "srt",
            SidecarKind::Ffmetadata => "ffmetadata",
            SidecarKind::PodcastChapters => "podcast-chapters",
            SidecarKind::Cue => "cue",
        }
    }

    /// The sidecar's file beside `audio`: `story.wav` -> `story.vtt`, ...
    pub fn path(self, audio: &Path) -> PathBuf {
        audio.with_extension(match self {
            SidecarKind::Timeline => "timeline.json",
            SidecarKind::Vtt => "vtt",
            SidecarKind::ChaptersVtt => "chapters.vtt",
            SidecarKind::Srt => "srt",
            SidecarKind::Ffmetadata => "ffmeta",
            SidecarKind::PodcastChapters => "chapters.json",
            SidecarKind::Cue => "cue",
        })
    }

    /// Parses `vtt,srt`, `all` or `none`.
    pub fn parse_list(text: &str) -> std::result::Result<Vec<SidecarKind>, String> {
        let mut kinds = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "all" => kinds.extend(SidecarKind::ALL),
                "none" => {}
                _ => kinds.push(
                    SidecarKind::ALL
                        .into_iter()
                        .find(|k| {
                            k.name() == name || (name == "json" && *k == SidecarKind::Timeline)
                        })
                        .ok_or_else(|| {
                            format!(
                                "unknown sidecar '{name}' (known: {}, all, none)",
                                SidecarKind::ALL.map(|k| k.name()).join(", ")
                            )
                        })?,
                ),
            }
        }
        let mut seen = std::collections::HashSet::new();
        kinds.retain(|k| seen.insert(*k));
        Ok(kinds)
    }
}

/// `3725.5` -> `01:02:05.500` (WebVTT, Podlove chapters) or `01:02:05,500` (SRT); a negative
/// or non-finite time is 0.
pub(crate) fn timestamp(seconds: f64, separator: char) -> String {
    let millis = if seconds.is_finite() {
        (seconds.max(0.0) * 1000.0).round() as u64
    } else {
        0
    };
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000
    )
}

/// Text safe in a WebVTT cue: `&`, `<` and `>` escaped (so `-->` cannot end a timing line),
/// and no blank lines (a blank line ends a cue).
fn vtt_text(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    one_line(&escaped)
}

/// One cue as WebVTT and SubRip both write it: its id line, its span on clocks whose
/// milliseconds follow `decimal`, and its (already escaped) text.
fn caption_cue(id: &str, start: f64, end: f64, decimal: char, text: &str) -> String {
    format!(
        "{id}\n{} --> {}\n{text}\n",
        timestamp(start, decimal),
        timestamp(end, decimal)
    )
}

/// A WebVTT file: the header, then each cue after a blank line.
fn webvtt_document(cues: impl Iterator<Item = String>) -> String {
    let mut out = String::from("WEBVTT\n");
    for cue in cues {
        out.push('\n');
        out.push_str(&cue);
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ffmetadata escapes `=`, `;`, `#`, `\` and newlines with a backslash.
fn ffmeta_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        if matches!(c, '=' | ';' | '#' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A CUE sheet string: quoted, so double quotes inside become single ones.
fn cue_text(text: &str) -> String {
    one_line(text).replace('"', "'")
}

/// `text` fully written and synced to a temporary file beside `path`.
fn prepare_text(path: &Path, text: &str) -> Result<PreparedSidecar> {
    crate::fs::prepare(path, text.as_bytes())
}

impl Timeline {
    /// The sidecar's contents.
    pub fn render(&self, kind: SidecarKind, audio: &Path) -> String {
        match kind {
            SidecarKind::Timeline => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            SidecarKind::Vtt => self.webvtt(),
            SidecarKind::ChaptersVtt => self.webvtt_chapters(),
            SidecarKind::Srt => self.srt(),
            SidecarKind::Ffmetadata => self.ffmetadata(),
            SidecarKind::PodcastChapters => self.podcast_chapters(),
            SidecarKind::Cue => self.cue_sheet(audio),
        }
    }

    /// WebVTT captions: one cue per sentence, as written.
    pub fn webvtt(&self) -> String {
        webvtt_document(self.sentence_cues('.', vtt_text))
    }

    /// One cue per sentence, numbered from 1, its text as `text` writes it.
    fn sentence_cues(
        &self,
        decimal: char,
        text: fn(&str) -> String,
    ) -> impl Iterator<Item = String> + '_ {
        self.sentences.iter().enumerate().map(move |(i, sentence)| {
            caption_cue(
                &(i + 1).to_string(),
                sentence.start,
                sentence.end,
                decimal,
                &text(&sentence.text),
            )
        })
    }

    /// WebVTT chapters: one cue per chapter, titled.
    pub fn webvtt_chapters(&self) -> String {
        webvtt_document(self.chapters.iter().enumerate().map(|(i, chapter)| {
            caption_cue(
                &format!("chapter-{}", i + 1),
                chapter.start,
                chapter.end,
                '.',
                &vtt_text(&chapter.title),
            )
        }))
    }

    /// SubRip captions: one per sentence, a blank line between them.
    pub fn srt(&self) -> String {
        let cues: Vec<String> = self.sentence_cues(',', one_line).collect();
        cues.join("\n")
    }

    /// ffmpeg's metadata format: title and chapters in milliseconds.
    pub fn ffmetadata(&self) -> String {
        let mut out = format!(";FFMETADATA1\ntitle={}\n", ffmeta_text(&self.title));
        for chapter in &self.chapters {
            out.push_str(&format!(
                "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART={}\nEND={}\ntitle={}\n",
                (chapter.start * 1000.0).round() as u64,
                (chapter.end * 1000.0).round() as u64,
                ffmeta_text(&chapter.title)
            ));
        }
        out
    }

    /// Podcasting 2.0 JSON chapters (version 1.2.0 of the spec).
    pub fn podcast_chapters(&self) -> String {
        let chapters: Vec<serde_json::Value> = self
            .chapters
            .iter()
            .map(|c| {
                serde_json::json!({
                    "startTime": (c.start * 1000.0).round() / 1000.0,
                    "endTime": (c.end * 1000.0).round() / 1000.0,
                    "title": c.title,
                })
            })
            .collect();
        let document = serde_json::json!({
            "version": "1.2.0",
            "title": self.title,
            "chapters": chapters,
        });
        serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
    }

    /// A CUE sheet for `audio`: one track per chapter, times in 1/75 s frames.
    pub fn cue_sheet(&self, audio: &Path) -> String {
        let file = audio
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = if audio
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mp3"))
        {
            "MP3"
        } else {
            "WAVE"
        };
        let mut out = format!(
            "TITLE \"{}\"\nFILE \"{}\" {kind}\n",
            cue_text(&self.title),
            cue_text(&file)
        );
        for (i, chapter) in self.chapters.iter().enumerate() {
            let frames = (chapter.start * 75.0).round() as u64;
            out.push_str(&format!(
                "  TRACK {:02} AUDIO\n    TITLE \"{}\"\n    INDEX 01 {:02}:{:02}:{:02}\n",
                i + 1,
                cue_text(&chapter.title),
                frames / 75 / 60,
                frames / 75 % 60,
                frames % 75
            ));
        }
        out
    }

    /// Writes `kind` beside `audio` to a temporary file, renamed by [`PreparedSidecar::commit`].
    pub fn prepare_kind(&self, kind: SidecarKind, audio: &Path) -> Result<PreparedSidecar> {
        prepare_text(&kind.path(audio), &self.render(kind, audio))
    }

    /// The JSON timeline at `path`, prepared like any other sidecar.
    pub fn prepare(&self, path: &Path) -> Result<PreparedSidecar> {
        prepare_text(path, &self.render(SidecarKind::Timeline, path))
    }

    pub fn read(path: &Path) -> Result<Timeline> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::Output {
            path: path.to_path_buf(),
            message: format!("not an aloud timeline: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_hours_minutes_seconds_and_milliseconds() {
        assert_eq!(timestamp(3725.5, '.'), "01:02:05.500");
        assert_eq!(timestamp(3725.5, ','), "01:02:05,500");
        assert_eq!(timestamp(0.0004, '.'), "00:00:00.000");
        assert_eq!(timestamp(-1.0, ','), "00:00:00,000");
        assert_eq!(timestamp(f64::INFINITY, '.'), "00:00:00.000");
    }

    #[test]
    fn sidecar_sits_beside_the_audio() {
        assert_eq!(
            timeline_path(Path::new("out/story.wav")),
            PathBuf::from("out/story.timeline.json")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_committed_sidecar_is_readable_beyond_its_owner_like_the_audio() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.vtt");
        let committed = prepare_text(&path, "WEBVTT\n").unwrap().commit().unwrap();
        let mode = std::fs::metadata(committed).unwrap().permissions().mode();
        assert_eq!(mode & 0o600, 0o600);
        assert_ne!(mode & 0o077, 0, "mode {mode:o} looks like tempfile's 0600");
    }

    #[test]
    fn prepared_sidecar_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.timeline.json");
        let timeline = Timeline {
            title: "T".into(),
            voice: "joe".into(),
            sample_rate: 22050,
            duration: 1.5,
            chapters: vec![TimedChapter {
                title: "T".into(),
                start: 0.0,
                end: 1.5,
            }],
            sentences: vec![TimedSentence {
                text: "Hi.".into(),
                spoken: "Hi.".into(),
                start: 0.0,
                end: 1.0,
                source: [0, 3],
                words: Vec::new(),
                starts: Some(Starts::Paragraph),
            }],
        };
        let prepared = timeline.prepare(&path).unwrap();
        assert!(!path.exists());
        prepared.commit().unwrap();
        assert_eq!(Timeline::read(&path).unwrap(), timeline);

        let dropped = timeline
            .prepare(&dir.path().join("b.timeline.json"))
            .unwrap();
        drop(dropped);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "only the committed sidecar remains");
    }

    #[test]
    fn a_timeline_written_before_starts_was_recorded_still_reads() {
        let old = r#"{"title":"T","voice":"joe","sample_rate":22050,"duration":1.0,
            "chapters":[],"sentences":[{"text":"Hi.","spoken":"Hi.","start":0.0,"end":1.0,
            "source":[0,3]}]}"#;
        let timeline: Timeline = serde_json::from_str(old).unwrap();
        assert_eq!(timeline.sentences[0].starts, None);
        let json = timeline.render(SidecarKind::Timeline, Path::new("t.wav"));
        assert!(!json.contains("starts"), "absent stays absent: {json}");
    }

    fn sample() -> Timeline {
        Timeline {
            title: "Tides & <Moons>".into(),
            voice: "joe".into(),
            sample_rate: 22050,
            duration: 3725.5,
            chapters: vec![
                TimedChapter {
                    title: "Tides & <Moons>".into(),
                    start: 0.0,
                    end: 62.0,
                },
                TimedChapter {
                    title: "Spring; \"high\" = #1".into(),
                    start: 62.0,
                    end: 3725.5,
                },
            ],
            sentences: vec![
                TimedSentence {
                    text: "The sea --> rises.".into(),
                    spoken: "The sea rises.".into(),
                    start: 0.25,
                    end: 1.5,
                    source: [0, 18],
                    words: Vec::new(),
                    starts: None,
                },
                TimedSentence {
                    text: "Twice\n\na day.".into(),
                    spoken: "Twice a day.".into(),
                    start: 3724.0,
                    end: 3725.5,
                    source: [19, 32],
                    words: Vec::new(),
                    starts: None,
                },
            ],
        }
    }

    #[test]
    fn webvtt_and_srt_escape_and_keep_one_cue_per_sentence() {
        let t = sample();
        assert_eq!(
            t.webvtt(),
            "WEBVTT\n\n1\n00:00:00.250 --> 00:00:01.500\nThe sea --&gt; rises.\n\n\
             2\n01:02:04.000 --> 01:02:05.500\nTwice a day.\n"
        );
        assert_eq!(
            t.srt(),
            "1\n00:00:00,250 --> 00:00:01,500\nThe sea --> rises.\n\n\
             2\n01:02:04,000 --> 01:02:05,500\nTwice a day.\n"
        );
        assert!(
            t.webvtt_chapters()
                .contains("00:01:02.000 --> 01:02:05.500\nSpring; \"high\" = #1\n")
        );
    }

    #[test]
    fn ffmetadata_cue_and_podcast_chapters() {
        let t = sample();
        let meta = t.ffmetadata();
        assert!(meta.starts_with(";FFMETADATA1\ntitle=Tides & <Moons>\n"));
        assert!(meta.contains("START=62000\nEND=3725500\ntitle=Spring\\; \"high\" \\= \\#1\n"));
        let cue = t.cue_sheet(Path::new("out/story.wav"));
        assert!(cue.contains("FILE \"story.wav\" WAVE\n"));
        assert!(cue.contains(
            "  TRACK 02 AUDIO\n    TITLE \"Spring; 'high' = #1\"\n    INDEX 01 01:02:00\n"
        ));
        let json: serde_json::Value = serde_json::from_str(&t.podcast_chapters()).unwrap();
        assert_eq!(json["version"], "1.2.0");
        assert_eq!(json["chapters"][1]["startTime"], 62.0);
        assert_eq!(json["chapters"][1]["title"], "Spring; \"high\" = #1");
    }

    #[test]
    fn sidecar_lists_parse() {
        assert_eq!(
            SidecarKind::parse_list("vtt,srt").unwrap(),
            [SidecarKind::Vtt, SidecarKind::Srt]
        );
        assert_eq!(SidecarKind::parse_list("all").unwrap().len(), 7);
        assert!(SidecarKind::parse_list("none").unwrap().is_empty());
        assert!(
            SidecarKind::parse_list("vtt,subs")
                .unwrap_err()
                .contains("subs")
        );
        assert_eq!(
            SidecarKind::Ffmetadata.path(Path::new("a/b.wav")),
            PathBuf::from("a/b.ffmeta")
        );
    }
}
