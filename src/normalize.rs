//! Turns written text into what should be said (numbers, dates, money, abbreviations, symbols), keeping a map back to the written bytes.
//!
//! The rules read one sentence the way a US newsreader would, and are conservative: text that
//! no rule recognises is left exactly as written, for the speech engine's own front end.
//!
//! Every rewrite replaces a whole written token (or a run of tokens such as `$2.5 million`) by
//! its spoken words; everything else is copied, so the map from spoken bytes back to written
//! bytes is exact: unchanged text maps to itself byte for byte, a rewritten token maps to the
//! whole token. Sentence punctuation is never rewritten; the period of an abbreviation that is
//! expanded is swallowed, unless it also ends the sentence.

use std::ops::Range;

use crate::abbreviation::{self, Kind};

/// A sentence in spoken form, with a map from spoken bytes back to the written bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoken {
    text: String,
    /// Ordered, non-overlapping pairs: each spoken range was produced from that written range.
    /// Together the spoken ranges cover all of `text`, and the written ranges all of the
    /// written sentence.
    spans: Vec<(Range<usize>, Range<usize>)>,
    /// Parallel to `spans`: whether the span was rewritten (false: spoken bytes equal written bytes).
    rewritten: Vec<bool>,
}

/// One entry of a [`Spoken`] map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Bytes of the spoken text.
    pub spoken: Range<usize>,
    /// Bytes of the written text they were produced from.
    pub written: Range<usize>,
    /// False when the spoken bytes are the written bytes, unchanged.
    pub rewritten: bool,
}

impl Spoken {
    /// Spoken text that is the written text unchanged.
    pub fn verbatim(written: &str) -> Spoken {
        Spoken {
            text: written.to_string(),
            spans: vec![(0..written.len(), 0..written.len())],
            rewritten: vec![false],
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The map, in order.
    pub fn spans(&self) -> impl ExactSizeIterator<Item = Span> + '_ {
        self.spans
            .iter()
            .zip(&self.rewritten)
            .map(|((spoken, written), &rewritten)| Span {
                spoken: spoken.clone(),
                written: written.clone(),
                rewritten,
            })
    }

    /// The written bytes that produced the spoken bytes `spoken`, widened to whole spans.
    ///
    /// Unchanged text maps byte for byte; a range touching a rewritten token widens to the
    /// whole written token. An empty range maps to a position (or to the rewritten token it
    /// falls inside).
    pub fn written_range(&self, spoken: Range<usize>) -> Range<usize> {
        let (qs, qe) = (spoken.start, spoken.end.max(spoken.start));
        if qs == qe {
            let found = self
                .spans
                .iter()
                .position(|(s, _)| s.start <= qs && qs < s.end)
                .or_else(|| self.spans.iter().rposition(|(s, _)| s.end == qs));
            let Some(i) = found else {
                return 0..0;
            };
            let (s, w) = &self.spans[i];
            if self.rewritten[i] && qs > s.start {
                return w.clone();
            }
            let p = w.start + (qs - s.start).min(w.len());
            return p..p;
        }
        let mut first = None;
        let mut last = None;
        for (i, (s, _)) in self.spans.iter().enumerate() {
            if s.start >= qe {
                break;
            }
            if qs < s.end {
                first.get_or_insert(i);
                last = Some(i);
            }
        }
        let (Some(f), Some(l)) = (first, last) else {
            return 0..0;
        };
        let (fs, fw) = &self.spans[f];
        let (ls, lw) = &self.spans[l];
        let start = if self.rewritten[f] {
            fw.start
        } else {
            fw.start + (qs.max(fs.start) - fs.start)
        };
        let end = if self.rewritten[l] {
            lw.end
        } else {
            lw.start + (qe.min(ls.end) - ls.start)
        };
        start..end
    }

    /// Builds the spoken form from ordered, non-overlapping rewrites of `written`.
    fn assemble(written: &str, rewrites: &[(Range<usize>, String)]) -> Spoken {
        let mut out = Spoken {
            text: String::with_capacity(written.len() + written.len() / 2),
            spans: Vec::with_capacity(2 * rewrites.len() + 1),
            rewritten: Vec::with_capacity(2 * rewrites.len() + 1),
        };
        let mut pos = 0;
        for (w, s) in rewrites {
            let valid = pos <= w.start
                && w.start < w.end
                && w.end <= written.len()
                && written.is_char_boundary(w.start)
                && written.is_char_boundary(w.end)
                && !s.is_empty();
            debug_assert!(valid, "bad rewrite {w:?} -> {s:?} in {written:?}");
            if !valid {
                continue;
            }
            out.copy(written, pos..w.start);
            if written[w.clone()] == *s {
                out.copy(written, w.clone());
            } else {
                let at = out.text.len();
                out.text.push_str(s);
                out.spans.push((at..out.text.len(), w.clone()));
                out.rewritten.push(true);
            }
            pos = w.end;
        }
        out.copy(written, pos..written.len());
        if out.spans.is_empty() {
            out.spans.push((0..0, 0..0));
            out.rewritten.push(false);
        }
        out
    }

    /// Appends written bytes unchanged, merging with a preceding unchanged span.
    fn copy(&mut self, written: &str, w: Range<usize>) {
        if w.is_empty() {
            return;
        }
        let at = self.text.len();
        self.text.push_str(&written[w.clone()]);
        if let (Some(last), Some(false)) = (self.spans.last_mut(), self.rewritten.last())
            && last.1.end == w.start
            && last.0.end == at
        {
            last.0.end = self.text.len();
            last.1.end = w.end;
            return;
        }
        self.spans.push((at..self.text.len(), w));
        self.rewritten.push(false);
    }
}

/// The spoken form of one sentence.
pub fn normalize(written: &str) -> Spoken {
    let mut n = Normalizer {
        s: written,
        ch: chunks(written),
        out: Vec::new(),
    };
    n.run();
    Spoken::assemble(written, &n.out)
}

// ---------------------------------------------------------------------------------------------
// Number words

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [&str; 7] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
];

fn under_thousand(n: u64, out: &mut String) {
    let mut n = n % 1000;
    let mut push = |w: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    };
    if n >= 100 {
        push(ONES[(n / 100) as usize]);
        push("hundred");
        n %= 100;
    }
    if n >= 20 {
        if !n.is_multiple_of(10) {
            push(&format!(
                "{}-{}",
                TENS[(n / 10) as usize],
                ONES[(n % 10) as usize]
            ));
        } else {
            push(TENS[(n / 10) as usize]);
        }
    } else if n > 0 {
        push(ONES[n as usize]);
    }
}

/// US English cardinal: 1234 -> "one thousand two hundred thirty-four" (no "and").
pub fn cardinal(n: u64) -> String {
    if n == 0 {
        return "zero".to_string();
    }
    let mut groups = Vec::new();
    let mut m = n;
    while m > 0 {
        groups.push(m % 1000);
        m /= 1000;
    }
    let mut out = String::new();
    for (scale, &g) in groups.iter().enumerate().rev() {
        if g == 0 {
            continue;
        }
        under_thousand(g, &mut out);
        if scale > 0 {
            out.push(' ');
            out.push_str(SCALES[scale]);
        }
    }
    out
}

/// A signed cardinal: -7 -> "minus seven".
pub fn cardinal_signed(n: i64) -> String {
    if n < 0 {
        format!("minus {}", cardinal(n.unsigned_abs()))
    } else {
        cardinal(n as u64)
    }
}

/// US English ordinal: 22 -> "twenty-second".
pub fn ordinal(n: u64) -> String {
    ordinalize(&cardinal(n))
}

