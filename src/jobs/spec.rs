//! What one narration job is: the request a caller submits (`url` | `text` | `markdown` |
//! `html`, voice, options) and the self-contained spec a worker runs (a URL already fetched
//! through the address guard, so a worker never fetches for a caller).

use super::JobError;
use crate::ingest::fetch::Fetched;
use crate::ingest::{Format, ReadOptions};
use crate::narrate::NarratorOptions;
use crate::sidecar::SidecarKind;
use crate::stitch::{Container, Finishing};
use crate::voice::VoiceProfile;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The voice narrations use when the request names none: the command line's default.
pub const DEFAULT_VOICE: &str = crate::voice::DEFAULT_VOICE;

/// A narration as a caller asks for it (the JSON body of `POST /v1/narrations`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarrationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// A voice name from `GET /v1/voices` (never a path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    #[serde(default)]
    pub options: NarrationOptions,
    /// Where the finished (or failed) narration is announced, signed with HMAC-SHA256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

/// Finishing, sidecars and naming of one narration; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarrationOptions {
    /// A loudness preset (`web`, `podcast`, `audiobook`, `broadcast`), a LUFS number, or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loudness: Option<String>,
    /// `wav` (default) or `mp3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Sidecars besides the timeline, as `--sidecars` takes them (`vtt,srt`, `all`, `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecars: Option<String>,
    /// The output's file name without extension (letters, digits, `-`, `_`, `.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Narrate page furniture too (`--keep-all`).
    #[serde(default)]
    pub keep_all: bool,
}

/// The article a worker narrates, carried in the job itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Article {
    Text {
        text: String,
    },
    Markdown {
        text: String,
    },
    Html {
        text: String,
    },
    /// An article file a batch read, under its own name (titling an article without a title
    /// line, as `aloud batch` reads it); its bytes base64-encoded.
    File {
        name: String,
        body_base64: String,
    },
    /// A page fetched at submission; its body base64-encoded, as sent.
    Page {
        url: String,
        final_url: String,
        content_type: Option<String>,
        body_base64: String,
    },
}

/// Everything a worker needs to run one narration; the payload of the queued job. Holds no
/// token, key or secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The narration's id (also its directory under the output directory).
    pub id: String,
    pub article: Article,
    pub voice: String,
    pub options: NarrationOptions,
    pub webhook: Option<String>,
    /// A batch's settings carried whole, in place of what `options` says of finishing and
    /// sidecars; absent for the API's narrations (and in jobs queued before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<Carried>,
}

/// What a batch narrated on the queue carries so that a worker on any machine makes exactly
/// what `aloud batch` makes on one: its finishing, sidecars and lexicon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Carried {
    pub finishing: Finishing,
    pub sidecars: Option<Vec<SidecarKind>>,
    pub lexicon: crate::lexicon::Lexicon,
}

impl JobSpec {
    /// The article read into a document as the narration will read it.
    pub fn document(&self) -> crate::Result<crate::document::Document> {
        self.article
            .document(self.options.stem(), self.options.keep_all)
    }

    /// The narrator options of this job on a worker with the `base` engine files and cache.
    pub fn narrator_options(
        &self,
        profile: &VoiceProfile,
        base: &NarratorOptions,
    ) -> Result<NarratorOptions, JobError> {
        match &self.carried {
            Some(carried) => Ok(NarratorOptions {
                finishing: Some(carried.finishing.clone()),
                sidecars: carried.sidecars.clone(),
                lexicon: carried.lexicon.clone(),
                ..base.clone()
            }),
            None => self.options.narrator_options(profile, base),
        }
    }
}

