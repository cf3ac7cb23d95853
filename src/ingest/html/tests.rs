//! Tests of HTML extraction: pre- and post-filtering, titles and chapters, source ranges, charsets.

use super::locator::visible_characters;
use super::prefilter::words_of_name;
use super::*;
use crate::document::{DropReason, Sentence};
use crate::ingest::{boilerplate, spoken_text};

fn article(html: &str) -> Document {
    match parse(html, "fallback", false) {
        Outcome::Article(document) => document,
        Outcome::NoArticle => panic!("no article in {html}"),
        Outcome::Blank => panic!("blank: {html}"),
    }
}

fn spoken(document: &Document) -> Vec<&str> {
    document
        .spoken_sentences()
        .map(|s| s.text.as_str())
        .collect()
}

/// Asserts that some sentence read from `document` starts with `kept` and none mentions any of
/// `dropped`.
#[track_caller]
fn assert_reads_but_not(document: &Document, kept: &str, dropped: &[&str]) {
    let all = spoken(document);
    assert!(all.iter().any(|s| s.starts_with(kept)), "{all:?}");
    for gone in dropped {
        assert!(!all.iter().any(|s| s.contains(gone)), "{gone}: {all:?}");
    }
}

/// Every range starts at the sentence's first character (or an entity spelling it).
fn assert_sources_start_at_text(html: &str, document: &Document) {
    for sentence in document.spoken_sentences() {
        let source = html
            .get(sentence.source.clone())
            .unwrap_or_else(|| panic!("bad range {sentence:?}"));
        let decoded = html_escape::decode_html_entities(source);
        let first = sentence.text.chars().next().expect("non-empty");
        assert_eq!(
            decoded.chars().next(),
            Some(first),
            "{sentence:?} vs {source:?}"
        );
    }
}

const STORY: &str = "<p>The river rose four feet overnight, the county said on Tuesday. \
    Crews closed two bridges before dawn.</p>\
    <p>Residents of the lower town were asked to move their cars to higher ground by noon, \
    and most had done so by eleven.</p>\
    <p>Forecasters expect the water to fall slowly through the weekend, though more rain \
    is possible on Sunday night.</p>";

fn page(body: &str) -> String {
    format!(
        "<!doctype html><html><head><title>River floods | The Valley Times</title>\
         <meta property=\"og:site_name\" content=\"The Valley Times\"></head>\
         <body>{body}</body></html>"
    )
}

#[test]
fn title_prefers_og_title_then_h1_then_title_without_site_name() {
    let html = page(&format!(
        "<article><h1>River floods the lower town</h1>{STORY}</article>"
    ));
    assert_eq!(article(&html).title, "River floods the lower town");

    let html = page(&format!("<article>{STORY}</article>"));
    assert_eq!(article(&html).title, "River floods");

    let html = html.replace(
        "<head>",
        "<head><meta property=\"og:title\" content=\"Flood: the river rises\">",
    );
    let document = article(&html);
    assert_eq!(document.title, "Flood: the river rises");
    assert_eq!(spoken(&document)[0], "Flood: the river rises");

    // Without og:site_name, Readability's reading of <title> drops the site name.
    let html = format!(
        "<html><head><title>River floods the lower town overnight | The Valley Times\
         </title></head><body><article>{STORY}</article></body></html>"
    );
    assert_eq!(
        article(&html).title,
        "River floods the lower town overnight"
    );
}

#[test]
fn a_short_article_whose_h1_is_the_title_says_it_once() {
    let html = "<!doctype html><html><head><title>Harbor lights - The Gazette</title></head>\
        <body><nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav>\
        <article><h1>Harbor lights return</h1>\
        <p>The harbor lights were switched back on last night after a month of repairs to \
        the old sea wall.</p><p>Fishing crews said the channel is easier to find again, \
        especially in the fog that rolls in before dawn.</p></article>\
        <footer>Copyright The Gazette</footer></body></html>";
    let document = article(html);
    assert_eq!(document.title, "Harbor lights return");
    assert_eq!(document.chapters.len(), 1, "{:?}", document.chapters);
    assert_eq!(spoken(&document)[0], "Harbor lights return");
    assert_eq!(spoken(&document).len(), 3);
}

#[test]
fn headings_start_chapters_and_lists_and_quotes_are_read() {
    let html = page(&format!(
        "<article><h1>River floods</h1>{STORY}<h2>What to do</h2><ul><li>Move cars.</li>\
         <li>Check on neighbours.</li></ul><h3>Help</h3><blockquote><p>We will be here all \
         night.</p></blockquote><h4>Numbers</h4><p>Call 311 for help.</p></article>"
    ));
    let document = article(&html);
    let titles: Vec<&str> = document.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["River floods", "What to do", "Help"]);
    let last: Vec<Vec<&str>> = document.chapters[2]
        .paragraphs
        .iter()
        .map(|p| p.sentences.iter().map(|s| s.text.as_str()).collect())
        .collect();
    assert_eq!(
        last,
        [
            vec!["We will be here all night."],
            vec!["Numbers"],
            vec!["Call 311 for help."]
        ]
    );
    let second: Vec<&str> = document.chapters[1]
        .paragraphs
        .iter()
        .flat_map(|p| p.sentences.iter().map(|s| s.text.as_str()))
        .collect();
    assert_eq!(second, ["Move cars.", "Check on neighbours."]);
    assert_sources_start_at_text(&html, &document);
}

