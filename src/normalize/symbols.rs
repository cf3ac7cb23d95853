//! Symbols said as words, alone ("&", "%") or inside a word ("R&D", "24/7", "C++").

use super::numbers::{cardinal, day_words, is_four_digit_year, parse_num, year};
use super::tables::{MONTHS, unit_exact};
use super::walker::Normalizer;

impl Normalizer<'_> {
    // --- symbols ---

    pub(super) fn symbols(&mut self, i: usize) -> Option<usize> {
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
