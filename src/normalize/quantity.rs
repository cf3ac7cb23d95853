//! Numbers with what they count: money, percentages, units, ordinals, decades, ranges, and the "mid-1990s" prefix.

use super::numbers::{Num, cardinal, decade, ordinal, ordinal_suffix_ok, parse_num};
use super::tables::{
    INCH, MONEY_SCALES, NOT_NOUN, PLAIN_SCALES, SCALE_WORDS, Unit, currency_prefix, unit_exact,
};
use super::walker::Normalizer;

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

impl Normalizer<'_> {
    // --- numbers, money, percentages, units, ordinals, years ---

    /// A quantity starting at byte `start` of chunk `i` and running to the end of its core.
    pub(super) fn quantity(&mut self, i: usize, start: usize) -> Option<usize> {
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

    /// "mid-1990s", "pre-2008": the number after a prefix.
    pub(super) fn prefixed(&mut self, i: usize) -> Option<usize> {
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