/// Turns the last word of a cardinal into its ordinal.
fn ordinalize(words: &str) -> String {
    let cut = words.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = words.split_at(cut);
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        l if l.ends_with('y') => format!("{}ieth", &l[..l.len() - 1]),
        l => format!("{l}th"),
    };
    format!("{head}{last}")
}

/// The plural of the last word: "ninety" -> "nineties", "hundred" -> "hundreds".
fn pluralize(words: &str) -> String {
    if let Some(stem) = words.strip_suffix('y') {
        format!("{stem}ies")
    } else if words.ends_with('x') {
        format!("{words}es")
    } else {
        format!("{words}s")
    }
}

/// A year as read aloud: 1921 -> "nineteen twenty-one", 2005 -> "two thousand five".
pub fn year(y: u64) -> String {
    match y {
        1000..=1009 | 2000..=2009 => cardinal(y),
        1010..=9999 => {
            let (hi, lo) = (y / 100, y % 100);
            if lo == 0 {
                format!("{} hundred", cardinal(hi))
            } else if lo < 10 {
                format!("{} oh {}", cardinal(hi), cardinal(lo))
            } else {
                format!("{} {}", cardinal(hi), cardinal(lo))
            }
        }
        _ => cardinal(y),
    }
}

/// Each digit as a word: "14" -> "one four".
fn digit_words(digits: &str) -> String {
    let mut out = String::new();
    for b in digits.bytes() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(ONES[(b - b'0') as usize]);
    }
    out
}

fn capitalize(words: &str) -> String {
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Tables

/// Month names; their short forms are in [`crate::abbreviation`].
#[rustfmt::skip]
const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];

/// The full month name for a written month, and whether it was abbreviated.
fn month(word: &str) -> Option<(&'static str, bool)> {
    if let Some(full) = MONTHS.iter().find(|full| **full == word) {
        return Some((full, false));
    }
    abbreviation::month_name(word).map(|full| (full, true))
}

struct Currency {
    one: &'static str,
    many: &'static str,
    minor: Option<(&'static str, &'static str)>,
}

const DOLLAR: Currency = Currency {
    one: "dollar",
    many: "dollars",
    minor: Some(("cent", "cents")),
};

/// Currency signs, longest first.
const CURRENCIES: [(&str, Currency); 11] = [
    (
        "US$",
        Currency {
            one: "U S dollar",
            many: "U S dollars",
            minor: Some(("cent", "cents")),
        },
    ),
    (
        "CA$",
        Currency {
            one: "Canadian dollar",
            many: "Canadian dollars",
            minor: Some(("cent", "cents")),
        },
    ),
    (
        "AU$",
        Currency {
            one: "Australian dollar",
            many: "Australian dollars",
            minor: Some(("cent", "cents")),
        },
    ),
    (
        "NZ$",
        Currency {
            one: "New Zealand dollar",
            many: "New Zealand dollars",
            minor: Some(("cent", "cents")),
        },
    ),
    (
        "HK$",
        Currency {
            one: "Hong Kong dollar",
            many: "Hong Kong dollars",
            minor: Some(("cent", "cents")),
        },
    ),
    (
        "C$",
        Currency {
            one: "Canadian dollar",
            many: "Canadian dollars",
            minor: Some(("cent", "cents")),
        },
    ),
    (
        "A$",
        Currency {
            one: "Australian dollar",
            many: "Australian dollars",
            minor: Some(("cent", "cents")),
        },
    ),
    ("$", DOLLAR),
    (
        "€",
        Currency {
            one: "euro",
            many: "euros",
            minor: Some(("cent", "cents")),
        },
    ),
    (
        "£",
        Currency {
            one: "pound",
            many: "pounds",
            minor: Some(("penny", "pence")),
        },
    ),
    (
        "¥",
        Currency {
            one: "yen",
            many: "yen",
            minor: None,
        },
    ),
];

fn currency_prefix(s: &str) -> Option<(usize, &'static Currency)> {
    CURRENCIES
        .iter()
        .find(|(sign, _)| s.starts_with(sign))
        .map(|(sign, c)| (sign.len(), c))
}

/// Scales glued to an amount of money ("$3bn", "£5m"), longest first.
const MONEY_SCALES: [(&str, &str); 11] = [
    ("trn", "trillion"),
    ("bn", "billion"),
    ("tn", "trillion"),
    ("mn", "million"),
    ("m", "million"),
    ("M", "million"),
    ("b", "billion"),
    ("B", "billion"),
    ("k", "thousand"),
    ("K", "thousand"),
    ("T", "trillion"),
];
/// Scales glued to a plain number ("3bn people").
const PLAIN_SCALES: [(&str, &str); 2] = [("bn", "billion"), ("tn", "trillion")];
const SCALE_WORDS: [&str; 4] = ["thousand", "million", "billion", "trillion"];

struct Unit {
    abbr: &'static str,
    one: &'static str,
    many: &'static str,
    /// Written with an abbreviation period ("ft."), which is swallowed.
    period: bool,
}

const fn unit(abbr: &'static str, one: &'static str, many: &'static str, period: bool) -> Unit {
    Unit {
        abbr,
        one,
        many,
        period,
    }
}

const UNITS: [Unit; 37] = [
    unit("km/h", "kilometer per hour", "kilometers per hour", false),
    unit("m/s", "meter per second", "meters per second", false),
    unit("kph", "kilometer per hour", "kilometers per hour", false),
    unit("mph", "mile per hour", "miles per hour", false),
    unit("km", "kilometer", "kilometers", false),
    unit("cm", "centimeter", "centimeters", false),
    unit("mm", "millimeter", "millimeters", false),
    unit("m", "meter", "meters", false),
    unit("kg", "kilogram", "kilograms", false),
    unit("mg", "milligram", "milligrams", false),
    unit("g", "gram", "grams", false),
    unit("lbs", "pound", "pounds", true),
    unit("lb", "pound", "pounds", true),
    unit("oz", "ounce", "ounces", true),
    unit("mi", "mile", "miles", true),
    unit("ft", "foot", "feet", true),
    unit("yd", "yard", "yards", true),
    unit("ml", "milliliter", "milliliters", false),
    unit("mL", "milliliter", "milliliters", false),
    unit("TB", "terabyte", "terabytes", false),
    unit("GB", "gigabyte", "gigabytes", false),
    unit("MB", "megabyte", "megabytes", false),
    unit("KB", "kilobyte", "kilobytes", false),
    unit("kB", "kilobyte", "kilobytes", false),
    unit("kWh", "kilowatt-hour", "kilowatt-hours", false),
    unit("kW", "kilowatt", "kilowatts", false),
    unit("MW", "megawatt", "megawatts", false),
    unit("GW", "gigawatt", "gigawatts", false),
    unit("GHz", "gigahertz", "gigahertz", false),
    unit("MHz", "megahertz", "megahertz", false),
    unit("Hz", "hertz", "hertz", false),
    unit("ms", "millisecond", "milliseconds", false),
    unit("hrs", "hour", "hours", true),
    unit("hr", "hour", "hours", true),
    unit("mins", "minute", "minutes", true),
    unit("min", "minute", "minutes", true),
    unit("sec", "second", "seconds", true),
];

const INCH: Unit = unit("in", "inch", "inches", true);

fn unit_exact(s: &str) -> Option<&'static Unit> {
    UNITS.iter().find(|u| u.abbr == s)
}

/// Time-of-day markers and how they are said.
fn am_pm(s: &str) -> Option<(&'static str, bool)> {
    match s {
        "a.m" | "A.M" => Some(("a m", true)),
        "p.m" | "P.M" => Some(("p m", true)),
        "am" | "AM" => Some(("a m", false)),
        "pm" | "PM" => Some(("p m", false)),
        _ => None,
    }
}

