//! The `aloud` command line: a thin clap front over the library.

use aloud::assets::{AssetOptions, Progress};
use aloud::audio::loudness::LoudnessTarget;
use aloud::batch::{BatchEvent, BatchOptions, Manifest, PlanStatus, Status};
use aloud::cache::ClipCache;
use aloud::ingest::{ReadOptions, Source};
use aloud::lexicon::Lexicon;
use aloud::narrate::{Event, Narrator, NarratorOptions};
use aloud::plan::Plan;
use aloud::sidecar::SidecarKind;
use aloud::stitch::wav::SampleFormat;
use aloud::stitch::{Container, Finishing};
use aloud::voice::{DEFAULT_VOICE, VoiceProfile};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "aloud",
    version,
    about = "Turn written articles into listenable audio.",
    long_about = "Turn written articles into listenable audio.\n\n\
        aloud reads an article (plain text, Markdown or a web page), splits it into \
        sentences, speaks each one with a text-to-speech voice, and stitches the clips into \
        one WAV with chapter markers, plus a timeline of when every sentence is heard.\n\n\
        The default voice runs in-process (Piper on ONNX Runtime): no server, no API key. \
        Its engine files are fetched once, on first use or by `aloud setup`.",
    after_help = "Examples:\n  \
        aloud narrate samples/city-council-budget.txt -o budget.wav\n  \
        aloud narrate article.md --voice joe --json\n  \
        aloud preview article.md --paragraph 3 -o - | ffplay -nodisp -autoexit -\n  \
        aloud batch articles/ --out-dir audio\n  \
        aloud plan article.md\n  \
        aloud inspect budget.wav\n  \
        aloud setup --check"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Narrate an article into a WAV or MP3 with chapter markers, at a loudness target, with
    /// a timeline and captions beside it.
    #[command(
        after_help = "The output is written to a temporary file and renamed into place \
        only when the whole narration succeeded; OUT.timeline.json and the sidecars asked for \
        are written beside it. Clips are cached, so a rerun after an edit or a failure only \
        synthesizes what changed or is missing.\n\n\
        Examples:\n  aloud narrate story.txt\n  aloud narrate guide.md -o guide.mp3 --sidecars vtt,podcast-chapters\n  \
        aloud narrate book.md -o book.wav --loudness audiobook --pause chapter=3s\n  \
        aloud narrate https://example.com/news/story.html --voice openai-alloy\n  \
        curl -s https://example.com/a | aloud narrate - -o a.wav"
    )]
    Narrate(Box<NarrateArgs>),
    /// Narrate many articles into one directory, several at once; rerun it after an
    /// interruption and it finishes only what is missing.
    #[command(
        after_help = "MANIFEST is a directory of articles (.txt, .md, .html; outputs mirror \
        their paths), a TOML file, or JSON Lines:\n\n  \
        # today.toml\n  voice = \"joe\"                  # default for every article\n  \
        [[article]]\n  input = \"stories/budget.txt\"   # relative to the manifest\n  \
        [[article]]\n  input = \"https://example.com/news/ferry.html\"\n  \
        voice = \"openai-alloy\"\n  output = \"ferry/ferry.mp3\"     # relative to --out-dir\n\n  \
        # today.jsonl\n  \"stories/budget.txt\"\n  \
        {\"input\": \"stories/ferry.md\", \"voice\": \"joe\", \"output\": \"ferry.wav\"}\n\n\
        Every output is written whole or not at all. A finished article is recorded in \
        OUT-DIR/.aloud-batch; a rerun skips it unless its input, voice or settings changed \
        (--force redoes all), and takes the sentences an interrupted run already made from \
        the cache. One article's failure does not stop the others; the batch exits non-zero \
        if any failed, after listing each with its error.\n\n\
        Examples:\n  aloud batch articles/ --out-dir audio\n  \
        aloud batch today.toml --out-dir audio --jobs 3 --json > report.json"
    )]
    Batch(Box<BatchArgs>),
    /// Hear one paragraph (or a passage of text) now, in the voice and finishing of the
    /// full narration: to a WAV, or streamed to a player as each sentence is ready.
    #[command(
        after_help = "Paragraphs are numbered as `aloud plan` shows them (¶1, ¶2, ... across \
        the whole article). With -o - the WAV is streamed to standard output sentence by \
        sentence, its level set from the first sentence; a file is measured whole, exactly \
        as `aloud narrate` would.\n\n\
        Examples:\n  aloud preview story.md --paragraph 3 -o - | ffplay -nodisp -autoexit -\n  \
        aloud preview --text \"The council met on Tuesday.\" -o - | aplay\n  \
        aloud preview story.md --paragraph 2 --voice openai-alloy -o p2.wav"
    )]
    Preview(Box<PreviewArgs>),
    /// Fetch and verify the embedded engine's files (ONNX Runtime, espeak-ng, the default voice).
    Setup(SetupArgs),
    /// Show what would be spoken, without synthesizing: chapters, paragraphs and each
    /// sentence in spoken form.
    Plan(PlanArgs),
    /// Show a WAV's format, length and the chapters read back from its markers.
    Inspect(InspectArgs),
    /// List the voice profiles aloud can find.
    Voices(VoicesArgs),
    /// Show, prune or clear the sentence cache (clips kept so unchanged sentences are never
    /// synthesized twice).
    #[command(
        after_help = "Every clip aloud makes is stored under a key of its spoken text and         everything that shapes its sound (backend, voice, model, settings, lexicon entries),         never an API key. Re-narrating an unchanged article makes no backend calls; editing         one sentence synthesizes only that sentence. Entries are checked on read; a damaged         one is deleted and made again.\n\n\
        Examples:\n  aloud cache stats\n  aloud cache prune --max-size 500M\n  aloud cache clear --json"
    )]
    Cache(CacheCommandArgs),
}

