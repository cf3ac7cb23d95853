//! The command line's definitions: every subcommand and flag, its help text, and the value
//! parsers that turn a flag's text into the library's types (so a bad value is clap's usage
//! error, exit 2, before any work).

use aloud::audio::loudness::LoudnessTarget;
use aloud::sidecar::SidecarKind;
use aloud::stitch::wav::SampleFormat;
use aloud::voice::{DEFAULT_VOICE, PausePolicy};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "aloud",
    version,
    about = "Turn written articles into listenable audio.",
    long_about = "Turn written articles into listenable audio.\n\n\
        aloud reads an article (plain text, Markdown or a web page), splits it into \
        sentences, speaks each one with a text-to-speech voice, and stitches the clips into \
        one WAV with chapter markers, plus a timeline of when every sentence is heard.\n\n\
        The default voice (hibari) runs in-process on ONNX Runtime: no server, no API key. \
        Its engine files are fetched once, on first use or by `aloud setup`.",
    after_help = "Examples:\n  \
        aloud narrate samples/city-council-budget.txt -o budget.wav\n  \
        aloud narrate article.md --voice joe --json\n  \
        aloud setup --voice kokoro-af_heart && aloud narrate article.md --voice kokoro-af_heart\n  \
        aloud preview article.md --paragraph 3 -o - | ffplay -nodisp -autoexit -\n  \
        aloud batch articles/ --out-dir audio\n  \
        aloud feed audio --base-url https://example.com/podcast/\n  \
        aloud plan article.md\n  \
        aloud inspect budget.wav\n  \
        aloud setup --check"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
        aloud batch today.toml --out-dir audio --jobs 3 --json > report.json\n  \
        aloud batch articles/ --out-dir audio --feed --base-url https://example.com/podcast/"
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
        after_help = "Every clip aloud makes is stored under a key of its spoken text and \
        everything that shapes its sound (backend, voice, model, settings, lexicon entries), \
        never an API key. Re-narrating an unchanged article makes no backend calls; editing \
        one sentence synthesizes only that sentence. Entries are checked on read; a damaged \
        one is deleted and made again.\n\n\
        Examples:\n  aloud cache stats\n  aloud cache prune --max-size 500M\n  aloud cache clear --json"
    )]
    Cache(CacheCommandArgs),
    /// Write DIR/feed.xml, a podcast feed of every narration in DIR (RSS 2.0 with iTunes and
    /// Podcasting 2.0 tags), so that DIR can be published on any static web host.
    #[command(after_help = FEED_HELP)]
    Feed(FeedArgs),
    /// Write the read-along player for a narration: OUT.html, which plays the audio with its
    /// chapters and the transcript highlighted as it is spoken, and aloud-player.js, the web
    /// component that puts the same player in an article page.
    #[command(after_help = PLAYER_HELP)]
    Player(PlayerArgs),
    /// Narration as an HTTP service: POST an article, get an id, fetch the audio when done.
    #[command(after_help = SERVE_HELP)]
    Serve(Box<super::service_args::ServeArgs>),
    /// Take narrations from a queue and run them (one process; run many, on many machines).
    #[command(after_help = WORKER_HELP)]
    Worker(Box<super::service_args::WorkerArgs>),
    /// The queue at a glance: narrations queued, running, done and failed, workers alive.
    Status(super::service_args::StatusArgs),
}

const SERVE_HELP: &str = "The queue is a SQLite file in OUT-DIR unless --queue (or ALOUD_QUEUE_URL) \
names a PostgreSQL database, which workers on other machines can share. Without --token-file \
the server listens on loopback only. URL inputs are fetched at submission; loopback, private, \
link-local and metadata addresses are refused unless --allow-private-urls.\n\n\
Examples:\n  aloud serve\n  aloud serve --listen 0.0.0.0:8080 --token-file tokens.txt --queue postgres://aloud@db/aloud --workers 0\n  \
curl -s localhost:8080/v1/narrations -H 'content-type: application/json' -d '{\"text\": \"Hello.\"}'";

