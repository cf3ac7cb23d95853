//! The narration records beside the queue (table `aloud_narrations`): what the API reports
//! for each narration (status, progress, attempts, error, output) and what `aloud status`
//! counts. One schema and one set of statements for SQLite and PostgreSQL. A record never
//! holds a token, key or secret: an idempotency key is kept only as a hash with its caller.

use super::JobError;
use super::queue::{Db, HEARTBEAT, MISSED_HEARTBEATS, QUEUE_NAME};
use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS aloud_narrations (
    id TEXT PRIMARY KEY,
    idempotency TEXT UNIQUE,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    voice TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    sentences_done BIGINT NOT NULL DEFAULT 0,
    sentences_total BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    output TEXT,
    summary TEXT,
    worker TEXT,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    finished_ms BIGINT
)";

/// A SELECT of every column of the records, then `$tail` (a literal: no SQL is built at
/// run time).
macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT id, status, voice, attempts, sentences_done, sentences_total, error, ",
            "output, summary, worker, created_ms, started_ms, finished_ms, request_hash ",
            "FROM aloud_narrations ",
            $tail
        )
    };
}

/// The advisory lock that serialises creating the records' table on PostgreSQL ("aloud" in
/// ASCII).
const SETUP_LOCK: i64 = 0x61_6c6f_7564;

/// Runs the same statement on whichever database the queue is.
macro_rules! each_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// Where a narration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Status {
        match text {
            "running" => Status::Running,
            "done" => Status::Done,
            "failed" => Status::Failed,
            "cancelled" => Status::Cancelled,
            _ => Status::Queued,
        }
    }

    /// Whether the narration will change no more.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Cancelled)
    }
}

/// One narration as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Narration {
    pub id: String,
    pub status: Status,
    pub voice: String,
    /// Times a worker has started it (more than 1: a worker died or was killed running it).
    pub attempts: i64,
    pub sentences_done: i64,
    pub sentences_total: i64,
    pub error: Option<String>,
    /// The audio's file name inside the narration's directory, once done.
    pub output: Option<String>,
    /// `narrate --json`'s summary, once done.
    pub summary: Option<serde_json::Value>,
    pub worker: Option<String>,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    #[serde(skip)]
    pub request_hash: String,
}

/// A new narration's record.
#[derive(Debug, Clone)]
pub struct NewNarration {
    pub id: String,
    /// Hash of the caller and their Idempotency-Key, if one was sent.
    pub idempotency: Option<String>,
    /// Hash of the request body, to tell a replay from a different request under one key.
    pub request_hash: String,
    pub voice: String,
}

/// What inserting a record did.
#[derive(Debug, Clone)]
pub enum Inserted {
    New,
    /// The idempotency key was used before: this is that narration.
    Existing(Box<Narration>),
}

/// What a worker may do with a job it took.
#[derive(Debug, Clone)]
pub enum Start {
    /// Run it; this is its attempt number (1 the first time).
    Run { attempt: i64 },
    /// Leave it: it was cancelled or has already ended (a job delivered twice).
    Skip(Status),
}

/// The queue at a glance (`aloud status`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Workers that sent a heartbeat recently enough to be counted alive.
    pub workers_alive: i64,
    /// Age of the oldest narration still waiting, in seconds.
    pub oldest_queued_seconds: Option<f64>,
}

/// The records table of one queue.
#[derive(Debug, Clone)]
pub struct Records {
    db: Db,
    queue: String,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Records {
    pub(crate) fn new(db: Db, queue: String) -> Records {
        Records { db, queue }
    }

    fn fail(&self) -> impl Fn(sqlx::Error) -> JobError + '_ {
        move |source| JobError::Database {
            queue: self.queue.clone(),
            source,
        }
    }

