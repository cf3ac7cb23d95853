//! Checks the chapter markers ProgramWriter writes against independent readers: ffprobe, Python's wavinfo and libsndfile.
//!
//! Each reader test skips (with a note on stderr) when its tool is missing, so
//! a bare `cargo test` works anywhere; set ALOUD_REQUIRE_READERS=1 (as CI
//! should) to turn a missing tool into a failure instead of a silent pass.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aloud::stitch::markers::read_wav_summary;
use aloud::stitch::wav::{ChapterMark, ProgramWriter};

mod common;

const RATE: u32 = 22_050;

/// Titles chosen to break naive readers: a quote that JSON must escape, and
/// multi-byte UTF-8 of two and four bytes.
const TITLES: [&str; 3] = ["Intro", "Section two: \"quotes\"", "Café ünïcode 🎧"];

/// Start and length of each chapter in frames, worked out by hand from
/// `write_program` so that the writer's own arithmetic is not trusted.
const EXPECTED: [(u64, u64); 3] = [(0, 22_050), (22_050, 38_587), (60_637, 27_563)];
const TOTAL_FRAMES: u64 = 88_200;

fn tone(frames: usize, freq: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| 0.4 * (2.0 * std::f32::consts::PI * freq * i as f32 / RATE as f32).sin())
        .collect()
}

/// Pushes in small blocks, as the stitcher does per sentence.
fn push_blocks(w: &mut ProgramWriter, samples: &[f32]) {
    for block in samples.chunks(1000) {
        w.push_samples(block).unwrap();
    }
}

fn write_program(dir: &Path) -> PathBuf {
    let path = dir.join("program.wav");
    let mut w = ProgramWriter::create(&path, RATE).unwrap();
    w.start_chapter(TITLES[0]);
    push_blocks(&mut w, &tone(22_050, 440.0)); // 1.0 s
    w.start_chapter(TITLES[1]);
    push_blocks(&mut w, &tone(33_075, 660.0)); // 1.5 s
    w.push_silence(5_512).unwrap(); // ~0.25 s
    w.start_chapter(TITLES[2]);
    push_blocks(&mut w, &tone(27_563, 880.0)); // odd count: ~1.25 s
    assert_eq!(w.position(), TOTAL_FRAMES);
    let marks = w.finish().unwrap();
    assert_eq!(marks, expected_marks());
    path
}

fn expected_marks() -> Vec<ChapterMark> {
    TITLES
        .iter()
        .zip(EXPECTED)
        .map(|(title, (start_frame, length_frames))| ChapterMark {
            title: title.to_string(),
            start_frame,
            length_frames,
        })
        .collect()
}

/// Runs a tool, or returns None (after saying so) when it is not installed.
fn run_tool(program: &str, args: &[&str], what: &str) -> Option<Output> {
    match Command::new(program).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            skip(what);
            None
        }
        Err(e) => panic!("running {program}: {e}"),
    }
}

fn skip(what: &str) {
    if std::env::var_os("ALOUD_REQUIRE_READERS").is_some_and(|v| v != "0") {
        panic!("{what} not installed, and ALOUD_REQUIRE_READERS is set");
    }
    // Written to the real stderr: libtest swallows eprintln! from passing
    // tests, and a skip must be visible in the CI log.
    let _ = writeln!(std::io::stderr(), "skipping: {what} not installed");
}

fn stdout_of(out: &Output, program: &str) -> String {
    assert!(
        out.status.success(),
        "{program} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn assert_close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 0.001,
        "{what}: got {got}, want {want} (±1 ms)"
    );
}

#[test]
fn own_reader_round_trips_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_program(dir.path());
    let summary = read_wav_summary(&path).unwrap();
    assert_eq!(summary.sample_rate, RATE);
    assert_eq!(summary.channels, 1);
    assert_eq!(summary.bits_per_sample, 16);
    assert_eq!(summary.frames, TOTAL_FRAMES);
    assert_eq!(summary.chapters, expected_marks());

    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
        bytes.len() - 8,
        "RIFF size must cover the appended marker chunks"
    );
}

#[test]
fn ffprobe_sees_the_chapters() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_program(dir.path());
    let file = path.to_str().unwrap();
    let Some(out) = run_tool(
        "ffprobe",
        &["-v", "error", "-show_chapters", "-of", "json", file],
        "ffprobe",
    ) else {
        return;
    };
    let json = Json::parse(&stdout_of(&out, "ffprobe")).unwrap();
    let chapters = json.get("chapters").unwrap().as_array().unwrap();
    assert_eq!(chapters.len(), EXPECTED.len(), "{json:?}");
    for (ch, mark) in chapters.iter().zip(expected_marks()) {
        let title = ch.get("tags").and_then(|t| t.get("title"));
        assert_eq!(
            title.and_then(Json::as_str),
            Some(mark.title.as_str()),
            "{ch:?}"
        );
        let time = |key: &str| {
            ch.get(key)
                .and_then(Json::as_str)
                .unwrap()
                .parse::<f64>()
                .unwrap()
        };
        let rate = f64::from(RATE);
        assert_close(
            time("start_time"),
            mark.start_frame as f64 / rate,
            &mark.title,
        );
        let end = (mark.start_frame + mark.length_frames) as f64 / rate;
        assert_close(time("end_time"), end, &mark.title);
    }
}

