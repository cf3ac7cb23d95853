//! Tests of stitching: pauses, chapter marks and the program's timing.

use super::*;

/// A tone stands in for speech: these tests are about joins, pauses and marks.
fn tone(seconds: f64, rate: u32) -> Clip {
    let frames = (seconds * f64::from(rate)) as usize;
    Clip {
        samples: (0..frames)
            .map(|i| 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin())
            .collect(),
        sample_rate: rate,
        words: Vec::new(),
    }
}

fn sentence(text: &str, start: usize) -> (&str, [usize; 2]) {
    (text, [start, start + text.len()])
}

#[test]
fn pauses_follow_the_policy_and_chapters_start_at_headings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.wav");
    let rate = 8000;
    let pauses = PausePolicy {
        clause_ms: 50,
        sentence_ms: 100,
        paragraph_ms: 300,
        before_heading_ms: 800,
        after_heading_ms: 500,
        chapter_ms: 1000,
    };
    let mut stitcher = Stitcher::create(&out, rate, Finishing::untouched(pauses), "T").unwrap();
    let heading = sentence("Title", 0);
    let first = sentence("One.", 6);
    let second = sentence("Two.", 11);
    let third = sentence("Three.", 17);
    let section = sentence("Section", 25);
    let clip = tone(0.5, rate);
    for ((text, source), position, starts_chapter) in [
        (heading, Position::Heading, Some("Title")),
        (first, Position::ParagraphStart, None),
        (second, Position::InParagraph, None),
        (third, Position::ParagraphStart, None),
        (section, Position::Heading, Some("Section")),
    ] {
        let placed = Placed {
            text,
            spoken: "x",
            source,
            position,
            starts_chapter,
        };
        stitcher.push(placed, std::slice::from_ref(&clip)).unwrap();
    }
    let timeline = stitcher.timeline("Title", "tone");
    let starts: Vec<f64> = timeline.sentences.iter().map(|s| s.start).collect();
    // 0.5 s clips; gaps: after heading 0.5, sentence 0.1, paragraph 0.3, chapter 1.0.
    let expected = [0.0, 1.0, 1.6, 2.4, 3.9];
    for (got, want) in starts.iter().zip(expected) {
        assert!((got - want).abs() < 1e-9, "{starts:?} vs {expected:?}");
    }
    assert_eq!(timeline.chapters.len(), 2);
    assert_eq!(timeline.chapters[1].start, 3.9);
    assert_eq!(timeline.chapters[0].end, 3.9);
    assert!((timeline.duration - 4.4).abs() < 1e-9);
    assert_eq!(timeline.sentences[2].source, [11, 15]);
    let opened: Vec<Option<Starts>> = timeline.sentences.iter().map(|s| s.starts).collect();
    use Starts::{Heading, Paragraph};
    assert_eq!(
        opened,
        [
            Some(Heading),
            Some(Paragraph),
            None,
            Some(Paragraph),
            Some(Heading)
        ]
    );

    let (marks, report) = stitcher.finish().unwrap();
    assert_eq!(report.gain_db, 0.0);
    assert_eq!(marks.len(), 2);
    assert_eq!(marks[1].start_frame, (3.9 * 8000.0) as u64);
    assert_eq!(marks[1].title, "Section");
    assert!(out.is_file());
}

#[test]
fn a_clip_at_another_rate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.wav");
    let mut stitcher = Stitcher::create(
        &out,
        22050,
        Finishing::with_pauses(PausePolicy::default()),
        "T",
    )
    .unwrap();
    let s = sentence("Hi.", 0);
    let err = stitcher
        .push(
            Placed {
                text: s.0,
                spoken: "Hi.",
                source: s.1,
                position: Position::ParagraphStart,
                starts_chapter: None,
            },
            &[tone(0.1, 16000)],
        )
        .unwrap_err();
    assert!(err.to_string().contains("16000 Hz"), "{err}");
    drop(stitcher);
    assert!(!out.exists());
}

/// A tone with silence around it, as engines leave it, and a DC offset.
fn padded_tone(before: f64, sound: f64, after: f64, amplitude: f32, rate: u32) -> Clip {
    let n = |s: f64| (s * f64::from(rate)) as usize;
    let mut samples = vec![0.0; n(before)];
    samples.extend((0..n(sound)).map(|i| {
        0.02 + amplitude * (i as f32 * 220.0 * std::f32::consts::TAU / rate as f32).sin()
    }));
    samples.extend(vec![0.0; n(after)]);
    Clip::new(samples, rate)
}

