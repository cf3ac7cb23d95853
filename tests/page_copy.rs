//! Text copied from web pages, as users paste it: each copy in tests/page_copies/ is written
//! in the style of a kind of site (a wire story with captions, a blog with a share bar, a
//! magazine feature with a pull quote and credits, a broadcaster, a public radio station, a
//! local paper with a newsletter box, a paper that credits photos inline, a business wire).
//! For each: the title, every paragraph that is narrated, and every block left out with its
//! reason. And the project's own samples: no paragraph of a story is ever left out.

mod common;

use aloud::document::DropReason;
use aloud::ingest::{self, ReadOptions};
use common::{paragraphs, repo};
use std::path::Path;

struct Copy {
    file: &'static str,
    title: &'static str,
    /// The opening words of every narrated paragraph, in order.
    paragraphs: &'static [&'static str],
    /// Every block left out: why, and its opening words.
    dropped: &'static [(DropReason, &'static str)],
}

use DropReason::*;

const COPIES: &[Copy] = &[
    Copy {
        file: "wire-story.txt",
        title: "Flooding forces thousands from homes along the Danube as rivers crest",
        paragraphs: &[
            "BRATISLAVA, Slovakia (AP) — Rising water pushed thousands",
            "In the riverside town of Komárno, volunteers stacked sandbags",
            "The national weather service said the crest would reach Budapest",
            "Scientists have long warned that a warming climate",
            "Officials in Vienna said the city’s flood defenses",
            "Novak reported from Bratislava, Slovakia. Reyes reported from Vienna.",
        ],
        dropped: &[
            (Kicker, "World News"),
            (Byline, "By MARTA NOVAK and DAVID REYES"),
            (Dateline, "Updated 4:12 PM EDT, October 20, 2023"),
            (Share, "Share"),
            (Share, "Share"),
            (Share, "Copy"),
            (Share, "Link copied"),
            (Share, "Email"),
            (Share, "Facebook"),
            (Share, "X"),
            (Share, "Reddit"),
            (Share, "LinkedIn"),
            (Share, "Pinterest"),
            (Caption, "Residents load belongings into a boat"),
            (Advertisement, "Advertisement"),
            (Caption, "FILE - Workers reinforce a levee"),
            (Related, "Related Stories"),
            (Related, "Austria opens reservoirs"),
            (Related, "Hungary closes bridges"),
            (Related, "Insurers brace for losses"),
            (Copyright, "Copyright 2023 The Associated Press."),
        ],
    },
    Copy {
        file: "blog-post.txt",
        title: "Why I switched my team to four-day weeks",
        paragraphs: &[
            "Last spring I ran an experiment with my design team",
            "What we measured",
            "We tracked three things",
            "Shipped projects went up, not down.",
            "What did not work",
            "Not everything improved.",
            "Would I do it again? Yes, but with Thursday afternoons",
        ],
        dropped: &[
            (Byline, "Posted by Priya Raman on March 3, 2024"),
            (ReadingTime, "6 min read"),
            (Share, "Share"),
            (Share, "Tweet"),
            (Share, "Pin"),
            (Share, "Email"),
            (Subscribe, "Subscribe to get the latest posts"),
            (Share, "Like this:"),
            (Share, "Like Loading..."),
            (Related, "Related"),
            (Related, "How we stopped holding status meetings"),
            (Related, "Notes from a year of remote design critiques"),
            (Share, "3 comments"),
            (Share, "Leave a Reply"),
            (Share, "Cancel reply"),
        ],
    },
    Copy {
        file: "magazine-feature.txt",
        title: "The Last Lighthouse Keeper",
        paragraphs: &[
            "For forty years, Tomas Berg kept the light",
            "The boat that brought Tomas Berg to Skarv Rock",
            "For most of those years he was alone.",
            "When the light was automated in 2022",
            "Now he volunteers at the maritime museum",
        ],
        dropped: &[
            (Kicker, "FEATURES"),
            (Byline, "By Ingrid Sola"),
            (Credit, "Photographs by Lars Eklund"),
            (PullQuote, "“You learn that the sea decides”"),
            (PullQuote, "— Tomas Berg"),
            (Credit, "Illustration by Mira Holm"),
            (
                Copyright,
                "This article appears in the April 2024 print edition",
            ),
            (Subscribe, "Subscribe to The Northern Review"),
        ],
    },
    Copy {
        file: "broadcaster.txt",
        title: "Rail strike: Commuters face a week of disruption as talks collapse",
        paragraphs: &[
            "Commuters face a week of cancelled trains",
            "The union said its members would walk out",
            "The operator said about one train in five",
            "What do the drivers want?",
            "The union is asking for a 9% pay rise",
        ],
        dropped: &[
            (Dateline, "Published"),
            (Dateline, "2 hours ago"),
            (Share, "Share"),
            (Share, "Save"),
            (Credit, "Image source, Getty Images"),
            (Caption, "Image caption, Platforms at Central Station"),
            (Related, "Related topics"),
            (Related, "Rail strikes"),
            (Related, "Trade unions"),
            (Related, "More on this story"),
            (Related, "Why are rail workers striking again?"),
        ],
    },
    Copy {
        file: "public-radio.txt",
        title: "A small town in Oregon bets on geothermal heat to cut winter bills",
        paragraphs: &[
            "Lakeview sits on top of a reservoir of hot water",
            "The project cost $14 million",
            "“It has always been down there,” said the town manager",
            "Geothermal heat is common in Iceland",
        ],
        dropped: &[
            (Kicker, "Science"),
            (Dateline, "October 20, 2023 · 5:00 AM ET"),
            (AudioPlayer, "Heard on Morning Edition"),
            (AudioPlayer, "Listen · 4:12"),
            (ReadingTime, "4-Minute Listen"),
            (AudioPlayer, "Playlist"),
            (Media, "Enlarge this image"),
            (Caption, "Workers lay insulated pipe along Main Street"),
            (Credit, "Jane Doe/Public Radio"),
            (Media, "hide caption"),
            (Media, "toggle caption"),
            (Credit, "Jane Doe/Public Radio"),
            (Advertisement, "Sponsor Message"),
        ],
    },
    Copy {
        file: "news-with-newsletter.txt",
        title: "City council approves new bus lanes on Harbor Avenue after heated meeting",
        paragraphs: &[
            "The city council voted 6 to 3 on Thursday",
            "Business owners on the avenue had argued",
            "Work on the lanes is expected to begin in March",
        ],
        dropped: &[
            (Kicker, "Politics | Local"),
            (Byline, "Mara Lindqvist, Transport reporter"),
            (Dateline, "Published Oct. 20, 2023 at 5:00 a.m. ET"),
            (AudioPlayer, "Listen to this article"),
            (ReadingTime, "5 min"),
            (Subscribe, "Get the Morning Brief"),
            (
                Subscribe,
                "The day's top stories, in your inbox every weekday.",
            ),
            (Subscribe, "Enter your email"),
            (Subscribe, "Sign up"),
            (Subscribe, "By signing up, you agree"),
            (Advertisement, "Story continues below advertisement"),
            (Related, "Trending"),
            (Related, "Ferry adds night sailings"),
            (Related, "New library branch to open in spring"),
            (Subscribe, "Support local journalism."),
            (Copyright, "© 2023 Harbor City Courier."),
        ],
    },
    Copy {
        file: "newspaper-with-guardian-captions.txt",
        title: "Wind farms paid to switch off as grid struggles to carry power south",
        paragraphs: &[
            "Wind farms in the north were paid more than £80m",
            "The payments have risen every year since 2018",
            "Engineers say new cables under the sea",
        ],
        dropped: &[
            (Kicker, "Energy"),
            (Dateline, "Fri 20 Oct 2023 14.03 BST"),
            (Caption, "Turbines at a wind farm near the coast"),
            (Related, "Explore more on these topics"),
            (Related, "Energy"),
            (Related, "Renewable energy"),
            (Related, "Wind power"),
            (Share, "Share"),
            (Share, "Reuse this content"),
            (Related, "Most viewed"),
        ],
    },
    Copy {
        file: "wire-business.txt",
        title: "Shipping firm profit falls 40% as freight rates slide",
        paragraphs: &[
            "OSLO, Oct 20 (Reuters) - Nordic Lines reported a 40% fall",
            "The company said it expected rates to stay low",
        ],
        dropped: &[
            (Byline, "By Anna Keller"),
            (Dateline, "October 20, 2023 2:15 PM UTC"),
            (Dateline, "Updated ago"),
            (Subscribe, "Sign up here."),
            (Byline, "Reporting by Anna Keller; Editing by Tom Ford"),
            (
                Copyright,
                "Our Standards: The Thomson Reuters Trust Principles.",
            ),
            (Copyright, "Purchase Licensing Rights, opens new tab"),
        ],
    },
];

