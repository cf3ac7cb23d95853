//! Decodes audio made by real encoders (ffmpeg, espeak-ng) in every form a backend may return, and checks resampling.
//!
//! Fixtures are generated at test time, never committed. A test whose tool is missing skips
//! with a note on stderr, so a bare `cargo test` works anywhere; set ALOUD_REQUIRE_READERS=1
//! (as CI should) to turn a missing tool into a failure instead of a silent pass.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use aloud::Error;
use aloud::audio::{self, AudioFormat, PcmEncoding, RawPcm};
use aloud::synth::Clip;
use proptest::prelude::*;

const FREQ: f64 = 440.0;

fn skip(what: &str) {
    if std::env::var_os("ALOUD_REQUIRE_READERS").is_some_and(|v| v != "0") {
        panic!("{what} not installed, and ALOUD_REQUIRE_READERS is set");
    }
    let _ = writeln!(std::io::stderr(), "skipping: {what} not installed");
}

fn installed(tool: &str, version_flag: &str) -> bool {
    Command::new(tool)
        .arg(version_flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn have_ffmpeg() -> bool {
    static FFMPEG: OnceLock<bool> = OnceLock::new();
    let found = *FFMPEG.get_or_init(|| installed("ffmpeg", "-version"));
    if !found {
        skip("ffmpeg");
    }
    found
}

/// Renders `source` (an ffmpeg `aevalsrc` expression list) with the output `args`, into a file
/// named `name` so the extension picks the muxer, or to stdout when `name` is `-`.
fn ffmpeg(source: &str, args: &[&str], name: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", &format!("aevalsrc={source}")])
        .args(args)
        .arg(if name == "-" {
            "-".as_ref()
        } else {
            path.as_os_str()
        })
        .output()
        .expect("ffmpeg runs");
    assert!(
        output.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    if name == "-" {
        output.stdout
    } else {
        std::fs::read(&path).unwrap()
    }
}

/// ffmpeg's own decoding of mono `bytes` (named `name` for the demuxer), as f32 samples.
fn reference_decode(bytes: &[u8], name: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(&path)
        .args(["-f", "f32le", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(output.status.success(), "ffmpeg could not decode {name}");
    output
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The largest difference between two decodings of the same stream.
fn max_difference(ours: &[f32], reference: &[f32]) -> f32 {
    assert_eq!(
        ours.len(),
        reference.len(),
        "both decoders agree on the length"
    );
    ours.iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

/// A 1 s mono sine at `amplitude`.
fn sine(amplitude: f64, rate: u32) -> String {
    format!("exprs={amplitude}*sin(2*PI*{FREQ}*t):s={rate}:d=1")
}

/// Goertzel estimate of the amplitude of `freq` in `samples`.
fn amplitude_at(samples: &[f32], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let coefficient = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s0 = f64::from(x) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
    2.0 * power.max(0.0).sqrt() / samples.len() as f64
}

/// The middle half second, which holds a whole number of the sine's periods at even rates,
/// away from any encoder's edges.
fn middle(clip: &Clip) -> &[f32] {
    let n = (clip.sample_rate / 2) as usize;
    let start = (clip.samples.len().saturating_sub(n)) / 2;
    &clip.samples[start..(start + n).min(clip.samples.len())]
}

/// How many frames the test sine in `clip` lags one that starts at frame 0 (sine phase), from
/// its phase over the middle of the clip; modulo a period.
fn lag_frames(clip: &Clip) -> f64 {
    let window = middle(clip);
    let start = (clip.samples.len() - window.len()) / 2;
    let (mut in_phase, mut quadrature) = (0.0, 0.0);
    for (i, &x) in window.iter().enumerate() {
        let angle =
            2.0 * std::f64::consts::PI * FREQ * (start + i) as f64 / f64::from(clip.sample_rate);
        in_phase += f64::from(x) * angle.sin();
        quadrature += f64::from(x) * angle.cos();
    }
    -quadrature.atan2(in_phase) / (2.0 * std::f64::consts::PI * FREQ) * f64::from(clip.sample_rate)
}

/// The share of the middle window's energy that is the 440 Hz sine (1.0 for a pure tone).
fn tone_share(clip: &Clip) -> f64 {
    let window = middle(clip);
    let amplitude = amplitude_at(window, clip.sample_rate, FREQ);
    let mean_square =
        window.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / window.len() as f64;
    amplitude * amplitude / 2.0 / mean_square
}

/// Checks that `clip` is the test sine: its amplitude within `tolerance` (relative), 99% of its
/// energy at 440 Hz, and its zero crossings at 440 Hz.
fn assert_sine(clip: &Clip, amplitude: f64, tolerance: f64, what: &str) {
    let window = middle(clip);
    let measured = amplitude_at(window, clip.sample_rate, FREQ);
    assert!(
        (measured - amplitude).abs() <= tolerance * amplitude,
        "{what}: amplitude at {FREQ} Hz is {measured:.4}, expected {amplitude} ± {tolerance:.0e} relative"
    );
    let share = tone_share(clip);
    assert!(
        share > 0.99,
        "{what}: only {:.2}% of the energy is the sine",
        share * 100.0
    );
    let crossings = window
        .windows(2)
        .filter(|pair| (pair[0] < 0.0) != (pair[1] < 0.0))
        .count();
    let seconds = window.len() as f64 / f64::from(clip.sample_rate);
    let frequency = crossings as f64 / 2.0 / seconds;
    assert!(
        (frequency - FREQ).abs() <= 4.0,
        "{what}: zero crossings say {frequency} Hz"
    );
}

fn assert_frames(clip: &Clip, expected: usize, slack: std::ops::RangeInclusive<isize>, what: &str) {
    let difference = clip.samples.len() as isize - expected as isize;
    assert!(
        slack.contains(&difference),
        "{what}: {} frames, expected {expected} with {slack:?} more",
        clip.samples.len()
    );
}

#[test]
fn wav_16_bit_22050_mono() {
    if !have_ffmpeg() {
        return;
    }
    let bytes = ffmpeg(&sine(0.5, 22_050), &["-c:a", "pcm_s16le"], "a.wav");
    assert_eq!(audio::sniff(&bytes), AudioFormat::Wav);
    let clip = audio::decode(&bytes, "test").unwrap();
    assert_eq!(clip.sample_rate, 22_050);
    assert_frames(&clip, 22_050, -1..=1, "s16 wav");
    assert_sine(&clip, 0.5, 1e-3, "s16 wav");
}

#[test]
fn wav_24_bit_48000_stereo_extensible_downmixes_by_averaging() {
    if !have_ffmpeg() {
        return;
    }
    // The sine on the left, silence on the right: averaging halves it.
    let source = format!("exprs=0.8*sin(2*PI*{FREQ}*t)|0:s=48000:d=1");
    let bytes = ffmpeg(&source, &["-c:a", "pcm_s24le"], "a.wav");
    assert_eq!(
        &bytes[20..22],
        &[0xFE, 0xFF],
        "ffmpeg wrote WAVE_FORMAT_EXTENSIBLE"
    );
    let clip = audio::decode(&bytes, "test").unwrap();
    assert_eq!(clip.sample_rate, 48_000);
    assert_frames(&clip, 48_000, -1..=1, "s24 stereo wav");
    assert_sine(&clip, 0.4, 1e-3, "s24 stereo wav");
}

#[test]
fn wav_float32_and_rf64() {
    if !have_ffmpeg() {
        return;
    }
    let plain = ffmpeg(&sine(0.5, 24_000), &["-c:a", "pcm_f32le"], "a.wav");
    // RF64 declares its sizes 0xFFFFFFFF and keeps the real ones in a ds64 chunk.
    let rf64 = ffmpeg(
        &sine(0.5, 24_000),
        &["-c:a", "pcm_f32le", "-rf64", "always"],
        "b.wav",
    );
    assert_eq!(&rf64[..4], b"RF64");
    for (bytes, what) in [(plain, "f32 wav"), (rf64, "f32 rf64")] {
        let clip = audio::decode(&bytes, "test").unwrap();
        assert_eq!(clip.sample_rate, 24_000);
        assert_frames(&clip, 24_000, -1..=1, what);
        assert_sine(&clip, 0.5, 1e-4, what);
    }
}

#[test]
fn wav_streamed_through_a_pipe_has_placeholder_sizes() {
    if !have_ffmpeg() {
        return;
    }
    // Unable to seek back, ffmpeg leaves the RIFF and data sizes at 0xFFFFFFFF.
    let bytes = ffmpeg(&sine(0.5, 24_000), &["-c:a", "pcm_s16le", "-f", "wav"], "-");
    assert_eq!(&bytes[4..8], &[0xFF; 4]);
    let clip = audio::decode(&bytes, "test").unwrap();
    assert_frames(&clip, 24_000, -1..=1, "piped wav");
    assert_sine(&clip, 0.5, 1e-3, "piped wav");
}

#[test]
fn mu_law_wav_and_raw() {
    if !have_ffmpeg() {
        return;
    }
    // Azure's riff-8khz-8bit-mono-mulaw and ElevenLabs' ulaw_8000.
    let wav = ffmpeg(&sine(0.5, 8_000), &["-c:a", "pcm_mulaw"], "a.wav");
    let raw = ffmpeg(&sine(0.5, 8_000), &["-f", "mulaw"], "a.ulaw");
    let layout = RawPcm {
        sample_rate: 8_000,
        channels: 1,
        encoding: PcmEncoding::MuLaw,
    };
    for (clip, what) in [
        (audio::decode(&wav, "test").unwrap(), "mu-law wav"),
        (
            audio::decode_raw(&raw, &layout, "test").unwrap(),
            "raw mu-law",
        ),
    ] {
        assert_eq!(clip.sample_rate, 8_000);
        assert_frames(&clip, 8_000, -1..=1, what);
        // μ-law keeps about 2% relative error per sample; over the window it averages out.
        assert_sine(&clip, 0.5, 1e-2, what);
    }
}

#[test]
fn raw_s16le() {
    if !have_ffmpeg() {
        return;
    }
    let bytes = ffmpeg(&sine(0.5, 16_000), &["-f", "s16le"], "a.raw");
    let layout = RawPcm {
        sample_rate: 16_000,
        channels: 1,
        encoding: PcmEncoding::S16LE,
    };
    let clip = audio::decode_raw(&bytes, &layout, "test").unwrap();
    assert_eq!(clip.sample_rate, 16_000);
    assert_frames(&clip, 16_000, 0..=0, "raw s16le");
    assert_sine(&clip, 0.5, 1e-3, "raw s16le");
}

#[test]
fn flac() {
    if !have_ffmpeg() {
        return;
    }
    let bytes = ffmpeg(&sine(0.5, 44_100), &["-c:a", "flac"], "a.flac");
    assert_eq!(audio::sniff(&bytes), AudioFormat::Flac);
    let clip = audio::decode(&bytes, "test").unwrap();
    assert_eq!(clip.sample_rate, 44_100);
    assert_frames(&clip, 44_100, -1..=1, "flac");
    assert_sine(&clip, 0.5, 1e-3, "flac");
}

#[test]
fn ogg_vorbis() {
    if !have_ffmpeg() {
        return;
    }
    let bytes = ffmpeg(&sine(0.5, 24_000), &["-c:a", "libvorbis"], "a.ogg");
    assert_eq!(audio::sniff(&bytes), AudioFormat::Ogg);
    let clip = audio::decode(&bytes, "test").unwrap();
    assert_eq!(clip.sample_rate, 24_000);
    // The last page's granule position says where the audio ends.
    assert_frames(&clip, 24_000, -1..=1, "vorbis");
    assert_sine(&clip, 0.5, 2e-2, "vorbis");
    // The same samples as ffmpeg's decoder, to float rounding.
    assert!(max_difference(&clip.samples, &reference_decode(&bytes, "a.ogg")) < 1e-4);
}

#[test]
fn mp3_with_and_without_a_lame_tag() {
    if !have_ffmpeg() {
        return;
    }
    let tagged = ffmpeg(&sine(0.5, 24_000), &["-c:a", "libmp3lame"], "a.mp3");
    assert_eq!(audio::sniff(&tagged), AudioFormat::Mp3);
    let clip = audio::decode(&tagged, "test").unwrap();
    assert_eq!(clip.sample_rate, 24_000);
    // The LAME tag records the encoder delay and padding, which the decoder trims.
    assert_frames(&clip, 24_000, -1..=1, "tagged mp3");
    // Symphonia and ffmpeg agree to float rounding; LAME itself encodes this tone 0.45 dB low
    // (ffmpeg's decoder measures the same 0.475), hence the 6% on the amplitude.
    assert!(max_difference(&clip.samples, &reference_decode(&tagged, "a.mp3")) < 1e-4);
    assert_sine(&clip, 0.5, 6e-2, "tagged mp3");

    // A stream without the tag (as an HTTP server encoding on the fly sends) keeps the encoder
    // delay (576 frames) and the decoder delay (529) at the start, and the end is padded to a
    // whole frame (576 frames at 24 kHz, 1152 at 32 kHz and above): hence 0..=1105+1152 extra.
    let streamed = ffmpeg(
        &sine(0.5, 24_000),
        &[
            "-c:a",
            "libmp3lame",
            "-write_xing",
            "0",
            "-id3v2_version",
            "0",
        ],
        "b.mp3",
    );
    assert_eq!(audio::sniff(&streamed), AudioFormat::Mp3);
    let untrimmed = audio::decode(&streamed, "test").unwrap();
    assert_eq!(untrimmed.sample_rate, 24_000);
    assert_frames(&untrimmed, 24_000, 0..=(576 + 529 + 1152), "streamed mp3");
    assert_sine(&untrimmed, 0.5, 6e-2, "streamed mp3");
    // Past the priming it is the same audio as the tagged file.
    let delay = 576 + 529;
    assert!(max_difference(&untrimmed.samples[delay..delay + 24_000], &clip.samples) < 1e-6);
}

#[test]
fn espeak_ng_stdout_placeholder_sizes() {
    if !installed("espeak-ng", "--version") {
        skip("espeak-ng");
        return;
    }
    let output = Command::new("espeak-ng")
        .args(["--stdout", "The quick brown fox jumps over the lazy dog."])
        .output()
        .expect("espeak-ng runs");
    assert!(output.status.success());
    let bytes = output.stdout;
    // RIFF size 0x7FFFF024 and data size 0x7FFFF000: the samples run to the end of the body.
    assert_eq!(&bytes[4..8], &0x7FFF_F024u32.to_le_bytes());
    assert_eq!(&bytes[36..44], b"data\x00\xf0\xff\x7f");
    let clip = audio::decode(&bytes, "espeak-ng").unwrap();
    assert_eq!(clip.sample_rate, 22_050);
    let expected: Vec<f32> = bytes[44..]
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0)
        .collect();
    assert_eq!(clip.samples, expected);
    assert!(clip.duration().as_secs_f64() > 1.0, "{:?}", clip.duration());
    let rms = (clip
        .samples
        .iter()
        .map(|&x| f64::from(x).powi(2))
        .sum::<f64>()
        / clip.samples.len() as f64)
        .sqrt();
    assert!(rms > 0.01, "speech, not silence: rms {rms}");
}

fn sine_clip(amplitude: f32, rate: u32, seconds: f32, freq: f32) -> Clip {
    let frames = (rate as f32 * seconds) as usize;
    Clip {
        samples: (0..frames)
            .map(|i| amplitude * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect(),
        sample_rate: rate,
        words: Vec::new(),
    }
}

#[test]
fn resample_round_trip_keeps_frequency_amplitude_length_and_timing() {
    let original = sine_clip(0.5, 22_050, 1.0, FREQ as f32);
    let up = audio::resample(original.clone(), 24_000).unwrap();
    assert_eq!(up.sample_rate, 24_000);
    assert_frames(&up, 24_000, -2..=2, "22050 -> 24000");
    assert_sine(&up, 0.5, 1e-3, "22050 -> 24000");
    let back = audio::resample(up.clone(), 22_050).unwrap();
    assert_eq!(back.sample_rate, 22_050);
    assert_frames(&back, 22_050, -2..=2, "22050 -> 24000 -> 22050");
    assert_sine(&back, 0.5, 1e-3, "22050 -> 24000 -> 22050");
    // The filter delay is trimmed: the resampled sine starts where the original did, give or
    // take the fraction of a frame rubato's integer delay leaves (45 µs at 22 kHz).
    assert!(lag_frames(&original).abs() < 1e-3);
    for (clip, what) in [(&up, "22050 -> 24000"), (&back, "22050 -> 24000 -> 22050")] {
        let lag = lag_frames(clip);
        assert!(tone_share(clip) > 1.0 - 1e-6, "{what}: distorted");
        assert!(lag.abs() <= 1.5, "{what}: shifted by {lag} frames");
    }
}

#[test]
fn resample_44100_to_22050_filters_what_it_cannot_keep() {
    // A 15 kHz tone is above the new Nyquist (11025 Hz); unfiltered it would fold to 7050 Hz.
    let mut clip = sine_clip(0.4, 44_100, 1.0, FREQ as f32);
    let high = sine_clip(0.4, 44_100, 1.0, 15_000.0);
    for (sample, high) in clip.samples.iter_mut().zip(&high.samples) {
        *sample += high;
    }
    let down = audio::resample(clip, 22_050).unwrap();
    assert_eq!(down.sample_rate, 22_050);
    assert_frames(&down, 22_050, -2..=2, "44100 -> 22050");
    let window = middle(&down);
    let kept = amplitude_at(window, 22_050, FREQ);
    assert!((kept - 0.4).abs() < 4e-4, "440 Hz amplitude {kept}");
    let folded = amplitude_at(window, 22_050, 7_050.0);
    assert!(
        folded < 4e-4,
        "15 kHz folded to 7050 Hz at {folded} (> -60 dB)"
    );
}

#[test]
fn resample_identity_returns_the_clip_untouched() {
    let clip = sine_clip(0.5, 22_050, 0.1, FREQ as f32);
    let (pointer, copy) = (clip.samples.as_ptr(), clip.clone());
    let same = audio::resample(clip, 22_050).unwrap();
    assert_eq!(same, copy);
    assert_eq!(same.samples.as_ptr(), pointer, "no copy was made");
}

#[test]
fn errors_name_the_origin() {
    let page = format!(
        "<!DOCTYPE html><html><body>{}</body></html>",
        "x".repeat(1491)
    );
    let err = audio::decode(page.as_bytes(), "piper: sentence 3").unwrap_err();
    assert!(matches!(err, Error::Audio { .. }));
    assert_eq!(
        err.to_string(),
        "piper: sentence 3: expected audio, got 1532 bytes starting '<!DOCTYPE html><html><body>xxxxxxxxxxxxx'"
    );
}

/// Short (0.2 s) files from each encoder, cut and corrupted by the fuzz tests below.
fn fuzz_fixtures() -> &'static [(Vec<u8>, usize)] {
    static FIXTURES: OnceLock<Vec<(Vec<u8>, usize)>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        if !have_ffmpeg() {
            return Vec::new();
        }
        let source = format!("exprs=0.5*sin(2*PI*{FREQ}*t)|0.2:s=22050:d=0.2");
        [
            ("a.wav", "pcm_s16le"),
            ("a.mp3", "libmp3lame"),
            ("a.flac", "flac"),
            ("a.ogg", "libvorbis"),
        ]
        .iter()
        .map(|(name, codec)| {
            let bytes = ffmpeg(&source, &["-c:a", codec], name);
            let frames = audio::decode(&bytes, "fixture").unwrap().samples.len();
            (bytes, frames)
        })
        .collect()
    })
}

fn assert_contained(result: aloud::Result<Clip>, max_frames: usize) -> Result<(), TestCaseError> {
    match result {
        Ok(clip) => {
            prop_assert!(!clip.samples.is_empty());
            prop_assert!(clip.samples.len() <= max_frames);
            prop_assert!(clip.samples.iter().all(|s| (-1.0..=1.0).contains(s)));
        }
        Err(Error::Audio { origin, message }) => {
            prop_assert_eq!(origin, "fuzz");
            prop_assert!(!message.is_empty());
        }
        Err(other) => prop_assert!(false, "unexpected error kind: {other}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_never_panic(
        magic in prop::sample::select(vec![
            &b""[..], b"RIFF\xff\xff\xff\xffWAVEfmt ", b"RIFF\0\0\0\0WAVEdata", b"fLaC",
            b"OggS\0\x02", b"ID3\x04\0\0\0\0\0\0", b"\xff\xfb\x90\x64",
        ]),
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let bytes = [magic, &body[..]].concat();
        assert_contained(audio::decode(&bytes, "fuzz"), usize::MAX)?;
        let layout = RawPcm { sample_rate: 24_000, channels: 2, encoding: PcmEncoding::S24LE };
        assert_contained(audio::decode_raw(&bytes, &layout, "fuzz"), usize::MAX)?;
    }

    #[test]
    fn cut_files_decode_shorter_or_fail_cleanly(which in 0usize..4, cut in 0.0f64..1.0) {
        let Some((bytes, frames)) = fuzz_fixtures().get(which) else {
            return Ok(());
        };
        let cut = (bytes.len() as f64 * cut) as usize;
        assert_contained(audio::decode(&bytes[..cut], "fuzz"), *frames)?;
    }

    #[test]
    fn corrupted_files_never_panic(
        which in 0usize..4,
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let Some((bytes, _)) = fuzz_fixtures().get(which) else {
            return Ok(());
        };
        let mut bytes = bytes.clone();
        for (at, value) in damage {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        // Damage may make a header promise more audio, so only the error's shape is checked.
        assert_contained(audio::decode(&bytes, "fuzz"), usize::MAX)?;
    }
}
