//! Where narrations' finished files are kept, through opendal: a directory by default (the
//! output directory, services-fs), or S3 and S3-compatible servers with the `s3` feature
//! (`s3://BUCKET/PREFIX?endpoint=URL&region=REGION`, keys from `AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY`), so workers on many machines and the API share them. A file is
//! stored under `ID/NAME`; a worker writes it only once the narration is whole.

use super::JobError;
use opendal::Operator;
use std::path::{Path, PathBuf};

/// A store of narration files.
#[derive(Debug, Clone)]
pub struct Store {
    operator: Operator,
    /// The store as it may be shown (no credentials).
    shown: String,
    /// The directory, for a directory store.
    root: Option<PathBuf>,
}

/// Installs what opendal needs process-wide before any store is used: the ring crypto
/// provider for rustls and opendal's default HTTP transport (reqwest).
pub fn install() {
    crate::tls::install_crypto_provider();
    opendal::install_default();
    #[cfg(feature = "s3")]
    opendal_http_transport_reqwest::install_default();
}

impl Store {
    /// A directory store (opendal's services-fs); files are written to a temporary file in
    /// `DIR/.aloud-uploads` and renamed into place.
    pub fn directory(dir: &Path) -> Result<Store, JobError> {
        let fail = |message: String| JobError::Config {
            message: format!("store {}: {message}", dir.display()),
        };
        std::fs::create_dir_all(dir).map_err(|source| JobError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let root = std::fs::canonicalize(dir).map_err(|source| JobError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let uploads = root.join(".aloud-uploads");
        let text = |p: &Path| {
            p.to_str()
                .map(str::to_string)
                .ok_or_else(|| fail("the path is not UTF-8".into()))
        };
        let builder = opendal::services::Fs::default()
            .root(&text(&root)?)
            .atomic_write_dir(&text(&uploads)?);
        let operator = Operator::new(builder).map_err(|e| fail(e.to_string()))?;
        Ok(Store {
            operator,
            shown: format!("fs://{}", root.display()),
            root: Some(root),
        })
    }

    /// `fs://PATH` or a path; `s3://BUCKET/PREFIX?endpoint=URL&region=REGION` with the `s3`
    /// feature.
    pub fn parse(url: &str) -> Result<Store, JobError> {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("s3://") {
            return s3(url, rest);
        }
        let path = url.strip_prefix("fs://").unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(JobError::Config {
                message: format!("store {url}: expected fs://PATH, a path, or s3://BUCKET/PREFIX"),
            });
        }
        Store::directory(Path::new(path))
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The directory of a directory store.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Whether files written into `dir/ID/` are already in this store.
    pub fn is_directory(&self, dir: &Path) -> bool {
        match (&self.root, std::fs::canonicalize(dir)) {
            (Some(root), Ok(dir)) => *root == dir,
            _ => false,
        }
    }

    fn fail(&self, key: &str, error: opendal::Error) -> JobError {
        JobError::Store {
            store: self.shown.clone(),
            key: key.to_string(),
            message: error.to_string(),
        }
    }

    /// Stores every file of `dir` (not hidden ones) under `ID/NAME`; their names.
    pub async fn upload(&self, id: &str, dir: &Path) -> Result<Vec<String>, JobError> {
        let entries = std::fs::read_dir(dir).map_err(|source| JobError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut names = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_file() {
                continue;
            }
            let bytes = std::fs::read(entry.path()).map_err(|source| JobError::Io {
                path: entry.path(),
                source,
            })?;
            let key = format!("{id}/{name}");
            self.operator
                .write(&key, bytes)
                .await
                .map_err(|e| self.fail(&key, e))?;
            names.push(name);
        }
        names.sort();
        Ok(names)
    }

    /// The size of `key`, or `None` when it is not there.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, JobError> {
        match self.operator.stat(key).await {
            Ok(meta) => Ok(Some(meta.content_length())),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.fail(key, e)),
        }
    }

    /// Removes every file of narration `id` (`ID/...`).
    pub async fn remove_narration(&self, id: &str) -> Result<(), JobError> {
        let prefix = format!("{id}/");
        self.operator
            .delete_with(&prefix)
            .recursive(true)
            .await
            .map_err(|e| self.fail(&prefix, e))
    }

