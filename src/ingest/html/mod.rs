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

//!
//! The steps live in their own files: `decode` (bytes to text, charsets), `prefilter`,
//! `blocks` (collection and the post-filter), `document` (chapters and paragraphs),
//! `locator` (source ranges), and `tests`.

mod blocks;
mod decode;
mod document;
mod locator;
mod prefilter;
#[cfg(test)]
mod tests;

use super::spoken_text;
use crate::document::Document;
use blocks::collect_blocks;
use document::build_document;
use dom_query::Document as Dom;
use dom_smoothie::{Config, Readability};
use locator::Locator;
use prefilter::prefilter;

pub(super) use decode::{decode, looks_like_html};

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