#[test]
fn page_copies_keep_the_story_and_list_what_they_leave_out() {
    let mut failures = Vec::new();
    for copy in COPIES {
        let path = repo(&format!("tests/page_copies/{}", copy.file));
        let contents = std::fs::read_to_string(&path).expect("fixture");
        let document = ingest::load(&path).expect("loads");
        let heading = document.chapters[0]
            .heading
            .as_ref()
            .map(|h| h.text.as_str());
        if document.title != copy.title || heading != Some(copy.title) {
            failures.push(format!(
                "{}: title {:?} (heading {heading:?})",
                copy.file, document.title
            ));
        }
        let narrated = paragraphs(&document);
        let paragraphs_match = narrated.len() == copy.paragraphs.len()
            && narrated
                .iter()
                .zip(copy.paragraphs)
                .all(|(p, start)| p.starts_with(start));
        if !paragraphs_match {
            failures.push(format!("{}: narrated paragraphs {narrated:#?}", copy.file));
        }
        let dropped: Vec<(DropReason, &str)> = document
            .dropped
            .iter()
            .map(|d| (d.reason, d.text.as_str()))
            .collect();
        let dropped_match = dropped.len() == copy.dropped.len()
            && dropped
                .iter()
                .zip(copy.dropped)
                .all(|((reason, text), (want_reason, start))| {
                    reason == want_reason && text.starts_with(start)
                });
        if !dropped_match {
            failures.push(format!("{}: dropped {dropped:#?}", copy.file));
        }
        // Every dropped block's range is exactly its text in the file.
        for block in &document.dropped {
            let written = &contents[block.source.clone()];
            assert_eq!(
                written.split_whitespace().collect::<Vec<_>>().join(" "),
                block.text
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn keep_all_narrates_every_line_of_a_copy() {
    let options = ReadOptions {
        keep_all: true,
        ..ReadOptions::default()
    };
    for copy in COPIES {
        let path = repo(&format!("tests/page_copies/{}", copy.file));
        let contents = std::fs::read_to_string(&path).expect("fixture");
        let document = ingest::load_with(&path, &options).expect("loads");
        assert!(document.dropped.is_empty(), "{}", copy.file);
        let spoken: String = document
            .spoken_sentences()
            .flat_map(|s| s.text.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let written: String = contents.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(spoken, written, "{}", copy.file);
    }
}

/// The samples shipped with aloud are stories from their first line to their last: cleaning
/// must leave every paragraph of them in.
#[test]
fn no_paragraph_of_the_samples_is_left_out() {
    let keep_all = ReadOptions {
        keep_all: true,
        ..ReadOptions::default()
    };
    for sample in [
        "samples/city-council-budget.txt",
        "samples/night-sky-guide.md",
        "samples/harbor-ferry-night-service.html",
    ] {
        let path = repo(sample);
        let cleaned = ingest::load(&path).expect("loads");
        let whole = ingest::load_with(&path, &keep_all).expect("loads");
        assert!(
            cleaned
                .dropped
                .iter()
                .all(|d| d.reason != Caption || sample.ends_with(".html"))
        );
        assert_eq!(paragraphs(&cleaned), paragraphs(&whole), "{sample}");
        assert_eq!(cleaned.title, whole.title, "{sample}");
    }
    // The plain-text sample keeps its title line as its spoken title, and drops nothing.
    let budget = ingest::load(&repo("samples/city-council-budget.txt")).expect("loads");
    assert_eq!(
        budget.title,
        "City Council Approves Budget After Late-Night Debate"
    );
    assert!(budget.dropped.is_empty(), "{:?}", budget.dropped);
    assert_eq!(paragraphs(&budget).len(), 6);
}

/// The seed article (the page copy this project began from): its category label is not the
/// title, its headline is; the listen widget and the wire photo's caption are left out, and
/// every one of its story paragraphs is narrated.
#[test]
fn the_seed_article_reads_as_its_story() {
    let path = repo("../shared/samples/seed-article.txt");
    if !path.exists() {
        eprintln!("SKIPPED: {} is absent", path.display());
        return;
    }
    let document = ingest::load(&path).expect("loads");
    assert_eq!(
        document.title,
        "US advises allies to expel Russian spies working to ‘undermine democratic processes globally’"
    );
    let reasons: Vec<(DropReason, &str)> = document
        .dropped
        .iter()
        .map(|d| (d.reason, d.text.as_str()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:#?}");
    assert_eq!(reasons[0], (Kicker, "Audio Posts In English"));
    assert_eq!(reasons[1], (AudioPlayer, "Listen to this article"));
    assert_eq!(reasons[2].0, Caption);
    assert!(
        reasons[2]
            .1
            .starts_with("Russia Putin Russian President Vladimir Putin, center,")
    );
    let narrated = paragraphs(&document);
    assert_eq!(narrated.len(), 9, "{narrated:#?}");
    assert!(
        narrated
            .iter()
            .all(|p| !p.contains("Listen to this article") && !p.contains("poses for a photo"))
    );
    assert!(narrated[0].starts_with("Russia is waging a campaign"));
    assert!(narrated[8].starts_with("“We’ve provided as much of bespoke lead information"));
}

// --- The command line ------------------------------------------------------------------

use std::process::{Command, Output, Stdio};

/// `aloud ARGS` in `dir`, with `stdin` on standard input, clips cached inside `dir`.
fn aloud(args: &[&str], dir: &Path, stdin: &[u8]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aloud"));
    command
        .args(args)
        .current_dir(dir)
        .env("ALOUD_CACHE_DIR", dir.join(common::CACHE))
        .stderr(Stdio::piped());
    let output = common::output_with_stdin(command, stdin);
    assert!(
        output.status.success(),
        "aloud {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

/// Every spoken sentence's text, in order, from `aloud plan --json`.
fn planned_sentences(plan: &serde_json::Value) -> Vec<String> {
    let mut texts = Vec::new();
    for chapter in plan["chapters"].as_array().expect("chapters") {
        if let Some(heading) = chapter["heading"].as_object() {
            texts.push(heading["text"].as_str().unwrap_or_default().to_string());
        }
        for paragraph in chapter["paragraphs"].as_array().expect("paragraphs") {
            for sentence in paragraph["sentences"].as_array().expect("sentences") {
                texts.push(sentence["text"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    texts
}

fn range(value: &serde_json::Value) -> std::ops::Range<usize> {
    let bounds: Vec<usize> = value
        .as_array()
        .expect("a [start, end] pair")
        .iter()
        .map(|v| v.as_u64().expect("an offset") as usize)
        .collect();
    bounds[0]..bounds[1]
}

fn folded(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn plan_of_the_seed_article_titles_it_by_its_headline_and_lists_what_it_leaves_out() {
    let seed = repo("../shared/samples/seed-article.txt");
    if !seed.exists() {
        eprintln!("SKIPPED: {} is absent", seed.display());
        return;
    }
    let contents = std::fs::read_to_string(&seed).expect("seed");
    let dir = tempfile::tempdir().unwrap();
    let headline = "US advises allies to expel Russian spies working to ‘undermine democratic processes globally’";

    let plan = json(&aloud(
        &["plan", seed.to_str().unwrap(), "--json"],
        dir.path(),
        b"",
    ));
    assert_eq!(plan["title"], headline);
    assert_eq!(plan["chapters"][0]["heading"]["text"], headline);
    let sentences = planned_sentences(&plan);
    assert_eq!(sentences[0], headline);
    assert_eq!(
        sentences
            .iter()
            .filter(|s| s.contains("undermine democratic processes globally’"))
            .count(),
        1
    );
    assert!(
        sentences
            .iter()
            .all(|s| !s.contains("Listen to this article")
                && !s.contains("Audio Posts")
                && !s.contains("poses for a photo"))
    );
    let dropped = plan["dropped"].as_array().expect("dropped");
    let reasons: Vec<&str> = dropped
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["kicker", "audio-player", "caption"]);
    for block in dropped {
        let written = &contents[range(&block["source"])];
        assert_eq!(
            folded(written),
            block["text"],
            "the source range is the block"
        );
    }
    // Sentence ranges still index the file exactly.
    for chapter in plan["chapters"].as_array().unwrap() {
        for paragraph in chapter["paragraphs"].as_array().unwrap() {
            for sentence in paragraph["sentences"].as_array().unwrap() {
                assert_eq!(
                    folded(&contents[range(&sentence["source"])]),
                    sentence["text"]
                );
            }
        }
    }

    // The same from standard input, and in words.
    let human = aloud(&["plan", "-"], dir.path(), contents.as_bytes());
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.starts_with(headline), "{text}");
    assert!(
        text.contains("Left out (3 blocks; --keep-all narrates them):"),
        "{text}"
    );
    assert!(
        text.contains("section label  Audio Posts In English"),
        "{text}"
    );
    assert!(
        text.contains("photo caption  Russia Putin Russian President"),
        "{text}"
    );

    // --keep-all reads every line: the label is the title again, the widget is spoken.
    let all = json(&aloud(
        &["plan", seed.to_str().unwrap(), "--json", "--keep-all"],
        dir.path(),
        b"",
    ));
    assert!(
        all.get("dropped")
            .is_none_or(|d| d.as_array().is_some_and(Vec::is_empty))
    );
    assert_eq!(all["title"], "Audio Posts In English");
    let all_sentences = planned_sentences(&all);
    assert!(all_sentences.iter().any(|s| s == "Listen to this article"));
    assert_eq!(count_of(&all), count_of(&plan) + 3, "three blocks more");
}

fn count_of(plan: &serde_json::Value) -> u64 {
    plan["sentences"].as_u64().expect("a count")
}

#[test]
fn a_first_line_that_is_a_sentence_is_narrated_and_the_title_comes_from_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let plan = json(&aloud(&["plan", "-", "--json"], dir.path(), b"One. Two.\n"));
    assert_eq!(count_of(&plan), 2);
    assert_eq!(planned_sentences(&plan), ["One.", "Two."]);
    assert_eq!(plan["title"], "Untitled");
    assert!(
        plan["chapters"][0]["heading"].is_null(),
        "a made-up title is not spoken"
    );

    std::fs::write(
        dir.path().join("ferry-notes.txt"),
        "The ferry was late again today.\n\nNobody minded.\n",
    )
    .unwrap();
    let plan = json(&aloud(
        &["plan", "ferry-notes.txt", "--json"],
        dir.path(),
        b"",
    ));
    assert_eq!(plan["title"], "ferry notes");
    assert_eq!(
        planned_sentences(&plan),
        ["The ferry was late again today.", "Nobody minded."]
    );
}

/// A narration leaves the furniture out of the audio and the timeline, says so, and its
/// timeline's byte ranges point at the sentences in the file.
#[test]
fn narrate_leaves_out_the_furniture_and_its_timeline_points_into_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let copy = "Science\n\nComet returns after seventy years\n\nListen to this article\n\nShare\nEmail\n\nThe comet was seen again on Monday. Astronomers cheered.\n\nAdvertisement\n\nIt will be visible for a week.\n";
    std::fs::write(dir.path().join("comet.txt"), copy).unwrap();
    let voice = repo("voices/joe-deterministic.toml");
    let run = aloud(
        &[
            "narrate",
            "comet.txt",
            "-o",
            "comet.wav",
            "--json",
            "--voice",
            voice.to_str().unwrap(),
        ],
        dir.path(),
        b"",
    );
    let summary = json(&run);
    assert_eq!(summary["title"], "Comet returns after seventy years");
    assert_eq!(summary["dropped"], 5);
    assert_eq!(summary["sentences"], 4);
    let timeline: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("comet.timeline.json")).expect("timeline"),
    )
    .unwrap();
    let texts: Vec<&str> = timeline["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Comet returns after seventy years",
            "The comet was seen again on Monday.",
            "Astronomers cheered.",
            "It will be visible for a week."
        ]
    );
    for sentence in timeline["sentences"].as_array().unwrap() {
        assert_eq!(folded(&copy[range(&sentence["source"])]), sentence["text"]);
    }
    // In words, the summary says what was left out and where to see it.
    let human = aloud(
        &[
            "narrate",
            "comet.txt",
            "-o",
            "comet.wav",
            "--voice",
            voice.to_str().unwrap(),
        ],
        dir.path(),
        b"",
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("Left out 5 blocks of page furniture; `aloud plan comet.txt` lists them"),
        "{text}"
    );
}
