//! Where narration jobs wait: an apalis queue on SQLite (embedded, a file inside the output
//! directory: nothing to run) or on PostgreSQL (shared by workers on many machines), and the
//! connection both the queue and the narration records use.

use super::JobError;
use super::records::Records;
use super::spec::JobSpec;
use apalis::prelude::TaskSink;
use apalis_postgres::{PgPool, PostgresStorage};
use apalis_sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteStorage};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// apalis' name for aloud's one job type (its queue).
pub const QUEUE_NAME: &str = "aloud-narrations";
/// The environment variable naming the queue (`DATABASE_URL` is left alone: sqlx's build
/// would read it).
pub const QUEUE_ENV: &str = "ALOUD_QUEUE_URL";
/// The embedded queue's file inside the output directory.
pub const EMBEDDED_FILE: &str = ".aloud-queue.sqlite";
/// How often a worker tells the queue it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// Heartbeats a worker may miss before its jobs are handed to another worker.
pub const MISSED_HEARTBEATS: usize = 3;
/// How often an idle worker looks for new jobs.
pub const POLL: Duration = Duration::from_millis(100);

/// Where a queue is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueUrl {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl QueueUrl {
    /// `postgres://...` / `postgresql://...`, `sqlite://PATH` or a plain path to a SQLite file.
    pub fn parse(text: &str) -> Result<QueueUrl, JobError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(QueueUrl::Postgres(text.to_string()));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        if path.is_empty() || path.contains("://") {
            return Err(JobError::QueueUrl {
                url: redact(text),
                message: "expected postgres://..., sqlite://PATH or a file path".into(),
            });
        }
        Ok(QueueUrl::Sqlite(PathBuf::from(path)))
    }

    /// The embedded queue of an output directory.
    pub fn embedded(out_dir: &Path) -> QueueUrl {
        QueueUrl::Sqlite(out_dir.join(EMBEDDED_FILE))
    }

    /// The URL as it may be shown: without a password.
    pub fn redacted(&self) -> String {
        match self {
            QueueUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            QueueUrl::Postgres(url) => redact(url),
        }
    }
}

/// A URL with any password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// An open connection to a queue's database.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A queue: jobs go in here, workers take them out, and the narration records live beside them.
#[derive(Debug, Clone)]
pub struct Queue {
    pub(crate) db: Db,
    url: QueueUrl,
}

impl Queue {
    /// Connects, creating the database's tables (apalis' and aloud's) when they are missing.
    pub async fn open(url: &QueueUrl) -> Result<Queue, JobError> {
        let fail = |source: sqlx::Error| JobError::Database {
            queue: url.redacted(),
            source,
        };
        let db = match url {
            QueueUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| JobError::Io {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .busy_timeout(Duration::from_secs(30));
                // One connection: SQLite takes one writer at a time anyway, and connections of
                // one process queueing in the pool beat their contending in SQLite's busy
                // handler, which sleeps (measured: p99 submit latency 504 ms with 4, under
                // 20 concurrent clients). Other processes on the file wait in busy_timeout.
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                // Two processes opening a new file at once both run the migrations, and one
                // fails on the other's (SQLite has no migration lock): it tries again, and
                // finds them done.
                let mut tries = 0;
                while let Err(error) = SqliteStorage::setup(&pool).await {
                    tries += 1;
                    if tries == 5 {
                        return Err(JobError::Queue {
                            queue: url.redacted(),
                            message: format!("cannot set up the queue's tables: {error}"),
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(100 * tries)).await;
                }
                // apalis turns synchronous writes off; a narration accepted must survive a
                // power cut, not only a killed process.
                sqlx::query("PRAGMA synchronous = NORMAL;")
                    .execute(&pool)
                    .await
                    .map_err(fail)?;
                Db::Sqlite(pool)
            }
            QueueUrl::Postgres(text) => {
                let pool = apalis_postgres::PgPool::connect(text).await.map_err(fail)?;
                PostgresStorage::setup(&pool)
                    .await
                    .map_err(|error| JobError::Queue {
                        queue: url.redacted(),
                        message: format!("cannot set up the queue's tables: {error}"),
                    })?;
                Db::Postgres(pool)
            }
        };
        let queue = Queue {
            db,
            url: url.clone(),
        };
        queue.records().setup().await?;
        Ok(queue)
    }

    pub fn url(&self) -> &QueueUrl {
        &self.url
    }

    /// The narration records kept beside the jobs.
    pub fn records(&self) -> Records {
        Records::new(self.db.clone(), self.url.redacted())
    }

    /// Puts a job on the queue for any worker to take.
    pub async fn push(&self, spec: &JobSpec) -> Result<(), JobError> {
        let fail = |message: String| JobError::Queue {
            queue: self.url.redacted(),
            message: format!("cannot queue narration {}: {message}", spec.id),
        };
        match &self.db {
            Db::Sqlite(pool) => {
                let mut storage = SqliteStorage::<JobSpec>::new(pool).with_config(sqlite_config(1));
                storage
                    .push(spec.clone())
                    .await
                    .map_err(|e| fail(e.to_string()))
            }
            Db::Postgres(pool) => {
                let mut storage =
                    PostgresStorage::<JobSpec>::new(pool).with_config(postgres_config(1));
                storage
                    .push(spec.clone())
                    .await
                    .map_err(|e| fail(e.to_string()))
            }
        }
    }
}

/// The SQLite backend's settings: aloud's queue, the heartbeat set explicitly, and as many
/// jobs fetched at once as the worker runs (so one worker never holds jobs another could run).
pub(crate) fn sqlite_config(batch: usize) -> apalis_sqlite::Config {
    apalis_sqlite::Config::default()
        .queue(QUEUE_NAME)
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
        .batch_size(batch.max(1))
}

/// The PostgreSQL backend's settings, as [`sqlite_config`] (its default waits 5 minutes for
/// a dead worker).
pub(crate) fn postgres_config(batch: usize) -> apalis_postgres::Config {
    apalis_postgres::Config::default()
        .queue(QUEUE_NAME)
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
        .batch_size(batch.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_parse_and_hide_passwords() {
        assert_eq!(
            QueueUrl::parse("postgres://u:secret@127.0.0.1:5432/db").ok(),
            Some(QueueUrl::Postgres(
                "postgres://u:secret@127.0.0.1:5432/db".into()
            ))
        );
        assert_eq!(
            QueueUrl::parse("sqlite:///tmp/q.sqlite").ok(),
            Some(QueueUrl::Sqlite("/tmp/q.sqlite".into()))
        );
        assert_eq!(
            QueueUrl::parse("out/q.sqlite").ok(),
            Some(QueueUrl::Sqlite("out/q.sqlite".into()))
        );
        assert!(QueueUrl::parse("redis://x").is_err());
        let shown = QueueUrl::parse("postgres://u:secret@h/db")
            .expect("a url")
            .redacted();
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