const WORKER_HELP: &str = "Each worker gets a unique name (host-pid-random) and sends a heartbeat \
every 10 s; after 3 missed, its narrations go to another worker. A narration whose worker dies \
--max-attempts times is failed.\n\n\
Examples:\n  aloud worker --queue postgres://aloud@db/aloud --out-dir /shared/audio --concurrency 2";

#[derive(Args)]
pub struct CacheCommandArgs {
    #[command(subcommand)]
    pub action: CacheAction,
    /// Print the result as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Subcommand, Clone, Copy)]
pub enum CacheAction {
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
pub struct CacheArgs {
    /// Synthesize every sentence; neither read nor write the cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Where clips are kept [default: the user cache dir/aloud/clips].
    #[arg(long, value_name = "DIR", global = true, env = "ALOUD_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Size the cache is pruned to after each narration, least recently used first
    /// (e.g. 500M, 2G).
    #[arg(
        long,
        value_name = "SIZE",
        value_parser = parse_cache_size,
        global = true,
        env = "ALOUD_CACHE_MAX",
        default_value = "2G"
    )]
    pub max_size: u64,
}

/// A cache size; an empty value (`ALOUD_CACHE_MAX=`) is the default, as unset.
fn parse_cache_size(text: &str) -> Result<u64, String> {
    if text.trim().is_empty() {
        return Ok(aloud::cache::DEFAULT_MAX_BYTES);
    }
    aloud::cache::parse_size(text)
}

#[derive(Args)]
pub struct NarrateArgs {
    /// The article: a .txt, .md or .html file, an http:// or https:// URL, or - for standard
    /// input.
    pub input: PathBuf,
    /// Where to write the audio; a name ending .mp3 makes an MP3 with ID3 chapters [default:
    /// INPUT with a .wav extension, in the current directory; for a URL its last path segment,
    /// for - the article's title].
    #[arg(short, long, value_name = "OUT.wav|OUT.mp3")]
    pub output: Option<PathBuf>,
    /// Voice profile: a name from `aloud voices`, a path to a profile .toml, or BACKEND:VOICE.
    #[arg(short, long, default_value = DEFAULT_VOICE)]
    pub voice: String,
    /// Pronunciation lexicon (TOML); repeatable, later files win over earlier ones and over
    /// the voice's own.
    #[arg(short, long, value_name = "FILE")]
    pub lexicon: Vec<PathBuf>,
    /// Sentences synthesized at once [default: the backend's own].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Print one JSON object describing the result instead of the summary line.
    #[arg(long)]
    pub json: bool,
    /// No progress display.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also write the read-along player beside the audio: OUT.html and aloud-player.js (see
    /// `aloud player --help`).
    #[arg(long)]
    pub player: bool,
    #[command(flatten)]
    pub narration: NarrationArgs,
}

/// The flag groups narrate, batch and preview share: how the article is read, finishing, the
/// cache and the engine files.
#[derive(Args)]
pub struct NarrationArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub finishing: FinishArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub assets: AssetArgs,
}

/// `--loudness`: a target, or `off` to keep the engine's level.
#[derive(Debug, Clone, Copy)]
pub enum Loudness {
    Off,
    Target(LoudnessTarget),
}

fn parse_loudness(text: &str) -> Result<Loudness, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(Loudness::Off);
    }
    LoudnessTarget::parse(text).map(Loudness::Target)
}

fn parse_true_peak(text: &str) -> Result<f64, String> {
    let ceiling: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of dBTP such as -1"))?;
    if !(-20.0..=0.0).contains(&ceiling) {
        return Err(format!("{ceiling} dBTP is outside -20..0"));
    }
    Ok(ceiling)
}

/// Checks one `--pause NAME=MS[,NAME=MS]` against the names and lengths a policy takes.
fn parse_pause(text: &str) -> Result<String, String> {
    PausePolicy::default().apply(&[text.to_string()])?;
    Ok(text.to_string())
}