impl NarrationRequest {
    /// The one input the request gives, checked: exactly one of the four, not empty.
    pub fn input(&self) -> Result<Input<'_>, JobError> {
        let given: Vec<Input<'_>> = [
            self.url.as_deref().map(Input::Url),
            self.text.as_deref().map(Input::Text),
            self.markdown.as_deref().map(Input::Markdown),
            self.html.as_deref().map(Input::Html),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given.as_slice() {
            [one] if one.content().trim().is_empty() => Err(JobError::Spec {
                message: format!("`{}` is empty", one.field()),
            }),
            [one] => Ok(*one),
            [] => Err(JobError::Spec {
                message: "give one of `url`, `text`, `markdown` or `html`".into(),
            }),
            _ => Err(JobError::Spec {
                message: "give only one of `url`, `text`, `markdown` or `html`".into(),
            }),
        }
    }

    /// The voice asked for, checked to be a name (a path would let a caller read files).
    pub fn voice_name(&self) -> Result<String, JobError> {
        let voice = self.voice.as_deref().unwrap_or(DEFAULT_VOICE);
        check_voice_name(voice)?;
        Ok(voice.to_string())
    }

    /// Checks everything that can be checked before the job runs: input, voice name, options.
    pub fn validate(&self) -> Result<(), JobError> {
        self.input()?;
        self.voice_name()?;
        self.options.validate()
    }
}

/// Which input a request gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    Url(&'a str),
    Text(&'a str),
    Markdown(&'a str),
    Html(&'a str),
}

impl<'a> Input<'a> {
    fn content(&self) -> &'a str {
        match *self {
            Input::Url(s) | Input::Text(s) | Input::Markdown(s) | Input::Html(s) => s,
        }
    }

    fn field(&self) -> &'static str {
        match self {
            Input::Url(_) => "url",
            Input::Text(_) => "text",
            Input::Markdown(_) => "markdown",
            Input::Html(_) => "html",
        }
    }

    /// The article to carry in the job; a URL must be fetched first ([`Article::page`]).
    pub fn article(&self) -> Option<Article> {
        match *self {
            Input::Url(_) => None,
            Input::Text(text) => Some(Article::Text { text: text.into() }),
            Input::Markdown(text) => Some(Article::Markdown { text: text.into() }),
            Input::Html(text) => Some(Article::Html { text: text.into() }),
        }
    }
}

impl Article {
    /// A fetched page as a job carries it.
    pub fn page(fetched: &Fetched) -> Article {
        use base64::Engine;
        Article::Page {
            url: fetched.url.clone(),
            final_url: fetched.final_url.clone(),
            content_type: fetched.content_type.clone(),
            body_base64: base64::engine::general_purpose::STANDARD.encode(&fetched.body),
        }
    }

    /// An article file as a job carries it, byte for byte.
    pub fn file(name: &str, bytes: &[u8]) -> Article {
        use base64::Engine;
        Article::File {
            name: name.to_string(),
            body_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The article read into a document, as `aloud narrate` reads the same input: a text
    /// given inline is read as a file named `NAME.txt` (`.md`, `.html`) would be, so `name`
    /// titles an article without a title line.
    pub fn document(&self, name: &str, keep_all: bool) -> crate::Result<crate::document::Document> {
        let read = ReadOptions {
            keep_all,
            ..ReadOptions::default()
        };
        let (text, format, extension) = match self {
            Article::Text { text } => (text, Format::Text, "txt"),
            Article::Markdown { text } => (text, Format::Markdown, "md"),
            Article::Html { text } => (text, Format::Html, "html"),
            Article::File { name, body_base64 } => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(body_base64)
                    .map_err(|error| {
                        crate::Error::io(
                            name,
                            std::io::Error::new(
                                std::io::ErrorKind::InvalidData,
                                format!("the job's copy of the file is damaged: {error}"),
                            ),
                        )
                    })?;
                return crate::ingest::parse_file_bytes(&bytes, Path::new(name), &read);
            }
            Article::Page {
                url,
                final_url,
                content_type,
                body_base64,
            } => {
                use base64::Engine;
                let body = base64::engine::general_purpose::STANDARD
                    .decode(body_base64)
                    .map_err(|error| crate::Error::Fetch {
                        url: url.clone(),
                        message: format!("the job's copy of the page is damaged: {error}"),
                    })?;
                let page = Fetched {
                    url: url.clone(),
                    final_url: final_url.clone(),
                    content_type: content_type.clone(),
                    body,
                };
                return crate::ingest::parse_fetched_with(&page, &read);
            }
        };
        let file_name = format!("{name}.{extension}");
        crate::ingest::parse_with(text, format, Path::new(&file_name), &read)
    }
}

impl NarrationOptions {
    pub fn validate(&self) -> Result<(), JobError> {
        if let Some(loudness) = &self.loudness
            && !loudness.trim().eq_ignore_ascii_case("off")
        {
            crate::audio::loudness::LoudnessTarget::parse(loudness).map_err(|message| {
                JobError::Spec {
                    message: format!("options.loudness: {message}"),
                }
            })?;
        }
        self.sidecar_kinds()?;
        self.extension()?;
        if let Some(name) = &self.name {
            check_output_name(name)?;
        }
        Ok(())
    }