#[derive(Args)]
struct CacheCommandArgs {
    #[command(subcommand)]
    action: CacheAction,
    /// Print the result as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

#[derive(Subcommand)]
enum CacheAction {
    /// Where the cache is, how many clips it holds and their size.
    Stats,
    /// Remove the least recently used clips until the cache fits its size limit.
    Prune,
    /// Remove every clip.
    Clear,
}

/// Where finished clips are kept.
#[derive(Args)]
#[command(next_help_heading = "Sentence cache")]
struct CacheArgs {
    /// Synthesize every sentence; neither read nor write the cache.
    #[arg(long, global = true)]
    no_cache: bool,
    /// Where clips are kept [env: ALOUD_CACHE_DIR; default: the user cache dir/aloud/clips].
    #[arg(long, value_name = "DIR", global = true)]
    cache_dir: Option<PathBuf>,
    /// Size the cache is pruned to after each narration, least recently used first
    /// (e.g. 500M, 2G) [env: ALOUD_CACHE_MAX; default: 2G].
    #[arg(long, value_name = "SIZE", value_parser = aloud::cache::parse_size, global = true)]
    max_size: Option<u64>,
}

impl CacheArgs {
    fn max_bytes(&self) -> aloud::Result<u64> {
        if let Some(size) = self.max_size {
            return Ok(size);
        }
        match std::env::var("ALOUD_CACHE_MAX") {
            Ok(text) if !text.trim().is_empty() => {
                aloud::cache::parse_size(&text).map_err(|message| aloud::Error::Usage {
                    message: format!("ALOUD_CACHE_MAX: {message}"),
                })
            }
            _ => Ok(aloud::cache::DEFAULT_MAX_BYTES),
        }
    }

    /// The cache a narration uses, or `None` with `--no-cache` or no cache directory at all.
    fn open(&self) -> aloud::Result<Option<ClipCache>> {
        if self.no_cache {
            return Ok(None);
        }
        let Some(dir) = self.cache_dir.clone().or_else(ClipCache::default_dir) else {
            return Ok(None);
        };
        Ok(Some(ClipCache::new(dir, self.max_bytes()?)))
    }
}

#[derive(Args)]
struct NarrateArgs {
    /// The article: a .txt, .md or .html file, an http:// or https:// URL, or - for standard
    /// input.
    input: PathBuf,
    /// Where to write the audio; a name ending .mp3 makes an MP3 with ID3 chapters [default:
    /// INPUT with a .wav extension, in the current directory; for a URL its last path segment,
    /// for - the article's title].
    #[arg(short, long, value_name = "OUT.wav|OUT.mp3")]
    output: Option<PathBuf>,
    /// Voice profile: a name from `aloud voices` or a path to a profile .toml.
    #[arg(short, long, default_value = DEFAULT_VOICE)]
    voice: String,
    /// Pronunciation lexicon (TOML); repeatable, later files win over earlier ones and over
    /// the voice's own.
    #[arg(short, long, value_name = "FILE")]
    lexicon: Vec<PathBuf>,
    /// Sentences synthesized at once [default: the backend's own].
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// Print one JSON object describing the result instead of the summary line.
    #[arg(long)]
    json: bool,
    /// No progress display.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    finishing: FinishArgs,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    assets: AssetArgs,
}

/// How the program is finished.
#[derive(Args)]
#[command(next_help_heading = "Finishing")]
struct FinishArgs {
    /// Program loudness: a preset (web -16 LUFS, podcast -16, audiobook -19 with a -3 dBTP
    /// ceiling, broadcast -23), a number of LUFS such as -18, or `off` to keep the engine's
    /// level. Measured over the whole program (EBU R128), applied as one gain.
    #[arg(long, value_name = "PRESET|LUFS", default_value = "web")]
    loudness: String,
    /// True-peak ceiling in dBTP [default: -1, or -3 for audiobook]; a limiter holds peaks
    /// under it rather than clipping.
    #[arg(long, value_name = "DBTP", allow_negative_numbers = true)]
    true_peak: Option<f64>,
    /// Override a pause of the voice profile: clause, sentence, paragraph, before_heading,
    /// after_heading or chapter, in ms or seconds (e.g. --pause sentence=300 --pause chapter=2s).
    #[arg(long, value_name = "NAME=MS")]
    pause: Vec<String>,
    /// Join clips exactly as the engine made them: no silence trimming, no fades.
    #[arg(long)]
    keep_edges: bool,
    /// WAV sample format: 16 (default), 24 or 32f (32-bit float). Name the output .mp3 for
    /// an MP3 with ID3 chapters instead.
    #[arg(long, value_name = "16|24|32f", default_value = "16")]
    bits: String,
    /// MP3 bit rate in kbit/s (CBR; 64 is ample for speech).
    #[arg(long, value_name = "KBPS", default_value_t = aloud::stitch::mp3::DEFAULT_BITRATE_KBPS)]
    bitrate: u32,
    /// Sample rate of the output in Hz, e.g. 44100 or 48000 [default: the voice's own];
    /// clips are resampled with a windowed-sinc resampler.
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(8000..=192000))]
    sample_rate: Option<u32>,
    /// Sidecars to write beside the audio, from the same timeline: vtt (captions),
    /// chapters-vtt, srt, ffmetadata, podcast-chapters (Podcasting 2.0 JSON), cue, all or
    /// none. OUT.timeline.json is always written.
    #[arg(long, value_name = "LIST", default_value = "vtt")]
    sidecars: String,
}