/// `--sidecars vtt,srt`: the list, parsed whole.
#[derive(Debug, Clone)]
pub struct Sidecars(pub Vec<SidecarKind>);

fn parse_sidecars(text: &str) -> Result<Sidecars, String> {
    SidecarKind::parse_list(text).map(Sidecars)
}

/// How the program is finished.
#[derive(Args)]
#[command(next_help_heading = "Finishing")]
pub struct FinishArgs {
    /// Program loudness: a preset (web -16 LUFS, podcast -16, audiobook -19 with a -3 dBTP
    /// ceiling, broadcast -23), a number of LUFS such as -18, or `off` to keep the engine's
    /// level. Measured over the whole program (EBU R128), applied as one gain.
    #[arg(long, value_name = "PRESET|LUFS", default_value = "web", value_parser = parse_loudness)]
    pub loudness: Loudness,
    /// True-peak ceiling in dBTP, -20 to 0 [default: -1, or -3 for audiobook]; a limiter
    /// holds peaks under it rather than clipping.
    #[arg(long, value_name = "DBTP", allow_negative_numbers = true, value_parser = parse_true_peak)]
    pub true_peak: Option<f64>,
    /// Override a pause of the voice profile: clause, sentence, paragraph, before_heading,
    /// after_heading or chapter, in ms or seconds (e.g. --pause sentence=300 --pause chapter=2s).
    #[arg(long, value_name = "NAME=MS", value_parser = parse_pause)]
    pub pause: Vec<String>,
    /// Join clips exactly as the engine made them: no silence trimming, no fades.
    #[arg(long)]
    pub keep_edges: bool,
    /// WAV sample format: 16, 24 or 32f (32-bit float). Name the output .mp3 for
    /// an MP3 with ID3 chapters instead.
    #[arg(long, value_name = "16|24|32f", default_value = "16", value_parser = clap::builder::ValueParser::new(str::parse::<SampleFormat>))]
    pub bits: SampleFormat,
    /// MP3 bit rate in kbit/s (CBR; 64 is ample for speech).
    #[arg(long, value_name = "KBPS", default_value_t = aloud::stitch::mp3::DEFAULT_BITRATE_KBPS)]
    pub bitrate: u32,
    /// Sample rate of the output in Hz, e.g. 44100 or 48000 [default: the voice's own];
    /// clips are resampled with a windowed-sinc resampler.
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(8000..=192000))]
    pub sample_rate: Option<u32>,
    /// Sidecars to write beside the audio, from the same timeline: vtt (captions),
    /// chapters-vtt, srt, ffmetadata, podcast-chapters (Podcasting 2.0 JSON), cue, all or
    /// none. OUT.timeline.json is always written.
    #[arg(long, value_name = "LIST", default_value = "vtt", value_parser = parse_sidecars)]
    pub sidecars: Sidecars,
}

#[derive(Args)]
pub struct BatchArgs {
    /// A directory of articles, a TOML manifest, or JSON Lines (see below).
    pub manifest: PathBuf,
    /// Where every output goes; manifest outputs are relative to it and may not leave it.
    #[arg(short, long, value_name = "DIR", default_value = "aloud-out")]
    pub out_dir: PathBuf,
    /// Voice for articles whose entry names none: a name from `aloud voices` or a profile path.
    #[arg(short, long, default_value = DEFAULT_VOICE)]
    pub voice: String,
    /// Pronunciation lexicon (TOML) for every article; repeatable.
    #[arg(short, long, value_name = "FILE")]
    pub lexicon: Vec<PathBuf>,
    /// Articles narrated at once. Backend requests stay within each voice's own limit
    /// (--concurrency) however many articles share it. With --queue, the jobs this process
    /// runs beside other machines' workers (0: none, it only queues and gathers).
    #[arg(short, long, value_name = "N", default_value_t = 2)]
    pub jobs: usize,
    /// Requests each voice's backend is sent at once [default: the backend's own].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Narrate every article, even those an earlier run finished.
    #[arg(long)]
    pub force: bool,
    /// Narrate nothing: say which articles are done, and per voice what the rest would send,
    /// how much of it is cached and what it would cost.
    #[arg(long)]
    pub plan: bool,
    /// Print the batch report as JSON (each article's result, error and summary).
    #[arg(long)]
    pub json: bool,
    /// No progress display and no line per article.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub narration: NarrationArgs,
    #[command(flatten)]
    pub feed: BatchFeedArgs,
    #[command(flatten)]
    pub queue: super::service_args::BatchQueueArgs,
}

