//! HTML ingestion as a user meets it: a realistic news page (samples/), pages in other
//! charsets, pages without a story, standard input, and what the command line accepts.

mod common;

use aloud::Error;
use aloud::ingest::{self, Format, Source};
use common::{paragraphs, repo};
use std::path::{Path, PathBuf};

const SAMPLE: &str = "samples/harbor-ferry-night-service.html";

/// The story, paragraph by paragraph (list items and the block quote included), as spoken.
const STORY: &[&str] = &[
    "The ferry between Port Alder and Gull Island will keep running until 1 a.m. on Fridays and Saturdays from March 7, the harbor authority said on Monday, after a year in which the crossing carried 1.42 million passengers.",
    "That is the most since the service began in 1987, and 18 percent more than in 2023. Officials credited the new waterfront market, cheaper monthly passes and a string of mild weekends in the autumn.",
    "Ridership climbed in every month but one. August alone brought 171,000 trips, and on the busiest day, the Saturday of the lantern festival, the two boats made 46 crossings between them.",
    "“We were turning people away at the ramp by nine o’clock,” said Dolores Achebe, who has captained the Alder Queen for eleven years. “Nobody wants to stand on a dock in the dark wondering if the last boat is full.”",
    "Late service is not a luxury for the people who clean the offices and cook in the restaurants on the island. It is how they get home.",
    "That was how Councillor Ruth Okafor put it at last month’s transport committee, where the extension passed by a vote of 7 to 2.",
    "The authority will add four sailings each weekend night, leaving Port Alder at 10:15 p.m., 11 p.m., 11:45 p.m. and 12:30 a.m. The last boat back from Gull Island will depart at 12:50 a.m.",
    "Weekday service is unchanged, with the final crossing at 9:40 p.m.",
    "Bicycles will be carried free of charge after 10 p.m.",
    "The Water Street ticket office will stay open until the last departure.",
    "A single adult fare stays at $3.25. The monthly pass, cut to $48 last spring, will not change before the end of the year, according to finance director Owen Pryce.",
    "Pryce estimated the late sailings will cost about $310,000 a year in crew wages and fuel. He expects fares to cover roughly half of that, with the rest drawn from the harbor parking fund.",
    "Some island residents worry about noise from the terminal after midnight. “I’m glad people can get home,” said Henrik Sato, who lives two doors from the landing. “I just hope they remember the rest of us are asleep.”",
    "The authority said it will review the schedule in September and publish passenger counts for each late sailing.",
];

/// Everything on the page that is not the story; none of it may be spoken.
const BOILERPLATE: &[&str] = &[
    // navigation, masthead, breadcrumbs
    "Skip to main content",
    "Independent news",
    "Local News",
    "Politics",
    "Opinion",
    "Sign in",
    "Transport reporter",
    "Mara Lindqvist",
    "February 11",
    // the listen widget
    "Listen to this article",
    "5 min",
    "▶",
    // share buttons and prompts
    "Share",
    "Facebook",
    "Copy link",
    "Email",
    // subscribe prompts and the newsletter box
    "Subscribe",
    "$1 a week",
    "Morning Courier",
    "editors",
    "email address",
    // images, captions, credits
    "Photo",
    "Tomas Reyes",
    "pulls away from the Water Street terminal",
    "Riders wait",
    "boarding ramp",
    // advertising
    "Advertisement",
    // related stories
    "Related",
    "Monthly ferry pass drops",
    "Waterfront market draws",
    "first new housing",
    // the timetable in <pre>
    "FRI-SAT",
    "22:15",
    // footer
    "About us",
    "newsroom",
    "Privacy",
    "All rights reserved",
    "©",
    // scripts and styles
    "dataLayer",
    "track(",
    "font-family",
    "NewsArticle",
];

