//! HTML pages: the story, without the page around it.
//!
//! 1. The page is parsed with dom_query (html5ever), and its metadata read: `og:title`, the
//!    first `<h1>`, `<title>` and `og:site_name`.
//! 2. **Pre-filter** (on the whole page, while class names and roles are still there):
//!    scripts, styles, navigation, headers (but not one holding a section heading), footers,
//!    asides, forms, buttons, figures and their captions, landmarks (banner, contentinfo,
//!    complementary...), hidden elements, and elements whose class or id names them as
//!    boilerplate (share, social, subscribe, newsletter, related, promo, ad, audio player,
//!    "listen", caption, credit, byline, breadcrumb, comments, paywall, ...) are removed. An
//!    element holding half or more of the page's paragraph text is never removed, whatever
//!    its name says.
//! 3. dom_smoothie (a port of Mozilla's Readability) picks the main content.
//! 4. **Post-filter** (Readability keeps some widgets and strips class names): figures,
//!    captions, `pre`, multi-line `code`, tables, forms and the like are skipped, and so is any
//!    short block whose text is exactly boilerplate ("Listen to this article", "Advertisement",
//!    "Share this article", "5 min read", "Photo: ...", "Subscribe to ...") or only links.
//! 5. The title becomes the opening heading; `h2`/`h3` start chapters; `h4`-`h6`, paragraphs,
//!    list items and block quotes are paragraphs. Inline `<code>` is read like a word, as in
//!    Markdown.
//!
//! ## Source ranges
//!
//! Readability rebuilds the DOM, and html5ever keeps no source positions, so byte offsets
//! cannot be carried through extraction. Instead each sentence is found again in the page
//! (see [`Locator`]): the page is scanned once into its visible characters (tags, comments,
//! scripts and styles skipped, entities decoded), each with the byte range it came from, and
//! the sentence is searched for there, in this order:
//!
//! 1. its characters (whitespace ignored), forward from where the previous sentence was found
//!    (within 256 KiB of text); then its letters and digits only, lower-cased (what survives
//!    an entity or a parser repair decoded differently);
//! 2. the same over the whole page, out of order (a title found only in `<title>`; at most 64
//!    such searches a page, since each reads it all);
//! 3. its first four, two, then one words, forward.
//!
//! So a range runs from the first to the last character of the sentence in the page's bytes,
//! markup and entities inside it included; in step 3 it covers only the first words; failing
//! all, it is empty, at the end of the previous sentence's range. Ranges are offsets into the
//! HTML text as decoded (for a UTF-8 page, its bytes).

use super::boilerplate;
use super::{sentences_in, spoken_text};
use crate::document::{Chapter, Document, DropReason, Dropped, Paragraph, Sentence};
use dom_query::{Document as Dom, Matcher, NodeRef};
use dom_smoothie::{Config, Readability};
use encoding_rs::{
    DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED,
};
use std::ops::Range;

/// What a page holds.
pub(super) enum Outcome {
    Article(Document),
    /// Text, but no story in it (only navigation, links, boilerplate).
    NoArticle,
    /// No visible text at all.
    Blank,
}

pub(super) fn parse(contents: &str, fallback_title: &str, keep_all: bool) -> Outcome {
    let page = Dom::from(contents);
    page.select("script, style, noscript, template").remove();
    let body_text = page
        .body()
        .map(|body| body.text().to_string())
        .unwrap_or_default();
    if body_text.trim().is_empty() {
        return Outcome::Blank;
    }
    let meta = PageMeta::read(&page);
    prefilter(&page);

    let Ok(mut readability) = Readability::with_document(page, None, Some(Config::default()))
    else {
        return Outcome::NoArticle;
    };
    let Ok(article) = readability.parse() else {
        return Outcome::NoArticle;
    };
    let content = Dom::from(article.content);
    let blocks = collect_blocks(&content.root(), keep_all);

    // Readability's title is its reading of `<title>` (or of JSON-LD), split at separators
    // by rule of thumb: used when `og:site_name` does not say which part is the site's.
    let title = meta
        .stated_title()
        .or_else(|| meta.title_without_site_name())
        .or_else(|| Some(spoken_text(&article.title)).filter(|t| !t.is_empty()))
        .or_else(|| meta.title_element.clone())
        .unwrap_or_else(|| fallback_title.to_string());
    let mut locator = Locator::new(contents);
    match build_document(title, blocks, &mut locator) {
        Some(document) => Outcome::Article(document),
        None => Outcome::NoArticle,
    }
}