#[derive(Args)]
pub struct PreviewArgs {
    /// The article: a .txt, .md or .html file, a URL, or - for standard input.
    #[arg(required_unless_present = "text")]
    pub input: Option<PathBuf>,
    /// Which paragraph, counted from 1 across the article as `aloud plan` numbers them.
    #[arg(
        short,
        long,
        value_name = "N",
        default_value_t = 1,
        conflicts_with = "text"
    )]
    pub paragraph: usize,
    /// Speak this text instead of an article (every line of it; blank lines are paragraph breaks).
    #[arg(short, long, value_name = "TEXT", conflicts_with = "input")]
    pub text: Option<String>,
    /// A WAV (or .mp3) file, or - to stream a WAV to standard output as it is made.
    #[arg(short, long, value_name = "OUT.wav|-", default_value = "preview.wav")]
    pub output: PathBuf,
    /// Voice profile: a name from `aloud voices`, a path to a profile .toml, or BACKEND:VOICE.
    #[arg(short, long, default_value = DEFAULT_VOICE)]
    pub voice: String,
    /// Pronunciation lexicon (TOML); repeatable.
    #[arg(short, long, value_name = "FILE")]
    pub lexicon: Vec<PathBuf>,
    /// Print a JSON summary (to standard error when the audio goes to standard output).
    #[arg(long)]
    pub json: bool,
    /// No messages.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub narration: NarrationArgs,
}

