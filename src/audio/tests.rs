//! Tests of decoding, resampling and loudness.

use super::*;

/// A WAV header with the given sizes; `extra` chunks go between fmt and data.
fn wav(
    channels: u16,
    rate: u32,
    tag: u16,
    bits: u16,
    extra: &[u8],
    data_size: u32,
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&0x7FFF_F024u32.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    let align = channels * bits / 8;
    out.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    out.extend_from_slice(&align.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(extra);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_size.to_le_bytes());
    out.extend_from_slice(data);
    out
}

fn s16(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn decoded(bytes: &[u8]) -> Clip {
    decode(bytes, "test").unwrap()
}

fn message(result: Result<Clip>) -> String {
    match result {
        Err(Error::Audio { origin, message }) => {
            assert_eq!(origin, "test");
            message
        }
        other => panic!("expected an audio error, got {other:?}"),
    }
}

#[test]
fn sniffs_containers_by_magic() {
    assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), AudioFormat::Wav);
    assert_eq!(sniff(b"RF64\xff\xff\xff\xffWAVEds64"), AudioFormat::Wav);
    assert_eq!(sniff(b"RIFF\0\0\0\0AVI LIST"), AudioFormat::Unknown);
    assert_eq!(sniff(b"fLaC\0\0\0\x22"), AudioFormat::Flac);
    assert_eq!(sniff(b"OggS\0\x02"), AudioFormat::Ogg);
    assert_eq!(
        sniff(b"ID3\x04\0\0\0\0\0\x05abcde\xff\xfb\x90\x64"),
        AudioFormat::Mp3
    );
    // An ID3v2 tag in front of FLAC.
    assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\x02abfLaC"), AudioFormat::Flac);
    // MPEG-1 and MPEG-2 Layer III frames without a tag.
    assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), AudioFormat::Mp3);
    assert_eq!(sniff(&[0xFF, 0xF3, 0x64, 0xC4]), AudioFormat::Mp3);
    // ADTS AAC has layer bits 00; a bad bitrate index is not a frame.
    assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), AudioFormat::Unknown);
    assert_eq!(sniff(&[0xFF, 0xFB, 0xF0, 0x64]), AudioFormat::Unknown);
    assert_eq!(sniff(b"<!DOCTYPE html>"), AudioFormat::Unknown);
    assert_eq!(sniff(b""), AudioFormat::Unknown);
    assert_eq!(sniff(b"RIFF"), AudioFormat::Unknown);
}

#[test]
fn placeholder_sizes_read_to_the_end() {
    let samples = s16(&[0, 16_384, -16_384, 32_767]);
    // espeak-ng --stdout, 0xFFFFFFFF, and 0 as streaming servers write.
    for size in [0x7FFF_F000, u32::MAX, 0] {
        let clip = decoded(&wav(1, 22_050, 1, 16, b"", size, &samples));
        assert_eq!(clip.sample_rate, 22_050);
        assert_eq!(
            clip.samples,
            [0.0, 0.5, -0.5, 32_767.0 / 32_768.0],
            "size {size:#x}"
        );
    }
    // A trailing odd byte (a cut stream) is ignored.
    let mut odd = wav(1, 22_050, 1, 16, b"", u32::MAX, &samples);
    odd.push(0x12);
    assert_eq!(decoded(&odd).samples.len(), 4);
}

#[test]
fn honest_data_size_stops_before_trailing_chunks() {
    let mut bytes = wav(1, 8_000, 1, 16, b"", 4, &s16(&[1000, -1000]));
    bytes.extend_from_slice(b"LIST\x04\0\0\0INFO");
    assert_eq!(decoded(&bytes).samples.len(), 2);
    // An honest empty data chunk followed by another chunk holds no audio.
    let mut empty = wav(1, 8_000, 1, 16, b"", 0, b"");
    empty.extend_from_slice(b"LIST\x04\0\0\0INFO");
    assert!(message(decode(&empty, "test")).contains("no samples"));
}

#[test]
fn list_chunk_before_data_with_and_without_pad_byte() {
    let samples = s16(&[8192, 8192, 8192]);
    // "INFOa" is 5 bytes: properly padded to 6, then without the pad byte.
    let padded = b"LIST\x05\0\0\0INFOa\0";
    let unpadded = b"LIST\x05\0\0\0INFOa";
    for extra in [&padded[..], &unpadded[..]] {
        let clip = decoded(&wav(1, 16_000, 1, 16, extra, 6, &samples));
        assert_eq!(clip.samples, [0.25; 3]);
    }
}

