//! Web addresses and e-mail said aloud: hosts, paths and handles.

use super::tables::TLDS;
use super::walker::Normalizer;

impl Normalizer<'_> {
    pub(super) fn web(&mut self, i: usize) -> Option<usize> {
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