#[derive(Args)]
pub struct PlanArgs {
    /// The article: a .txt, .md or .html file, an http:// or https:// URL, or - for standard
    /// input.
    pub input: PathBuf,
    /// Voice profile whose backend limits and lexicon apply; repeat it to compare backends
    /// (characters, cached sentences, estimated cost), the plan shown being the first's
    /// [default: hibari].
    #[arg(short, long, value_name = "NAME|PATH")]
    pub voice: Vec<String>,
    /// Pronunciation lexicon (TOML); repeatable.
    #[arg(short, long, value_name = "FILE")]
    pub lexicon: Vec<PathBuf>,
    /// Print the plan as JSON, with one estimate per voice under `backends` and the blocks
    /// left out under `dropped`.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Args)]
pub struct SetupArgs {
    /// Only report what is present, missing or corrupt; fetch nothing.
    #[arg(long)]
    pub check: bool,
    /// A built-in voice to provision (or check) instead of the default: `hibari` (fast),
    /// `joe` (Piper), `kokoro-af_heart`, `kokoro-bf_emma` or `kokoro-am_michael` (best
    /// quality, slower; Kokoro's other voices come with them), or a catalog name; repeatable.
    #[arg(long, value_name = "NAME")]
    pub voice: Vec<String>,
    /// Print the asset report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub assets: AssetArgs,
}

#[derive(Args)]
pub struct InspectArgs {
    /// A WAV or MP3 file.
    pub file: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct VoicesArgs {
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Where the engine's files come from.
#[derive(Args)]
#[command(next_help_heading = "Engine files")]
pub struct AssetArgs {
    /// Never fetch anything; fail, naming what is missing, if a file is not already here.
    #[arg(long)]
    pub offline: bool,
    /// Where fetched engine files live [default: the XDG data dir/aloud].
    #[arg(long, value_name = "DIR", env = "ALOUD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use this libonnxruntime.so (1.31 or newer) instead of the provisioned one.
    #[arg(long, value_name = "PATH", env = "ALOUD_ORT_LIB")]
    pub onnxruntime: Option<PathBuf>,
    /// Use this libespeak-ng.so instead of the provisioned one.
    #[arg(long, value_name = "PATH", env = "ALOUD_ESPEAK_LIB")]
    pub espeak_lib: Option<PathBuf>,
    /// Directory containing espeak-ng-data.
    #[arg(long, value_name = "DIR", env = "ALOUD_ESPEAK_DATA")]
    pub espeak_data: Option<PathBuf>,
}

/// How the article is read.
#[derive(Args)]
#[command(next_help_heading = "Reading")]
pub struct ReadArgs {
    /// Narrate every block of the article. Without it, page furniture copied with a story
    /// (section labels, "Listen to this article", share bars, bylines, date lines, photo
    /// captions and credits, related-story lists, copyright lines) is left out; `aloud plan`
    /// lists each block left out and why.
    #[arg(long)]
    pub keep_all: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_default_cache_size_is_the_librarys() {
        assert_eq!(parse_cache_size("2G"), Ok(aloud::cache::DEFAULT_MAX_BYTES));
        assert_eq!(parse_cache_size(" "), Ok(aloud::cache::DEFAULT_MAX_BYTES));
    }

    #[test]
    fn bad_finishing_values_are_usage_errors() {
        for args in [
            ["aloud", "narrate", "a.txt", "--bits", "7"],
            ["aloud", "narrate", "a.txt", "--loudness", "loud"],
            ["aloud", "narrate", "a.txt", "--true-peak", "3"],
            ["aloud", "narrate", "a.txt", "--pause", "nap=3"],
            ["aloud", "narrate", "a.txt", "--sidecars", "subs"],
        ] {
            let error = Cli::try_parse_from(args).err().expect("refused");
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{args:?}"
            );
            assert_eq!(error.exit_code(), 2);
        }
    }
}

const FEED_HELP: &str = "Every audio file under DIR with its .timeline.json beside it is an episode \
(hidden directories, such as a batch's .aloud-batch, are skipped); when both OUT.mp3 and OUT.wav \
exist, the MP3 is published. Each item has the audio as its enclosure (URL, size in bytes, type), \
its title and duration from the timeline, its chapters inline (Podlove Simple Chapters), and, when \
they exist beside it, its Podcasting 2.0 chapters (OUT.chapters.json) and captions (OUT.vtt, \
OUT.srt) as podcast:chapters and podcast:transcript: narrate with --sidecars vtt,podcast-chapters \
for both (`aloud batch --feed` adds the chapters itself).\n\n\
Every link is --base-url plus the file's path in DIR, each segment percent-encoded: copy DIR as it \
is to that URL on any static host (object storage, GitHub Pages, a web server's folder) and \
subscribe to BASE-URL/feed.xml.\n\n\
Run it again after narrating more: new narrations are added, newest first, and gone ones left \
out. Every episode keeps its GUID (made from its path in DIR, so re-narrating an article or \
switching it to MP3 keeps the episode) and the publication date it was first given (its audio's \
modification time), so podcast apps show only the new episodes as new. The feed is written \
whole or not at all; a directory with no narrations is an error and writes nothing.\n\n\
Examples:\n  \
aloud feed audio --base-url https://example.com/podcast/\n  \
aloud feed audio --base-url https://example.com/podcast/ --title \"Morning reads\" --image cover.jpg\n  \
aloud batch articles/ --out-dir audio --feed --base-url https://example.com/podcast/\n  \
rsync -a --exclude .aloud-batch audio/ server:/var/www/podcast/";

#[derive(Args)]
pub struct FeedArgs {
    /// The directory of narrations: an `aloud batch` --out-dir, or wherever `aloud narrate`
    /// wrote.
    pub dir: PathBuf,
    /// The URL DIR will be published at; every link in the feed starts with it
    /// (e.g. https://example.com/podcast/).
    #[arg(long, value_name = "URL")]
    pub base_url: String,
    /// The show's name [default: DIR's name].
    #[arg(long)]
    pub title: Option<String>,
    /// What the show is [default: "TITLE: articles read aloud by a synthetic voice."].
    #[arg(long)]
    pub description: Option<String>,
    /// Who makes the show (itunes:author) [default: aloud].
    #[arg(long)]
    pub author: Option<String>,
    /// The show's artwork: a URL, or a file's path relative to --base-url (e.g. cover.jpg
    /// copied into DIR). Apple asks for a square JPEG or PNG of 1400 to 3000 pixels.
    #[arg(long, value_name = "URL|PATH")]
    pub image: Option<String>,
    /// The show's language, a BCP 47 tag such as en-GB [default: the narrations' voices'
    /// language, else en].
    #[arg(long)]
    pub language: Option<String>,
    /// One of Apple's podcast categories (itunes:category), e.g. "Society & Culture"
    /// [default: News].
    #[arg(long)]
    pub category: Option<String>,
    /// Mark the show as explicit (itunes:explicit true).
    #[arg(long)]
    pub explicit: bool,
    /// Print what was written as JSON (the feed's URL and each episode's enclosure, GUID,
    /// date, chapters and transcripts).
    #[arg(long)]
    pub json: bool,
}

/// `aloud batch --feed`: the feed of the output directory, rewritten after the batch.
#[derive(Args)]
#[command(next_help_heading = "Podcast feed")]
pub struct BatchFeedArgs {
    /// After the batch, write OUT-DIR/feed.xml for every narration there (this run's and
    /// earlier ones'), as `aloud feed` does; each article also gets OUT.chapters.json
    /// (Podcasting 2.0 chapters), which the feed links.
    #[arg(long, requires = "base_url")]
    pub feed: bool,
    /// The URL OUT-DIR will be published at (e.g. https://example.com/podcast/).
    #[arg(long, value_name = "URL", requires = "feed")]
    pub base_url: Option<String>,
    /// The show's name [default: OUT-DIR's name].
    #[arg(long, value_name = "TITLE", requires = "feed")]
    pub feed_title: Option<String>,
    /// What the show is.
    #[arg(long, value_name = "TEXT", requires = "feed")]
    pub feed_description: Option<String>,
    /// Who makes the show (itunes:author) [default: aloud].
    #[arg(long, value_name = "NAME", requires = "feed")]
    pub feed_author: Option<String>,
    /// The show's artwork: a URL, or a path relative to --base-url.
    #[arg(long, value_name = "URL|PATH", requires = "feed")]
    pub feed_image: Option<String>,
    /// The show's language [default: the voices' language, else en].
    #[arg(long, value_name = "TAG", requires = "feed")]
    pub feed_language: Option<String>,
    /// One of Apple's podcast categories [default: News].
    #[arg(long, value_name = "CATEGORY", requires = "feed")]
    pub feed_category: Option<String>,
}

#[derive(Args)]
pub struct PlayerArgs {
    /// A narration's audio, with its OUT.timeline.json beside it.
    #[arg(value_name = "OUT.wav|OUT.mp3")]
    pub audio: PathBuf,
    /// Print what was written as JSON (`page`, `script`, `audio`, `timeline`, `duration`).
    #[arg(long)]
    pub json: bool,
}

const PLAYER_HELP: &str = "The player is built from OUT.timeline.json beside the audio (every \
narration writes one), which must be that audio's: its length is checked against the audio's. \
OUT.html holds the player and the timeline, so it works opened from disk or from any static host \
with the audio beside it. Both files are written whole or not at all.\n\n\
Embed it in an article page (serve the audio, its timeline and aloud-player.js):\n  \
<script src=\"aloud-player.js\" defer></script>\n  \
<aloud-player src=\"story.mp3\" timeline=\"story.timeline.json\"></aloud-player>\n\n\
Examples:\n  \
aloud player story.mp3\n  \
aloud narrate story.md -o story.mp3 --player\n  \
aloud player audio/story.wav --json";