impl FinishArgs {
    fn finishing(&self, profile: &VoiceProfile) -> aloud::Result<Finishing> {
        let usage = |message: String| aloud::Error::Usage { message };
        let mut pauses = profile.pauses;
        pauses
            .apply(&self.pause)
            .map_err(|m| usage(format!("--pause: {m}")))?;
        let mut finishing = Finishing::with_pauses(pauses);
        if self.keep_edges {
            finishing.edges = None;
        }
        finishing.sample_rate = self.sample_rate;
        let format: SampleFormat = self
            .bits
            .parse()
            .map_err(|m: String| usage(format!("--bits: {m}")))?;
        finishing.container = Container::Wav(format);
        finishing.mp3_bitrate_kbps = self.bitrate;
        finishing.loudness = if self.loudness.trim().eq_ignore_ascii_case("off") {
            None
        } else {
            let mut target = LoudnessTarget::parse(&self.loudness)
                .map_err(|m| usage(format!("--loudness: {m}")))?;
            if let Some(ceiling) = self.true_peak {
                if !(-20.0..=0.0).contains(&ceiling) {
                    return Err(usage(format!(
                        "--true-peak: {ceiling} dBTP is outside -20..0"
                    )));
                }
                target.ceiling_dbtp = ceiling;
            }
            Some(target)
        };
        Ok(finishing)
    }
}

#[derive(Args)]
struct BatchArgs {
    /// A directory of articles, a TOML manifest, or JSON Lines (see below).
    manifest: PathBuf,
    /// Where every output goes; manifest outputs are relative to it and may not leave it.
    #[arg(short, long, value_name = "DIR", default_value = "aloud-out")]
    out_dir: PathBuf,
    /// Voice for articles whose entry names none: a name from `aloud voices` or a profile path.
    #[arg(short, long, default_value = DEFAULT_VOICE)]
    voice: String,
    /// Pronunciation lexicon (TOML) for every article; repeatable.
    #[arg(short, long, value_name = "FILE")]
    lexicon: Vec<PathBuf>,
    /// Articles narrated at once. Backend requests stay within each voice's own limit
    /// (--concurrency) however many articles share it.
    #[arg(short, long, value_name = "N", default_value_t = 2)]
    jobs: usize,
    /// Requests each voice's backend is sent at once [default: the backend's own].
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// Narrate every article, even those an earlier run finished.
    #[arg(long)]
    force: bool,
    /// Narrate nothing: say which articles are done, and per voice what the rest would send,
    /// how much of it is cached and what it would cost.
    #[arg(long)]
    plan: bool,
    /// Print the batch report as JSON (each article's result, error and summary).
    #[arg(long)]
    json: bool,
    /// No progress display and no line per article.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    finishing: FinishArgs,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    assets: AssetArgs,
}

#[derive(Args)]
struct PreviewArgs {
    /// The article: a .txt, .md or .html file, a URL, or - for standard input.
    #[arg(required_unless_present = "text")]
    input: Option<PathBuf>,
    /// Which paragraph, counted from 1 across the article as `aloud plan` numbers them.
    #[arg(
        short,
        long,
        value_name = "N",
        default_value_t = 1,
        conflicts_with = "text"
    )]
    paragraph: usize,
    /// Speak this text instead of an article (every line of it; blank lines are paragraph breaks).
    #[arg(short, long, value_name = "TEXT", conflicts_with = "input")]
    text: Option<String>,
    /// A WAV (or .mp3) file, or - to stream a WAV to standard output as it is made.
    #[arg(short, long, value_name = "OUT.wav|-", default_value = "preview.wav")]
    output: PathBuf,
    #[arg(short, long, default_value = DEFAULT_VOICE)]
    /// Voice profile: a name from `aloud voices` or a path to a profile .toml.
    voice: String,
    /// Pronunciation lexicon (TOML); repeatable.
    #[arg(short, long, value_name = "FILE")]
    lexicon: Vec<PathBuf>,
    /// Print a JSON summary (to standard error when the audio goes to standard output).
    #[arg(long)]
    json: bool,
    /// No messages.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    finishing: FinishArgs,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    assets: AssetArgs,
}

#[derive(Args)]
struct PlanArgs {
    /// The article: a .txt, .md or .html file, an http:// or https:// URL, or - for standard
    /// input.
    input: PathBuf,
    /// Voice profile whose backend limits and lexicon apply; repeat it to compare backends
    /// (characters, cached sentences, estimated cost), the plan shown being the first's
    /// [default: joe].
    #[arg(short, long, value_name = "NAME|PATH")]
    voice: Vec<String>,
    /// Pronunciation lexicon (TOML); repeatable.
    #[arg(short, long, value_name = "FILE")]
    lexicon: Vec<PathBuf>,
    /// Print the plan as JSON, with one estimate per voice under `backends` and the blocks
    /// left out under `dropped`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    cache: CacheArgs,
}

#[derive(Args)]
struct SetupArgs {
    /// Only report what is present, missing or corrupt; fetch nothing.
    #[arg(long)]
    check: bool,
    /// Print the asset report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    assets: AssetArgs,
}

