//! Bytes to text: a page's charset (declared, or its `<meta>`), decoding per the WHATWG Encoding Standard, and whether bytes look like HTML at all.

use encoding_rs::{
    DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED,
};

/// Why bytes are not text: the encoding they were read as, and the offset of the first byte
/// that does not decode (or of a NUL, which text never holds but binaries nearly always do).
pub(in crate::ingest) struct Undecodable {
    pub encoding: &'static Encoding,
    pub offset: usize,
}

/// Decodes a page: a byte order mark wins, then the charset `declared` by the server
/// (Content-Type), then, with `sniff_meta`, a `<meta charset>` or `http-equiv` near the top of
/// the page, else UTF-8. A UTF-8 BOM is kept (the parser skips it and counts it), so a UTF-8
/// page's text is its bytes and source offsets are file offsets; for other encodings, offsets
/// are into the decoded (UTF-8) text.
pub(in crate::ingest) fn decode(
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
        return crate::ingest::decode_text(bytes).map(str::to_owned);
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
pub(in crate::ingest) fn looks_like_html(bytes: &[u8]) -> bool {
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
