//! From parsed flags to the library's options: finishing, cache, engine files, reading,
//! lexicons, and the narrator options that narrate, preview and batch share.

use super::args::{AssetArgs, CacheArgs, FinishArgs, Loudness, NarrationArgs, ReadArgs};
use aloud::assets::AssetOptions;
use aloud::cache::ClipCache;
use aloud::ingest::{ReadOptions, Source};
use aloud::lexicon::Lexicon;
use aloud::narrate::NarratorOptions;
use aloud::plan::NoCache;
use aloud::stitch::{Container, Finishing};
use aloud::voice::VoiceProfile;
use std::path::{Path, PathBuf};

impl FinishArgs {
    /// The finishing for `profile`: its pauses with `--pause` applied, and the flags.
    pub fn finishing(&self, profile: &VoiceProfile) -> aloud::Result<Finishing> {
        let mut pauses = profile.pauses;
        // Each value was checked when the flags were parsed.
        pauses
            .apply(&self.pause)
            .map_err(|message| aloud::Error::Usage {
                message: format!("--pause: {message}"),
            })?;
        let mut finishing = Finishing::with_pauses(pauses);
        if self.keep_edges {
            finishing.edges = None;
        }
        finishing.sample_rate = self.sample_rate;
        finishing.container = Container::Wav(self.bits);
        finishing.mp3_bitrate_kbps = self.bitrate;
        finishing.loudness = match self.loudness {
            Loudness::Off => None,
            Loudness::Target(mut target) => {
                if let Some(ceiling) = self.true_peak {
                    target.ceiling_dbtp = ceiling;
                }
                Some(target)
            }
        };
        Ok(finishing)
    }
}

impl CacheArgs {
    /// The cache a narration uses, or `None` with `--no-cache` or no cache directory at all.
    pub fn open(&self) -> Option<ClipCache> {
        if self.no_cache {
            return None;
        }
        let dir = given(&self.cache_dir).or_else(ClipCache::default_dir)?;
        Some(ClipCache::new(dir, self.max_size))
    }

    /// Why [`open`](Self::open) gave no cache.
    pub fn absence(&self) -> NoCache {
        if self.no_cache {
            NoCache::TurnedOff
        } else {
            NoCache::NoDirectory
        }
    }
}

impl AssetArgs {
    pub fn options(&self) -> AssetOptions {
        AssetOptions {
            data_dir: given(&self.data_dir),
            offline: self.offline,
            onnxruntime: given(&self.onnxruntime),
            espeak_library: given(&self.espeak_lib),
            espeak_data: given(&self.espeak_data),
        }
    }
}

impl super::service_args::BatchQueueArgs {
    /// The queue a batch narrates through, if one was given.
    pub fn options(&self) -> aloud::Result<Option<aloud::batch::QueueOptions>> {
        let Some(url) = &self.queue else {
            return Ok(None);
        };
        Ok(Some(aloud::batch::QueueOptions {
            queue: aloud::jobs::QueueUrl::parse(url)?,
            store: self.store.clone(),
            max_attempts: i64::from(self.max_attempts),
            share_cache: self.share_cache,
        }))
    }
}

impl ReadArgs {
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            keep_all: self.keep_all,
            ..ReadOptions::default()
        }
    }
}

/// A path flag's value; an empty one (from `ALOUD_DATA_DIR=` and the like) means unset.
fn given(path: &Option<PathBuf>) -> Option<PathBuf> {
    path.clone().filter(|path| !path.as_os_str().is_empty())
}

impl NarrationArgs {
    /// What narrate, preview and batch share: a job's engine files, cache, lexicons, finishing
    /// and sidecars, from their common flags.
    pub fn narrator_options(
        &self,
        profile: &VoiceProfile,
        lexicons: &[PathBuf],
        concurrency: Option<usize>,
    ) -> aloud::Result<NarratorOptions> {
        Ok(NarratorOptions {
            assets: self.assets.options(),
            concurrency,
            lexicon: load_lexicons(lexicons)?,
            cache: self.cache.open(),
            finishing: Some(self.finishing.finishing(profile)?),
            sidecars: Some(self.finishing.sidecars.0.clone()),
        })
    }
}

pub fn load_lexicons(paths: &[PathBuf]) -> aloud::Result<Lexicon> {
    let mut lexicon = Lexicon::default();
    for path in paths {
        lexicon.merge(&Lexicon::from_file(path)?);
    }
    Ok(lexicon)
}

/// A file, a URL or `-`. A path that is not UTF-8 can only be a file.
pub fn input_source(input: &Path) -> aloud::Result<Source> {
    match input.to_str() {
        Some(text) => Source::parse(text),
        None => Ok(Source::File(input.to_path_buf())),
    }
}
