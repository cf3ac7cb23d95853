//! The pre-filter: what is removed from the whole page, by element, role and class or id name, before Readability picks the content.

use dom_query::{Document as Dom, Matcher, NodeRef};

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
pub(super) fn prefilter(page: &Dom) {
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
pub(super) fn words_of_name(name: &str) -> Vec<String> {
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