/// Words before a 4-digit number that make it a year even outside 1900-2099.
const YEAR_BEFORE: [&str; 24] = [
    "in", "since", "by", "from", "until", "till", "of", "year", "circa", "c.", "around", "before",
    "after", "during", "early", "late", "mid", "spring", "summer", "autumn", "fall", "winter",
    "between", "and",
];
/// Words after a 4-digit number that make it a count, not a year.
const COUNT_AFTER: [&str; 30] = [
    "people",
    "residents",
    "workers",
    "employees",
    "jobs",
    "students",
    "children",
    "homes",
    "houses",
    "cases",
    "deaths",
    "votes",
    "troops",
    "members",
    "patients",
    "copies",
    "cars",
    "vehicles",
    "miles",
    "feet",
    "meters",
    "acres",
    "pages",
    "points",
    "times",
    "dollars",
    "euros",
    "pounds",
    "tons",
    "units",
];
/// Words before a number that make it a plain number, never a year.
const NUMBER_BEFORE: [&str; 4] = ["page", "pages", "number", "#"];

/// Names after which even "I" is a regnal number.
const REGNAL_NAMES: [&str; 34] = [
    "Elizabeth",
    "Charles",
    "James",
    "George",
    "Henry",
    "Edward",
    "William",
    "Mary",
    "Richard",
    "John",
    "Louis",
    "Peter",
    "Catherine",
    "Napoleon",
    "Alexander",
    "Nicholas",
    "Frederick",
    "Philip",
    "Leopold",
    "Wilhelm",
    "Francis",
    "Ferdinand",
    "Isabella",
    "Ivan",
    "Paul",
    "Benedict",
    "Gregory",
    "Innocent",
    "Leo",
    "Pius",
    "Clement",
    "Juan",
    "Carlos",
    "Harald",
];
/// Capitalised words that are not names, before which a Roman numeral is no regnal number.
const NOT_NAMES: [&str; 30] = [
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "For",
    "Of",
    "And",
    "But",
    "Or",
    "To",
    "With",
    "By",
    "From",
    "As",
    "If",
    "When",
    "Then",
    "So",
    "This",
    "That",
    "It",
    "He",
    "She",
    "We",
    "They",
    "Yesterday",
    "Today",
    "Size",
];

/// Top-level domains that make a bare `word.tld` a web address.
const TLDS: [&str; 40] = [
    "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "uk", "us", "ca", "au", "de",
    "fr", "es", "it", "nl", "eu", "info", "biz", "app", "dev", "ai", "tv", "me", "news", "ly",
    "jp", "cn", "ru", "br", "ch", "se", "no", "nz", "ie", "in", "org.uk", "gg",
];

const LEAD: &[char] = &['"', '“', '‘', '\'', '’', '(', '[', '{', '«', '¿', '¡'];
const TRAIL: &[char] = &[
    '.', ',', ';', ':', '!', '?', '"', '”', '’', '\'', '»', ')', ']', '}', '…',
];
const CLOSERS: &[char] = &['"', '”', '’', '\'', '»', ')', ']', '}'];

// ---------------------------------------------------------------------------------------------
// Chunks: whitespace-separated words, with their surrounding punctuation peeled off

struct Chunk {
    full: Range<usize>,
    core: Range<usize>,
}