#[test]
fn every_sample_format_and_downmix() {
    // Stereo frames (L, R) averaged: (0.5 + 0) / 2 = 0.25.
    let u8_data = [192u8, 128, 192, 128];
    assert_eq!(
        decoded(&wav(2, 8_000, 1, 8, b"", 4, &u8_data)).samples,
        [0.25; 2]
    );
    let s24: Vec<u8> = [0x40_0000i32, 0, -0x40_0000, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes()[..3].to_vec())
        .collect();
    assert_eq!(
        decoded(&wav(2, 48_000, 1, 24, b"", 12, &s24)).samples,
        [0.25, -0.25]
    );
    // 20-bit samples in 24-bit containers read the same.
    assert_eq!(
        decoded(&wav(2, 48_000, 1, 20, b"", 12, &s24)).samples,
        [0.25, -0.25]
    );
    let s32: Vec<u8> = [i32::MIN, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(
        decoded(&wav(2, 48_000, 1, 32, b"", 8, &s32)).samples,
        [-0.5]
    );
    let f32s: Vec<u8> = [0.5f32, 0.0, 2.0, 2.0, f32::NAN, 0.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    // Over-range floats clip to full scale; NaN becomes silence.
    assert_eq!(
        decoded(&wav(2, 24_000, 3, 32, b"", 24, &f32s)).samples,
        [0.25, 1.0, 0.0]
    );
    // G.711: 0xFF/0xD5 are (near) zero, 0x80/0xAA the largest positive values.
    let mulaw = decoded(&wav(1, 8_000, 7, 8, b"", 2, &[0xFF, 0x80])).samples;
    assert_eq!(mulaw[0], 0.0);
    assert!((mulaw[1] - 32_124.0 / 32_768.0).abs() < 1e-6);
    let alaw = decoded(&wav(1, 8_000, 6, 8, b"", 2, &[0xD5, 0xAA])).samples;
    assert!((alaw[0] - 8.0 / 32_768.0).abs() < 1e-6);
    assert!((alaw[1] - 32_256.0 / 32_768.0).abs() < 1e-6);
}

#[test]
fn wave_format_extensible() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt \x28\0\0\0");
    bytes.extend_from_slice(&0xFFFEu16.to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&44_100u32.to_le_bytes());
    bytes.extend_from_slice(&(44_100u32 * 8).to_le_bytes());
    bytes.extend_from_slice(&8u16.to_le_bytes());
    bytes.extend_from_slice(&32u16.to_le_bytes());
    bytes.extend_from_slice(&22u16.to_le_bytes()); // cbSize
    bytes.extend_from_slice(&32u16.to_le_bytes()); // valid bits
    bytes.extend_from_slice(&3u32.to_le_bytes()); // FL | FR
    // KSDATAFORMAT_SUBTYPE_IEEE_FLOAT
    bytes.extend_from_slice(b"\x03\0\0\0\0\0\x10\0\x80\0\0\xaa\0\x38\x9b\x71");
    bytes.extend_from_slice(b"data\x08\0\0\0");
    bytes.extend_from_slice(&0.5f32.to_le_bytes());
    bytes.extend_from_slice(&(-0.25f32).to_le_bytes());
    let clip = decoded(&bytes);
    assert_eq!((clip.sample_rate, clip.samples), (44_100, vec![0.125]));
    // Cut inside the extension: too short to say what the samples are.
    let mut short = bytes[..12].to_vec();
    short.extend_from_slice(b"fmt \x12\0\0\0");
    short.extend_from_slice(&bytes[20..38]);
    short.extend_from_slice(&bytes[60..]);
    assert!(message(decode(&short, "test")).contains("EXTENSIBLE"));
}

#[test]
fn truncated_and_broken_headers_are_errors() {
    let full = wav(1, 22_050, 1, 16, b"", 8, &s16(&[1, 2, 3, 4]));
    for cut in 12..44 {
        let err = message(decode(&full[..cut], "test"));
        assert!(
            err.contains("truncated") || err.contains("without a fmt"),
            "cut at {cut}: {err}"
        );
    }
    // A plausible data size that overruns means the body was cut, not streamed.
    let cut = wav(1, 22_050, 1, 16, b"", 4_000, &s16(&[1, 2, 3, 4]));
    assert!(message(decode(&cut, "test")).contains("declares 4000 bytes but 8 follow"));
    let adpcm = wav(1, 22_050, 2, 4, b"", 4, &[0; 4]);
    assert!(message(decode(&adpcm, "test")).contains("format tag 0x0002"));
    let zero_rate = wav(1, 0, 1, 16, b"", 4, &[0; 4]);
    assert!(message(decode(&zero_rate, "test")).contains("0 Hz"));
    let mono_no_samples = wav(1, 22_050, 1, 16, b"", u32::MAX, &[0x01]);
    assert!(message(decode(&mono_no_samples, "test")).contains("no samples"));
}

#[test]
fn non_audio_bodies_say_what_they_are() {
    let html = format!("<!DOCTYPE html>\n<html>{}</html>", "x".repeat(1500));
    assert_eq!(
        message(decode(html.as_bytes(), "test")),
        format!(
            "expected audio, got {} bytes starting '<!DOCTYPE html> <html>xxxxxxxxxxxxxxxxxx'",
            html.len()
        )
    );
    let json = br#"{"detail": {"status": "quota_exceeded"}}"#;
    assert!(
        message(decode(json, "test"))
            .starts_with("expected audio, got 40 bytes starting '{\"detail\"")
    );
    assert_eq!(
        message(decode(b"", "test")),
        "expected audio, got an empty body"
    );
    assert!(message(decode(&[0x1A, 0x45, 0xDF, 0xA3, 0, 0], "test")).starts_with("WebM"));
    assert!(message(decode(&[0, 1, 2, 250, 251], "test")).ends_with("00 01 02 fa fb"));
    let opus = b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead\x01";
    assert!(message(decode(opus, "test")).contains("Ogg Opus is not supported"));
}

#[test]
fn raw_pcm_layouts() {
    let stereo = RawPcm {
        sample_rate: 24_000,
        channels: 2,
        encoding: PcmEncoding::S16LE,
    };
    let mut bytes = s16(&[16_384, 0, -16_384, -16_384]);
    bytes.push(7); // half a sample at the end of a cut stream
    let clip = decode_raw(&bytes, &stereo, "test").unwrap();
    assert_eq!((clip.sample_rate, clip.samples), (24_000, vec![0.25, -0.5]));
    let mulaw = RawPcm {
        sample_rate: 8_000,
        channels: 1,
        encoding: PcmEncoding::MuLaw,
    };
    assert_eq!(
        decode_raw(&[0xFF, 0x7F], &mulaw, "test").unwrap().samples,
        [0.0, 0.0]
    );
    // A server that answers with WAV anyway is decoded by its header.
    let wav_body = wav(1, 16_000, 1, 16, b"", 4, &s16(&[0, 16_384]));
    let clip = decode_raw(&wav_body, &stereo, "test").unwrap();
    assert_eq!((clip.sample_rate, clip.samples), (16_000, vec![0.0, 0.5]));
    assert!(message(decode_raw(b"<html>busy</html>", &stereo, "test")).contains("'<html>busy"));
    assert!(message(decode_raw(&[1], &stereo, "test")).contains("no samples"));
    let silly = RawPcm {
        sample_rate: 0,
        ..stereo
    };
    assert!(message(decode_raw(&[0; 4], &silly, "test")).contains("0 Hz"));
}

#[test]
fn resample_identity_and_empty() {
    let clip = Clip {
        samples: vec![0.1, -0.2, 0.3],
        sample_rate: 22_050,
        words: Vec::new(),
    };
    assert_eq!(resample(clip.clone(), 22_050).unwrap(), clip);
    let empty = Clip {
        samples: Vec::new(),
        sample_rate: 22_050,
        words: Vec::new(),
    };
    assert_eq!(resample(empty, 24_000).unwrap().sample_rate, 24_000);
    assert!(resample(clip, 0).is_err());
}

#[test]
fn g711_tables_are_symmetric() {
    for byte in 0..=0x7Fu8 {
        assert_eq!(mulaw_to_linear(byte), -mulaw_to_linear(byte | 0x80));
        assert_eq!(alaw_to_linear(byte), -alaw_to_linear(byte | 0x80));
    }
}