    pub(crate) async fn setup(&self) -> Result<(), JobError> {
        const INDEX: &str = "CREATE INDEX IF NOT EXISTS aloud_narrations_status ON aloud_narrations (status, created_ms)";
        match &self.db {
            Db::Sqlite(pool) => {
                for sql in [SCHEMA, INDEX] {
                    sqlx::query(sql).execute(pool).await.map_err(self.fail())?;
                }
            }
            Db::Postgres(pool) => {
                // Processes starting at once on a new database collide in PostgreSQL's catalog
                // even with IF NOT EXISTS (a duplicate key in pg_type, seen when a batch and
                // its workers started together): one creates the table while the others wait
                // on this lock, then find it there.
                let mut transaction = pool.begin().await.map_err(self.fail())?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(SETUP_LOCK)
                    .execute(&mut *transaction)
                    .await
                    .map_err(self.fail())?;
                for sql in [SCHEMA, INDEX] {
                    sqlx::query(sql)
                        .execute(&mut *transaction)
                        .await
                        .map_err(self.fail())?;
                }
                transaction.commit().await.map_err(self.fail())?;
            }
        }
        Ok(())
    }

    /// Records a narration as queued, unless its idempotency key was used before.
    pub async fn insert(&self, new: &NewNarration) -> Result<Inserted, JobError> {
        let sql = "INSERT INTO aloud_narrations (id, idempotency, request_hash, status, voice, created_ms) \
                   VALUES ($1, $2, $3, 'queued', $4, $5) ON CONFLICT (idempotency) DO NOTHING";
        let inserted = each_db!(&self.db, pool => sqlx::query(sql)
            .bind(&new.id)
            .bind(&new.idempotency)
            .bind(&new.request_hash)
            .bind(&new.voice)
            .bind(now_ms())
            .execute(pool)
            .await
            .map_err(self.fail())?
            .rows_affected());
        if inserted == 1 {
            return Ok(Inserted::New);
        }
        // Without a key nothing conflicts, so a row not inserted is a fault either way.
        let existing = match new.idempotency.as_deref() {
            Some(hash) => self.find_idempotent(hash).await?,
            None => None,
        };
        let existing = existing.ok_or_else(|| JobError::Queue {
            queue: self.queue.clone(),
            message: format!("narration {} was not recorded", new.id),
        })?;
        Ok(Inserted::Existing(Box::new(existing)))
    }

    /// The narration first recorded under this idempotency hash, if any.
    pub async fn find_idempotent(&self, hash: &str) -> Result<Option<Narration>, JobError> {
        self.find_one(select!("WHERE idempotency = $1"), hash).await
    }

    pub async fn get(&self, id: &str) -> Result<Option<Narration>, JobError> {
        self.find_one(select!("WHERE id = $1"), id).await
    }

    /// The narration `sql` (a `select!` with one `$1`) finds for `key`, if any.
    async fn find_one(&self, sql: &'static str, key: &str) -> Result<Option<Narration>, JobError> {
        each_db!(&self.db, pool => match sqlx::query(sql)
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(self.fail())?
        {
            Some(row) => Ok(Some(narration(&row).map_err(self.fail())?)),
            None => Ok(None),
        })
    }

    /// Runs the update `sql` on narration `id` with `$2` = `value` and `$3` = now; the rows
    /// it changed (0 when its status condition did not hold).
    async fn update_stamped(
        &self,
        sql: &'static str,
        id: &str,
        value: &str,
    ) -> Result<u64, JobError> {
        Ok(each_db!(&self.db, pool => sqlx::query(sql)
            .bind(id)
            .bind(value)
            .bind(now_ms())
            .execute(pool)
            .await
            .map_err(self.fail())?
            .rows_affected()))
    }

    /// A worker starts (or restarts) a narration: counts the attempt, unless it has ended.
    pub async fn start(&self, id: &str, worker: &str) -> Result<Start, JobError> {
        let sql = "UPDATE aloud_narrations SET attempts = attempts + 1, status = 'running', \
                   worker = $2, started_ms = $3 WHERE id = $1 AND status IN ('queued', 'running')";
        let updated = self.update_stamped(sql, id, worker).await?;
        let record = self.get(id).await?.ok_or_else(|| JobError::Queue {
            queue: self.queue.clone(),
            message: format!("narration {id} has no record"),
        })?;
        Ok(match updated {
            1 => Start::Run {
                attempt: record.attempts,
            },
            _ => Start::Skip(record.status),
        })
    }

    pub async fn progress(&self, id: &str, done: i64, total: i64) -> Result<(), JobError> {
        let sql = "UPDATE aloud_narrations SET sentences_done = $2, sentences_total = $3 \
                   WHERE id = $1 AND status = 'running'";
        each_db!(&self.db, pool => sqlx::query(sql)
            .bind(id)
            .bind(done)
            .bind(total)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(self.fail())?);
        Ok(())
    }