    /// `wav` or `mp3`.
    pub fn extension(&self) -> Result<&'static str, JobError> {
        match self
            .format
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("wav") => Ok("wav"),
            Some("mp3") => Ok("mp3"),
            Some(other) => Err(JobError::Spec {
                message: format!("options.format: `{other}` is not wav or mp3"),
            }),
        }
    }

    pub fn sidecar_kinds(&self) -> Result<Vec<SidecarKind>, JobError> {
        SidecarKind::parse_list(self.sidecars.as_deref().unwrap_or("vtt")).map_err(|message| {
            JobError::Spec {
                message: format!("options.sidecars: {message}"),
            }
        })
    }

    /// The output's file name without extension: the one asked for, or `narration`.
    pub fn stem(&self) -> &str {
        self.name.as_deref().unwrap_or("narration")
    }

    /// `narrate`'s finishing for `profile` with these options: the voice's pauses, clean
    /// edges, 16-bit WAV or 64 kbit/s MP3, and the `web` loudness unless told otherwise.
    pub fn finishing(&self, profile: &VoiceProfile) -> Result<Finishing, JobError> {
        let mut finishing = Finishing::with_pauses(profile.pauses);
        finishing.container = Container::default();
        finishing.mp3_bitrate_kbps = crate::stitch::mp3::DEFAULT_BITRATE_KBPS;
        let loudness = self.loudness.as_deref().unwrap_or("web");
        finishing.loudness = if loudness.trim().eq_ignore_ascii_case("off") {
            None
        } else {
            Some(
                crate::audio::loudness::LoudnessTarget::parse(loudness).map_err(|message| {
                    JobError::Spec {
                        message: format!("options.loudness: {message}"),
                    }
                })?,
            )
        };
        Ok(finishing)
    }

    /// The narrator options of this job, with the worker's engine files and cache.
    pub fn narrator_options(
        &self,
        profile: &VoiceProfile,
        base: &NarratorOptions,
    ) -> Result<NarratorOptions, JobError> {
        Ok(NarratorOptions {
            finishing: Some(self.finishing(profile)?),
            sidecars: Some(self.sidecar_kinds()?),
            ..base.clone()
        })
    }
}

pub(crate) fn check_voice_name(voice: &str) -> Result<(), JobError> {
    let fine = !voice.is_empty()
        && voice.len() <= 100
        && !voice.starts_with('.')
        && !voice.contains("..")
        && voice
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    match fine {
        true => Ok(()),
        false => Err(JobError::Spec {
            message: format!(
                "voice `{voice}` is not a voice name (letters, digits, `-`, `_`, `.`, `:`); see GET /v1/voices"
            ),
        }),
    }
}

