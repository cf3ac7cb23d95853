//! Numbers: cardinal, ordinal and year words, numbers as written (`1,234`, `3.14`, `90s`, days of the month), and Roman numerals.

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

pub(super) fn capitalize(words: &str) -> String {
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[derive(Clone, Copy)]
pub(super) struct Num<'a> {
    /// Integer digits, possibly with grouping commas; empty for ".5".
    pub(super) int: &'a str,
    /// Digits after the decimal point.
    pub(super) frac: Option<&'a str>,
}

impl Num<'_> {
    pub(super) fn value(&self) -> Option<u64> {
        if self.int.is_empty() {
            return Some(0);
        }
        let mut v: u64 = 0;
        for b in self.int.bytes().filter(|&b| b != b',') {
            v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        Some(v)
    }

    pub(super) fn integer(&self) -> Option<u64> {
        if self.frac.is_some() || self.int.is_empty() {
            None
        } else {
            self.value()
        }
    }

    /// Plain digits, no commas, no fraction.
    pub(super) fn plain(&self) -> Option<&str> {
        (self.frac.is_none() && !self.int.is_empty() && !self.int.contains(',')).then_some(self.int)
    }

    pub(super) fn is_one(&self) -> bool {
        self.int == "1" && self.frac.is_none()
    }

    pub(super) fn words(&self) -> Option<String> {
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
pub(super) fn parse_num(s: &str) -> Option<(Num<'_>, usize)> {
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

pub(super) fn ordinal_suffix_ok(n: u64, suffix: &str) -> bool {
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
pub(super) fn decade(digits: &str) -> Option<String> {
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
pub(super) fn day_words(s: &str) -> Option<String> {
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

pub(super) fn is_four_digit_year(s: &str) -> Option<u64> {
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
