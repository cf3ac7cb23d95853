//! The Locator: finds each extracted sentence again in the page's bytes (see the module documentation of `ingest::html`).

use super::document::loose_key;
use crate::document::Sentence;
use std::ops::Range;

/// Finds sentences again in the page's bytes; see the module documentation.
pub(super) struct Locator {
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
    pub(super) fn new(html: &str) -> Locator {
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

    pub(super) fn sentence(&mut self, text: &str) -> Sentence {
        Sentence {
            text: text.to_string(),
            source: self.locate(text),
        }
    }

    pub(super) fn locate(&mut self, text: &str) -> Range<usize> {
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
    pub(super) fn new(characters: impl Iterator<Item = (char, Range<usize>)>) -> PageChars {
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
    pub(super) fn find(
        &self,
        needle: &str,
        from: usize,
        window: Option<usize>,
    ) -> Option<Range<usize>> {
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
pub(super) fn visible_characters(html: &str) -> (Vec<(char, Range<usize>)>, usize) {
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