#[test]
fn trimmed_clips_get_exact_pauses_clause_gaps_and_shifted_words() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.wav");
    let rate = 16_000;
    let pauses = PausePolicy {
        clause_ms: 200,
        sentence_ms: 400,
        ..PausePolicy::default()
    };
    let mut finishing = Finishing::with_pauses(pauses);
    finishing.loudness = None;
    let edges = finishing.edges.unwrap();
    let mut stitcher = Stitcher::create(&out, rate, finishing, "T").unwrap();
    let place = |text, position| Placed {
        text,
        spoken: text,
        source: [0, 1],
        position,
        starts_chapter: None,
    };
    // Engines leave different amounts of silence; the program should not care.
    let first = padded_tone(0.3, 0.5, 0.6, 0.3, rate);
    let mut second_a = padded_tone(0.1, 0.4, 0.05, 0.3, rate);
    second_a.words = vec![crate::synth::WordTiming {
        range: 0..3,
        start: 0.1,
        end: 0.3,
    }];
    let mut second_b = padded_tone(0.5, 0.4, 0.2, 0.3, rate);
    second_b.words = vec![crate::synth::WordTiming {
        range: 4..7,
        start: 0.5,
        end: 0.9,
    }];
    stitcher
        .push(place("One.", Position::ParagraphStart), &[first])
        .unwrap();
    stitcher
        .push(
            place("Two two.", Position::InParagraph),
            &[second_a, second_b],
        )
        .unwrap();
    let timeline = stitcher.timeline("T", "tone");
    let pads = (edges.lead_ms + edges.tail_ms) / 1000.0;
    let window = 0.005;
    // First sentence: the sound plus its pads (detection works in 5 ms windows).
    let first_len = timeline.sentences[0].end - timeline.sentences[0].start;
    assert!(
        (first_len - (0.5 + pads)).abs() <= 2.0 * window,
        "{first_len}"
    );
    // Sound to sound across the sentence gap: exactly the policy's 400 ms.
    let gap = timeline.sentences[1].start - timeline.sentences[0].end + pads;
    assert!((gap - 0.4).abs() < 1e-3, "gap {gap}");
    // The second sentence: two pieces with a 200 ms clause gap between their sounds.
    let second_len = timeline.sentences[1].end - timeline.sentences[1].start;
    assert!(
        (second_len - (0.4 + 0.2 + 0.4 + pads)).abs() <= 4.0 * window,
        "{second_len}"
    );
    // Words moved with the trimming: each still starts where its sound does.
    let words = &timeline.sentences[1].words;
    assert_eq!(words.len(), 2);
    let lead = edges.lead_ms / 1000.0;
    assert!((words[0].start - (timeline.sentences[1].start + lead)).abs() <= window);
    // Its sound starts one 400 ms sound and one 200 ms clause gap after the first's.
    let second_piece_sound = timeline.sentences[1].start + lead + 0.4 + 0.2;
    assert!(
        (words[1].start - second_piece_sound).abs() <= 2.0 * window,
        "{words:?}"
    );
    assert_eq!(words[1].text, "two");
    let (_, report) = stitcher.finish().unwrap();
    // Every join is click-free despite the DC offset.
    assert!(report.seams.joins >= 4);
    assert!(report.seams.worst < 0.5, "{:?}", report.seams);
}

#[test]
fn the_program_lands_on_the_loudness_target_under_the_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let rate = 22_050;
    for (preset, quiet) in [("web", 0.05f32), ("broadcast", 0.6), ("audiobook", 0.2)] {
        let out = dir.path().join(format!("{preset}.wav"));
        let target = LoudnessTarget::preset(preset).unwrap();
        let mut finishing = Finishing::with_pauses(PausePolicy::default());
        finishing.loudness = Some(target);
        let mut stitcher = Stitcher::create(&out, rate, finishing, "T").unwrap();
        for i in 0..12 {
            // Alternating levels, with peaks, so one gain cannot be a per-clip gain.
            let amplitude = if i % 3 == 0 { quiet * 2.0 } else { quiet };
            let clip = padded_tone(0.1, 1.5, 0.1, amplitude.min(0.95), rate);
            stitcher
                .push(
                    Placed {
                        text: "x",
                        spoken: "x",
                        source: [0, 1],
                        position: Position::InParagraph,
                        starts_chapter: None,
                    },
                    &[clip],
                )
                .unwrap();
        }
        let (_, report) = stitcher.finish().unwrap();
        let got = report.after.integrated_lufs.unwrap();
        assert!((got - target.lufs).abs() < 0.2, "{preset}: {got} LUFS");
        assert!(
            report.after.true_peak_dbtp <= target.ceiling_dbtp + 0.05,
            "{preset}: {report:?}"
        );
        // The file holds what was measured.
        let mut reader = hound::WavReader::open(&out).unwrap();
        let samples: Vec<f32> = reader
            .samples::<i16>()
            .map(|s| f32::from(s.unwrap()) / 32767.0)
            .collect();
        let file = crate::audio::loudness::measure(&samples, rate).unwrap();
        assert!(
            (file.integrated_lufs.unwrap() - target.lufs).abs() < 0.2,
            "{preset}: {file:?}"
        );
    }
}

