//! Tests of batch runs: the directory lock, cleanup after a killed run, the feed it writes, and the
//! fingerprint that decides what is redone.

use super::*;

/// One job at a time in `out_dir`, joe's voice, and every other setting its default.
fn plain_options(out_dir: PathBuf) -> BatchOptions {
    BatchOptions {
        out_dir,
        default_voice: "joe".into(),
        jobs: 1,
        force: false,
        narrator: NarratorOptions::default(),
        pause_overrides: Vec::new(),
        read: ReadOptions::default(),
        feed: None,
        queue: None,
    }
}

#[test]
fn a_second_batch_on_the_same_directory_is_refused_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join(STATE_DIR);
    std::fs::create_dir_all(&state).unwrap();
    let held = lock(&state, dir.path()).unwrap();
    let message = lock(&state, dir.path()).unwrap_err().to_string();
    assert!(message.contains("another `aloud batch`"), "{message}");
    drop(held);
    lock(&state, dir.path()).unwrap();
}

#[test]
fn working_files_of_a_killed_run_are_removed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("news");
    std::fs::create_dir_all(&sub).unwrap();
    let keep = [
        dir.path().join("a.wav"),
        sub.join("b.wav"),
        sub.join(".hidden"),
    ];
    let stale = [
        dir.path().join(".aloud-a.wav.x1y2.wav"),
        sub.join(".aloud-q9.tmp"),
    ];
    for path in keep.iter().chain(&stale) {
        std::fs::write(path, b"x").unwrap();
    }
    remove_working_files(dir.path());
    assert!(keep.iter().all(|p| p.exists()));
    assert!(stale.iter().all(|p| !p.exists()));
}

#[test]
fn asking_for_a_feed_adds_the_chapters_it_links_to_the_sidecars() {
    let mut options = plain_options(PathBuf::from("out"));
    assert_eq!(options.effective().narrator.sidecars, None);
    options.feed = Some(FeedOptions::new("https://example.com/pod/").unwrap());
    assert_eq!(
        options.effective().narrator.sidecars,
        Some(vec![
            SidecarKind::Timeline,
            SidecarKind::Vtt,
            SidecarKind::PodcastChapters
        ])
    );
    options.narrator.sidecars = Some(vec![SidecarKind::PodcastChapters, SidecarKind::Srt]);
    assert_eq!(
        options.effective().narrator.sidecars,
        Some(vec![SidecarKind::PodcastChapters, SidecarKind::Srt])
    );
}

#[test]
fn a_feed_that_could_not_be_written_fails_a_batch_whose_articles_all_finished() {
    let mut report = BatchReport {
        out_dir: PathBuf::from("out"),
        articles: Vec::new(),
        narrated: 0,
        skipped: 0,
        failed: 0,
        synthesized: 0,
        cached: 0,
        audio_seconds: 0.0,
        wall_seconds: 0.0,
        feed: None,
        feed_error: None,
    };
    assert!(report.failure().is_none());
    report.feed_error = Some("out: no narrations".into());
    assert!(matches!(report.failure(), Some(Error::BatchFeed { .. })));
    report.failed = 1;
    assert!(matches!(report.failure(), Some(Error::BatchFailed { .. })));
}

#[test]
fn the_fingerprint_follows_the_input_bytes_and_the_finishing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.txt");
    std::fs::write(&input, "Title\n\nOne.\n").unwrap();
    let article = Article {
        place: "article 1".into(),
        source: Source::File(input.clone()),
        voice: None,
        output: "a.wav".into(),
    };
    let options = plain_options(dir.path().join("out"));
    let profile = VoiceProfile::find("joe").unwrap();
    let finishing = Finishing::with_pauses(profile.pauses);
    let first = fingerprint(&article, &profile, &finishing, &options).unwrap();
    assert_eq!(
        first,
        fingerprint(&article, &profile, &finishing, &options).unwrap()
    );
    let mut slower = finishing.clone();
    slower.pauses.sentence_ms += 100;
    assert_ne!(
        first,
        fingerprint(&article, &profile, &slower, &options).unwrap()
    );
    let keeping_all = BatchOptions {
        read: ReadOptions {
            keep_all: true,
            ..ReadOptions::default()
        },
        ..options.clone()
    };
    assert_ne!(
        first,
        fingerprint(&article, &profile, &finishing, &keeping_all).unwrap()
    );
    std::fs::write(&input, "Title\n\nTwo.\n").unwrap();
    assert_ne!(
        first,
        fingerprint(&article, &profile, &finishing, &options).unwrap()
    );
    std::fs::remove_file(&input).unwrap();
    let gone = fingerprint(&article, &profile, &finishing, &options).unwrap_err();
    assert!(matches!(gone, Error::InputNotFound { .. }));
}