#[test]
fn news_page_title_chapters_and_exactly_the_story() {
    let document = ingest::load(&repo(SAMPLE)).expect("sample loads");
    assert_eq!(
        document.title,
        "Harbor ferry adds night sailings after a record year"
    );
    let titles: Vec<&str> = document.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Harbor ferry adds night sailings after a record year",
            "A record year on the water",
            "What changes in March",
            "Fares and passes",
            "Who is not convinced",
        ]
    );
    for chapter in &document.chapters {
        let heading = chapter
            .heading
            .as_ref()
            .expect("every chapter has a heading");
        assert_eq!(heading.text, chapter.title);
    }
    assert_eq!(paragraphs(&document), STORY);

    for sentence in document.spoken_sentences() {
        for boilerplate in BOILERPLATE {
            assert!(
                !sentence.text.contains(boilerplate),
                "{boilerplate:?} was narrated in {:?}",
                sentence.text
            );
        }
    }
    // Every story paragraph is there, in order, and nothing else: checked above by equality;
    // the sentence count guards against a splitter that stopped splitting.
    assert!(
        document.sentence_count() >= 25,
        "{}",
        document.sentence_count()
    );
}

#[test]
fn news_page_sources_point_into_the_html() {
    let html = std::fs::read_to_string(repo(SAMPLE)).expect("sample is UTF-8");
    let document = ingest::load(&repo(SAMPLE)).expect("sample loads");
    let body_start = html.find("<body").expect("has a body");
    let mut previous_end = 0;
    for sentence in document.spoken_sentences() {
        let source = html
            .get(sentence.source.clone())
            .unwrap_or_else(|| panic!("range {:?} is not in the page", sentence.source));
        assert!(
            sentence.source.start >= body_start,
            "{sentence:?} outside <body>"
        );
        assert!(
            previous_end <= sentence.source.start,
            "{sentence:?} out of order"
        );
        previous_end = sentence.source.end;
        // Markup and entities may sit inside the range; the words are the same.
        let words = |text: &str| -> String {
            text.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        };
        let without_tags: String = strip_tags(source);
        let decoded = decode_entities(&without_tags);
        assert_eq!(words(&decoded), words(&sentence.text), "{source:?}");
    }
    // The headline is read from the article's <h1>, not the <title> in <head>.
    let heading = document.chapters[0]
        .heading
        .as_ref()
        .expect("title heading");
    assert!(html[..heading.source.start].contains("<h1"));
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

fn decode_entities(text: &str) -> String {
    text.replace("&ldquo;", "“")
        .replace("&rdquo;", "”")
        .replace("&rsquo;", "’")
        .replace("&amp;", "&")
}

#[test]
fn the_sample_reads_the_same_from_standard_input() {
    let bytes = std::fs::read(repo(SAMPLE)).expect("sample");
    let from_file = ingest::load(&repo(SAMPLE)).expect("file");
    let from_stdin =
        ingest::read_input(bytes.as_slice(), ingest::STDIN_NAME, 1 << 20).expect("stdin");
    assert_eq!(from_stdin, from_file);
}

fn temp_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

const LONG_STORY: &str = "<p>The council met on Tuesday night and voted to keep the library open on Sundays through the winter, reversing a decision made in the spring.</p><p>Librarians said visits had risen by a fifth since the spring, and that the Sunday hours were the busiest of the week for families with young children.</p><p>The change will cost about nine thousand dollars a year, which the council will take from its reserve fund.</p>";

#[test]
fn a_latin1_page_is_decoded_by_its_meta_charset() {
    let dir = tempfile::tempdir().expect("dir");
    let mut bytes = b"<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><title>x</title></head><body><article><h1>Caf\xe9 reopens on the square</h1><p>The caf\xe9 on the square reopened on Monday after a year of repairs, its owner said.</p>".to_vec();
    bytes.extend_from_slice(LONG_STORY.as_bytes());
    bytes.extend_from_slice(b"</article></body></html>");
    let path = temp_file(&dir, "latin1.html", &bytes);
    let document = ingest::load(&path).expect("decodes");
    assert_eq!(document.title, "Café reopens on the square");
    assert!(
        document
            .spoken_sentences()
            .any(|s| s.text.starts_with("The café on the square reopened")),
        "{:?}",
        paragraphs(&document)
    );
}

#[test]
fn html_files_without_a_story_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("dir");
    let links_only = temp_file(
        &dir,
        "links.html",
        b"<!doctype html><html><head><title>Index</title></head><body><nav><ul><li><a href=/a>Home</a></li><li><a href=/b>Sports</a></li></ul></nav><footer>&copy; 2025</footer></body></html>",
    );
    match ingest::load(&links_only) {
        Err(error @ Error::NoArticle { .. }) => {
            assert!(error.to_string().contains("links.html"), "{error}");
        }
        other => panic!("expected NoArticle, got {other:?}"),
    }

    for (name, bytes) in [
        ("empty.html", &b""[..]),
        (
            "blank.htm",
            b"<!doctype html><html><head><title>Nothing</title></head><body>\n</body></html>",
        ),
    ] {
        let path = temp_file(&dir, name, bytes);
        match ingest::load(&path) {
            Err(Error::EmptyInput { path: named }) => assert_eq!(named, path),
            other => panic!("{name}: expected EmptyInput, got {other:?}"),
        }
    }

    let png = temp_file(&dir, "photo.html", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    match ingest::load(&png) {
        Err(Error::NotText { path, offset }) => {
            assert_eq!(path, png);
            assert_eq!(offset, 0);
        }
        other => panic!("expected NotText, got {other:?}"),
    }

    let binary_latin1 = temp_file(
        &dir,
        "binary.html",
        b"<html><head><meta charset=windows-1252></head><body>ab\0cd</body></html>",
    );
    match ingest::load(&binary_latin1) {
        Err(error @ Error::NotTextIn { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains("binary.html") && message.contains("windows-1252"),
                "{message}"
            );
        }
        other => panic!("expected NotTextIn, got {other:?}"),
    }
}

#[test]
fn html_is_detected_from_extension_or_contents() {
    let dir = tempfile::tempdir().expect("dir");
    let page = format!(
        "<!DOCTYPE html><html><body><article><h1>Library stays open</h1>{LONG_STORY}</article></body></html>"
    );
    let no_extension = temp_file(&dir, "page", page.as_bytes());
    let document = ingest::load(&no_extension).expect("sniffed as HTML");
    assert_eq!(document.title, "Library stays open");
    assert!(paragraphs(&document).iter().all(|p| !p.contains('<')));

    // A .txt extension is trusted: the markup is read as text.
    let as_text = temp_file(&dir, "page.txt", page.as_bytes());
    let document = ingest::load(&as_text).expect("loads as text");
    let first = document.spoken_sentences().next().expect("a sentence");
    assert!(first.text.starts_with("<!DOCTYPE"), "{}", first.text);

    assert_eq!(Format::detect(Path::new("a.htm"), "x"), Format::Html);
    let parsed = ingest::parse(&page, Format::Html, Path::new("inline")).expect("parses");
    assert_eq!(parsed.title, "Library stays open");
}

#[test]
fn standard_input_detects_its_format_and_is_bounded() {
    let markdown = b"# Notes\n\nFirst point. Second point.\n";
    let document = ingest::read_input(&markdown[..], ingest::STDIN_NAME, 1024).expect("md");
    assert_eq!(document.title, "Notes");

    let text = b"A Title\n\nBody text here.\n";
    let document = ingest::read_input(&text[..], ingest::STDIN_NAME, 1024).expect("txt");
    assert_eq!(document.title, "A Title");

    let big = vec![b'a'; 2048];
    match ingest::read_input(big.as_slice(), ingest::STDIN_NAME, 1024) {
        Err(error @ Error::TooLarge { .. }) => {
            assert_eq!(
                error.to_string(),
                "standard input: larger than the 1 KiB limit"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // Exactly at the limit is fine.
    let at_limit = vec![b'a'; 1024];
    ingest::read_input(at_limit.as_slice(), ingest::STDIN_NAME, 1024).expect("at the limit");

    match ingest::read_input(&b"\xff\xfe\0binary"[..], ingest::STDIN_NAME, 1024) {
        Err(error @ Error::NotText { .. }) => {
            assert!(
                error.to_string().starts_with("standard input: not UTF-8"),
                "{error}"
            );
        }
        other => panic!("expected NotText, got {other:?}"),
    }
    match ingest::read_input(&b"  \n"[..], ingest::STDIN_NAME, 1024) {
        Err(Error::EmptyInput { path }) => assert_eq!(path, Path::new(ingest::STDIN_NAME)),
        other => panic!("expected EmptyInput, got {other:?}"),
    }

    /// A reader that fails, as a closed pipe might.
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("pipe broke"))
        }
    }
    match ingest::read_input(Broken, ingest::STDIN_NAME, 1024) {
        Err(error @ Error::Io { .. }) => assert!(error.to_string().contains("pipe broke")),
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn command_line_inputs_are_files_urls_or_standard_input() {
    let cases = [
        ("-", Source::Stdin),
        ("story.md", Source::File("story.md".into())),
        (
            "dir/notes:draft.txt",
            Source::File("dir/notes:draft.txt".into()),
        ),
        ("C:\\story.txt", Source::File("C:\\story.txt".into())),
        (
            "https://example.com/a.html",
            Source::Url("https://example.com/a.html".into()),
        ),
        (
            "HTTP://example.com/",
            Source::Url("HTTP://example.com/".into()),
        ),
    ];
    for (arg, expected) in cases {
        assert_eq!(Source::parse(arg).expect(arg), expected, "{arg}");
    }
    for (arg, scheme) in [
        ("file:///etc/passwd", "file"),
        ("ftp://example.com/story.txt", "ftp"),
        ("gopher://example.com/", "gopher"),
        ("mailto:someone@example.com", "mailto"),
    ] {
        match Source::parse(arg) {
            Err(error @ Error::UnsupportedScheme { .. }) => {
                let message = error.to_string();
                assert!(message.starts_with(arg), "{message}");
                assert!(message.contains(&format!("not {scheme}:")), "{message}");
            }
            other => panic!("{arg}: expected UnsupportedScheme, got {other:?}"),
        }
    }
    assert!(matches!(
        Source::parse("https://"),
        Err(Error::BadUrl { .. })
    ));
    // Loading refuses other schemes too, whoever built the Source.
    assert!(matches!(
        ingest::load_source(&Source::Url("file:///etc/passwd".into())),
        Err(Error::UnsupportedScheme { .. })
    ));
}

#[test]
fn default_output_names() {
    let document = ingest::load(&repo(SAMPLE)).expect("sample");
    let name = |source: Source| source.default_output(&document);
    assert_eq!(
        name(Source::File("dir/story.md".into())),
        Path::new("story.wav")
    );
    assert_eq!(
        name(Source::Url(
            "https://example.com/news/ferry-night.html?utm=x".into()
        )),
        Path::new("ferry-night.wav")
    );
    assert_eq!(
        name(Source::Url("https://news.example.com/".into())),
        Path::new("news.example.com.wav")
    );
    assert_eq!(
        name(Source::Stdin),
        Path::new("harbor-ferry-adds-night-sailings-after-a-record-year.wav")
    );
}

/// `aloud narrate -` reads standard input, and refuses what is not an article with one line.
#[test]
fn the_command_line_reads_standard_input() {
    let dir = tempfile::tempdir().expect("dir");
    for (input, needle) in [
        (&b""[..], "standard input: nothing to narrate"),
        (
            b"<!doctype html><html><body><nav><a href=/>Home</a></nav></body></html>",
            "standard input: no article found",
        ),
        (b"\x89PNG\r\n\x1a\n\0\0", "standard input: not UTF-8 text"),
    ] {
        let mut narrate = std::process::Command::new(env!("CARGO_BIN_EXE_aloud"));
        narrate
            .args(["narrate", "-", "--offline"])
            .current_dir(dir.path())
            .stderr(std::process::Stdio::piped());
        let run = common::output_with_stdin(narrate, input);
        assert!(!run.status.success());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            stderr
                .trim()
                .starts_with(&format!("aloud: error: {needle}")),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}