fn chunks(s: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(a) = start.take() {
                out.push(chunk(s, a, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(a) = start {
        out.push(chunk(s, a, s.len()));
    }
    out
}

fn chunk(s: &str, a: usize, b: usize) -> Chunk {
    let mut cs = a;
    while let Some(c) = s[cs..b].chars().next() {
        if !LEAD.contains(&c) {
            break;
        }
        // An apostrophe before digits is part of the token: '90s.
        if matches!(c, '\'' | '’' | '‘')
            && s[cs + c.len_utf8()..b]
                .bytes()
                .take(2)
                .filter(u8::is_ascii_digit)
                .count()
                == 2
        {
            break;
        }
        cs += c.len_utf8();
    }
    let mut ce = b;
    while let Some(c) = s[cs..ce].chars().next_back() {
        if !TRAIL.contains(&c) {
            break;
        }
        ce -= c.len_utf8();
    }
    Chunk {
        full: a..b,
        core: cs..ce,
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers as written

#[derive(Clone, Copy)]
struct Num<'a> {
    /// Integer digits, possibly with grouping commas; empty for ".5".
    int: &'a str,
    /// Digits after the decimal point.
    frac: Option<&'a str>,
}

impl Num<'_> {
    fn value(&self) -> Option<u64> {
        if self.int.is_empty() {
            return Some(0);
        }
        let mut v: u64 = 0;
        for b in self.int.bytes().filter(|&b| b != b',') {
            v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        Some(v)
    }

    fn integer(&self) -> Option<u64> {
        if self.frac.is_some() || self.int.is_empty() {
            None
        } else {
            self.value()
        }
    }

    /// Plain digits, no commas, no fraction.
    fn plain(&self) -> Option<&str> {
        (self.frac.is_none() && !self.int.is_empty() && !self.int.contains(',')).then_some(self.int)
    }

    fn is_one(&self) -> bool {
        self.int == "1" && self.frac.is_none()
    }

    fn words(&self) -> Option<String> {
        let int = if self.int.is_empty() {
            String::new()
        } else {
            cardinal(self.value()?)
        };
        Some(match self.frac {
            None => int,
            Some(f) if int.is_empty() => format!("point {}", digit_words(f)),
            Some(f) => format!("{int} point {}", digit_words(f)),
        })
    }
}

/// Parses a number at the start of `s`: "1,234", "3.14", ".5", "0.75". Returns it and its length.
fn parse_num(s: &str) -> Option<(Num<'_>, usize)> {
    let b = s.as_bytes();
    let digits_at = |mut i: usize| {
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i - st
    };
    let mut i = digits_at(0);
    let first = i;
    if first > 0 {
        // Grouping commas: only when every group after the first has exactly three digits.
        let mut j = i;
        let mut grouped = false;
        while j < b.len() && b[j] == b',' && digits_at(j + 1) == 3 {
            j += 4;
            grouped = true;
        }
        if grouped {
            if first > 3 {
                return None;
            }
            i = j;
        }
        if first > 1 && b[0] == b'0' {
            return None;
        }
    }
    let int_end = i;
    let mut frac = None;
    if i < b.len() && b[i] == b'.' {
        let n = digits_at(i + 1);
        if n > 0 {
            frac = Some(&s[i + 1..i + 1 + n]);
            i += 1 + n;
        }
    }
    if int_end == 0 && frac.is_none() {
        return None;
    }
    Some((
        Num {
            int: &s[..int_end],
            frac,
        },
        i,
    ))
}

fn ordinal_suffix_ok(n: u64, suffix: &str) -> bool {
    let want = match (n % 100, n % 10) {
        (11..=13, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    };
    suffix.eq_ignore_ascii_case(want)
}

/// "1990s", "90s", "'90s" (given without the apostrophe) as said.
fn decade(digits: &str) -> Option<String> {
    let v: u64 = digits.parse().ok()?;
    if !v.is_multiple_of(10) {
        return None;
    }
    match digits.len() {
        2 if v >= 10 => Some(pluralize(&cardinal(v))),
        4 if (1000..=2099).contains(&v) => {
            if (2000..2010).contains(&v) {
                Some("two thousands".to_string())
            } else {
                Some(pluralize(&year(v)))
            }
        }
        _ => None,
    }
}

/// A day of the month: "19", "19th", or a range "19-21".
fn day_words(s: &str) -> Option<String> {
    let one = |d: &str| -> Option<String> {
        let n = d.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 2 {
            return None;
        }
        let v: u64 = d[..n].parse().ok()?;
        if !(1..=31).contains(&v) || (n == 2 && d.starts_with('0')) {
            return None;
        }
        let suffix = &d[n..];
        if !suffix.is_empty() && !ordinal_suffix_ok(v, suffix) {
            return None;
        }
        Some(ordinal(v))
    };
    if let Some((a, b)) = s.split_once(['-', '–']) {
        return Some(format!("{} to {}", one(a)?, one(b)?));
    }
    one(s)
}

fn is_four_digit_year(s: &str) -> Option<u64> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0') {
        let v: u64 = s.parse().ok()?;
        (1000..=2099).contains(&v).then_some(v)
    } else {
        None
    }
}

/// The digits of a canonical Roman numeral, largest first.
const ROMAN_DIGITS: [(u64, &str); 13] = [
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
];

/// The value of a Roman numeral written in canonical form, in capitals or in lower case
/// ("XIV", "xiv"; not "Xiv"), else None. Callers choose the case they accept: a sentence
/// reads only capitals ("mix" is a word), a list marker also reads lower case (`iv)`).
pub(crate) fn roman(s: &str) -> Option<u64> {
    let single_case =
        s.bytes().all(|b| b.is_ascii_uppercase()) || s.bytes().all(|b| b.is_ascii_lowercase());
    if s.is_empty() || s.len() > 12 || !single_case {
        return None;
    }
    let val = |c: u8| match c.to_ascii_uppercase() {
        b'I' => Some(1),
        b'V' => Some(5),
        b'X' => Some(10),
        b'L' => Some(50),
        b'C' => Some(100),
        b'D' => Some(500),
        b'M' => Some(1000),
        _ => None,
    };
    let b = s.as_bytes();
    let mut total: u64 = 0;
    let mut i = 0;
    while i < b.len() {
        let v = val(b[i])?;
        match b.get(i + 1).and_then(|&c| val(c)) {
            Some(next) if next > v => {
                total += next - v;
                i += 2;
            }
            _ => {
                total += v;
                i += 1;
            }
        }
    }
    // Only the canonical spelling of that value counts (rejects "IIII", "VX", "IIV").
    let mut rest = s;
    let mut left = total;
    for (value, digit) in ROMAN_DIGITS {
        while left >= value {
            let (head, tail) = rest.split_at_checked(digit.len())?;
            if !head.eq_ignore_ascii_case(digit) {
                return None;
            }
            rest = tail;
            left -= value;
        }
    }
    rest.is_empty().then_some(total)
}

// ---------------------------------------------------------------------------------------------
// The rules

fn starts_upper(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

/// A capitalised word with lower-case letters: "Main", "O'Brien"; not "NATO", not "3rd".
fn is_name(w: &str) -> bool {
    starts_upper(w)
        && w.chars().any(char::is_lowercase)
        && w.chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’')
}

/// A capitalised word of letters, in any case: "Pasadena", "PASADENA", "Winston-Salem".
fn is_capitalised_word(w: &str) -> bool {
    starts_upper(w)
        && w.chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’' || c == '.')
}

/// Words after which "a $5 million ..." is not an adjective ("a five million dollar fine").
const NOT_NOUN: [&str; 36] = [
    "of", "in", "to", "for", "from", "per", "on", "at", "by", "with", "and", "or", "than", "each",
    "a", "an", "the", "is", "was", "were", "are", "be", "been", "will", "would", "has", "have",
    "had", "that", "which", "who", "this", "these", "those", "it", "as",
];

enum Suffix {
    None,
    Ordinal,
    Decade,
    Percent,
    Degrees(Option<&'static str>),
    Unit(&'static Unit, bool),
    /// A word glued with a hyphen ("5-year-old"): only the number is rewritten, up to this byte.
    Hyphen(usize),
}

struct Normalizer<'a> {
    s: &'a str,
    ch: Vec<Chunk>,
    out: Vec<(Range<usize>, String)>,
}

impl<'a> Normalizer<'a> {
    fn core(&self, i: usize) -> &'a str {
        self.ch.get(i).map_or("", |c| &self.s[c.core.clone()])
    }

    fn trail(&self, i: usize) -> &'a str {
        self.ch
            .get(i)
            .map_or("", |c| &self.s[c.core.end..c.full.end])
    }

    fn put(&mut self, written: Range<usize>, spoken: String) {
        self.out.push((written, spoken));
    }

    /// Whether nothing but closing quotes and brackets follows byte `p`.
    fn is_final(&self, p: usize) -> bool {
        self.s.get(p..).is_none_or(|rest| {
            rest.chars()
                .all(|c| c.is_whitespace() || CLOSERS.contains(&c))
        })
    }

    /// Where the abbreviation in chunk `i` ends: its period is swallowed unless it ends the sentence.
    fn abbr_end(&self, i: usize) -> usize {
        let end = self.ch[i].core.end;
        if self.trail(i).starts_with('.') && !self.is_final(end + 1) {
            end + 1
        } else {
            end
        }
    }

    fn next_is_name(&self, i: usize) -> bool {
        i + 1 < self.ch.len() && starts_upper(self.core(i + 1))
    }

    fn prev_is_name(&self, i: usize) -> bool {
        i > 0
            && self.trail(i - 1).is_empty()
            && is_name(self.core(i - 1))
            && !NOT_NAMES.contains(&self.core(i - 1))
    }

    fn run(&mut self) {
        let mut i = 0;
        while i < self.ch.len() {
            i += if self.ch[i].core.is_empty() {
                1
            } else {
                self.at(i).max(1)
            };
        }
    }

    /// Applies the first rule that matches at chunk `i`; returns how many chunks it used.
    fn at(&mut self, i: usize) -> usize {
        if let Some(n) = self.web(i) {
            return n;
        }
        if let Some(n) = self.date(i) {
            return n;
        }
        if let Some(n) = self.time(i) {
            return n;
        }
        if let Some(n) = self.quantity(i, self.ch[i].core.start) {
            return n;
        }
        if let Some(n) = self.abbreviation(i) {
            return n;
        }
        if let Some(n) = self.initialism(i) {
            return n;
        }
        if let Some(n) = self.roman_numeral(i) {
            return n;
        }
        if let Some(n) = self.symbols(i) {
            return n;
        }
        self.prefixed(i).unwrap_or(1)
    }

    // --- web addresses and e-mail ---

    fn web(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let spoken = if let Some((local, domain)) = c.split_once('@') {
            let ok = !local.is_empty()
                && !local.starts_with('.')
                && !local.ends_with('.')
                && local
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-+".contains(ch));
            if !ok {
                return None;
            }
            format!(
                "{} at {}",
                say_url_part(local),
                say_host(domain, false, true)?
            )
        } else {
            let lower = c.get(..8).unwrap_or(c).to_ascii_lowercase();
            let (rest, scheme) = if lower.starts_with("https://") {
                (&c[8..], true)
            } else if lower.starts_with("http://") {
                (&c[7..], true)
            } else {
                (c, false)
            };
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = say_host(host, !scheme, false)?;
            if !path
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-._~/?=&%#+:".contains(ch))
            {
                return None;
            }
            let path = say_url_part(path.trim_end_matches('/'));
            if path.is_empty() {
                host
            } else {
                format!("{host} {path}")
            }
        };
        let r = self.ch[i].core.clone();
        self.put(r, spoken);
        Some(1)
    }

    // --- dates ---

    fn date(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        if let Some((full, abbr)) = month(c) {
            let t = self.trail(i);
            if !(t.is_empty() || (abbr && t == ".")) || i + 1 >= self.ch.len() {
                return None;
            }
            let month_rw =
                abbr.then(|| (self.ch[i].core.start..self.abbr_end(i), full.to_string()));
            let j = i + 1;
            if let Some(day) = day_words(self.core(j)) {
                self.out.extend(month_rw);
                self.put(self.ch[j].core.clone(), day);
                let tj = self.trail(j);
                if (tj.is_empty() || tj == ",")
                    && let Some(y) = is_four_digit_year(self.core(j + 1))
                {
                    self.put(self.ch[j + 1].core.clone(), year(y));
                    return Some(3);
                }
                return Some(2);
            }
            if let Some(y) = is_four_digit_year(self.core(j)) {
                self.out.extend(month_rw);
                self.put(self.ch[j].core.clone(), year(y));
                return Some(2);
            }
            return None;
        }
        // Day first: "19 October 2023".
        let day = day_words(c)?;
        if !self.trail(i).is_empty() || i + 1 >= self.ch.len() {
            return None;
        }
        let (full, abbr) = month(self.core(i + 1))?;
        let t1 = self.trail(i + 1);
        self.put(self.ch[i].core.clone(), format!("the {day} of"));
        if abbr {
            self.put(
                self.ch[i + 1].core.start..self.abbr_end(i + 1),
                full.to_string(),
            );
        }
        if (t1.is_empty() || (abbr && t1 == "."))
            && let Some(y) = is_four_digit_year(self.core(i + 2))
        {
            self.put(self.ch[i + 2].core.clone(), year(y));
            return Some(3);
        }
        Some(2)
    }

    // --- times of day ---

    fn time(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let b = c.as_bytes();
        let hl = b.iter().take_while(|b| b.is_ascii_digit()).count();
        if hl == 0 || hl > 2 {
            return None;
        }
        let h: u64 = c[..hl].parse().ok()?;
        let mut k = hl;
        let mut minutes = None;
        if b.get(k) == Some(&b':') {
            let ml = b[k + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if ml != 2 {
                return None;
            }
            let m: u64 = c[k + 1..k + 3].parse().ok()?;
            if m > 59 || h > 24 {
                return None;
            }
            minutes = Some(m);
            k += 3;
        }
        let glued = if k < c.len() {
            Some(am_pm(&c[k..])?)
        } else {
            None
        };
        let next = if glued.is_none() && self.trail(i).is_empty() {
            am_pm(self.core(i + 1))
        } else {
            None
        };
        let marker = glued.or(next);
        if minutes.is_none() && marker.is_none() {
            return None;
        }
        if marker.is_some() && !(1..=12).contains(&h) {
            return None;
        }
        let hw = cardinal(h);
        let noon = self.trail(i).is_empty() && matches!(self.core(i + 1), "noon" | "midnight");
        let mut words = match minutes {
            None => hw,
            Some(0) if marker.is_some() || noon => hw,
            Some(0) if h > 12 || h == 0 => format!("{hw} hundred"),
            Some(0) => format!("{hw} o'clock"),
            Some(m) if m < 10 => format!("{hw} oh {}", cardinal(m)),
            Some(m) => format!("{hw} {}", cardinal(m)),
        };
        let mut end = self.ch[i].core.end;
        if let Some((said, dotted)) = glued {
            words = format!("{words} {said}");
            if dotted {
                end = self.abbr_end(i);
            }
        }
        self.put(self.ch[i].core.start..end, words);
        if let Some((said, dotted)) = next {
            let j = i + 1;
            let end = if dotted {
                self.abbr_end(j)
            } else {
                self.ch[j].core.end
            };
            self.put(self.ch[j].core.start..end, said.to_string());
            return Some(2);
        }
        Some(1)
    }

    // --- numbers, money, percentages, units, ordinals, years ---

    /// A quantity starting at byte `start` of chunk `i` and running to the end of its core.
    fn quantity(&mut self, i: usize, start: usize) -> Option<usize> {
        let core_end = self.ch[i].core.end;
        let c = &self.s[start..core_end];
        let mut p = 0;
        let mut sign = None;
        if c.starts_with('-') || c.starts_with('−') {
            sign = Some("minus");
            p += c.chars().next().map_or(1, char::len_utf8);
        } else if c.starts_with('+') && c[1..].starts_with(|ch: char| ch.is_ascii_digit()) {
            sign = Some("plus");
            p += 1;
        }
        let hash = sign.is_none() && c.starts_with('#');
        if hash {
            p += 1;
        }
        let mut apostrophe = false;
        if sign.is_none() && !hash {
            for a in ['\'', '’', '‘'] {
                if c.starts_with(a) {
                    p += a.len_utf8();
                    apostrophe = true;
                    break;
                }
            }
        }
        let mut cur = if apostrophe {
            None
        } else {
            currency_prefix(&c[p..]).map(|(n, cur)| {
                p += n;
                cur
            })
        };
        let (a, n) = parse_num(&c[p..])?;
        p += n;
        // A range: "52-48", "1990-95", "$5-$10".
        let mut b = None;
        if !hash && !apostrophe {
            let dash = if c[p..].starts_with('-') {
                1
            } else if c[p..].starts_with('–') {
                '–'.len_utf8()
            } else {
                0
            };
            if dash > 0 {
                let mut q = p + dash;
                if cur.is_some()
                    && let Some((n, _)) = currency_prefix(&c[q..])
                {
                    q += n;
                }
                let rest = &c[q..];
                let two_with_zero = rest.len() >= 2
                    && rest.as_bytes()[0] == b'0'
                    && rest.as_bytes()[1].is_ascii_digit()
                    && !rest.as_bytes().get(2).is_some_and(u8::is_ascii_digit);
                let parsed = if two_with_zero {
                    Some((
                        Num {
                            int: &rest[..2],
                            frac: None,
                        },
                        2,
                    ))
                } else {
                    parse_num(rest)
                };
                if let Some((bn, n)) = parsed {
                    // "555-1234" is a telephone number, not a range.
                    if a.int.len() == 3 && bn.int.len() == 4 && a.frac.is_none() {
                        return None;
                    }
                    b = Some(bn);
                    p = q + n;
                }
            }
        }
        // A scale glued on: "$3bn", "£5m", "3bn".
        let mut scale = None;
        let rest = &c[p..];
        let scales: &[(&str, &str)] = if cur.is_some() {
            &MONEY_SCALES
        } else {
            &PLAIN_SCALES
        };
        if let Some((abbr, word)) = scales.iter().find(|(abbr, _)| rest == *abbr) {
            scale = Some(*word);
            p += abbr.len();
        }
        let rest = &c[p..];
        let plain = cur.is_none() && sign.is_none() && !hash && scale.is_none();
        let simple = plain && b.is_none();
        let mut suffix = if rest.is_empty() {
            Suffix::None
        } else if cur.is_none() && scale.is_none() && (rest == "€" || rest == "£") {
            cur = currency_prefix(rest).map(|(_, cur)| cur);
            Suffix::None
        } else if rest == "%" {
            Suffix::Percent
        } else if let Some(t) = rest.strip_prefix('°') {
            match t {
                "" => Suffix::Degrees(None),
                "C" => Suffix::Degrees(Some("Celsius")),
                "F" => Suffix::Degrees(Some("Fahrenheit")),
                _ => return None,
            }
        } else if simple && !apostrophe && rest.len() == 2 && ordinal_suffix_ok(a.integer()?, rest)
        {
            Suffix::Ordinal
        } else if simple && matches!(rest, "s" | "'s" | "’s") {
            Suffix::Decade
        } else if cur.is_none() && scale.is_none() && rest == "m" && self.plural_noun_after(i) {
            // "2.5m copies": a million, not meters.
            scale = Some("million");
            Suffix::None
        } else if cur.is_none()
            && scale.is_none()
            && let Some(u) = unit_exact(rest)
        {
            Suffix::Unit(u, false)
        } else if cur.is_none()
            && scale.is_none()
            && let Some(u) = rest.strip_prefix('-').and_then(unit_exact)
        {
            Suffix::Unit(u, true)
        } else if rest.starts_with('-') && rest[1..].starts_with(char::is_alphabetic) {
            Suffix::Hyphen(start + p)
        } else {
            return None;
        };
        if apostrophe && !matches!(suffix, Suffix::Decade | Suffix::None) {
            return None;
        }
        if apostrophe && a.plain().is_none_or(|d| d.len() != 2) {
            return None;
        }

        // Words that follow: "$2.5 million", "5 km", "45 %", "30 °C".
        let mut last = i;
        let mut end = core_end;
        let whole = matches!(suffix, Suffix::None) && self.trail(i).is_empty();
        if whole && cur.is_some() && scale.is_none() {
            let nx = self.core(i + 1);
            if let Some(w) = SCALE_WORDS.iter().find(|w| **w == nx) {
                scale = Some(w);
                last = i + 1;
                end = self.ch[last].core.end;
            }
        } else if whole && cur.is_none() && !hash && scale.is_none() {
            let j = i + 1;
            let nx = self.core(j);
            let unit = match nx {
                "%" => Some(Suffix::Percent),
                "°" => Some(Suffix::Degrees(None)),
                "°C" => Some(Suffix::Degrees(Some("Celsius"))),
                "°F" => Some(Suffix::Degrees(Some("Fahrenheit"))),
                // "in" is an inch only with its period, inside the sentence: "8 in. of snow".
                "in" if self.trail(j).starts_with('.')
                    && self.abbr_end(j) > self.ch[j].core.end =>
                {
                    Some(Suffix::Unit(&INCH, false))
                }
                _ => unit_exact(nx).map(|u| Suffix::Unit(u, false)),
            };
            if let Some(unit) = unit {
                end = match unit {
                    Suffix::Unit(u, _) if u.period => self.abbr_end(j),
                    _ => self.ch[j].core.end,
                };
                suffix = unit;
                last = j;
            }
        } else if last == i
            && let Suffix::Unit(u, _) = suffix
            && u.period
        {
            end = self.abbr_end(i);
        }

        let one = a.is_one() && b.is_none() && scale.is_none();
        let adjectival = self.adjectival(i, last);
        let mut words = match b {
            None => a.words()?,
            Some(b) => format!("{} to {}", a.words()?, b.words()?),
        };
        if let Suffix::None | Suffix::Hyphen(_) = suffix
            && plain
            && cur.is_none()
        {
            words = self.year_words(i, &a, b.as_ref()).unwrap_or(words);
        }
        let mut words = match suffix {
            Suffix::Ordinal => ordinal(a.integer()?),
            Suffix::Decade => decade(a.plain()?)?,
            _ => words,
        };
        if let Some(scale) = scale {
            words = format!("{words} {scale}");
        }
        if let Some(cur) = cur {
            let cents = match (a.frac, cur.minor) {
                (Some(f), Some(minor)) if b.is_none() && scale.is_none() && f.len() == 2 => {
                    Some((a.value()?, f.parse::<u64>().ok()?, minor))
                }
                _ => None,
            };
            words = match cents {
                Some((major, minor, (m1, mm))) => {
                    let maj = format!(
                        "{} {}",
                        cardinal(major),
                        if major == 1 { cur.one } else { cur.many }
                    );
                    let min = format!("{} {}", cardinal(minor), if minor == 1 { m1 } else { mm });
                    match (major, minor) {
                        (0, m) if m > 0 => min,
                        (_, 0) => maj,
                        _ => format!("{maj} and {min}"),
                    }
                }
                None => {
                    let name = if one || adjectival { cur.one } else { cur.many };
                    format!("{words} {name}")
                }
            };
        }
        words = match suffix {
            Suffix::Percent => format!("{words} percent"),
            Suffix::Degrees(scale) => {
                let deg = if one { "degree" } else { "degrees" };
                match scale {
                    Some(s) => format!("{words} {deg} {s}"),
                    None => format!("{words} {deg}"),
                }
            }
            Suffix::Unit(u, true) => format!("{words}-{}", u.one),
            Suffix::Unit(u, false) => {
                format!("{words} {}", if one || adjectival { u.one } else { u.many })
            }
            _ => words,
        };
        if let Some(sign) = sign {
            words = format!("{sign} {words}");
        }
        if hash {
            words = format!("number {words}");
        }
        if let Suffix::Hyphen(at) = suffix {
            end = at;
        }
        self.put(start..end, words);
        Some(last - i + 1)
    }

    /// Whether a plural noun follows chunk `i`: "5m people".
    fn plural_noun_after(&self, i: usize) -> bool {
        let nx = self.core(i + 1);
        self.trail(i).is_empty()
            && nx.len() > 2
            && nx.ends_with('s')
            && !nx.ends_with("ss")
            && nx.chars().all(|c| c.is_lowercase())
    }

    /// "a $5 million fine", "a 5 km race": the unit is said in the singular.
    fn adjectival(&self, i: usize, last: usize) -> bool {
        let nx = self.core(last + 1);
        i > 0
            && self.ch[i].full.start == self.ch[i].core.start
            && matches!(self.core(i - 1), "a" | "an" | "A" | "An")
            && self.trail(i - 1).is_empty()
            && self.trail(last).is_empty()
            && !nx.is_empty()
            && nx.chars().all(|c| c.is_lowercase() || c == '-')
            && !NOT_NOUN.contains(&nx)
    }

    /// A plain number as a year or a range of years, when the context says so.
    fn year_words(&self, i: usize, a: &Num, b: Option<&Num>) -> Option<String> {
        let ya = is_four_digit_year(a.plain()?)?;
        if !self.year_context(i, ya) {
            return None;
        }
        let Some(b) = b else {
            return Some(year(ya));
        };
        let bd = b.plain()?;
        let yb: u64 = bd.parse().ok()?;
        match bd.len() {
            4 if ya < yb && yb <= 2099 => Some(format!("{} to {}", year(ya), year(yb))),
            2 if ya % 100 < yb => {
                let full = ya / 100 * 100 + yb;
                let second = if full >= 2000 || yb < 10 {
                    year(full)
                } else {
                    cardinal(yb)
                };
                Some(format!("{} to {second}", year(ya)))
            }
            _ => None,
        }
    }

    fn year_context(&self, i: usize, y: u64) -> bool {
        let prev = if i > 0 { self.core(i - 1) } else { "" };
        let prev_lower = prev.to_lowercase();
        let next = if self.trail(i).is_empty() {
            self.core(i + 1)
        } else {
            ""
        };
        let after_number_abbreviation =
            abbreviation::find(prev).is_some_and(|abbr| abbr.kind == Kind::Number);
        if NUMBER_BEFORE.contains(&prev_lower.as_str()) || after_number_abbreviation {
            return false;
        }
        if COUNT_AFTER.contains(&next)
            || SCALE_WORDS.contains(&next)
            || unit_exact(next).is_some()
            || next == "%"
        {
            return false;
        }
        if (1900..=2099).contains(&y) {
            return true;
        }
        YEAR_BEFORE.contains(&prev_lower.as_str())
            || month(prev).is_some()
            || matches!(next, "AD" | "BC" | "BCE" | "CE" | "A.D" | "B.C")
    }

    // --- abbreviations and titles ---

    /// An abbreviation from [`crate::abbreviation`], said in full where its kind says so.
    fn abbreviation(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let entry = abbreviation::find(c)?;
        let has_period = self.trail(i).starts_with('.');
        let end = if has_period {
            self.abbr_end(i)
        } else {
            self.ch[i].core.end
        };
        let next_name = self.next_is_name(i);
        let prev_name = self.prev_is_name(i);
        let said = match entry.kind {
            Kind::TitleOrStreet { street } => {
                let prev_num = i > 0
                    && self.trail(i - 1).is_empty()
                    && self.core(i - 1).starts_with(|c: char| c.is_ascii_digit());
                if next_name {
                    entry.spoken
                } else if (prev_name || prev_num) && (has_period || c == "St") {
                    // Addresses often drop the period of St ("Main St near the bank").
                    Some(street)
                } else if c == "Dr" && has_period {
                    // "the Dr. said": alone, the doctor; "The St. was closed" stays as written.
                    entry.spoken
                } else {
                    None
                }
            }
            Kind::Title => entry.spoken.filter(|_| has_period && next_name),
            Kind::BetweenNames => entry
                .spoken
                .filter(|_| has_period && prev_name && next_name),
            Kind::Prefix | Kind::Anywhere => entry
                .spoken
                .filter(|_| has_period || entry.said_without_period()),
            Kind::AfterName => {
                let after_name =
                    i > 0 && matches!(self.trail(i - 1), "" | ",") && is_name(self.core(i - 1));
                entry.spoken.filter(|_| has_period && after_name)
            }
            Kind::State => {
                // Only in "Pasadena, Calif.": elsewhere the short form may be a word or a name
                // ("Pa.", "Ind."). A sentence that opens with "Word, Pa." is as likely to
                // address someone ("Goodnight, Pa."), so there the state needs the comma AP
                // style puts after it ("Pasadena, Calif., has").
                let after_city = i > 0
                    && self.trail(i - 1) == ","
                    && is_capitalised_word(self.core(i - 1))
                    && (i > 1 || self.trail(i).starts_with(".,"));
                entry.spoken.filter(|_| has_period && after_city)
            }
            Kind::Number => {
                let before_digit = self.core(i + 1).starts_with(|c: char| c.is_ascii_digit());
                entry
                    .spoken
                    .filter(|_| before_digit && (has_period || entry.said_without_period()))
            }
            // A month is said in full in a date, by `date`.
            Kind::Month { .. } => None,
        }?;
        self.put(self.ch[i].core.start..end, said.to_string());
        Some(1)
    }

    /// Letters with periods: "U.S." -> "U S", "U.S.-led" -> "U S-led".
    fn initialism(&mut self, i: usize) -> Option<usize> {
        let Chunk { full, core } = &self.ch[i];
        let text = &self.s[core.start..full.end];
        let b = text.as_bytes();
        let mut k = 0;
        let mut letters = Vec::new();
        while k + 1 < b.len() && b[k].is_ascii_uppercase() && b[k + 1] == b'.' {
            letters.push((b[k] as char).to_string());
            k += 2;
        }
        if letters.len() < 2 {
            return None;
        }
        let period = core.start + k - 1;
        let end = if period >= core.end {
            if self.is_final(period + 1) {
                period
            } else {
                period + 1
            }
        } else {
            let after = &text[k..];
            if after.starts_with('-') || after.starts_with("'s") || after.starts_with("’s") {
                core.start + k
            } else {
                return None;
            }
        };
        let r = core.start..end;
        self.put(r, letters.join(" "));
        Some(1)
    }

    // --- Roman numerals ---

    fn roman_numeral(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let base = c
            .strip_suffix("'s")
            .or_else(|| c.strip_suffix("’s"))
            .unwrap_or(c);
        if i == 0 || !self.trail(i - 1).is_empty() {
            return None;
        }
        let v = roman(base).filter(|_| starts_upper(base))?;
        let prev = self.core(i - 1);
        // A Roman numeral is a cardinal after a word that numbers things: "Super Bowl LVII",
        // "Title IX", and "Part I." even before more of the sentence.
        let numbered = abbreviation::NUMBERING_WORDS.contains(&prev);
        if base.len() == 1
            && !numbered
            && self.trail(i).starts_with('.')
            && !self.is_final(self.ch[i].core.end + 1)
        {
            return None; // an initial: "Mary I. Smith"
        }
        let words = if prev == "War" && i >= 2 && self.core(i - 2) == "World" {
            capitalize(&cardinal(v))
        } else if numbered {
            cardinal(v)
        } else if is_name(prev)
            && !NOT_NAMES.contains(&prev)
            && (((2..=39).contains(&v) && (i >= 2 || REGNAL_NAMES.contains(&prev)))
                || (v == 1 && REGNAL_NAMES.contains(&prev)))
        {
            format!("the {}", capitalize(&ordinal(v)))
        } else {
            return None;
        };
        let start = self.ch[i].core.start;
        self.put(start..start + base.len(), words);
        Some(1)
    }

    // --- symbols ---

    fn symbols(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let words = match c {
            "&" => "and".to_string(),
            "+" => "plus".to_string(),
            "=" => "equals".to_string(),
            "@" => "at".to_string(),
            "°" => "degrees".to_string(),
            "%" => "percent".to_string(),
            "×" => "times".to_string(),
            _ => compound_symbols(c)?,
        };
        let r = self.ch[i].core.clone();
        self.put(r, words);
        Some(1)
    }

    /// "mid-1990s", "pre-2008": the number after a prefix.
    fn prefixed(&mut self, i: usize) -> Option<usize> {
        let c = self.core(i);
        let (prefix, rest) = c.split_once('-')?;
        if !matches!(
            prefix,
            "mid" | "pre" | "post" | "early" | "late" | "Mid" | "Pre" | "Post"
        ) {
            return None;
        }
        if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '\'' || c == '’') {
            return None;
        }
        self.quantity(i, self.ch[i].core.start + prefix.len() + 1)
    }
}

/// A host name said aloud, or None if `host` is not one. A bare name needs a known top-level domain.
fn say_host(host: &str, bare: bool, any_case: bool) -> Option<String> {
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return None;
    }
    let tld = labels[labels.len() - 1];
    if tld.len() < 2
        || !tld
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (any_case && b.is_ascii_uppercase()))
    {
        return None;
    }
    if bare && labels[0] != "www" && !TLDS.contains(&tld) {
        return None;
    }
    Some(
        labels
            .iter()
            .map(|l| if *l == "www" { "w w w" } else { l })
            .collect::<Vec<_>>()
            .join(" dot "),
    )
}

/// Part of an address said aloud: separators become words.
fn say_url_part(s: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |out: &mut String, w: &str| {
        if !w.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    };
    for c in s.chars() {
        let said = match c {
            '.' => "dot",
            '/' => "slash",
            '-' => "dash",
            '_' => "underscore",
            '@' => "at",
            '?' => "question mark",
            '=' => "equals",
            '&' => "and",
            '#' => "hash",
            ':' => "colon",
            '~' => "tilde",
            '%' => "percent",
            '+' => "plus",
            _ => {
                word.push(c);
                continue;
            }
        };
        flush(&mut out, &word);
        word.clear();
        flush(&mut out, said);
    }
    flush(&mut out, &word);
    out
}

/// Symbols inside a word: "R&D", "and/or", "24/7", "C++", "2+2=4", "@handle".
fn compound_symbols(c: &str) -> Option<String> {
    if c.contains('&') {
        let parts: Vec<&str> = c.split('&').collect();
        if parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(char::is_alphanumeric))
        {
            return Some(parts.join(" and "));
        }
        return None;
    }
    if c.contains('/') {
        let parts: Vec<&str> = c.split('/').collect();
        let alpha = |p: &str| !p.is_empty() && p.chars().all(char::is_alphabetic);
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        return match parts[..] {
            [a, b] if alpha(a) && alpha(b) && unit_exact(c).is_none() => {
                if c == "and/or" {
                    Some("and or".to_string())
                } else if a.chars().chain(b.chars()).all(char::is_lowercase) {
                    Some(format!("{a} or {b}"))
                } else {
                    Some(format!("{a} slash {b}"))
                }
            }
            ["24", "7"] => Some("twenty-four seven".to_string()),
            ["9", "11"] => Some("nine eleven".to_string()),
            [a, b] if a == b && digits(a) && !a.starts_with('0') && a.len() <= 3 => {
                let w = cardinal(a.parse().ok()?);
                Some(format!("{w}-{w}"))
            }
            [m, d, y] if digits(m) && digits(d) && m.len() <= 2 && d.len() <= 2 => {
                let m: usize = m.parse().ok()?;
                let y = is_four_digit_year(y)?;
                if !(1..=12).contains(&m) {
                    return None;
                }
                Some(format!(
                    "{} {}, {}",
                    MONTHS[m - 1],
                    day_words(d.trim_start_matches('0'))?,
                    year(y)
                ))
            }
            _ => None,
        };
    }
    if let Some(base) = c.strip_suffix('+') {
        let base_trim = base.trim_end_matches('+');
        let pluses = c.len() - base_trim.len();
        if base_trim.is_empty() || !base_trim.chars().all(char::is_alphanumeric) {
            return None;
        }
        let head = match parse_num(base_trim) {
            Some((n, len)) if len == base_trim.len() => n.words()?,
            _ => base_trim.to_string(),
        };
        return Some(format!("{head}{}", " plus".repeat(pluses)));
    }
    if c.contains('=') {
        let mut out = Vec::new();
        let mut rest = c;
        loop {
            let (n, len) = parse_num(rest)?;
            out.push(n.words()?);
            rest = &rest[len..];
            let Some(op) = rest.chars().next() else {
                break;
            };
            out.push(
                match op {
                    '+' => "plus",
                    '-' | '−' => "minus",
                    '=' => "equals",
                    '×' | '*' => "times",
                    _ => return None,
                }
                .to_string(),
            );
            rest = &rest[op.len_utf8()..];
        }
        return Some(out.join(" "));
    }
    if let Some(handle) = c.strip_prefix('@')
        && !handle.is_empty()
        && handle.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
    {
        return Some(format!("at {handle}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_maps_each_byte_to_itself() {
        let spoken = Spoken::verbatim("Hello there.");
        assert_eq!(spoken.text(), "Hello there.");
        assert_eq!(spoken.written_range(6..11), 6..11);
        assert_eq!(spoken.written_range(0..12), 0..12);
    }

    #[test]
    fn unchanged_sentence_is_verbatim() {
        let spoken = normalize("Hello there.");
        assert_eq!(spoken, Spoken::verbatim("Hello there."));
    }

    #[test]
    fn cardinals() {
        let cases: &[(u64, &str)] = &[
            (0, "zero"),
            (7, "seven"),
            (13, "thirteen"),
            (20, "twenty"),
            (21, "twenty-one"),
            (100, "one hundred"),
            (101, "one hundred one"),
            (999, "nine hundred ninety-nine"),
            (1000, "one thousand"),
            (1001, "one thousand one"),
            (1_000_000, "one million"),
            (2_500_000_000, "two billion five hundred million"),
            (1234, "one thousand two hundred thirty-four"),
            (1_000_010, "one million ten"),
            (
                u64::MAX,
                "eighteen quintillion four hundred forty-six quadrillion seven hundred forty-four trillion \
                 seventy-three billion seven hundred nine million five hundred fifty-one thousand six hundred fifteen",
            ),
        ];
        for (n, want) in cases {
            assert_eq!(cardinal(*n), *want, "{n}");
        }
    }

    #[test]
    fn negative_cardinals() {
        assert_eq!(cardinal_signed(-7), "minus seven");
        assert_eq!(cardinal_signed(-1_000_000), "minus one million");
        assert_eq!(cardinal_signed(0), "zero");
        assert_eq!(cardinal_signed(42), "forty-two");
        assert_eq!(
            cardinal_signed(i64::MIN),
            "minus nine quintillion two hundred twenty-three quadrillion three hundred seventy-two trillion \
             thirty-six billion eight hundred fifty-four million seven hundred seventy-five thousand eight hundred eight"
        );
    }

    #[test]
    fn ordinals() {
        let cases: &[(u64, &str)] = &[
            (1, "first"),
            (2, "second"),
            (3, "third"),
            (4, "fourth"),
            (5, "fifth"),
            (8, "eighth"),
            (9, "ninth"),
            (11, "eleventh"),
            (12, "twelfth"),
            (20, "twentieth"),
            (22, "twenty-second"),
            (100, "one hundredth"),
            (103, "one hundred third"),
            (1000, "one thousandth"),
        ];
        for (n, want) in cases {
            assert_eq!(ordinal(*n), *want, "{n}");
        }
    }

    #[test]
    fn years() {
        let cases: &[(u64, &str)] = &[
            (1921, "nineteen twenty-one"),
            (2019, "twenty nineteen"),
            (2000, "two thousand"),
            (2005, "two thousand five"),
            (1900, "nineteen hundred"),
            (1905, "nineteen oh five"),
            (1066, "ten sixty-six"),
            (1000, "one thousand"),
            (2010, "twenty ten"),
            (2100, "twenty-one hundred"),
        ];
        for (n, want) in cases {
            assert_eq!(year(*n), *want, "{n}");
        }
    }

    #[test]
    fn decades() {
        assert_eq!(decade("1990").as_deref(), Some("nineteen nineties"));
        assert_eq!(decade("1900").as_deref(), Some("nineteen hundreds"));
        assert_eq!(decade("2000").as_deref(), Some("two thousands"));
        assert_eq!(decade("2010").as_deref(), Some("twenty tens"));
        assert_eq!(decade("90").as_deref(), Some("nineties"));
        assert_eq!(decade("20").as_deref(), Some("twenties"));
        assert_eq!(decade("95"), None);
        assert_eq!(decade("00"), None);
    }

    #[test]
    fn roman_numerals_must_be_canonical() {
        assert_eq!(roman("III"), Some(3));
        assert_eq!(roman("LVII"), Some(57));
        assert_eq!(roman("XIV"), Some(14));
        assert_eq!(roman("MCMXC"), Some(1990));
        assert_eq!(roman("IIII"), None);
        assert_eq!(roman("VX"), None);
        assert_eq!(roman("IIV"), None);
        assert_eq!(roman("ABC"), None);
        assert_eq!(roman("xiv"), Some(14));
        assert_eq!(roman("Xiv"), None);
        assert_eq!(roman("iiii"), None);
        assert_eq!(roman(""), None);
    }

    #[test]
    fn numbers_parse_with_grouping_and_fractions() {
        let (n, len) = parse_num("1,234,567 people").unwrap();
        assert_eq!((n.int, n.frac, len), ("1,234,567", None, 9));
        let (n, len) = parse_num("3.14,").unwrap();
        assert_eq!((n.int, n.frac, len), ("3", Some("14"), 4));
        let (n, len) = parse_num("1,23").unwrap();
        assert_eq!((n.int, len), ("1", 1));
        assert!(parse_num("1234,567").is_none());
        assert!(parse_num("007").is_none());
        assert!(parse_num("abc").is_none());
    }
}
