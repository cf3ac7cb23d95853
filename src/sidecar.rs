//! Timing sidecars written beside the audio: today the JSON timeline of chapters and sentences.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
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
    audio.with_extension("timeline.json")
}

/// A sidecar fully written to a temporary file in its final directory, renamed into place by
/// [`PreparedSidecar::commit`] once the audio it describes is in place.
pub struct PreparedSidecar {
    file: tempfile::NamedTempFile,
    path: PathBuf,
}

impl PreparedSidecar {
    pub fn commit(self) -> Result<PathBuf> {
        let path = self.path;
        self.file.persist(&path).map_err(|e| Error::Output {
            path: path.clone(),
            message: e.error.to_string(),
        })?;
        Ok(path)
    }
}

impl Timeline {
    pub fn prepare(&self, path: &Path) -> Result<PreparedSidecar> {
        let output_error = |message: String| Error::Output {
            path: path.to_path_buf(),
            message,
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut file = tempfile::Builder::new()
            .prefix(".aloud-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| output_error(e.to_string()))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| output_error(e.to_string()))?;
        file.write_all(&json)
            .and_then(|_| file.write_all(b"\n"))
            .and_then(|_| file.as_file().sync_all())
            .map_err(|e| output_error(e.to_string()))?;
        Ok(PreparedSidecar {
            file,
            path: path.to_path_buf(),
        })
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
    fn sidecar_sits_beside_the_audio() {
        assert_eq!(
            timeline_path(Path::new("out/story.wav")),
            PathBuf::from("out/story.timeline.json")
        );
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
}
