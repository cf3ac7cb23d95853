//! The Kokoro-82M v1.0 ONNX model: one run from padded phoneme ids, a style vector and a
//! speed to the 24 kHz waveform, on the shared session pool.

use crate::synth::EngineClock;
use crate::synth::phoneme_model::{SessionPool, ids_input, run_timed, speed_input};
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use std::borrow::Cow;

/// Speaks `ids` (already wrapped in the pad id 0) in `style` at `speed` (1.0 the voice's own
/// pace) on a session of `pool`, adding the time inside the model to `clock`.
pub fn run(
    pool: &SessionPool,
    ids: Vec<i64>,
    style: &[f32],
    speed: f32,
    clock: &EngineClock,
) -> Result<Vec<f32>, String> {
    pool.with_session(|session| run_session(session, ids, style, speed, clock))
}

fn run_session(
    session: &mut Session,
    ids: Vec<i64>,
    style: &[f32],
    speed: f32,
    clock: &EngineClock,
) -> Result<Vec<f32>, String> {
    let style =
        Tensor::from_array(([1usize, style.len()], style.to_vec())).map_err(|e| e.to_string())?;
    let inputs: Vec<(Cow<str>, SessionInputValue)> = vec![
        ids_input("tokens", ids)?,
        ("style".into(), style.into()),
        speed_input(speed)?,
    ];
    let outputs = run_timed(session, inputs, clock)?;
    let audio = outputs
        .get("audio")
        .ok_or_else(|| "the model has no output 'audio'".to_string())?;
    let (_, samples) = audio
        .try_extract_tensor::<f32>()
        .map_err(|e| format!("output 'audio': {e}"))?;
    Ok(samples.to_vec())
}