#[derive(Args)]
struct InspectArgs {
    /// A WAV file.
    file: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct VoicesArgs {
    /// Print the list as JSON.
    #[arg(long)]
    json: bool,
}

/// Where the engine's files come from.
#[derive(Args)]
#[command(next_help_heading = "Engine files")]
struct AssetArgs {
    /// Never fetch anything; fail, naming what is missing, if a file is not already here.
    #[arg(long)]
    offline: bool,
    /// Where fetched engine files live [env: ALOUD_DATA_DIR; default: the XDG data dir]/aloud.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Use this libonnxruntime.so (1.31 or newer) [env: ALOUD_ORT_LIB].
    #[arg(long, value_name = "PATH")]
    onnxruntime: Option<PathBuf>,
    /// Use this libespeak-ng.so [env: ALOUD_ESPEAK_LIB].
    #[arg(long, value_name = "PATH")]
    espeak_lib: Option<PathBuf>,
    /// Directory containing espeak-ng-data [env: ALOUD_ESPEAK_DATA].
    #[arg(long, value_name = "DIR")]
    espeak_data: Option<PathBuf>,
}

impl AssetArgs {
    fn options(&self) -> AssetOptions {
        AssetOptions {
            data_dir: self.data_dir.clone(),
            offline: self.offline,
            onnxruntime: self.onnxruntime.clone(),
            espeak_library: self.espeak_lib.clone(),
            espeak_data: self.espeak_data.clone(),
        }
    }
}

/// How the article is read.
#[derive(Args)]
#[command(next_help_heading = "Reading")]
struct ReadArgs {
    /// Narrate every block of the article. Without it, page furniture copied with a story
    /// (section labels, "Listen to this article", share bars, bylines, date lines, photo
    /// captions and credits, related-story lists, copyright lines) is left out; `aloud plan`
    /// lists each block left out and why.
    #[arg(long)]
    keep_all: bool,
}

impl ReadArgs {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            keep_all: self.keep_all,
            ..ReadOptions::default()
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Narrate(args) => narrate(*args),
        Command::Batch(args) => batch(*args),
        Command::Preview(args) => preview(*args),
        Command::Setup(args) => setup(args),
        Command::Plan(args) => plan(args),
        Command::Inspect(args) => inspect(args),
        Command::Voices(args) => voices(args),
        Command::Cache(args) => cache(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A player that quit early is not an error of ours.
        Err(aloud::Error::ReaderGone { .. }) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("aloud: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Provisioning messages go to stderr so `--json` output stays clean.
fn report_progress(quiet: bool) -> impl FnMut(Progress) {
    move |progress| {
        if !quiet {
            eprintln!("aloud: {progress}");
        }
    }
}

/// A file, a URL or `-`. A path that is not UTF-8 can only be a file.
fn input_source(input: &Path) -> aloud::Result<Source> {
    match input.to_str() {
        Some(text) => Source::parse(text),
        None => Ok(Source::File(input.to_path_buf())),
    }
}

fn narrate(args: NarrateArgs) -> aloud::Result<()> {
    let source = input_source(&args.input)?;
    let document = aloud::ingest::load_source_with(&source, &args.read.options())?;
    let profile = VoiceProfile::find(&args.voice)?;
    // A file's stem, a URL's last path segment (or host), or standard input's title.
    let output = args
        .output
        .unwrap_or_else(|| source.default_output(&document));
    let options = narrator_options(
        &profile,
        &args.lexicon,
        args.concurrency,
        &args.finishing,
        &args.cache,
        &args.assets,
    )?;
    let narrator = Narrator::open(profile, &options, &mut report_progress(args.quiet))?;

    let show_bar = !args.quiet && !args.json && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !show_bar {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {wide_bar} {pos}/{len} sentences, {elapsed} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut on_event = |event: Event| match event {
        Event::Started { sentences } => bar.set_length(sentences as u64),
        Event::SentenceDone { done, .. } => bar.set_position(done as u64),
    };
    let summary = narrator.narrate_blocking(&document, &output, &mut on_event);
    bar.finish_and_clear();
    let summary = summary?;
    // An audiobook is checked against ACX's submission rules as it is made.
    let acx = match &options.finishing {
        Some(f) if f.loudness.is_some_and(|t| t.preset == Some("audiobook")) => {
            Some(aloud::inspect::inspect(&summary.output)?.acx)
        }
        _ => None,
    };
    // Keep the cache within its limit; what this narration used is the most recent.
    if let Some(cache) = &options.cache {
        cache.prune();
    }

    if args.json {
        let mut json = serde_json::to_value(&summary).unwrap_or_default();
        if let Some(acx) = &acx {
            json["acx"] = serde_json::to_value(acx).unwrap_or_default();
        }
        println!("{json}");
    } else {
        println!(
            "{}: {} sentence{} in {} chapter{}, {} of audio{} in {:.1} s ({:.1}x real time){}, timeline {}",
            summary.output.display(),
            summary.sentences,
            plural(summary.sentences),
            summary.chapters,
            plural(summary.chapters),
            clock(summary.audio_seconds),
            match summary.finishing.after.integrated_lufs {
                Some(lufs) => format!(
                    " at {lufs:.1} LUFS ({:.1} dBTP)",
                    summary.finishing.after.true_peak_dbtp
                ),
                None => String::new(),
            },
            summary.wall_seconds,
            summary.real_time_factor,
            if summary.cached > 0 {
                format!(
                    ", {} of {} clips from the cache",
                    summary.cached,
                    summary.cached + summary.synthesized
                )
            } else {
                String::new()
            },
            summary.timeline.display()
        );
        if summary.dropped > 0 {
            println!(
                "Left out {} block{} of page furniture; `aloud plan {}` lists them, --keep-all narrates them",
                summary.dropped,
                plural(summary.dropped),
                args.input.display()
            );
        }
        if let Some(acx) = &acx {
            let verdict = |ok: bool| if ok { "ok" } else { "FAILS" };
            println!(
                "ACX checks: RMS {:.1} dBFS {}, peak {:.1} dBFS {}, noise floor {:.1} dBFS {}",
                acx.rms_dbfs,
                verdict(acx.rms_ok),
                acx.peak_dbfs,
                verdict(acx.peak_ok),
                acx.noise_floor_dbfs,
                verdict(acx.noise_floor_ok)
            );
        }
    }
    Ok(())
}

/// What narrate, preview and batch share: a job's engine files, cache, lexicons, finishing
/// and sidecars, from their common flags.
fn narrator_options(
    profile: &VoiceProfile,
    lexicons: &[PathBuf],
    concurrency: Option<usize>,
    finishing: &FinishArgs,
    cache: &CacheArgs,
    assets: &AssetArgs,
) -> aloud::Result<NarratorOptions> {
    Ok(NarratorOptions {
        assets: assets.options(),
        concurrency,
        lexicon: load_lexicons(lexicons)?,
        cache: cache.open()?,
        finishing: Some(finishing.finishing(profile)?),
        sidecars: Some(
            SidecarKind::parse_list(&finishing.sidecars).map_err(|message| {
                aloud::Error::Usage {
                    message: format!("--sidecars: {message}"),
                }
            })?,
        ),
    })
}

fn batch(args: BatchArgs) -> aloud::Result<()> {
    let manifest = Manifest::load(&args.manifest)?;
    let profile = VoiceProfile::find(&args.voice)?;
    let options = BatchOptions {
        out_dir: args.out_dir.clone(),
        default_voice: args.voice.clone(),
        jobs: args.jobs,
        force: args.force,
        narrator: narrator_options(
            &profile,
            &args.lexicon,
            args.concurrency,
            &args.finishing,
            &args.cache,
            &args.assets,
        )?,
        pause_overrides: args.finishing.pause.clone(),
        read: args.read.options(),
    };
    if args.plan {
        let no_cache = if args.cache.no_cache {
            "not consulted (--no-cache)"
        } else {
            "no cache directory (give --cache-dir or set ALOUD_CACHE_DIR)"
        };
        return batch_plan(
            &aloud::batch::plan(&manifest, &options, no_cache),
            args.json,
        );
    }
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !show_bar {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {wide_bar} {pos}/{len} sentences · {msg} · {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let display = Arc::new(BatchDisplay::new(
        bar.clone(),
        manifest.articles.clone(),
        args.quiet,
    ));
    let listener = display.clone();
    let report = aloud::batch::run(
        &manifest,
        &options,
        Arc::new(move |event| listener.show(event)),
    );
    bar.finish_and_clear();
    let report = report?;
    if let Some(cache) = &options.narrator.cache {
        cache.prune();
    }
    if args.json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        for article in report.articles.iter() {
            let Some(error) = &article.error else {
                continue;
            };
            if error.contains(&article.input) {
                println!("{}: {error}", article.place);
            } else {
                println!("{} ({}): {error}", article.place, article.input);
            }
        }
        println!(
            "{}: {} article{}: {} narrated, {} already done, {} failed; {} of audio in {:.1} s, {} clip{} synthesized, {} from the cache",
            report.out_dir.display(),
            report.articles.len(),
            plural(report.articles.len()),
            report.narrated,
            report.skipped,
            report.failed,
            clock(report.audio_seconds),
            report.wall_seconds,
            report.synthesized,
            plural(report.synthesized),
            report.cached,
        );
    }
    match report.failure() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Prints what `aloud batch --plan` found.
fn batch_plan(plan: &aloud::batch::BatchPlan, json: bool) -> aloud::Result<()> {
    if json {
        println!("{}", serde_json::to_string(plan).unwrap_or_default());
        return Ok(());
    }
    let count = |status| plan.articles.iter().filter(|a| a.status == status).count();
    println!(
        "{}: {} article{}: {} to narrate, {} already done, {} failing",
        plan.out_dir.display(),
        plan.articles.len(),
        plural(plan.articles.len()),
        count(PlanStatus::Narrate),
        count(PlanStatus::Done),
        count(PlanStatus::Failed)
    );
    for article in &plan.articles {
        let detail = match (&article.estimate, &article.error) {
            (Some(estimate), _) => format!(
                "{} request{}, {} characters, cached {}",
                estimate.requests,
                plural(estimate.requests),
                estimate.characters,
                cached_summary(estimate)
            ),
            (None, Some(error)) => format!("fails: {error}"),
            (None, None) => "done".to_string(),
        };
        println!(
            "  {}  {}  [{}]  {detail}",
            article.place, article.input, article.voice
        );
    }
    if !plan.voices.is_empty() {
        println!("\nPer voice (articles to narrate):");
    }
    for total in &plan.voices {
        let cost = match &total.estimated_cost {
            Some(cost) => format!(
                "{} at {} per million characters",
                money(cost.amount, &cost.currency),
                money(cost.per_million_characters, &cost.currency)
            ),
            None => total.cost_note.clone().unwrap_or_default(),
        };
        let cached = total.cached_requests.map_or("unknown".to_string(), |n| {
            format!("{n} of {}", total.requests)
        });
        println!(
            "  {} ({}): {} article{}, {} request{}, {} characters, cached {cached}; {cost}",
            total.voice,
            total.backend,
            total.articles,
            plural(total.articles),
            total.requests,
            plural(total.requests),
            total.characters,
        );
    }
    Ok(())
}

/// The one progress display of a batch: a bar over every sentence to narrate, with articles
/// done, audio made and its rate; a line per finished article above it (or alone, without
/// a terminal).
struct BatchDisplay {
    bar: ProgressBar,
    articles: Vec<aloud::batch::Article>,
    quiet: bool,
    state: std::sync::Mutex<BatchTally>,
}

#[derive(Default)]
struct BatchTally {
    to_narrate: usize,
    finished: usize,
    audio_seconds: f64,
    started: Option<std::time::Instant>,
}

impl BatchDisplay {
    fn new(bar: ProgressBar, articles: Vec<aloud::batch::Article>, quiet: bool) -> Self {
        BatchDisplay {
            bar,
            articles,
            quiet,
            state: std::sync::Mutex::new(BatchTally::default()),
        }
    }

    fn say(&self, line: String) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn show(&self, event: BatchEvent) {
        let Ok(mut tally) = self.state.lock() else {
            return;
        };
        match event {
            BatchEvent::Asset(message) => self.say(format!("aloud: {message}")),
            BatchEvent::Planned {
                articles,
                skipped,
                failed,
                sentences,
            } => {
                tally.to_narrate = articles - skipped - failed;
                tally.started = Some(std::time::Instant::now());
                self.bar.set_length(sentences as u64);
                if skipped > 0 {
                    self.say(format!(
                        "aloud: {skipped} of {articles} article{} already done, skipped",
                        plural(articles)
                    ));
                }
            }
            BatchEvent::Reading { article, articles } => {
                self.bar
                    .set_message(format!("reading article {} of {articles}", article + 1));
                return;
            }
            BatchEvent::ArticleStarted { .. } => {}
            BatchEvent::SentenceDone { added_seconds, .. } => {
                tally.audio_seconds += added_seconds;
                self.bar.inc(1);
            }
            BatchEvent::ArticleFinished { article, status } => {
                tally.finished += 1;
                if let Some(entry) = self.articles.get(article) {
                    let verdict = match status {
                        Status::Failed => "failed",
                        _ => "narrated",
                    };
                    self.say(format!(
                        "aloud: [{}/{}] {verdict} {}",
                        tally.finished, tally.to_narrate, entry.source
                    ));
                }
            }
        }
        let elapsed = tally
            .started
            .map_or(0.0, |started| started.elapsed().as_secs_f64());
        self.bar.set_message(format!(
            "{}/{} articles · {} of audio ({:.1}x real time)",
            tally.finished,
            tally.to_narrate,
            clock(tally.audio_seconds),
            tally.audio_seconds / elapsed.max(1e-3)
        ));
    }
}

fn preview(args: PreviewArgs) -> aloud::Result<()> {
    let usage = |message: String| aloud::Error::Usage { message };
    let document = match (&args.text, &args.input) {
        (Some(text), _) => aloud::ingest::parse_passage(text)?,
        (None, Some(input)) => {
            let whole =
                aloud::ingest::load_source_with(&input_source(input)?, &args.read.options())?;
            let count = whole.paragraph_count();
            whole.paragraph(args.paragraph).ok_or_else(|| {
                usage(format!(
                    "--paragraph {}: {} has {count} paragraph{} (`aloud plan` numbers them)",
                    args.paragraph,
                    input.display(),
                    plural(count)
                ))
            })?
        }
        (None, None) => return Err(usage("give an article or --text".to_string())),
    };
    let streaming = args.output.as_os_str() == "-";
    if streaming && std::io::stdout().is_terminal() {
        return Err(usage(
            "-o -: standard output is a terminal; pipe it to a player (| ffplay -nodisp -autoexit -) or give -o FILE.wav"
                .to_string(),
        ));
    }
    let profile = VoiceProfile::find(&args.voice)?;
    let options = narrator_options(
        &profile,
        &args.lexicon,
        None,
        &args.finishing,
        &args.cache,
        &args.assets,
    )?;
    let narrator = Narrator::open(profile, &options, &mut report_progress(args.quiet))?;
    if streaming {
        let summary = narrator.stream_blocking(&document, std::io::stdout(), &mut |_| {})?;
        if args.json {
            eprintln!("{}", serde_json::to_string(&summary).unwrap_or_default());
        } else if !args.quiet {
            eprintln!(
                "aloud: streamed {} sentence{}, {} of audio; first audio after {:.2} s",
                summary.sentences,
                plural(summary.sentences),
                clock(summary.audio_seconds),
                summary.first_audio_seconds
            );
        }
        return Ok(());
    }
    let summary = narrator.narrate_blocking(&document, &args.output, &mut |_| {})?;
    if args.json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else if !args.quiet {
        println!(
            "{}: {} sentence{}, {} of audio in {:.1} s",
            summary.output.display(),
            summary.sentences,
            plural(summary.sentences),
            clock(summary.audio_seconds),
            summary.wall_seconds
        );
    }
    Ok(())
}

fn cache(args: CacheCommandArgs) -> aloud::Result<()> {
    let Some(cache) = args.cache.open()? else {
        return Err(aloud::Error::Usage {
            message: "no cache directory: give --cache-dir or set ALOUD_CACHE_DIR".to_string(),
        });
    };
    let report = match args.action {
        CacheAction::Stats => serde_json::to_value(cache.stats()),
        CacheAction::Prune => serde_json::to_value(cache.prune()),
        CacheAction::Clear => serde_json::to_value(cache.clear()),
    }
    .unwrap_or_default();
    if args.json {
        println!("{report}");
        return Ok(());
    }
    let number = |key: &str| report[key].as_u64().unwrap_or(0);
    match args.action {
        CacheAction::Stats => println!(
            "{}: {} clip{}, {} (limit {})",
            cache.dir().display(),
            number("entries"),
            plural(number("entries") as usize),
            size(number("bytes")),
            size(cache.max_bytes())
        ),
        CacheAction::Prune | CacheAction::Clear => println!(
            "{}: removed {} clip{} ({}); {} left ({})",
            cache.dir().display(),
            number("removed"),
            plural(number("removed") as usize),
            size(number("freed_bytes")),
            number("remaining_entries"),
            size(number("remaining_bytes"))
        ),
    }
    Ok(())
}

/// `1536` -> `1.5 KiB`.
fn size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

fn load_lexicons(paths: &[PathBuf]) -> aloud::Result<Lexicon> {
    let mut lexicon = Lexicon::default();
    for path in paths {
        lexicon.merge(&Lexicon::from_file(path)?);
    }
    Ok(lexicon)
}

fn plan(args: PlanArgs) -> aloud::Result<()> {
    let document =
        aloud::ingest::load_source_with(&input_source(&args.input)?, &args.read.options())?;
    let job_lexicon = load_lexicons(&args.lexicon)?;
    let cache = args.cache.open()?;
    let no_cache = if args.cache.no_cache {
        "not consulted (--no-cache)"
    } else {
        "no cache directory (give --cache-dir or set ALOUD_CACHE_DIR)"
    };
    let names = match args.voice.is_empty() {
        true => vec![DEFAULT_VOICE.to_string()],
        false => args.voice.clone(),
    };
    let mut voices = Vec::with_capacity(names.len());
    for name in &names {
        let profile = VoiceProfile::find(name)?;
        let (plan, estimate) = aloud::plan::estimate(
            &document,
            &profile,
            &job_lexicon,
            cache.as_ref(),
            no_cache,
            &AssetOptions::default(),
        )?;
        voices.push((profile, plan, estimate));
    }
    let (profile, plan, _) = &voices[0];
    if args.json {
        /// The plan's own fields first, in their order, then one estimate per voice.
        #[derive(serde::Serialize)]
        struct WithBackends<'a> {
            #[serde(flatten)]
            plan: &'a Plan,
            backends: Vec<&'a aloud::plan::BackendEstimate>,
        }
        let json = WithBackends {
            plan,
            backends: voices.iter().map(|(_, _, e)| e).collect(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
        return Ok(());
    }
    let paragraphs: usize = plan.chapters.iter().map(|c| c.paragraphs.len()).sum();
    println!("{}", plan.title);
    println!(
        "{} chapter{}, {paragraphs} paragraph{}, {} sentence{}; {} characters to {} in {} request{}",
        plan.chapters.len(),
        plural(plan.chapters.len()),
        plural(paragraphs),
        plan.sentences,
        plural(plan.sentences),
        plan.characters,
        profile.engine,
        plan.requests,
        plural(plan.requests),
    );
    let show = |label: &str, sentence: &aloud::plan::PlannedSentence| {
        println!("  {label:>4}  {}", sentence.text);
        if sentence.spoken != sentence.text {
            println!("        says: {}", sentence.spoken);
        }
    };
    // Paragraphs are numbered across the article: `aloud preview --paragraph N` takes these.
    let mut paragraph_number = 0;
    for (number, chapter) in plan.chapters.iter().enumerate() {
        println!("\n{}. {}", number + 1, chapter.title);
        if let Some(heading) = &chapter.heading {
            show("#", heading);
        }
        for paragraph in &chapter.paragraphs {
            paragraph_number += 1;
            for (i, sentence) in paragraph.sentences.iter().enumerate() {
                let label = if i == 0 {
                    format!("¶{paragraph_number}")
                } else {
                    String::new()
                };
                show(&label, sentence);
            }
        }
    }
    if !plan.dropped.is_empty() {
        println!(
            "\nLeft out ({} block{}; --keep-all narrates them):",
            plan.dropped.len(),
            plural(plan.dropped.len())
        );
        let width = plan
            .dropped
            .iter()
            .map(|d| d.reason.describe().len())
            .max()
            .unwrap_or(0);
        for dropped in &plan.dropped {
            println!(
                "  {:<width$}  {}",
                dropped.reason.describe(),
                abridged(&dropped.text, 100)
            );
        }
    }
    println!("\nPer backend:");
    let voice_width = voices
        .iter()
        .map(|(_, _, e)| e.voice.len())
        .max()
        .unwrap_or(0);
    let backend_width = voices
        .iter()
        .map(|(_, _, e)| e.backend.len())
        .max()
        .unwrap_or(0);
    for (profile, _, estimate) in &voices {
        println!(
            "  {:<voice_width$}  {:<backend_width$}  {:>5} request{}  {:>7} characters  cost: {}; cached: {}",
            estimate.voice,
            estimate.backend,
            estimate.requests,
            if estimate.requests == 1 { " " } else { "s" },
            estimate.characters,
            cost_summary(profile, estimate),
            cached_summary(estimate),
        );
    }
    Ok(())
}

/// `text`, cut at a word to at most `max` characters with an ellipsis if it is longer.
fn abridged(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    format!("{cut} …")
}

/// `3 of 5`, or `unknown: why`.
fn cached_summary(estimate: &aloud::plan::BackendEstimate) -> String {
    match estimate.cached_requests {
        Some(cached) => format!("{cached} of {}", estimate.requests),
        None => format!(
            "unknown: {}",
            estimate.cache_note.as_deref().unwrap_or("not consulted")
        ),
    }
}

/// `$0.42 at $15.00 per million characters (the profile's price as of 2026-01-01)`, or why there is none.
fn cost_summary(profile: &VoiceProfile, estimate: &aloud::plan::BackendEstimate) -> String {
    let Some(cost) = &estimate.estimated_cost else {
        return estimate.cost_note.clone().unwrap_or_default();
    };
    let as_of = profile.pricing.as_ref().map_or(String::new(), |p| {
        format!(" (the profile's price as of {})", p.as_of)
    });
    let passes = match estimate.billed_passes {
        1 => String::new(),
        2 => ", each text billed twice".to_string(),
        n => format!(", each text billed {n} times"),
    };
    format!(
        "{} at {} per million characters{passes}{as_of}",
        money(cost.amount, &cost.currency),
        money(cost.per_million_characters, &cost.currency)
    )
}

/// `$0.42`, `$0.0013` (a short article's cost is not rounded away), `0.42 EUR`.
fn money(amount: f64, currency: &str) -> String {
    let digits = if amount > 0.0 && amount < 0.01 { 4 } else { 2 };
    if currency.eq_ignore_ascii_case("USD") {
        format!("${amount:.digits$}")
    } else {
        format!("{amount:.digits$} {currency}")
    }
}

fn setup(args: SetupArgs) -> aloud::Result<()> {
    let options = args.assets.options();
    if !args.check {
        options.setup(&mut report_progress(args.json))?;
    }
    let status = options.status();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).unwrap_or_default()
        );
    } else {
        for asset in &status {
            println!("{asset}");
        }
    }
    let unavailable = status.iter().filter(|a| !a.is_ok()).count();
    if unavailable > 0 {
        if !args.json {
            println!(
                "\nTo fetch the engine files by hand (e.g. on a machine without aloud's network access):"
            );
            for command in options.manual_fetch_commands() {
                println!("  {command}");
            }
        }
        return Err(aloud::Error::AssetMissing {
            what: format!("{unavailable} of the files listed above"),
            hint: "run `aloud setup` to fetch them".into(),
        });
    }
    Ok(())
}

fn inspect(args: InspectArgs) -> aloud::Result<()> {
    let report = aloud::inspect::inspect(&args.file)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        );
        return Ok(());
    }
    println!(
        "{}: {} Hz, {}-bit, {} channel{}, {}, {} chapter{}",
        args.file.display(),
        report.sample_rate,
        report.bits_per_sample,
        report.channels,
        plural(usize::from(report.channels)),
        clock(report.duration),
        report.chapters.len(),
        plural(report.chapters.len()),
    );
    let loudness = &report.loudness;
    let lufs = |value: Option<f64>, unit: &str| {
        value.map_or("unmeasurable".to_string(), |v| format!("{v:.1} {unit}"))
    };
    println!(
        "  loudness {} integrated, {} range, true peak {:.1} dBTP, {} clipped sample{}",
        lufs(loudness.integrated_lufs, "LUFS"),
        lufs(loudness.range_lu, "LU"),
        loudness.true_peak_dbtp,
        report.clipped_samples,
        plural(report.clipped_samples as usize)
    );
    match &report.seams {
        Some(seams) => println!(
            "  joins: {}, worst seam {:.2} at {} (1 is a typical step of the audio around it)",
            seams.joins,
            seams.worst,
            clock(seams.worst_at)
        ),
        None => println!("  joins: unknown (no matching timeline sidecar beside the file)"),
    }
    let acx = &report.acx;
    let verdict = |ok: bool| if ok { "ok" } else { "FAILS" };
    println!(
        "  ACX: RMS {:.1} dBFS {} (-23..-18), peak {:.1} dBFS {} (<= -3), noise floor {:.1} dBFS {} (<= -60)",
        acx.rms_dbfs,
        verdict(acx.rms_ok),
        acx.peak_dbfs,
        verdict(acx.peak_ok),
        acx.noise_floor_dbfs,
        verdict(acx.noise_floor_ok)
    );
    for (i, chapter) in report.chapters.iter().enumerate() {
        println!(
            "  {:>2}  {} - {}  {}",
            i + 1,
            clock(chapter.start),
            clock(chapter.end),
            chapter.title
        );
    }
    Ok(())
}

fn voices(args: VoicesArgs) -> aloud::Result<()> {
    let found = VoiceProfile::available();
    if args.json {
        let list: Vec<serde_json::Value> = found
            .iter()
            .map(|(name, origin)| serde_json::json!({"name": name, "origin": origin}))
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        for (name, origin) in found {
            let marker = if name == DEFAULT_VOICE {
                " (default)"
            } else {
                ""
            };
            println!("{name}{marker}\t{origin}");
        }
    }
    Ok(())
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// `83.4` -> `1:23.4`, `3725.0` -> `1:02:05.0`.
fn clock(seconds: f64) -> String {
    let tenths = (seconds * 10.0).round() as u64;
    let (h, m, s, t) = (
        tenths / 36000,
        tenths / 600 % 60,
        tenths / 10 % 60,
        tenths % 10,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{t}")
    } else {
        format!("{m}:{s:02}.{t}")
    }
}
