//! The hibari ONNX model: its vocabulary (`vocab.json`), one session per concurrent
//! inference, and one run from phoneme ids to the six spectral outputs.

use super::dsp::Spectra;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Phoneme characters to model ids, as `Hibari.ids` maps them: unknown characters are dropped
/// and the sequence is wrapped in the pad id 0.
#[derive(Debug)]
pub struct Vocab {
    ids: HashMap<char, i64>,
}

impl Vocab {
    /// Reads `vocab.json` (a JSON object of one-character keys to ids).
    pub fn read(path: &Path) -> Result<Vocab, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        let map: HashMap<String, i64> =
            serde_json::from_str(&text).map_err(|e| format!("not a phoneme vocabulary: {e}"))?;
        let mut ids = HashMap::with_capacity(map.len());
        for (key, id) in map {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    ids.insert(c, id);
                }
                _ => return Err(format!("key {key:?} is not one character")),
            }
        }
        if ids.len() < 20 {
            return Err(format!("only {} phonemes", ids.len()));
        }
        Ok(Vocab { ids })
    }

    /// The ids for `phonemes`, with how many characters the model does not know (dropped).
    pub fn encode(&self, phonemes: &str) -> (Vec<i64>, usize) {
        let mut out = Vec::with_capacity(phonemes.len() + 2);
        out.push(0);
        let mut unknown = 0;
        for c in phonemes.chars() {
            match self.ids.get(&c) {
                Some(&id) => out.push(id),
                None => unknown += 1,
            }
        }
        out.push(0);
        (out, unknown)
    }
}

/// Sessions of one model file, made on first use and kept for reuse.
pub struct Model {
    environment: &'static ort::environment::Environment,
    path: PathBuf,
    threads: usize,
    keep: usize,
    idle: Mutex<Vec<Session>>,
}

const OUTPUT_NAMES: [&str; 6] = ["lh", "theta", "ln", "lr", "phi", "f0"];

impl Model {
    pub fn new(
        environment: &'static ort::environment::Environment,
        path: &Path,
        threads: usize,
        keep: usize,
    ) -> Model {
        Model {
            environment,
            path: path.to_path_buf(),
            threads: threads.max(1),
            keep: keep.max(1),
            idle: Mutex::new(Vec::new()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn session(&self) -> Result<Session, String> {
        if let Some(session) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(session);
        }
        let fail = |e: &dyn std::fmt::Display| {
            format!("cannot load model {}: {e}", self.path.display())
        };
        Session::builder(self.environment)
            .map_err(|e| fail(&e))?
            .with_intra_threads(self.threads)
            .map_err(|e| fail(&e))?
            .with_inter_threads(1)
            .map_err(|e| fail(&e))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| fail(&e))?

            .commit_from_file(&self.path)
            .map_err(|e| fail(&e))
    }

    fn give_back(&self, session: Session) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.keep
        {
            idle.push(session);
        }
    }

    /// Runs the model on `ids` at `speed` (1.0 the teacher's pace) and hands its outputs to
    /// `then` where ONNX Runtime left them: a second of audio is about 1.2 MB of spectra, so
    /// they are not copied.
    pub fn run<T>(
        &self,
        ids: Vec<i64>,
        speed: f32,
        then: impl FnOnce(Spectra) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut session = self.session()?;
        let result = run_session(&mut session, ids, speed, then);
        self.give_back(session);
        result
    }
}

fn run_session<T>(
    session: &mut Session,
    ids: Vec<i64>,
    speed: f32,
    then: impl FnOnce(Spectra) -> Result<T, String>,
) -> Result<T, String> {
    let length = ids.len();
    let tensor_error = |e: ort::Error| e.to_string();
    let inputs: Vec<(Cow<str>, SessionInputValue)> = vec![
        (
            "ids".into(),
            Tensor::from_array(([1usize, length], ids))
                .map_err(tensor_error)?
                .into(),
        ),
        (
            "speed".into(),
            Tensor::from_array(([1usize], vec![speed]))
                .map_err(tensor_error)?
                .into(),
        ),
    ];
    let outputs = session.run(inputs).map_err(|e| e.to_string())?;
    let mut taken: Vec<&[f32]> = Vec::with_capacity(6);
    for name in OUTPUT_NAMES {
        let value = outputs
            .get(name)
            .ok_or_else(|| format!("the model has no output '{name}'"))?;
        let (_, data) = value
            .try_extract_tensor::<f32>()
            .map_err(|e| format!("output '{name}': {e}"))?;
        taken.push(data);
    }
    let [lh, th, ln, lr, phi, f0] = taken[..] else {
        return Err("the model gave fewer than six outputs".to_string());
    };
    let spectra = Spectra {
        lh,
        th,
        ln,
        lr,
        phi,
        f0,
    };
    spectra.check()?;
    then(spectra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(json: &str) -> Result<Vocab, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vocab.json");
        std::fs::write(&path, json).unwrap();
        Vocab::read(&path)
    }

    #[test]
    fn ids_are_padded_and_unknown_characters_dropped() {
        let letters: String = ('a'..='z')
            .enumerate()
            .map(|(i, c)| format!("\"{c}\": {}", i + 40))
            .collect::<Vec<_>>()
            .join(",");
        let vocab = vocab(&format!("{{{letters}, \" \": 16, \"ˈ\": 156}}")).unwrap();
        assert_eq!(vocab.encode("hˈi ❓"), (vec![0, 47, 156, 48, 16, 0], 1));
    }

    #[test]
    fn a_vocabulary_that_is_not_one_is_refused() {
        assert!(vocab("[1,2]").unwrap_err().contains("not a phoneme vocabulary"));
        assert!(vocab("{\"ab\": 1}").unwrap_err().contains("not one character"));
        assert!(vocab("{\"a\": 1}").unwrap_err().contains("only 1"));
    }
}