/// The page's own idea of its title, read before anything is removed.
struct PageMeta {
    og_title: Option<String>,
    h1: Option<String>,
    title_element: Option<String>,
    site_name: Option<String>,
}

impl PageMeta {
    fn read(page: &Dom) -> PageMeta {
        let meta_content = |selector: &str| {
            page.select(selector)
                .iter()
                .filter_map(|node| node.attr("content"))
                .map(|content| spoken_text(&content))
                .find(|content| !content.is_empty())
        };
        let text_of = |selector: &str| {
            page.select(selector)
                .iter()
                .map(|node| spoken_text(&node.text()))
                .find(|text| !text.is_empty())
        };
        PageMeta {
            og_title: meta_content(r#"meta[property="og:title"], meta[name="twitter:title"]"#),
            h1: text_of("body h1"),
            title_element: text_of("head title").or_else(|| text_of("title")),
            site_name: meta_content(r#"meta[property="og:site_name"]"#),
        }
    }

    /// `og:title`, else the first `<h1>`, without a " | Site Name". (The fallbacks are in
    /// [`parse`].)
    fn stated_title(&self) -> Option<String> {
        self.og_title
            .as_ref()
            .or(self.h1.as_ref())
            .map(|title| self.without_site_name(title))
            .filter(|title| !title.is_empty())
    }

    /// `<title>`, if it ends with " | " and the `og:site_name`, without them.
    fn title_without_site_name(&self) -> Option<String> {
        let title = self.title_element.as_ref()?;
        let stripped = self.without_site_name(title);
        (stripped != *title).then_some(stripped)
    }

    fn without_site_name(&self, title: &str) -> String {
        let Some(site) = self.site_name.as_deref() else {
            return title.to_string();
        };
        for separator in [" | ", " - ", " – ", " — ", " · ", " :: ", " » "] {
            if let Some(rest) = title.strip_suffix(site)
                && let Some(rest) = rest.strip_suffix(separator)
                && !rest.trim().is_empty()
            {
                return rest.trim().to_string();
            }
        }
        title.to_string()
    }
}

/// Elements never narrated, removed from the page before Readability sees it.
const UNSPOKEN_ELEMENTS: &str = "nav, footer, aside, form, button, input, select, \
    textarea, iframe, svg, canvas, video, audio, object, embed, figure, figcaption, picture, \
    dialog, menu";

/// Landmarks that are never the story.
const UNSPOKEN_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "toolbar",
];

/// Removes boilerplate from the whole page; see the module documentation.
fn prefilter(page: &Dom) {
    let Some(body) = page.body() else {
        return;
    };
    let Ok(unspoken) = Matcher::new(UNSPOKEN_ELEMENTS) else {
        return;
    };
    let paragraph_text = paragraph_text_len(&body);
    let mut stack: Vec<NodeRef> = body.element_children();
    while let Some(node) = stack.pop() {
        let boilerplate = node.is_match(&unspoken)
            || is_page_header(&node)
            || is_hidden(&node)
            || named_boilerplate(&node);
        // A wrapper named "page-related-content" or a `<header>` around the whole story
        // would otherwise take the story with it.
        if boilerplate && paragraph_text_len(&node) * 2 <= paragraph_text {
            node.remove_from_parent();
        } else {
            stack.extend(node.element_children());
        }
    }
}

/// A `<header>` is the site's masthead or a story's headline and byline, unless it holds a
/// section heading (`<section><header><h2>...`), which starts a chapter.
fn is_page_header(node: &NodeRef) -> bool {
    node.has_name("header")
        && !node.descendants_it().any(|d| {
            matches!(
                d.node_name().as_deref(),
                Some("h2" | "h3" | "h4" | "h5" | "h6")
            )
        })
}

fn paragraph_text_len(node: &NodeRef) -> usize {
    node.descendants_it()
        .filter(|descendant| descendant.has_name("p"))
        .map(|paragraph| paragraph.text().trim().len())
        .sum()
}

fn is_hidden(node: &NodeRef) -> bool {
    if node.has_attr("hidden") {
        return true;
    }
    let attr_is = |name: &str, values: &[&str]| {
        node.attr(name).is_some_and(|value| {
            let value = value.trim().to_ascii_lowercase();
            values.contains(&value.as_str())
        })
    };
    if attr_is("aria-hidden", &["true"]) || attr_is("role", UNSPOKEN_ROLES) {
        return true;
    }
    node.attr("style").is_some_and(|style| {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

/// Whole class names that mean "not for reading".
const BOILERPLATE_CLASSES: &[&str] = &[
    "sr-only",
    "screen-reader-text",
    "visually-hidden",
    "visuallyhidden",
    "skip-link",
];

/// Whole class names that hide an element, unless another class shows it again at some
/// screen size (Tailwind's `hidden md:block`, Bootstrap's `d-none d-lg-flex`).
const HIDING_CLASSES: &[&str] = &["hidden", "is-hidden", "d-none", "display-none"];

/// Words of a class or id that mean boilerplate on their own...
const BOILERPLATE_WORDS: &[&str] = &[
    "ad", "ads", "adslot", "menu", "nav", "navbar", "sidebar", "footer", "comment", "comments",
    "tags", "toolbar", "tools", "player", "byline", "dateline", "popup", "modal", "trending",
    "popular", "masthead", "skip",
];

/// ...and fragments that mean it inside any word ("sharebar", "newsletterSignup").
const BOILERPLATE_FRAGMENTS: &[&str] = &[
    "share",
    "social",
    "subscri",
    "newsletter",
    "related",
    "promo",
    "advert",
    "sponsor",
    "listen",
    "audio",
    "caption",
    "credit",
    "breadcrumb",
    "paywall",
    "outbrain",
    "taboola",
    "recommend",
    "disqus",
    "cookie",
    "consent",
    "signup",
];

fn named_boilerplate(node: &NodeRef) -> bool {
    if let Some(classes) = node.attr("class") {
        let classes: Vec<String> = classes
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let hides = classes
            .iter()
            .any(|class| HIDING_CLASSES.contains(&class.as_str()));
        let shows = classes
            .iter()
            .any(|class| class.contains(':') || (class.starts_with("d-") && class != "d-none"));
        if hides && !shows {
            return true;
        }
    }
    let names = [node.attr("class"), node.attr("id")];
    names.iter().flatten().any(|names| {
        names.split_whitespace().any(|name| {
            BOILERPLATE_CLASSES.contains(&name.to_ascii_lowercase().as_str())
                || words_of_name(name).iter().any(|word| {
                    BOILERPLATE_WORDS.contains(&word.as_str())
                        || BOILERPLATE_FRAGMENTS
                            .iter()
                            .any(|fragment| word.contains(fragment))
                })
        })
    })
}

/// `audio-player__play` -> `audio`, `player`, `play`; `newsletterSignup` -> `newsletter`,
/// `signup`.
fn words_of_name(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = !c.is_alphanumeric() || (c.is_uppercase() && previous_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// A unit of the extracted article, in reading order.
#[derive(Debug, PartialEq)]
enum Block {
    Heading {
        level: u8,
        text: String,
    },
    Paragraph(String),
    /// Text of the article that is page furniture, left out.
    Dropped {
        text: String,
        reason: DropReason,
    },
}

/// Why a block of the article is not narrated, unless everything is kept.
fn furniture(text: &str, only_links: bool, keep_all: bool) -> Option<DropReason> {
    if keep_all {
        return None;
    }
    if only_links {
        return Some(DropReason::Navigation);
    }
    boilerplate::classify(text)
}

/// Elements whose text is never narrated, even inside the extracted article.
fn is_skipped(node: &NodeRef) -> bool {
    const SKIPPED: &[&str] = &[
        "script",
        "style",
        "noscript",
        "template",
        "pre",
        "figure",
        "figcaption",
        "picture",
        "img",
        "svg",
        "math",
        "video",
        "audio",
        "iframe",
        "object",
        "embed",
        "canvas",
        "button",
        "form",
        "input",
        "select",
        "textarea",
        "nav",
        "aside",
        "footer",
        "table",
        "dialog",
        "menu",
    ];
    let Some(name) = node.node_name() else {
        return false;
    };
    if SKIPPED.contains(&name.as_ref()) {
        return true;
    }
    // A `<code>` spanning lines is a code block without its `<pre>`; one on a line of prose
    // is a name or a word, read as in Markdown.
    name.as_ref() == "code" && node.text().trim().contains('\n')
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "section"
            | "article"
            | "main"
            | "body"
            | "html"
            | "hr"
            | "address"
            | "details"
            | "summary"
            | "center"
            | "hgroup"
            | "header"
    )
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Walks the extracted article (without recursion: a page can nest deeper than a stack).
fn collect_blocks(root: &NodeRef, keep_all: bool) -> Vec<Block> {
    enum Step<'a> {
        Enter(NodeRef<'a>),
        /// The end of a block element: text on either side of it is never one paragraph.
        Exit,
    }
    let mut blocks = Vec::new();
    let mut text = String::new();
    let mut only_links = true;
    let mut stack = vec![Step::Enter(*root)];
    let finish = |blocks: &mut Vec<Block>, text: &mut String, only_links: &mut bool| {
        let spoken = spoken_text(text);
        if !spoken.is_empty() {
            blocks.push(match furniture(&spoken, *only_links, keep_all) {
                Some(reason) => Block::Dropped {
                    text: spoken,
                    reason,
                },
                None => Block::Paragraph(spoken),
            });
        }
        text.clear();
        *only_links = true;
    };
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Exit => {
                finish(&mut blocks, &mut text, &mut only_links);
                continue;
            }
            Step::Enter(node) => node,
        };
        if node.is_text() {
            let piece = node.text();
            if !piece.trim().is_empty() && !node.ancestors_it(None).any(|a| a.has_name("a")) {
                only_links = false;
            }
            text.push_str(&piece);
            continue;
        }
        if !node.is_element() {
            stack.extend(node.children_it(true).map(Step::Enter));
            continue;
        }
        if is_skipped(&node) {
            continue;
        }
        let name = node.node_name().unwrap_or_default();
        if let Some(level) = heading_level(&name) {
            finish(&mut blocks, &mut text, &mut only_links);
            let heading = spoken_text(&readable_text(&node));
            if !heading.is_empty() {
                blocks.push(match furniture(&heading, false, keep_all) {
                    Some(reason) => Block::Dropped {
                        text: heading,
                        reason,
                    },
                    None => Block::Heading {
                        level,
                        text: heading,
                    },
                });
            }
        } else if name.as_ref() == "br" {
            text.push(' ');
        } else if is_block(&name) {
            finish(&mut blocks, &mut text, &mut only_links);
            stack.push(Step::Exit);
            stack.extend(node.children_it(true).map(Step::Enter));
        } else {
            stack.extend(node.children_it(true).map(Step::Enter));
        }
    }
    finish(&mut blocks, &mut text, &mut only_links);
    blocks
}

/// The text of `node` without the parts that are never spoken (a heading's icon, say).
fn readable_text(node: &NodeRef) -> String {
    let mut text = String::new();
    let mut stack = vec![*node];
    while let Some(node) = stack.pop() {
        if node.is_text() {
            text.push_str(&node.text());
        } else if node.has_name("br") {
            text.push(' ');
        } else if !is_skipped(&node) {
            stack.extend(node.children_it(true));
        }
    }
    text
}

/// Builds chapters from blocks like the Markdown reader does: the title is the opening
/// heading, `h2`/`h3` (and any `h1` but the title) start chapters, `h4`-`h6` are paragraphs.
/// `None` when no paragraph is left: a title alone is not an article.
fn build_document(title: String, blocks: Vec<Block>, locator: &mut Locator) -> Option<Document> {
    if !blocks.iter().any(|b| matches!(b, Block::Paragraph(_))) {
        return None;
    }
    let mut blocks = blocks.into_iter().peekable();
    // The article's own `<h1>`, when Readability kept it, is the title's heading; otherwise
    // the title is spoken first all the same, as a Markdown `#` or a text file's first line.
    // Readability turns an `<h1>` inside the content into an `<h2>` on some pages, so a
    // level-2 heading that says the title is taken as it too, rather than said twice.
    let opening_text = match blocks.peek() {
        Some(Block::Heading { level: 1 | 2, text }) if same_words(text, &title) => {
            let text = text.clone();
            blocks.next();
            text
        }
        _ => title.clone(),
    };
    let mut chapters = vec![Chapter {
        title: title.clone(),
        heading: Some(locator.sentence(&opening_text)),
        paragraphs: Vec::new(),
    }];
    let mut dropped = Vec::new();
    for block in blocks {
        match block {
            Block::Dropped { text, reason } => {
                let source = locator.locate(&text);
                dropped.push(Dropped {
                    text,
                    reason,
                    source,
                });
            }
            Block::Heading { level, text } if level <= 3 => {
                chapters.push(Chapter {
                    title: text.clone(),
                    heading: Some(locator.sentence(&text)),
                    paragraphs: Vec::new(),
                });
            }
            Block::Heading { text, .. } => {
                let heading = locator.sentence(&text);
                if let Some(chapter) = chapters.last_mut() {
                    chapter.paragraphs.push(Paragraph {
                        sentences: vec![heading],
                    });
                }
            }
            Block::Paragraph(text) => {
                let sentences = sentences_in(&text, |_| 0..0)
                    .into_iter()
                    .map(|sentence| locator.sentence(&sentence.text))
                    .collect();
                if let Some(chapter) = chapters.last_mut() {
                    chapter.paragraphs.push(Paragraph { sentences });
                }
            }
        }
    }
    Some(Document {
        title,
        chapters,
        dropped,
    })
}

fn same_words(a: &str, b: &str) -> bool {
    loose_key(a) == loose_key(b)
}

/// Letters and digits only, lower-cased: what survives any markup or typography change.
fn loose_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Finds sentences again in the page's bytes; see the module documentation.
struct Locator {
    /// Every visible non-whitespace character of the page.
    exact: PageChars,
    /// The same, letters and digits only, lower-cased.
    loose: PageChars,
    /// Where the search for the next sentence starts: the end of the last one found.
    cursor: usize,
    /// Whole-page searches made so far.
    page_searches: usize,
}

impl Locator {
    fn new(html: &str) -> Locator {
        let (characters, body_start) = visible_characters(html);
        let exact = PageChars::new(characters.iter().cloned());
        let loose = PageChars::new(
            characters
                .iter()
                .filter(|(c, _)| c.is_alphanumeric())
                .flat_map(|(c, source)| c.to_lowercase().map(move |l| (l, source.clone()))),
        );
        Locator {
            exact,
            loose,
            cursor: body_start,
            page_searches: 0,
        }
    }

    fn sentence(&mut self, text: &str) -> Sentence {
        Sentence {
            text: text.to_string(),
            source: self.locate(text),
        }
    }

    fn locate(&mut self, text: &str) -> Range<usize> {
        let exact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let loose = loose_key(text);
        let words: Vec<String> = text
            .split_whitespace()
            .map(loose_key)
            .filter(|word| !word.is_empty())
            .take(4)
            .collect();
        let first_words = |count: usize| words.iter().take(count).cloned().collect::<String>();
        let (four, two, one) = (first_words(4), first_words(2), first_words(1));
        // Near the last sentence first: the next one is normally a little further on.
        let near = Some(SEARCH_WINDOW);
        // An exact match already spans the sentence's punctuation; a loose one is widened.
        let whole = self.exact.find(&exact, self.cursor, near).or_else(|| {
            let range = self.loose.find(&loose, self.cursor, near)?;
            Some(self.widen(range, text, true))
        });
        if let Some(range) = whole {
            self.cursor = range.end;
            return range;
        }
        // Then the whole sentence anywhere, out of order (a title only in `<title>`, text
        // Readability moved); bounded, since each try reads the whole page.
        if self.page_searches < MAX_PAGE_SEARCHES {
            self.page_searches += 1;
            let anywhere = self.exact.find(&exact, 0, None).or_else(|| {
                let range = self.loose.find(&loose, 0, None)?;
                Some(self.widen(range, text, true))
            });
            if let Some(range) = anywhere {
                return range;
            }
        }
        // Last, its first words, near the last sentence.
        let first_words = self
            .loose
            .find(&four, self.cursor, near)
            .or_else(|| self.loose.find(&two, self.cursor, near))
            .or_else(|| self.loose.find(&one, self.cursor, near));
        if let Some(range) = first_words {
            let range = self.widen(range, text, false);
            self.cursor = range.end;
            return range;
        }
        self.cursor..self.cursor
    }

    /// A match of letters and digits grown over the punctuation that opens the sentence
    /// (and, for a whole sentence, closes it) where the page has the same characters right
    /// there: `“Hi,” she said.` rather than `Hi,” she said`.
    fn widen(&self, range: Range<usize>, text: &str, whole: bool) -> Range<usize> {
        let chars = &self.exact;
        let edge = |c: &char| !c.is_alphanumeric() && !c.is_whitespace();
        let leading: Vec<char> = text.chars().take_while(edge).collect();
        let trailing: Vec<char> = text.chars().rev().take_while(edge).collect();
        let first = chars.sources.partition_point(|s| s.start < range.start);
        let last = chars.sources.partition_point(|s| s.start < range.end);
        let mut start = range.start;
        let mut index = first;
        for &c in leading.iter().rev() {
            match index.checked_sub(1) {
                Some(before) if chars.char_at(before) == Some(c) => {
                    start = chars.sources[before].start;
                    index = before;
                }
                _ => break,
            }
        }
        let mut end = range.end;
        if whole {
            // `last` is the first character after the match, unless the match ended inside
            // a multi-character piece such as an entity.
            let mut index = last;
            for &c in trailing.iter().rev() {
                if chars.sources.get(index).is_some_and(|s| s.start >= end)
                    && chars.char_at(index) == Some(c)
                {
                    end = chars.sources[index].end;
                    index += 1;
                } else {
                    break;
                }
            }
        }
        start..end
    }
}

/// How far past the previous sentence the next is looked for, in visible characters' bytes.
const SEARCH_WINDOW: usize = 256 * 1024;

/// Searches of the whole page allowed for sentences not found near the previous one.
const MAX_PAGE_SEARCHES: usize = 64;

/// Characters with the source bytes each came from, searchable as one string.
struct PageChars {
    text: String,
    /// For each character of `text`: where it starts in `text`...
    starts: Vec<usize>,
    /// ...and the page bytes it was read from (an entity's bytes for a decoded entity).
    sources: Vec<Range<usize>>,
}

impl PageChars {
    fn new(characters: impl Iterator<Item = (char, Range<usize>)>) -> PageChars {
        let mut chars = PageChars {
            text: String::new(),
            starts: Vec::new(),
            sources: Vec::new(),
        };
        for (c, source) in characters {
            chars.starts.push(chars.text.len());
            chars.sources.push(source);
            chars.text.push(c);
        }
        chars
    }

    fn char_at(&self, index: usize) -> Option<char> {
        let start = *self.starts.get(index)?;
        self.text[start..].chars().next()
    }

    /// The page bytes of the first occurrence of `needle` read from at or after `from`, and
    /// starting within `window` bytes of this text from there, if given.
    fn find(&self, needle: &str, from: usize, window: Option<usize>) -> Option<Range<usize>> {
        if needle.is_empty() {
            return None;
        }
        let first = self.sources.partition_point(|source| source.start < from);
        let search_from = self.starts.get(first).copied()?;
        let search_to = window.map_or(self.text.len(), |window| {
            let limit = (search_from + window + needle.len()).min(self.text.len());
            // A char boundary at or after `limit`.
            self.starts[self.starts.partition_point(|&start| start < limit)..]
                .first()
                .copied()
                .unwrap_or(self.text.len())
        });
        let at = search_from + self.text[search_from..search_to].find(needle)?;
        let first_char = self.starts.partition_point(|&start| start < at);
        let last_char = self
            .starts
            .partition_point(|&start| start < at + needle.len())
            .checked_sub(1)?;
        Some(self.sources[first_char].start..self.sources[last_char].end)
    }
}

/// The page's visible non-whitespace characters, each with its source bytes, and the offset
/// where `<body>` opens (0 when it is implied). A small scanner, not a full HTML parser: it
/// only has to agree with html5ever on the text of ordinary pages, and a disagreement costs
/// one sentence's precise range, not its text.
fn visible_characters(html: &str) -> (Vec<(char, Range<usize>)>, usize) {
    /// Elements whose contents are not markup, or are never shown.
    const RAW_TEXT: &[&str] = &[
        "script",
        "style",
        "textarea",
        "xmp",
        "iframe",
        "noembed",
        "noframes",
        "noscript",
        "template",
        "plaintext",
    ];
    let bytes = html.as_bytes();
    let mut characters = Vec::new();
    let mut body_start = 0;
    let mut at = 0;
    while at < html.len() {
        let rest = &html[at..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            at = comment
                .find("-->")
                .map_or(html.len(), |end| at + 4 + end + 3);
            continue;
        }
        let next = bytes.get(at + 1).copied().unwrap_or(b' ');
        if rest.starts_with('<')
            && (next.is_ascii_alphabetic() || matches!(next, b'/' | b'!' | b'?'))
        {
            let closing = next == b'/';
            let name_start = at + 1 + usize::from(closing);
            let name_len = html[name_start..]
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(html.len() - name_start);
            let name = html[name_start..name_start + name_len].to_ascii_lowercase();
            at = tag_end(html, name_start + name_len);
            if closing {
                continue;
            }
            if name == "body" {
                body_start = at;
            }
            if RAW_TEXT.contains(&name.as_str()) {
                at = closing_tag(html, at, &name).map_or(html.len(), |end| tag_end(html, end));
            }
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c == '&'
            && let Some((name, decoded)) = LEGACY_ENTITIES.iter().find(|(name, _)| {
                rest[1..].starts_with(name)
                    && !rest[1 + name.len()..]
                        .starts_with(|c: char| c == ';' || c.is_alphanumeric())
            })
        {
            // `&amp` without its `;`, which browsers (and html5ever) still decode.
            let end = at + 1 + name.len();
            if !decoded.is_whitespace() {
                characters.push((*decoded, at..end));
            }
            at = end;
            continue;
        }
        if c == '&'
            && let Some(end) = rest[1..]
                .char_indices()
                .take(40)
                .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '#'))
                .filter(|&(_, c)| c == ';')
                .map(|(i, _)| at + 1 + i + 1)
        {
            let entity = &html[at..end];
            let decoded = html_escape::decode_html_entities(entity);
            if decoded != entity {
                characters.extend(
                    decoded
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .map(|c| (c, at..end)),
                );
                at = end;
                continue;
            }
        }
        if !c.is_whitespace() {
            characters.push((c, at..at + c.len_utf8()));
        }
        at += c.len_utf8();
    }
    (characters, body_start)
}

/// The common entities HTML still decodes without a `;` (the full legacy list is longer).
const LEGACY_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("nbsp", '\u{a0}'),
    ("copy", '©'),
    ("reg", '®'),
];

/// Where `</name` next appears at or after `from` (any case), as the offset just past the name.
fn closing_tag(html: &str, from: usize, name: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(found) = html[at..].find("</") {
        let name_start = at + found + 2;
        let candidate = bytes.get(name_start..name_start + name.len())?;
        if candidate.eq_ignore_ascii_case(name.as_bytes()) {
            return Some(name_start + name.len());
        }
        at = name_start;
    }
    None
}

/// The offset just past the `>` that closes a tag whose attributes start at `from`.
fn tag_end(html: &str, from: usize) -> usize {
    let mut quote: Option<char> = None;
    // Quotes delimit a value only right after `=`; elsewhere they are stray.
    let mut after_equals = false;
    for (i, c) in html[from..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if after_equals => quote = Some(c),
            (None, '>') => return from + i + 1,
            (None, _) => {}
        }
        if !c.is_whitespace() {
            after_equals = quote.is_none() && c == '=';
        }
    }
    html.len()
}

/// Why bytes are not text: the encoding they were read as, and the offset of the first byte
/// that does not decode (or of a NUL, which text never holds but binaries nearly always do).
pub(super) struct Undecodable {
    pub encoding: &'static Encoding,
    pub offset: usize,
}

/// Decodes a page: a byte order mark wins, then the charset `declared` by the server
/// (Content-Type), then, with `sniff_meta`, a `<meta charset>` or `http-equiv` near the top of
/// the page, else UTF-8. A UTF-8 BOM is kept (the parser skips it and counts it), so a UTF-8
/// page's text is its bytes and source offsets are file offsets; for other encodings, offsets
/// are into the decoded (UTF-8) text.
pub(super) fn decode(
    bytes: &[u8],
    declared: Option<&str>,
    sniff_meta: bool,
) -> Result<String, Undecodable> {
    let (encoding, skip) = match Encoding::for_bom(bytes) {
        Some((encoding, _)) if encoding == UTF_8 => (UTF_8, 0),
        Some((encoding, bom_length)) => (encoding, bom_length),
        None => {
            let declared = declared.and_then(|label| Encoding::for_label(label.trim().as_bytes()));
            let sniffed = || sniff_meta.then(|| meta_charset(bytes)).flatten();
            (declared.or_else(sniffed).unwrap_or(UTF_8), 0)
        }
    };
    decode_as(encoding, &bytes[skip..]).map_err(|offset| Undecodable {
        encoding,
        offset: offset + skip,
    })
}

fn decode_as(encoding: &'static Encoding, bytes: &[u8]) -> Result<String, usize> {
    if encoding == UTF_8 {
        return super::decode_text(bytes).map(str::to_owned);
    }
    if encoding.is_ascii_compatible()
        && let Some(nul) = bytes.iter().position(|&byte| byte == 0)
    {
        return Err(nul);
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .ok_or(0usize)?;
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        DecoderResult::InputEmpty => Ok(text),
        DecoderResult::Malformed(bad, after) => {
            Err(read.saturating_sub(usize::from(bad) + usize::from(after)))
        }
        DecoderResult::OutputFull => Err(read),
    }
}

/// The encoding a `<meta charset=...>` or `<meta http-equiv="Content-Type" content="...;
/// charset=...">` in the first 4 KiB names. As browsers do, a UTF-16 label there means UTF-8
/// (the bytes were readable as ASCII to find it) and `x-user-defined` means windows-1252.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes[..bytes.len().min(4096)].to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = find_bytes(&head[from..], b"<meta") {
        let start = from + at;
        let end = head[start..]
            .iter()
            .position(|&byte| byte == b'>')
            .map_or(head.len(), |end| start + end);
        let tag = &head[start..end];
        let mut search = 0;
        while let Some(found) = find_bytes(&tag[search..], b"charset") {
            let after = search + found + b"charset".len();
            search = after;
            let rest = trim_ascii_start(&tag[after..]);
            let Some(rest) = rest.strip_prefix(b"=") else {
                continue;
            };
            let rest = trim_ascii_start(rest);
            let rest = rest
                .strip_prefix(b"\"")
                .or_else(|| rest.strip_prefix(b"'"))
                .unwrap_or(rest);
            let label_end = rest
                .iter()
                .position(|&byte| {
                    matches!(byte, b'"' | b'\'' | b';' | b'/' | b'>') || byte.is_ascii_whitespace()
                })
                .unwrap_or(rest.len());
            if let Some(encoding) = Encoding::for_label(&rest[..label_end]) {
                return Some(if encoding == UTF_16BE || encoding == UTF_16LE {
                    UTF_8
                } else if encoding == X_USER_DEFINED {
                    WINDOWS_1252
                } else {
                    encoding
                });
            }
        }
        from = end;
    }
    None
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// `<!doctype html` or `<html` first, after any BOM, whitespace and comments.
pub(super) fn looks_like_html(bytes: &[u8]) -> bool {
    let mut rest = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    // Bounded: each pass consumes a comment.
    for _ in 0..64 {
        rest = trim_ascii_start(rest);
        match rest.strip_prefix(b"<!--") {
            Some(comment) => match find_bytes(comment, b"-->") {
                Some(end) => rest = &comment[end + 3..],
                None => return false,
            },
            None => break,
        }
    }
    let opening = &rest[..rest.len().min(14)];
    let opening = opening.to_ascii_lowercase();
    opening.starts_with(b"<!doctype html")
        || (opening.starts_with(b"<html")
            && opening
                .get(5)
                .is_none_or(|&byte| byte == b'>' || byte.is_ascii_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let all = spoken(&document);
        assert!(
            all.iter().any(|s| s.starts_with("Forecasters expect")),
            "{all:?}"
        );
        assert!(
            !all.iter()
                .any(|s| s.contains("Newsletter") || s.contains("Elsewhere"))
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
        let all = spoken(&document);
        assert!(
            all.iter().any(|s| s.starts_with("Two roads remain")),
            "{all:?}"
        );
        assert!(
            !all.iter()
                .any(|s| s.contains("Hidden teaser") || s.contains("Writer"))
        );
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
}
