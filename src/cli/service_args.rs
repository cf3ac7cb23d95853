//! The service commands' flags: `aloud serve`, `aloud worker` and `aloud status` (the queue,
//! the workers' settings, the API's listen address, tokens and limits).

use super::args::{AssetArgs, CacheArgs};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Which queue: PostgreSQL for many machines, or the SQLite file embedded in the output
/// directory.
#[derive(Args, Clone)]
#[command(next_help_heading = "Queue")]
pub struct QueueArgs {
    /// postgres://USER@HOST/DB (many workers, many machines) or sqlite://PATH
    /// [default: the embedded SQLite queue, OUT-DIR/.aloud-queue.sqlite].
    #[arg(
        long,
        value_name = "URL",
        env = "ALOUD_QUEUE_URL",
        hide_env_values = true
    )]
    pub queue: Option<String>,
    /// Where narrations are written (OUT-DIR/ID/NAME.wav and sidecars); every worker and the
    /// server must see the same directory.
    #[arg(short, long, value_name = "DIR", default_value = "aloud-out")]
    pub out_dir: PathBuf,
    /// Where finished narrations are kept: fs://DIR, or s3://BUCKET/PREFIX?endpoint=URL&region=R
    /// (built with --features s3; keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)
    /// [default: OUT-DIR itself].
    #[arg(
        long,
        value_name = "URL",
        env = "ALOUD_STORE_URL",
        hide_env_values = true
    )]
    pub store: Option<String>,
}

/// `aloud batch` on a shared queue: its articles become jobs that `aloud worker`s on other
/// machines help with.
#[derive(Args, Clone)]
#[command(next_help_heading = "Queue (many machines)")]
pub struct BatchQueueArgs {
    /// Queue every article on this queue (postgres://USER@HOST/DB, or sqlite://PATH) for this
    /// process and any `aloud worker --queue URL --store STORE` to narrate, then gather the
    /// files into OUT-DIR. Voices must be names, not profile files.
    #[arg(long, value_name = "URL")]
    pub queue: Option<String>,
    /// With --queue: where workers put finished files, the same --store every worker is given
    /// (fs://DIR on a shared filesystem, or s3://...) [default: a directory in OUT-DIR, which
    /// only this machine's workers reach].
    #[arg(long, value_name = "URL", requires = "queue")]
    pub store: Option<String>,
    /// With --queue: starts an article gets before it is failed (a job whose worker dies this
    /// many times).
    #[arg(long, value_name = "N", default_value_t = 3, requires = "queue", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub max_attempts: u16,
    /// With --queue: share this process's sentence cache through the store, as
    /// `aloud worker --share-cache` does.
    #[arg(long, requires = "queue")]
    pub share_cache: bool,
}

/// How a worker runs jobs (`aloud worker`, and the workers inside `aloud serve`).
#[derive(Args, Clone)]
#[command(next_help_heading = "Worker")]
pub struct WorkArgs {
    /// Narrations run at once by this process.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Starts a narration gets before it is failed: a job whose worker dies this many times
    /// (killed, crashed, out of memory) is not handed out again.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub max_attempts: u16,
    /// A file holding the secret completion webhooks are signed with (HMAC-SHA256).
    #[arg(long, value_name = "FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Finished narrations' records are deleted after this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub retention_days: u32,
    /// Share the sentence cache through the store (under clips/): a sentence any worker with
    /// the same --store synthesized is taken from there, not synthesized (or billed) again.
    #[arg(long)]
    pub share_cache: bool,
}

/// What a process that runs narrations takes (`aloud worker`, and `aloud serve` with its
/// workers inside): the queue, the workers' settings, the sentence cache and the engine files.
#[derive(Args)]
pub struct RunnerArgs {
    #[command(flatten)]
    pub queue: QueueArgs,
    #[command(flatten)]
    pub work: WorkArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub assets: AssetArgs,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on. Without --token-file only a loopback address is allowed.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Bearer tokens the API accepts, one per line.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Workers run inside the server (0: only separate `aloud worker` processes narrate).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub workers: u16,
    /// Let URL inputs and webhooks reach loopback, private, link-local and metadata addresses.
    #[arg(long)]
    pub allow_private_urls: bool,
    /// An address URL inputs and webhooks may reach although it is not public (the
    /// newsroom's own CMS on the private network); repeatable.
    #[arg(long, value_name = "IP")]
    pub allow_address: Vec<std::net::IpAddr>,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body: usize,
    /// Requests per minute per token (or per server, without tokens).
    #[arg(long, value_name = "N", default_value_t = 600)]
    pub rate_limit: u32,
    /// Print the address listened on as one JSON line once ready.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub runner: RunnerArgs,
}

#[derive(Args)]
pub struct WorkerArgs {
    /// Let webhooks reach loopback, private, link-local and metadata addresses.
    #[arg(long)]
    pub allow_private_urls: bool,
    #[command(flatten)]
    pub runner: RunnerArgs,
}

#[derive(Args)]
pub struct StatusArgs {
    /// Delete finished narrations older than this many days first.
    #[arg(long, value_name = "DAYS")]
    pub prune_days: Option<u32>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub queue: QueueArgs,
}