    /// Marks a running narration done; false if it was cancelled meanwhile.
    pub async fn finish_done(
        &self,
        id: &str,
        output: &str,
        summary: &serde_json::Value,
    ) -> Result<bool, JobError> {
        let sql = "UPDATE aloud_narrations SET status = 'done', output = $2, summary = $3, \
                   error = NULL, finished_ms = $4, sentences_done = sentences_total \
                   WHERE id = $1 AND status = 'running'";
        let summary = summary.to_string();
        let updated = each_db!(&self.db, pool => sqlx::query(sql)
            .bind(id)
            .bind(output)
            .bind(&summary)
            .bind(now_ms())
            .execute(pool)
            .await
            .map_err(self.fail())?
            .rows_affected());
        Ok(updated == 1)
    }

    /// Marks a narration failed with its error (unless it already ended).
    pub async fn finish_failed(&self, id: &str, error: &str) -> Result<bool, JobError> {
        let sql = "UPDATE aloud_narrations SET status = 'failed', error = $2, finished_ms = $3 \
                   WHERE id = $1 AND status IN ('queued', 'running')";
        Ok(self.update_stamped(sql, id, error).await? == 1)
    }

    /// Cancels a narration that has not ended; its record as it now is.
    pub async fn cancel(&self, id: &str) -> Result<Option<Narration>, JobError> {
        let sql = "UPDATE aloud_narrations SET status = 'cancelled', finished_ms = $2 \
                   WHERE id = $1 AND status IN ('queued', 'running')";
        each_db!(&self.db, pool => sqlx::query(sql)
            .bind(id)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(self.fail())?);
        self.get(id).await
    }

    /// Counts by status, workers alive, and the oldest waiting narration's age.
    pub async fn counts(&self) -> Result<Counts, JobError> {
        let mut counts = Counts::default();
        let rows: Vec<(String, i64)> = each_db!(&self.db, pool => sqlx::query_as(
            "SELECT status, COUNT(*) FROM aloud_narrations GROUP BY status")
            .fetch_all(pool)
            .await
            .map_err(self.fail())?);
        for (status, n) in rows {
            match Status::parse(&status) {
                Status::Queued => counts.queued += n,
                Status::Running => counts.running += n,
                Status::Done => counts.done += n,
                Status::Failed => counts.failed += n,
                Status::Cancelled => counts.cancelled += n,
            }
        }
        let oldest: (Option<i64>,) = each_db!(&self.db, pool => sqlx::query_as(
            "SELECT MIN(created_ms) FROM aloud_narrations WHERE status = 'queued'")
            .fetch_one(pool)
            .await
            .map_err(self.fail())?);
        counts.oldest_queued_seconds = oldest.0.map(|ms| (now_ms() - ms).max(0) as f64 / 1000.0);
        let alive_since = now_ms() / 1000
            - (HEARTBEAT.as_secs() as i64) * i64::try_from(MISSED_HEARTBEATS).unwrap_or(3);
        let alive: (i64,) = match &self.db {
            Db::Sqlite(pool) => sqlx::query_as(
                "SELECT COUNT(*) FROM Workers WHERE worker_type = $1 AND last_seen >= $2",
            )
            .bind(QUEUE_NAME)
            .bind(alive_since)
            .fetch_one(pool)
            .await
            .map_err(self.fail())?,
            Db::Postgres(pool) => sqlx::query_as(
                "SELECT COUNT(*) FROM apalis.workers WHERE worker_type = $1 \
                 AND last_seen >= to_timestamp($2::double precision)",
            )
            .bind(QUEUE_NAME)
            .bind(alive_since as f64)
            .fetch_one(pool)
            .await
            .map_err(self.fail())?,
        };
        counts.workers_alive = alive.0;
        Ok(counts)
    }

