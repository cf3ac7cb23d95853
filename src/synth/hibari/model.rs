//! The hibari ONNX model: one run from phoneme ids to the six spectral outputs, on the
//! shared session pool.

use super::dsp::Spectra;
use crate::synth::EngineClock;
use crate::synth::phoneme_model::{SessionPool, Sessions, ids_input, run_timed, speed_input};
use ort::session::{Session, SessionInputValue};
use std::borrow::Cow;
use std::path::Path;

/// Sessions of one model file (see [`SessionPool`]).
pub struct Model {
    pool: SessionPool,
}

const OUTPUT_NAMES: [&str; 6] = ["lh", "theta", "ln", "lr", "phi", "f0"];

impl Model {
    pub fn new(onnxruntime: &Path, path: &Path, sessions: Sessions) -> Model {
        Model {
            pool: SessionPool::new(onnxruntime, path, sessions),
        }
    }

    pub fn path(&self) -> &Path {
        self.pool.path()
    }

    /// Starts loading the sessions in the background (see [`SessionPool::warm`]).
    pub fn warm(&self) {
        self.pool.warm();
    }

    /// Runs the model on `ids` at `speed` (1.0 the teacher's pace), adding the time inside the
    /// model to `clock`, and hands its outputs to `then` where ONNX Runtime left them: a second
    /// of audio is about 1.2 MB of spectra, so they are not copied.
    pub fn run<T>(
        &self,
        ids: Vec<i64>,
        speed: f32,
        clock: &EngineClock,
        then: impl FnOnce(Spectra) -> Result<T, String>,
    ) -> Result<T, String> {
        self.pool
            .with_session(|session| run_session(session, ids, speed, clock, then))
    }
}

fn run_session<T>(
    session: &mut Session,
    ids: Vec<i64>,
    speed: f32,
    clock: &EngineClock,
    then: impl FnOnce(Spectra) -> Result<T, String>,
) -> Result<T, String> {
    let inputs: Vec<(Cow<str>, SessionInputValue)> =
        vec![ids_input("ids", ids)?, speed_input(speed)?];
    let outputs = run_timed(session, inputs, clock)?;
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