#[test]
fn code_blocks_are_skipped_inline_code_is_read() {
    let html = page(&format!(
        "<article>{STORY}<pre><code>let x = 1;\nlet y = 2;</code></pre>\
         <p>Type <code>help</code> at the prompt.</p></article>"
    ));
    let document = article(&html);
    let all = spoken(&document);
    assert!(all.contains(&"Type help at the prompt."), "{all:?}");
    assert!(!all.iter().any(|s| s.contains("let x")), "{all:?}");
}

#[test]
fn entities_and_inline_markup_map_back_to_page_bytes() {
    let html = page(
        "<article><p>Caf&eacute; owners &amp; staff met on <b>Monday</b>. &ldquo;We&rsquo;re \
         worried,&rdquo; one said. The river had risen four feet overnight and crews had \
         closed two bridges before dawn, officials said on Tuesday.</p>\
         <p>Forecasters expect the water to fall slowly through the weekend, though more \
         rain is possible on Sunday night and into Monday morning.</p></article>",
    );
    let document = article(&html);
    let sentences: Vec<&Sentence> = document.spoken_sentences().collect();
    let first = sentences
        .iter()
        .find(|s| s.text.starts_with("Café"))
        .expect("first sentence");
    assert_eq!(first.text, "Café owners & staff met on Monday.");
    assert_eq!(
        &html[first.source.clone()],
        "Caf&eacute; owners &amp; staff met on <b>Monday</b>."
    );
    let quote = sentences
        .iter()
        .find(|s| s.text.starts_with('“'))
        .expect("quote");
    assert!(html[quote.source.clone()].starts_with("&ldquo;We&rsquo;re"));
    assert_sources_start_at_text(&html, &document);
}

#[test]
fn text_decoded_differently_still_maps_to_its_whole_sentence() {
    // html5ever reads `&#128;` as the euro sign (windows-1252's C1 mapping); the scanner
    // does not, so only the letters-and-digits search finds the sentence.
    let html = page(&format!(
        "<article><p>It cost &#128;5 to cross the bridge on the first day.</p>{STORY}</article>"
    ));
    let document = article(&html);
    let sentence = document
        .spoken_sentences()
        .find(|s| s.text.starts_with("It cost"))
        .expect("sentence");
    assert_eq!(
        sentence.text,
        "It cost €5 to cross the bridge on the first day."
    );
    assert_eq!(
        &html[sentence.source.clone()],
        "It cost &#128;5 to cross the bridge on the first day."
    );
}

#[test]
fn repeated_sentences_map_to_successive_places() {
    let html = page(&format!(
        "<article><p>Stay safe. The river rose four feet overnight.</p>{STORY}\
         <p>Stay safe. Roads remain closed until further notice from the county.</p></article>"
    ));
    let document = article(&html);
    let starts: Vec<usize> = document
        .spoken_sentences()
        .filter(|s| s.text == "Stay safe.")
        .map(|s| s.source.start)
        .collect();
    assert_eq!(starts.len(), 2);
    assert!(starts[0] < starts[1]);
}