    /// Deletes finished narrations (and their finished queue rows) older than `age_ms`:
    /// neither apalis nor PostgreSQL vacuums them away. Returns the records deleted.
    pub async fn prune(&self, age_ms: i64) -> Result<u64, JobError> {
        let before_ms = now_ms() - age_ms;
        let deleted = each_db!(&self.db, pool => sqlx::query(
            "DELETE FROM aloud_narrations WHERE status IN ('done', 'failed', 'cancelled') \
             AND finished_ms < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map_err(self.fail())?
            .rows_affected());
        match &self.db {
            Db::Sqlite(pool) => sqlx::query(
                "DELETE FROM Jobs WHERE job_type = $1 AND status IN ('Done', 'Failed', 'Killed') \
                 AND done_at < $2",
            )
            .bind(QUEUE_NAME)
            .bind(before_ms / 1000)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(self.fail())?,
            Db::Postgres(pool) => sqlx::query(
                "DELETE FROM apalis.jobs WHERE job_type = $1 AND status IN ('Done', 'Failed', 'Killed') \
                 AND done_at < to_timestamp($2::double precision)",
            )
            .bind(QUEUE_NAME)
            .bind(before_ms as f64 / 1000.0)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(self.fail())?,
        };
        Ok(deleted)
    }
}

/// A record from a row of either database.
fn narration<R>(row: &R) -> Result<Narration, sqlx::Error>
where
    R: sqlx::Row,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    i64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    String: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
{
    let summary: Option<String> = row.try_get("summary")?;
    Ok(Narration {
        id: row.try_get("id")?,
        status: Status::parse(&row.try_get::<String, _>("status")?),
        voice: row.try_get("voice")?,
        attempts: row.try_get("attempts")?,
        sentences_done: row.try_get("sentences_done")?,
        sentences_total: row.try_get("sentences_total")?,
        error: row.try_get("error")?,
        output: row.try_get("output")?,
        summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
        worker: row.try_get("worker")?,
        created_ms: row.try_get("created_ms")?,
        started_ms: row.try_get("started_ms")?,
        finished_ms: row.try_get("finished_ms")?,
        request_hash: row.try_get("request_hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::queue::{Queue, QueueUrl};
    use super::*;

    fn new(id: &str, key: Option<&str>) -> NewNarration {
        NewNarration {
            id: id.into(),
            idempotency: key.map(str::to_string),
            request_hash: "h".into(),
            voice: "joe".into(),
        }
    }

    #[test]
    fn a_narration_moves_through_its_states_on_sqlite() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            let queue = Queue::open(&QueueUrl::embedded(dir.path()))
                .await
                .expect("the queue opens");
            let records = queue.records();
            assert!(matches!(
                records.insert(&new("a", Some("k1"))).await.expect("insert"),
                Inserted::New
            ));
            match records.insert(&new("b", Some("k1"))).await.expect("insert") {
                Inserted::Existing(n) => assert_eq!(n.id, "a"),
                Inserted::New => panic!("the key was used before"),
            }
            assert!(matches!(
                records.insert(&new("c", None)).await.expect("insert"),
                Inserted::New
            ));
            assert!(matches!(
                records.insert(&new("d", None)).await.expect("insert"),
                Inserted::New
            ));
            assert!(matches!(
                records.start("a", "w1").await.expect("start"),
                Start::Run { attempt: 1 }
            ));
            assert!(matches!(
                records.start("a", "w2").await.expect("start"),
                Start::Run { attempt: 2 }
            ));
            records.progress("a", 3, 7).await.expect("progress");
            let summary = serde_json::json!({"sentences": 7});
            assert!(
                records
                    .finish_done("a", "x.wav", &summary)
                    .await
                    .expect("done")
            );
            assert!(matches!(
                records.start("a", "w3").await.expect("start"),
                Start::Skip(Status::Done)
            ));
            let cancelled = records
                .cancel("c")
                .await
                .expect("cancel")
                .expect("a record");
            assert_eq!(cancelled.status, Status::Cancelled);
            assert!(!records.finish_failed("c", "late").await.expect("fail"));
            let counts = records.counts().await.expect("counts");
            assert_eq!(
                (counts.queued, counts.done, counts.cancelled),
                (1, 1, 1),
                "{counts:?}"
            );
            assert!(counts.oldest_queued_seconds.is_some());
            let done = records.get("a").await.expect("get").expect("a record");
            assert_eq!((done.sentences_done, done.attempts), (7, 2));
            assert_eq!(records.prune(-1000).await.expect("prune"), 2);
            assert!(records.get("a").await.expect("get").is_none());
        });
    }
}
