//! Block collection: the extracted article as headings and paragraphs in reading order, with page furniture (captions, code, tables, boilerplate lines) left out.

use crate::document::DropReason;
use crate::ingest::{boilerplate, spoken_text};
use dom_query::NodeRef;

/// A unit of the extracted article, in reading order.
#[derive(Debug, PartialEq)]
pub(super) enum Block {
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
pub(super) fn collect_blocks(root: &NodeRef, keep_all: bool) -> Vec<Block> {
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