pub(crate) fn check_output_name(name: &str) -> Result<(), JobError> {
    let fine = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    match fine {
        true => Ok(()),
        false => Err(JobError::Spec {
            message: format!(
                "options.name `{name}` is not a plain file name (letters, digits, `-`, `_`, `.`, not starting with `.`)"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> NarrationRequest {
        serde_json::from_str(json).expect("a request")
    }

    #[test]
    fn exactly_one_input_is_taken() {
        assert_eq!(
            request(r#"{"text": "Hello."}"#).input().ok(),
            Some(Input::Text("Hello."))
        );
        assert!(request(r#"{}"#).input().is_err());
        assert!(
            request(r#"{"text": "a", "url": "http://x/"}"#)
                .input()
                .is_err()
        );
        assert!(request(r#"{"markdown": "  "}"#).input().is_err());
        assert!(serde_json::from_str::<NarrationRequest>(r#"{"txt": "a"}"#).is_err());
    }

    #[test]
    fn voices_and_names_are_names_not_paths() {
        for voice in [
            "joe",
            "joe-deterministic",
            "openai:alloy",
            "en_US-joe-medium",
        ] {
            assert!(check_voice_name(voice).is_ok(), "{voice}");
        }
        for voice in [
            "../etc/passwd",
            "/etc/x.toml",
            "voices/joe.toml",
            ".hidden",
            "",
        ] {
            assert!(check_voice_name(voice).is_err(), "{voice}");
        }
        assert!(check_output_name("story-1").is_ok());
        for name in ["../x", "a/b", ".x", ""] {
            assert!(check_output_name(name).is_err(), "{name}");
        }
    }

    #[test]
    fn options_are_checked_before_a_job_is_queued() {
        let bad = [
            r#"{"text": "a", "options": {"loudness": "loud"}}"#,
            r#"{"text": "a", "options": {"format": "ogg"}}"#,
            r#"{"text": "a", "options": {"sidecars": "subs"}}"#,
        ];
        for json in bad {
            assert!(request(json).validate().is_err(), "{json}");
        }
        let good = request(
            r#"{"text": "a", "options": {"loudness": "-20", "format": "mp3", "sidecars": "all", "name": "x"}}"#,
        );
        assert!(good.validate().is_ok());
        assert_eq!(good.options.extension().ok(), Some("mp3"));
    }

    #[test]
    fn a_batch_job_carries_its_finishing_sidecars_and_lexicon_whole() {
        let profile = VoiceProfile::find("joe").expect("the joe profile");
        let mut finishing = Finishing::with_pauses(profile.pauses);
        finishing.loudness = crate::audio::loudness::LoudnessTarget::preset("podcast");
        finishing.sample_rate = Some(44_100);
        finishing.container = Container::Wav(crate::stitch::wav::SampleFormat::Int24);
        finishing.pauses.sentence_ms = 321;
        let lexicon = crate::lexicon::Lexicon::from_toml(
            "[words]\nKremlev = { ipa = \"kɹˈɛmlɛv\" }\n",
            Path::new("lexicon.toml"),
        )
        .expect("a lexicon");
        let spec = JobSpec {
            id: "x".into(),
            article: Article::file("story.txt", b"A Title\n\nOne sentence here.\n"),
            voice: "joe".into(),
            options: NarrationOptions::default(),
            webhook: None,
            carried: Some(Carried {
                finishing: finishing.clone(),
                sidecars: Some(vec![SidecarKind::Srt]),
                lexicon: lexicon.clone(),
            }),
        };
        let back: JobSpec =
            serde_json::from_str(&serde_json::to_string(&spec).expect("json")).expect("back");
        assert_eq!(back, spec);
        let options = back
            .narrator_options(&profile, &NarratorOptions::default())
            .expect("options");
        assert_eq!(options.finishing, Some(finishing));
        assert_eq!(
            options
                .finishing
                .as_ref()
                .and_then(|f| f.loudness)
                .and_then(|l| l.preset),
            Some("podcast")
        );
        assert_eq!(options.sidecars, Some(vec![SidecarKind::Srt]));
        assert_eq!(options.lexicon, lexicon);
        // The file is read as `aloud batch` reads it, titled by its own first line.
        assert_eq!(back.document().expect("a document").title, "A Title");

        // An API job (nothing carried) keeps the API's finishing.
        let api = JobSpec {
            carried: None,
            ..spec
        };
        let options = api
            .narrator_options(&profile, &NarratorOptions::default())
            .expect("options");
        assert_eq!(options.sidecars, Some(vec![SidecarKind::Vtt]));
    }

    #[test]
    fn a_page_travels_in_the_job_byte_for_byte() {
        let page = Fetched {
            url: "https://example.com/a".into(),
            final_url: "https://example.com/a".into(),
            content_type: Some("text/plain; charset=utf-8".into()),
            body: b"A headline\n\nThe council met on Monday and approved the budget.\n".to_vec(),
        };
        let article = Article::page(&page);
        let json = serde_json::to_string(&article).expect("json");
        let back: Article = serde_json::from_str(&json).expect("back");
        let document = back.document("x", false).expect("a document");
        assert!(!document.is_empty());
    }
}