    /// The whole of `key`.
    pub async fn read_all(&self, key: &str) -> Result<Vec<u8>, JobError> {
        self.operator
            .read(key)
            .await
            .map(|buffer| buffer.to_vec())
            .map_err(|e| self.fail(key, e))
    }

    /// Bytes `start..=end` of `key`.
    pub async fn read(&self, key: &str, start: u64, end: u64) -> Result<Vec<u8>, JobError> {
        if end < start {
            return Ok(Vec::new());
        }
        self.operator
            .read_with(key)
            .range(start..end + 1)
            .await
            .map(|buffer| buffer.to_vec())
            .map_err(|e| self.fail(key, e))
    }
}

#[cfg(feature = "s3")]
fn s3(url: &str, rest: &str) -> Result<Store, JobError> {
    let fail = |message: &str| JobError::Config {
        message: format!("store {}: {message}", shown_s3(url)),
    };
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
    if bucket.is_empty() {
        return Err(fail("no bucket (s3://BUCKET/PREFIX)"));
    }
    let mut builder = opendal::services::S3::default()
        .bucket(bucket)
        .root(&format!("/{prefix}"))
        .region("us-east-1");
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        builder = match name.as_ref() {
            "endpoint" => builder.endpoint(&value),
            "region" => builder.region(&value),
            other => {
                return Err(fail(&format!(
                    "unknown parameter `{other}` (endpoint, region)"
                )));
            }
        };
    }
    if let (Ok(id), Ok(secret)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        builder = builder.access_key_id(&id).secret_access_key(&secret);
    }
    let operator = Operator::new(builder).map_err(|e| fail(&e.to_string()))?;
    Ok(Store {
        operator,
        shown: shown_s3(url),
        root: None,
    })
}

#[cfg(not(feature = "s3"))]
fn s3(url: &str, _rest: &str) -> Result<Store, JobError> {
    Err(JobError::Config {
        message: format!(
            "store {}: this aloud was built without S3 (build with --features s3)",
            shown_s3(url)
        ),
    })
}

/// An S3 URL without its query (which could carry an endpoint's credentials).
fn shown_s3(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

/// The sentence cache's shared tier on a store: entries under `clips/XX/KEY.clip`, where
/// every worker given the same store finds the clips any of them synthesized.
#[derive(Debug, Clone)]
pub struct StoreClips {
    store: Store,
}

impl Store {
    /// This store as the sentence cache's shared tier.
    pub fn clips(&self) -> StoreClips {
        StoreClips {
            store: self.clone(),
        }
    }
}

impl StoreClips {
    fn key(key: &str) -> String {
        format!("clips/{}/{key}.clip", key.get(..2).unwrap_or("00"))
    }
}

#[async_trait::async_trait]
impl crate::cache::SharedClips for StoreClips {
    async fn fetch(&self, key: &str) -> Option<Vec<u8>> {
        self.store.read_all(&Self::key(key)).await.ok()
    }

    async fn keep(&self, key: &str, entry: Vec<u8>) {
        let key = Self::key(key);
        if let Err(error) = self.store.operator.write(&key, entry).await {
            eprintln!(
                "aloud: the shared sentence cache ({}) could not keep {key}: {error}",
                self.store.shown
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_store_keeps_files_whole_and_reads_ranges() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let work = tempfile::tempdir().expect("a temp dir");
        std::fs::write(work.path().join("a.wav"), b"0123456789").expect("a file");
        std::fs::write(work.path().join(".aloud-a.wav.x.tmp"), b"half").expect("a file");
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            let store = Store::parse(&format!("fs://{}", dir.path().display())).expect("a store");
            assert!(store.is_directory(dir.path()));
            assert_eq!(
                store.upload("n1", work.path()).await.expect("upload"),
                ["a.wav"]
            );
            assert_eq!(store.size("n1/a.wav").await.expect("size"), Some(10));
            assert_eq!(store.size("n1/b.wav").await.expect("size"), None);
            assert_eq!(store.read("n1/a.wav", 2, 4).await.expect("read"), b"234");
            assert_eq!(
                std::fs::read(dir.path().join("n1/a.wav")).expect("in place"),
                b"0123456789"
            );
        });
        assert!(Store::parse("ftp://x").is_err());
        #[cfg(not(feature = "s3"))]
        assert!(Store::parse("s3://bucket/p?endpoint=http://127.0.0.1:9").is_err());
    }
}
