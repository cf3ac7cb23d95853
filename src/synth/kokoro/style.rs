//! Kokoro's voices: the English voice names aloud can speak, and a voice's style tensor
//! (`voices/NAME.bin` of kokoro-js: 510 rows of 256 little-endian f32) with the row a
//! sentence of a given length uses.

use std::path::Path;

/// Rows in a style tensor: one per phoneme count, 1 to 510.
pub const ROWS: usize = 510;
/// Values in one style vector.
pub const WIDTH: usize = 256;
/// The most phoneme tokens the model takes in one run (its context is 512 with the two pads).
pub const MAX_TOKENS: usize = ROWS;

/// The English voices (American `a*`, British `b*`) of Kokoro v1.0, as kokoro-js 1.2.1 ships
/// them; its other voices speak languages misaki's English G2P does not.
pub const VOICES: [&str; 28] = [
    "af_alloy",
    "af_aoede",
    "af_bella",
    "af_heart",
    "af_jessica",
    "af_kore",
    "af_nicole",
    "af_nova",
    "af_river",
    "af_sarah",
    "af_sky",
    "am_adam",
    "am_echo",
    "am_eric",
    "am_fenrir",
    "am_liam",
    "am_michael",
    "am_onyx",
    "am_puck",
    "am_santa",
    "bf_alice",
    "bf_emma",
    "bf_isabella",
    "bf_lily",
    "bm_daniel",
    "bm_fable",
    "bm_george",
    "bm_lewis",
];

/// Whether aloud can speak Kokoro's voice `name`.
pub fn is_voice(name: &str) -> bool {
    VOICES.contains(&name)
}

/// One voice's style vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    values: Vec<f32>,
}

impl Style {
    /// Reads a style tensor file; anything but exactly 510 x 256 f32 is refused by size.
    pub fn read(path: &Path) -> Result<Style, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
        Style::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Style, String> {
        let expected = ROWS * WIDTH * 4;
        if bytes.len() != expected {
            return Err(format!(
                "{} bytes, but a Kokoro style tensor is {ROWS} x {WIDTH} f32 ({expected} bytes)",
                bytes.len()
            ));
        }
        let values = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(Style { values })
    }

    /// The style vector for a sentence of `tokens` phoneme tokens (pads not counted): row
    /// `tokens - 1`, as Kokoro's own pipeline (`pack[len(ps) - 1]`) and kokoro-onnx pick it,
    /// clamped to the table.
    pub fn row(&self, tokens: usize) -> &[f32] {
        let row = tokens.clamp(1, ROWS) - 1;
        &self.values[row * WIDTH..(row + 1) * WIDTH]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tensor whose every value is its row number.
    fn numbered() -> Vec<u8> {
        (0..ROWS)
            .flat_map(|row| std::iter::repeat_n(row as f32, WIDTH))
            .flat_map(f32::to_le_bytes)
            .collect()
    }

    #[test]
    fn a_sentence_of_n_tokens_uses_row_n_minus_one_clamped() {
        let style = Style::from_bytes(&numbered()).unwrap();
        assert_eq!(style.row(1), &[0.0; WIDTH][..]);
        assert_eq!(style.row(12)[0], 11.0);
        assert_eq!(style.row(12)[WIDTH - 1], 11.0);
        assert_eq!(style.row(510)[0], 509.0);
        assert_eq!(style.row(9_000)[0], 509.0);
        assert_eq!(style.row(0)[0], 0.0);
    }

    #[test]
    fn values_are_little_endian_f32() {
        let mut bytes = numbered();
        bytes[..4].copy_from_slice(&1.5f32.to_le_bytes());
        bytes[4..8].copy_from_slice(&(-2.25f32).to_le_bytes());
        let style = Style::from_bytes(&bytes).unwrap();
        assert_eq!(&style.row(1)[..3], &[1.5, -2.25, 0.0]);
    }

    #[test]
    fn a_tensor_of_the_wrong_size_is_refused_by_size() {
        let bytes = numbered();
        let error = Style::from_bytes(&bytes[..bytes.len() - 4]).unwrap_err();
        assert!(error.contains("522236 bytes"), "{error}");
        assert!(error.contains("510 x 256"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let error = Style::read(&dir.path().join("af_nobody.bin")).unwrap_err();
        assert!(error.contains("cannot read"), "{error}");
    }

    #[test]
    fn only_the_english_voices_are_known() {
        assert!(is_voice("af_heart") && is_voice("bf_emma") && is_voice("am_michael"));
        assert!(!is_voice("ff_siwis") && !is_voice("af_nobody") && !is_voice(""));
        assert!(
            VOICES
                .iter()
                .all(|v| v.starts_with('a') || v.starts_with('b'))
        );
    }
}