/// Stitches the same loud-and-quiet program with `finishing`: two chapters of tone bursts the
/// limiter has to work on.
fn bursts_program(out: &Path, finishing: Finishing, rate: u32) -> (Vec<ChapterMark>, FinishReport) {
    let mut stitcher = Stitcher::create(out, rate, finishing, "T").unwrap();
    for i in 0..10 {
        // Quiet speech-like tone with a short loud burst: the quiet part sets the gain, and the
        // limiter has to hold the burst under the ceiling.
        let mut clip = padded_tone(0.05, 0.8, 0.05, 0.1, rate);
        let burst = rate as usize / 2..rate as usize / 2 + rate as usize / 200;
        for (n, s) in clip.samples[burst].iter_mut().enumerate() {
            *s = 0.9 * (n as f32 * 0.7 * (1 + i % 3) as f32).sin();
        }
        let starts_chapter = match i {
            0 => Some("One"),
            5 => Some("Two"),
            _ => None,
        };
        let placed = Placed {
            text: "x",
            spoken: "x",
            source: [0, 1],
            position: if starts_chapter.is_some() {
                Position::Heading
            } else {
                Position::InParagraph
            },
            starts_chapter,
        };
        stitcher.push(placed, &[clip]).unwrap();
    }
    stitcher.finish().unwrap()
}

#[test]
fn the_finished_file_is_one_render_at_the_reported_gain_with_its_chapters() {
    // The gain search writes the WAV on its passes and starts it over when a pass misses the
    // target: what is left must be exactly one render of the program, at the gain reported,
    // with each chapter marked once.
    let dir = tempfile::tempdir().unwrap();
    let rate = 16_000;
    let mut plain = Finishing::with_pauses(PausePolicy::default());
    plain.loudness = None;
    plain.container = Container::Wav(SampleFormat::Float32);
    let stitched_path = dir.path().join("stitched.wav");
    bursts_program(&stitched_path, plain, rate);
    let stitched: Vec<f32> = hound::WavReader::open(&stitched_path)
        .unwrap()
        .samples::<f32>()
        .map(|s| s.unwrap())
        .collect();

    for preset in ["web", "audiobook", "broadcast"] {
        let target = LoudnessTarget::preset(preset).unwrap();
        let mut finishing = Finishing::with_pauses(PausePolicy::default());
        finishing.loudness = Some(target);
        let out = dir.path().join(format!("{preset}.wav"));
        let (marks, report) = bursts_program(&out, finishing, rate);
        // web and audiobook raise the bursts into the limiter (the search takes four and six
        // passes); broadcast lowers the program and lands on its first.
        assert_eq!(
            report.limited_fraction > 0.0,
            preset != "broadcast",
            "{preset}: {report:?}"
        );

        let expected: Vec<i16> = crate::audio::loudness::apply(
            &stitched,
            rate,
            report.gain_db,
            target.ceiling_dbtp - Container::Wav(SampleFormat::Int16).ceiling_margin_db(),
        )
        .into_iter()
        .map(wav::to_i16)
        .collect();
        let written: Vec<i16> = hound::WavReader::open(&out)
            .unwrap()
            .samples::<i16>()
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(written.len(), expected.len(), "{preset}");
        assert!(written == expected, "{preset}: the file is not one render");

        let summary = markers::read_wav_summary(&out).unwrap();
        assert_eq!(summary.chapters, marks, "{preset}");
        let titles: Vec<&str> = summary.chapters.iter().map(|m| m.title.as_str()).collect();
        assert_eq!(titles, ["One", "Two"], "{preset}");
        let measured = crate::audio::loudness::measure(
            &written
                .iter()
                .map(|&s| f32::from(s) / 32767.0)
                .collect::<Vec<_>>(),
            rate,
        )
        .unwrap();
        assert!(
            (measured.integrated_lufs.unwrap() - target.lufs).abs() < 0.2,
            "{preset}: {measured:?}"
        );
    }
}