const WAVINFO_SCRIPT: &str = r#"
import json, sys
from wavinfo import WavInfoReader
# wavinfo decodes labl text as Latin-1 unless told otherwise.
r = WavInfoReader(sys.argv[1], info_encoding="utf-8")
c = r.cues
print(json.dumps({
    "sample_rate": r.fmt.sample_rate,
    "channels": r.fmt.channel_count,
    "bits": r.fmt.bits_per_sample,
    "frames": r.data.frame_count,
    "cues": [{"id": e.name, "position": e.position,
              "chunk": e.chunk_id.decode("latin-1"), "chunk_start": e.chunk_start,
              "block_start": e.block_start, "sample_offset": e.sample_offset}
             for e in c.cues],
    "labels": [{"id": l.name, "text": l.text} for l in c.labels],
    "ranges": [{"id": x.name, "length": x.length, "purpose": x.purpose} for x in c.ranges],
}))
"#;

#[test]
fn python_wavinfo_sees_cues_labels_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_program(dir.path());
    let Some(python) = common::venv_python("wavinfo") else {
        skip("the test venv's Python with wavinfo (scripts/test installs it)");
        return;
    };
    let out = Command::new(&python)
        .args(["-c", WAVINFO_SCRIPT, path.to_str().unwrap()])
        .output()
        .unwrap();
    let json = Json::parse(&stdout_of(&out, "python3 wavinfo")).unwrap();
    let num = |v: &Json, key: &str| v.get(key).and_then(Json::as_f64).unwrap() as u64;
    let text = |v: &Json, key: &str| v.get(key).and_then(Json::as_str).unwrap().to_string();

    assert_eq!(num(&json, "sample_rate"), u64::from(RATE));
    assert_eq!(num(&json, "channels"), 1);
    assert_eq!(num(&json, "bits"), 16);
    assert_eq!(num(&json, "frames"), TOTAL_FRAMES);

    let cues = json.get("cues").unwrap().as_array().unwrap();
    let labels = json.get("labels").unwrap().as_array().unwrap();
    let ranges = json.get("ranges").unwrap().as_array().unwrap();
    assert_eq!(
        (cues.len(), labels.len(), ranges.len()),
        (3, 3, 3),
        "{json:?}"
    );
    for (i, mark) in expected_marks().iter().enumerate() {
        let id = i as u64 + 1;
        let cue = &cues[i];
        assert_eq!(num(cue, "id"), id);
        assert_eq!(num(cue, "position"), mark.start_frame);
        assert_eq!(num(cue, "sample_offset"), mark.start_frame);
        assert_eq!(text(cue, "chunk"), "data");
        assert_eq!((num(cue, "chunk_start"), num(cue, "block_start")), (0, 0));
        assert_eq!(num(&labels[i], "id"), id);
        assert_eq!(text(&labels[i], "text"), mark.title);
        assert_eq!(num(&ranges[i], "id"), id);
        assert_eq!(num(&ranges[i], "length"), mark.length_frames);
        assert_eq!(text(&ranges[i], "purpose"), "rgn ");
    }
}

/// Names are printed as hex so that any byte in a title survives the trip.
const SNDFILE_PROGRAM: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sndfile.h>

int main(int argc, char **argv) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    if (argc != 2) return 2;
    SNDFILE *f = sf_open(argv[1], SFM_READ, &info);
    if (!f) { fprintf(stderr, "sf_open: %s\n", sf_strerror(NULL)); return 1; }
    printf("rate %d\nchannels %d\nframes %lld\n", info.samplerate, info.channels, (long long)info.frames);
    uint32_t count = 0;
    if (sf_command(f, SFC_GET_CUE_COUNT, &count, sizeof count) != SF_TRUE) count = 0;
    printf("count %u\n", count);
    SF_CUES *cues = calloc(1, sizeof *cues);
    if (!cues) return 1;
    if (count > 0 && sf_command(f, SFC_GET_CUE, cues, sizeof *cues) == SF_TRUE) {
        for (uint32_t i = 0; i < cues->cue_count && i < 100; i++) {
            SF_CUE_POINT *c = &cues->cue_points[i];
            printf("cue %d %u %u ", c->indx, c->position, c->sample_offset);
            for (size_t j = 0; j < sizeof c->name && c->name[j]; j++)
                printf("%02x", (unsigned char)c->name[j]);
            printf("\n");
        }
    }
    free(cues);
    sf_close(f);
    return 0;
}
"#;

fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn libsndfile_sees_cue_points_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_program(dir.path());
    let source = dir.path().join("cues.c");
    let binary = dir.path().join("cues");
    std::fs::write(&source, SNDFILE_PROGRAM).unwrap();
    let Some(build) = run_tool(
        "cc",
        &[
            "-o",
            binary.to_str().unwrap(),
            source.to_str().unwrap(),
            "-lsndfile",
        ],
        "cc (a C compiler)",
    ) else {
        return;
    };
    if !build.status.success() {
        let stderr = String::from_utf8_lossy(&build.stderr);
        if stderr.contains("sndfile.h") || stderr.contains("-lsndfile") {
            skip("libsndfile1-dev");
            return;
        }
        panic!("compiling the libsndfile probe failed: {stderr}");
    }
    let out = Command::new(&binary).arg(&path).output().unwrap();
    let stdout = stdout_of(&out, "libsndfile probe");

    let mut cues = Vec::new();
    let mut header = Vec::new();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        match fields[..] {
            ["cue", indx, position, offset, name] => cues.push((
                indx.parse::<u32>().unwrap(),
                position.parse::<u64>().unwrap(),
                offset.parse::<u64>().unwrap(),
                String::from_utf8(from_hex(name)).unwrap(),
            )),
            [key, value] => header.push((key.to_string(), value.parse::<u64>().unwrap())),
            _ => panic!("unexpected probe line {line:?}"),
        }
    }
    let header_value = |key: &str| header.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
    assert_eq!(header_value("rate"), Some(u64::from(RATE)));
    assert_eq!(header_value("channels"), Some(1));
    assert_eq!(header_value("frames"), Some(TOTAL_FRAMES));
    assert_eq!(header_value("count"), Some(3));

    // libsndfile 1.2 fills SF_CUE_POINT.name from the matching labl chunk, so
    // titles are compared too; it has no field for ltxt lengths.
    let want: Vec<(u32, u64, u64, String)> = expected_marks()
        .into_iter()
        .enumerate()
        .map(|(i, m)| (i as u32 + 1, m.start_frame, m.start_frame, m.title))
        .collect();
    assert_eq!(cues, want);
}

/// Just enough JSON for the tools' output; the crate has no JSON dependency
/// available to its tests here.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = JsonParser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(items) => Some(items),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(Json::Obj(fields));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err(format!("expected ':' at {}", self.i));
                    }
                    fields.push((key, self.value()?));
                    self.ws();
                    if self.eat("}") {
                        return Ok(Json::Obj(fields));
                    }
                    if !self.eat(",") {
                        return Err(format!("expected ',' or '}}' at {}", self.i));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    if self.eat("]") {
                        return Ok(Json::Arr(items));
                    }
                    if !self.eat(",") {
                        return Err(format!("expected ',' or ']' at {}", self.i));
                    }
                }
            }
            Some(b'"') => self.string().map(Json::Str),
            Some(_) if self.eat("true") => Ok(Json::Bool(true)),
            Some(_) if self.eat("false") => Ok(Json::Bool(false)),
            Some(_) if self.eat("null") => Ok(Json::Null),
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len() && b"+-.eE0123456789".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                std::str::from_utf8(&self.s[start..self.i])
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .map(Json::Num)
                    .ok_or_else(|| format!("bad value at {start}"))
            }
            None => Err("unexpected end".into()),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
        self.i += 4;
        u32::from_str_radix(std::str::from_utf8(digits).map_err(|e| e.to_string())?, 16)
            .map_err(|e| e.to_string())
    }

    fn string(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(format!("expected string at {}", self.i));
        }
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) && self.eat("\\u") {
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err("unpaired surrogate".into());
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or("bad \\u escape")?
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => out.push(b),
            }
        }
    }
}

#[test]
fn json_helper_decodes_what_the_tools_emit() {
    let v =
        Json::parse(r#"{"a": [1, -2.5e1, "x\"\u00e9\ud83c\udfa7", true, null], "b": {}}"#).unwrap();
    let a = v.get("a").unwrap().as_array().unwrap();
    assert_eq!(a[0].as_f64(), Some(1.0));
    assert_eq!(a[1].as_f64(), Some(-25.0));
    assert_eq!(a[2].as_str(), Some("x\"é🎧"));
    assert_eq!(a[3], Json::Bool(true));
    assert_eq!(a[4], Json::Null);
    assert_eq!(v.get("b"), Some(&Json::Obj(vec![])));
    assert!(Json::parse(r#"{"a": 1"#).is_err());
}