#[test]
fn boilerplate_left_by_readability_is_filtered_without_class_names() {
    let html = page(&format!(
        "<article><p>Listen to this article</p><p>4 min read</p>{STORY}\
         <figure><img src=x.jpg><figcaption>Crews at the bridge. Photo: A. Person\
         </figcaption></figure><p>Advertisement</p><p>Photo: Agency staff</p>\
         <p>Subscribe to the Times for more stories like this.</p>\
         <ul><li><a href=/a>Another story about the river</a></li>\
         <li><a href=/b>A second story about the bridges</a></li></ul>\
         <p>Share this article</p></article>"
    ));
    let document = article(&html);
    let paragraphs: Vec<String> = document
        .chapters
        .iter()
        .flat_map(|c| &c.paragraphs)
        .map(|p| {
            p.sentences
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(paragraphs.len(), 3, "{paragraphs:?}");
    assert!(
        paragraphs[0].starts_with("The river rose"),
        "{paragraphs:?}"
    );
    assert!(
        paragraphs[2].starts_with("Forecasters expect"),
        "{paragraphs:?}"
    );
}

#[test]
fn blocks_left_out_of_the_article_are_listed_and_kept_with_keep_all() {
    let html = page(&format!(
        "<article><p>Listen to this article</p><p>4 min read</p>{STORY}\
         <p>Advertisement</p><p>By Jane Roe</p></article>"
    ));
    let document = article(&html);
    let dropped: Vec<(DropReason, &str)> = document
        .dropped
        .iter()
        .map(|d| (d.reason, d.text.as_str()))
        .collect();
    assert_eq!(
        dropped,
        [
            (DropReason::AudioPlayer, "Listen to this article"),
            (DropReason::ReadingTime, "4 min read"),
            (DropReason::Advertisement, "Advertisement"),
            (DropReason::Byline, "By Jane Roe"),
        ]
    );
    for block in &document.dropped {
        assert_eq!(spoken_text(&html[block.source.clone()]), block.text);
    }
    let Outcome::Article(whole) = parse(&html, "fallback", true) else {
        panic!("no article");
    };
    assert!(whole.dropped.is_empty());
    let said = spoken(&whole);
    for block in &document.dropped {
        assert!(
            said.contains(&block.text.as_str()),
            "{} is read",
            block.text
        );
    }
}

#[test]
fn a_boilerplate_name_on_the_story_itself_does_not_remove_it() {
    let html = page(&format!(
        "<div class=\"related-content-wrapper\"><article>{STORY}</article>\
         <div class=\"related-links\"><p><a href=/x>Elsewhere</a></p></div></div>\
         <aside><p>Newsletter sign-up text that is long enough to look like a paragraph \
         to a reader, though it is not one.</p></aside>"
    ));
    let document = article(&html);
    assert_reads_but_not(
        &document,
        "Forecasters expect",
        &["Newsletter", "Elsewhere"],
    );
}

#[test]
fn section_headers_keep_their_headings_and_responsive_classes_keep_content() {
    let html = page(&format!(
        "<article><header class=\"story-head\"><h1>River floods</h1><p class=\"by\">By A. \
         Writer</p></header>{STORY}<section><header><h2>Roads</h2></header>\
         <div class=\"hidden md:block\"><p>Two roads remain closed to all traffic until \
         the water falls below the bridge deck.</p></div>\
         <div class=\"hidden\"><p>Hidden teaser text that no reader sees.</p></div>\
         </section></article>"
    ));
    let document = article(&html);
    let titles: Vec<&str> = document.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["River floods", "Roads"]);
    assert_reads_but_not(&document, "Two roads remain", &["Hidden teaser", "Writer"]);
}

#[test]
fn boilerplate_text_is_recognised() {
    for text in [
        "Listen to this article",
        "Listen to this article · 5 min",
        "Advertisement",
        "ADVERTISEMENT",
        "Share this article",
        "5 min read",
        "12 min",
        "3:45",
        "Photo: Jane Roe / Agency",
        "Subscribe to our newsletter for more.",
        "▶",
    ] {
        assert!(boilerplate::classify(text).is_some(), "{text}");
    }
    for text in [
        "The share price fell 5 percent.",
        "Advertising revenue rose by a third last year, the company said, while \
         subscriptions were flat for the second year running, and analysts expect the \
         trend to continue into next year as the market cools further.",
        "It took 5 minutes.",
        "Photographers gathered outside.",
    ] {
        assert!(boilerplate::classify(text).is_none(), "{text}");
    }
}

#[test]
fn class_names_split_into_words() {
    assert_eq!(
        words_of_name("audio-player__play"),
        ["audio", "player", "play"]
    );
    assert_eq!(words_of_name("newsletterSignup"), ["newsletter", "signup"]);
    assert_eq!(words_of_name("article-body"), ["article", "body"]);
}

#[test]
fn a_page_of_links_has_no_article() {
    let html = page(
        "<ul><li><a href=\"/a\">One story</a></li><li><a href=\"/b\">Another story</a></li>\
         </ul>",
    );
    assert!(matches!(parse(&html, "x", false), Outcome::NoArticle));
}

#[test]
fn a_page_without_text_is_blank() {
    for html in [
        "",
        "<!doctype html><html><head><title>T</title></head><body>  </body></html>",
        "<html><body><script>var x = 'not text';</script><img src=a.png></body></html>",
    ] {
        assert!(matches!(parse(html, "x", false), Outcome::Blank), "{html}");
    }
}

#[test]
fn scanner_skips_markup_and_decodes_entities() {
    let html = "<head><title>T&amp;C</title><script>if (a < b) x();</script></head>\
        <body class='a>b'><!-- hidden -->A&nbsp;b &#233;<br/>c</body>";
    let (characters, body_start) = visible_characters(html);
    let text: String = characters.iter().map(|(c, _)| *c).collect();
    assert_eq!(text, "T&CAbéc");
    assert_eq!(&html[body_start - 1..body_start], ">");
    assert!(html[..body_start].ends_with("<body class='a>b'>"));
    let (characters, _) = visible_characters("a &amp b &ltimes; c&copy");
    let text: String = characters.iter().map(|(c, _)| *c).collect();
    assert_eq!(text, "a&b⋉c©");
    let (characters, _) = visible_characters(html);
    let (_, e_acute) = &characters[5];
    assert_eq!(&html[e_acute.clone()], "&#233;");
}
