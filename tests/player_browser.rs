//! The read-along player end to end: `aloud narrate --player` and `aloud player` through the
//! binary, bad input refused with one line and nothing written, and the page (from file://) and
//! the web component embedded in an article page (over HTTP) driven in Debian's headless
//! Chromium through chromedriver's W3C WebDriver.
//!
//! WebDriver is plain JSON over HTTP on loopback, so the client here is a few lines over
//! `std::net::TcpStream`: no browser-automation crate to build, pin or keep in step with it.

mod common;

use common::{CACHE, deterministic_voice, free_port, run_aloud_cached, skip_or_fail};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Two chapters, seven sentences, over 15 s of speech; `&` and `<` reach the page.
const ARTICLE: &str = "# Harbour Lights & Tides\n\n\
The harbour wakes before dawn. Fishing boats slip out past the breakwater, one by one.\n\n\
By seven the market is loud. Gulls circle over the crates of fish.\n\n\
## The Lighthouse\n\n\
The lighthouse has stood on the point for two hundred years. \
Its last keeper retired in 1998, and a lamp with < 10 moving parts does the work.\n";

fn narrate(dir: &Path, input: &str, output: &str, extra: &[&str]) -> Output {
    let voice = deterministic_voice();
    let mut args = vec!["narrate", input, "-o", output, "--voice", &voice, "--quiet"];
    args.extend_from_slice(extra);
    let run = run_aloud_cached(&args, dir);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != CACHE)
        .collect();
    names.sort();
    names
}

/// A refusal: exit 1, nothing on stdout, one `aloud: error:` line naming every `needle`, and
/// the directory as it was.
fn assert_refused(dir: &Path, args: &[&str], needles: &[&str]) {
    let before = names(dir);
    let run = run_aloud_cached(args, dir);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(run.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&run.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("aloud: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    for needle in needles {
        assert!(errors[0].contains(needle), "{} lacks {needle}", errors[0]);
    }
    assert_eq!(names(dir), before, "nothing written");
}

#[test]
fn the_player_command_refuses_a_missing_or_foreign_timeline_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("story.md"), ARTICLE).unwrap();
    std::fs::write(
        dir.path().join("other.md"),
        "# Other\n\nA different story, much shorter.\n",
    )
    .unwrap();
    narrate(dir.path(), "story.md", "story.mp3", &[]);
    narrate(dir.path(), "other.md", "other.wav", &[]);

    // Another narration's timeline beside the audio: both files and both lengths named.
    std::fs::copy(
        dir.path().join("other.timeline.json"),
        dir.path().join("story.timeline.json"),
    )
    .unwrap();
    assert_refused(
        dir.path(),
        &["player", "story.mp3"],
        &[
            "story.timeline.json is not the timeline of story.mp3",
            " s, the audio ",
        ],
    );

    // No timeline at all: named, with how to get one.
    std::fs::remove_file(dir.path().join("story.timeline.json")).unwrap();
    assert_refused(
        dir.path(),
        &["player", "story.mp3", "--json"],
        &["story.timeline.json", "narrate the article again"],
    );

    // No audio, and something that is not audio.
    assert_refused(dir.path(), &["player", "gone.wav"], &["gone.wav"]);
    assert_refused(dir.path(), &["player", "story.md"], &["story.md"]);

    // The real pair works, and says what it wrote.
    let run = run_aloud_cached(&["player", "other.wav", "--json"], dir.path());
    assert!(run.status.success(), "{run:?}");
    let files: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(files["page"], "other.html");
    assert_eq!(files["script"], "aloud-player.js");
    assert!(dir.path().join("other.html").is_file());
    assert!(dir.path().join("aloud-player.js").is_file());
}

// ---- a tiny W3C WebDriver client ----

/// A chromedriver we started, with one browser session; both end when it is dropped.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

/// An element reference as WebDriver passes it around.
type Element = Value;

impl Browser {
    /// Starts chromedriver and a headless Chromium, or says why it cannot.
    fn start(chromium: &Path, chromedriver: &Path, scratch: &Path) -> Browser {
        let port = free_port();
        let log = std::fs::File::create(scratch.join("chromedriver.log")).unwrap();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("chromedriver starts");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while request(port, "GET", "/status", None)
            .is_none_or(|(_, status)| status["value"]["ready"] != true)
        {
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = scratch.join("chromium-profile");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--autoplay-policy=no-user-gesture-required",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let created = browser.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args},
                "goog:loggingPrefs": {"browser": "ALL"},
            }}}),
        );
        browser.session = created["sessionId"].as_str().unwrap().to_string();
        browser
    }

    /// `method path` with a JSON body; the answer's `value`. Panics with WebDriver's error.
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let path = if path == "/session" {
            path.to_string()
        } else {
            format!("/session/{}{path}", self.session)
        };
        let (status, answer) = request(self.port, method, &path, Some(&body))
            .unwrap_or_else(|| panic!("no answer from chromedriver to {method} {path}"));
        // WebDriver answers an error with a 4xx or 5xx status and {error, message}.
        assert_eq!(status, 200, "{method} {path} {body}: {answer}");
        answer["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        );
    }

    /// Runs `body` as a function of `args` in the page and returns what it returns.
    fn js(&self, body: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": body, "args": args}),
        )
    }

    /// Polls `body` until it returns true; panics with `what` after `seconds`.
    fn wait(&self, seconds: u64, what: &str, body: &str, args: Value) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while self.js(body, args.clone()) != true {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn find(&self, css: &str) -> Element {
        self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        )
    }

    /// `css` inside the open shadow root of `host`.
    fn find_in_shadow(&self, host: &Element, css: &str) -> Element {
        let shadow = self.call("GET", &format!("/element/{}/shadow", id(host)), json!({}));
        let shadow_id = shadow.as_object().unwrap().values().next().unwrap();
        let shadow_id = shadow_id.as_str().unwrap();
        self.call(
            "POST",
            &format!("/shadow/{shadow_id}/element"),
            json!({"using": "css selector", "value": css}),
        )
    }

    fn all_in_shadow(&self, host: &Element, css: &str) -> Vec<Element> {
        let shadow = self.call("GET", &format!("/element/{}/shadow", id(host)), json!({}));
        let shadow_id = shadow.as_object().unwrap().values().next().unwrap();
        let shadow_id = shadow_id.as_str().unwrap();
        let found = self.call(
            "POST",
            &format!("/shadow/{shadow_id}/elements"),
            json!({"using": "css selector", "value": css}),
        );
        found.as_array().unwrap().clone()
    }

    /// A real click: the browser moves the pointer there and presses it.
    fn click(&self, element: &Element) {
        self.call(
            "POST",
            &format!("/element/{}/click", id(element)),
            json!({}),
        );
    }

    /// Moves the mouse to the window's corner, so nothing shows a hover.
    fn pointer_away(&self) {
        self.call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse",
                "parameters": {"pointerType": "mouse"},
                "actions": [{"type": "pointerMove", "x": 0, "y": 0, "origin": "viewport"}]}]}),
        );
    }

    /// Presses and releases each key in turn (WebDriver key codes: "\u{E00D}" is Space).
    fn keys(&self, keys: &[&str]) {
        let actions: Vec<Value> = keys
            .iter()
            .flat_map(|k| {
                [
                    json!({"type": "keyDown", "value": k}),
                    json!({"type": "keyUp", "value": k}),
                ]
            })
            .collect();
        self.call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        );
    }

    fn computed_label(&self, element: &Element) -> String {
        let label = self.call(
            "GET",
            &format!("/element/{}/computedlabel", id(element)),
            json!({}),
        );
        label.as_str().unwrap_or_default().to_string()
    }

    fn screenshot(&self, element: Option<&Element>) -> Vec<u8> {
        use base64::Engine;
        let path = match element {
            Some(element) => format!("/element/{}/screenshot", id(element)),
            None => "/screenshot".to_string(),
        };
        let png = self.call("GET", &path, json!({}));
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap()
    }

    /// Everything the page logged at error level since the last call (console.error, uncaught
    /// exceptions, failed loads).
    fn errors(&self) -> Vec<String> {
        let entries = self.call("POST", "/se/log", json!({"type": "browser"}));
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = request(self.port, "DELETE", &path, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn id(element: &Element) -> &str {
    element
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("not an element reference: {element}"))
}

/// One HTTP/1.1 exchange with chromedriver on loopback: the status and the JSON answer.
/// chromedriver keeps the connection open whatever the request says, so the body is read by
/// its Content-Length.
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    let (split, length) = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        answer.extend_from_slice(&chunk[..n]);
        if let Some(split) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))?
                .trim()
                .parse()
                .ok()?;
            break (split + 4, length);
        }
    };
    while answer.len() < split + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    let status = std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()?;
    Some((
        status,
        serde_json::from_slice(&answer[split..split + length]).ok()?,
    ))
}

/// `name` on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// Chromium and chromedriver, or a skip (a failure when ALOUD_REQUIRE_READERS is set).
fn chromium_and_driver() -> Option<(PathBuf, PathBuf)> {
    let chromium = which("chromium").or_else(|| which("chromium-browser"));
    let driver = which("chromedriver");
    match (chromium, driver) {
        (Some(chromium), Some(driver)) => Some((chromium, driver)),
        _ => {
            skip_or_fail(
                "the player's browser tests need chromium and chromedriver (apt-get install chromium chromium-driver)",
            );
            None
        }
    }
}

/// Where screenshots are kept after the test: `target/tmp/player_browser/`.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("player_browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Checks `png` is a PNG of at least `min_width` x `min_height` with real content, and keeps
/// it as `name` among the artifacts.
fn keep_screenshot(png: &[u8], name: &str, min_width: u32, min_height: u32) -> PathBuf {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(
        width >= min_width && height >= min_height,
        "{name}: {width}x{height}"
    );
    // A blank or single-colour capture compresses to a few hundred bytes.
    assert!(png.len() > 8 * 1024, "{name}: only {} bytes", png.len());
    let path = artifacts().join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}

/// The index of the last sentence starting at or before `t` (the one being heard, or the
/// one just heard during the pause after it).
fn expected_sentence(timeline: &Value, t: f64) -> i64 {
    let sentences = timeline["sentences"].as_array().unwrap();
    sentences
        .iter()
        .rposition(|s| s["start"].as_f64().unwrap() <= t + 0.001)
        .map_or(-1, |i| i as i64)
}

fn start_of(timeline: &Value, kind: &str, i: usize) -> f64 {
    timeline[kind][i]["start"].as_f64().unwrap()
}

/// Script helpers: the n-th player on the page, its audio, and what it highlights.
const STATE: &str = "const p = document.querySelectorAll('aloud-player')[arguments[0]];
    const r = p.shadowRoot, a = p.audio, cur = r.querySelectorAll('.s.current');
    return {t: a.currentTime, paused: a.paused, rate: a.playbackRate,
        current: cur.length === 1 ? Number(cur[0].dataset.i) : -cur.length - 1,
        currentText: cur.length === 1 ? cur[0].textContent : null,
        ariaCurrent: [...r.querySelectorAll('[aria-current=\"true\"].s')].map(s => Number(s.dataset.i)),
        chapter: [...r.querySelectorAll('.ch button')].findIndex(b => b.getAttribute('aria-current') === 'true'),
        now: r.querySelector('.now').textContent,
        sentences: r.querySelectorAll('.s').length, error: r.querySelector('.err').hidden ? null : r.querySelector('.err').textContent};";

fn state(browser: &Browser, player: usize) -> Value {
    browser.js(STATE, json!([player]))
}

fn f(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

/// The checks the issue lists, on the `n`-th player of the page now open: it plays, the
/// highlight follows the timeline, a click on the third sentence and on the second chapter
/// seeks there, and 1.5x is the playback rate.
fn play_highlight_and_seek(browser: &Browser, n: usize, timeline: &Value) {
    let hosts = browser.call(
        "POST",
        "/elements",
        json!({"using": "css selector", "value": "aloud-player"}),
    );
    let host = hosts[n].clone();
    let sentences = timeline["sentences"].as_array().unwrap().len();
    browser.wait(
        20,
        "the transcript is laid out",
        "return document.querySelectorAll('aloud-player')[arguments[0]].shadowRoot.querySelectorAll('.s').length === arguments[1]",
        json!([n, sentences]),
    );
    let before = state(browser, n);
    assert_eq!(before["paused"], true);
    assert_eq!(before["error"], Value::Null);

    // Play: the audio advances, and once it is past the third sentence's start the highlight
    // is the sentence the timeline says is being heard.
    browser.click(&browser.find_in_shadow(&host, "button.play"));
    let third = start_of(timeline, "sentences", 2);
    browser.wait(
        30,
        "playback passes the third sentence's start",
        "return document.querySelectorAll('aloud-player')[arguments[0]].audio.currentTime > arguments[1]",
        json!([n, third + 0.3]),
    );
    let playing = state(browser, n);
    assert_eq!(playing["paused"], false, "{playing}");
    let t = f(&playing["t"]);
    let expected = expected_sentence(timeline, t);
    assert!(expected >= 2, "{t}");
    // The highlight moves every frame; allow one frame at a boundary.
    let near_boundary = (expected_sentence(timeline, t - 0.05) != expected) as i64;
    assert!(
        playing["current"].as_i64().unwrap() >= expected - near_boundary
            && playing["current"].as_i64().unwrap() <= expected,
        "at {t} s the highlight is {}, the timeline says {expected}",
        playing["current"]
    );
    browser.click(&browser.find_in_shadow(&host, "button.play"));
    let paused = state(browser, n);
    assert_eq!(paused["paused"], true);
    let expected = expected_sentence(timeline, f(&paused["t"]));
    assert_eq!(paused["current"], expected, "{paused}");
    assert_eq!(paused["ariaCurrent"], json!([expected]));
    assert_eq!(
        paused["currentText"],
        timeline["sentences"][expected as usize]["text"]
    );

    // A click on the third sentence seeks to its start.
    browser.click(&browser.find_in_shadow(&host, ".s[data-i=\"2\"]"));
    let at = state(browser, n);
    assert!(
        (f(&at["t"]) - third).abs() < 0.05,
        "clicked the third sentence (at {third} s), currentTime is {}",
        at["t"]
    );
    assert_eq!(at["current"], 2, "{at}");

    // A click on the second chapter seeks to its start, and marks it.
    let chapter = start_of(timeline, "chapters", 1);
    browser.click(&browser.find_in_shadow(&host, ".ch button[data-c=\"1\"]"));
    let at = state(browser, n);
    assert!(
        (f(&at["t"]) - chapter).abs() < 0.05,
        "clicked chapter 2 (at {chapter} s), currentTime is {}",
        at["t"]
    );
    assert_eq!(at["chapter"], 1, "{at}");
    let title = timeline["chapters"][1]["title"].as_str().unwrap();
    assert!(at["now"].as_str().unwrap().contains(title), "{at}");
    // Its sentence is scrolled into view inside the transcript, and the page stays where the
    // reader left it (WebDriver scrolled it to make the click).
    let page_y = browser.js("return window.scrollY", json!([]));
    browser.wait(
        5,
        "the current sentence is scrolled into the transcript's view",
        "const r = document.querySelectorAll('aloud-player')[arguments[0]].shadowRoot;
         const box = r.querySelector('.tx').getBoundingClientRect();
         const s = r.querySelector('.s.current').getBoundingClientRect();
         return s.top >= box.top && s.bottom <= box.bottom && window.scrollY === arguments[1]",
        json!([n, page_y]),
    );

    // Speed 1.5, chosen in the select as a user would.
    browser.click(&browser.find_in_shadow(&host, "select"));
    browser.click(&browser.find_in_shadow(&host, "option[value=\"1.5\"]"));
    assert_eq!(state(browser, n)["rate"], 1.5);
}

/// The page as `aloud narrate --player` writes it, opened from file://.
#[test]
fn the_page_plays_highlights_and_seeks_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("story.md"), ARTICLE).unwrap();
    let run = narrate(dir.path(), "story.md", "story.mp3", &["--player", "--json"]);
    let summary: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["player"], "story.html");
    assert_eq!(
        names(dir.path()),
        [
            "aloud-player.js",
            "story.html",
            "story.md",
            "story.mp3",
            "story.timeline.json",
            "story.vtt"
        ]
    );
    let timeline: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("story.timeline.json")).unwrap())
            .unwrap();
    assert_eq!(timeline["chapters"].as_array().unwrap().len(), 2);
    assert!(timeline["duration"].as_f64().unwrap() > 15.0);

    let Some((chromium, driver)) = chromium_and_driver() else {
        return;
    };
    let browser = Browser::start(&chromium, &driver, dir.path());
    browser.resize(900, 1000);
    let page = dir.path().join("story.html");
    browser.goto(&format!("file://{}", page.display()));
    assert_eq!(
        browser.js("return document.title", json!([])),
        "Harbour Lights & Tides"
    );
    play_highlight_and_seek(&browser, 0, &timeline);
    let host = browser.find("aloud-player");

    // Every control has an accessible name, as the browser's accessibility tree computes it.
    let controls = browser.all_in_shadow(&host, "button, select, input, [tabindex]");
    assert!(controls.len() >= 7, "{} controls", controls.len());
    for control in &controls {
        let label = browser.computed_label(control);
        assert!(
            !label.trim().is_empty(),
            "a control without a name: {control}"
        );
    }

    // The keyboard, on the page afresh: Tab reaches the play button with a visible focus
    // ring; Space presses it (once, not twice); in the transcript Space toggles, arrows move
    // 5 s and a sentence.
    browser.goto(&format!("file://{}", page.display()));
    let host = browser.find("aloud-player");
    browser.keys(&["\u{E004}"]);
    let focus = browser.js(
        "const r = document.querySelector('aloud-player').shadowRoot, e = r.activeElement;
         return e && {cls: e.className, outline: getComputedStyle(e).outlineStyle}",
        json!([]),
    );
    assert_eq!(focus["cls"], "play", "{focus}");
    assert_eq!(focus["outline"], "solid", "{focus}");
    browser.keys(&["\u{E00D}"]);
    assert_eq!(state(&browser, 0)["paused"], false);
    browser.keys(&["\u{E00D}"]);
    assert_eq!(state(&browser, 0)["paused"], true);
    let transcript = browser.find_in_shadow(&host, ".tx");
    browser.js("arguments[0].focus()", json!([transcript]));
    let t = f(&state(&browser, 0)["t"]);
    browser.keys(&["\u{E014}"]); // ArrowRight
    assert!((f(&state(&browser, 0)["t"]) - (t + 5.0)).abs() < 0.05);
    browser.keys(&["\u{E012}"]); // ArrowLeft
    assert!((f(&state(&browser, 0)["t"]) - t).abs() < 0.05);
    let on = state(&browser, 0)["current"].as_u64().unwrap() as usize;
    browser.keys(&["\u{E015}"]); // ArrowDown: the next sentence
    let next = state(&browser, 0);
    assert_eq!(next["current"], on + 1);
    assert!((f(&next["t"]) - start_of(&timeline, "sentences", on + 1)).abs() < 0.05);
    browser.keys(&["\u{E00D}"]);
    assert_eq!(state(&browser, 0)["paused"], false);
    browser.keys(&["\u{E00D}"]);
    assert_eq!(state(&browser, 0)["paused"], true);

    // Skip 15 s back and forth from the start.
    browser.click(&browser.find_in_shadow(&host, ".s[data-i=\"0\"]"));
    browser.click(&browser.find_in_shadow(&host, "button[data-skip=\"15\"]"));
    assert!((f(&state(&browser, 0)["t"]) - 15.0).abs() < 0.05);
    browser.click(&browser.find_in_shadow(&host, "button[data-skip=\"-15\"]"));
    assert!(f(&state(&browser, 0)["t"]).abs() < 0.05);

    // Back to a moment in the first chapter, for the picture.
    browser.click(&browser.find_in_shadow(&host, ".s[data-i=\"2\"]"));
    browser.pointer_away();
    // The highlight fades in over 0.2 s; picture it settled.
    std::thread::sleep(Duration::from_millis(400));
    let shot = browser.screenshot(Some(&host));
    keep_screenshot(&shot, "player.png", 600, 400);
    keep_screenshot(&browser.screenshot(None), "page.png", 800, 800);

    // A phone's width: nothing runs off the side.
    browser.resize(375, 800);
    let fits = browser.js(
        "const d = document.documentElement, p = document.querySelector('aloud-player');
         return {page: d.scrollWidth, view: d.clientWidth, player: p.getBoundingClientRect().right}",
        json!([]),
    );
    assert!(fits["page"].as_f64() <= fits["view"].as_f64(), "{fits}");
    assert!(fits["player"].as_f64() <= fits["view"].as_f64(), "{fits}");
    keep_screenshot(&browser.screenshot(None), "phone.png", 300, 600);

    assert_eq!(browser.errors(), Vec::<String>::new(), "console errors");
}

// ---- the web component in an article page, over HTTP ----

/// A static file server for `root` on loopback, with byte ranges as media seeking needs
/// (a browser cannot seek in audio served without them); one thread per connection.
fn serve(root: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || answer(stream, &root));
        }
    });
    port
}

fn answer(mut stream: TcpStream, root: &Path) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/");
    let path = target
        .split('?')
        .next()
        .unwrap_or("/")
        .trim_start_matches('/');
    let file = root.join(path);
    let Ok(bytes) = std::fs::read(&file).map_err(|_| ()).and_then(|b| {
        // No leaving the root.
        (!path.split('/').any(|part| part == ".."))
            .then_some(b)
            .ok_or(())
    }) else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        _ => "application/octet-stream",
    };
    let range = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let spec = value.trim().strip_prefix("bytes=")?;
        name.eq_ignore_ascii_case("range")
            .then_some(spec.to_string())
    });
    let total = bytes.len();
    let (status, start, end) = match range.and_then(|spec| {
        let (from, to) = spec.split_once('-')?;
        let from: usize = from.parse().ok()?;
        let to = to.parse().unwrap_or(total - 1).min(total - 1);
        (from <= to).then_some((from, to))
    }) {
        Some((from, to)) => ("206 Partial Content", from, to),
        None => ("200 OK", 0, total.saturating_sub(1)),
    };
    let body = if total == 0 {
        &[][..]
    } else {
        &bytes[start..=end]
    };
    let mut reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Accept-Ranges: bytes\r\nConnection: close\r\n",
        body.len()
    );
    if status.starts_with("206") {
        reply.push_str(&format!("Content-Range: bytes {start}-{end}/{total}\r\n"));
    }
    reply.push_str("\r\n");
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.write_all(body);
}

/// The component as a publisher embeds it: an article page of our own with two players, one
/// per narration, each fetching its timeline over HTTP.
#[test]
fn the_component_embedded_in_an_article_page_fetches_its_timeline_and_plays() {
    let root = tempfile::tempdir().unwrap();
    let web = root.path().join("web");
    std::fs::create_dir(&web).unwrap();
    std::fs::write(web.join("story.md"), ARTICLE).unwrap();
    std::fs::write(
        web.join("brief.md"),
        "# In Brief\n\nThe ferry runs again on Monday. Tickets are half price for a week.\n",
    )
    .unwrap();
    narrate(&web, "story.md", "story.wav", &[]);
    narrate(&web, "brief.md", "brief.mp3", &[]);
    // `aloud player` puts the component beside the audio; the article page loads it.
    let run = run_aloud_cached(&["player", "story.wav"], &web);
    assert!(run.status.success(), "{run:?}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.starts_with("story.html: read-along player for story.wav"),
        "{stdout}"
    );
    std::fs::write(
        web.join("article.html"),
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Harbour Lights - The Coast Gazette</title>
<link rel="icon" href="data:,">
<script src="aloud-player.js" defer></script>
<style>
body { max-width: 40rem; margin: 2rem auto; font-family: Georgia, serif; }
/* A short transcript box, so following the voice means scrolling it. */
#story { --aloud-transcript-height: 6rem; }
</style>
</head>
<body>
<article>
<h1>Harbour Lights &amp; Tides</h1>
<p class="byline">By A. Reporter</p>
<aloud-player id="story" src="story.wav" timeline="story.timeline.json"></aloud-player>
<p>The harbour wakes before dawn. Fishing boats slip out past the breakwater, one by one.</p>
<p>By seven the market is loud. Gulls circle over the crates of fish.</p>
<h2>In brief</h2>
<aloud-player src="brief.mp3" timeline="brief.timeline.json"></aloud-player>
</article>
</body>
</html>
"#,
    )
    .unwrap();
    let timeline: Value =
        serde_json::from_slice(&std::fs::read(web.join("story.timeline.json")).unwrap()).unwrap();

    let Some((chromium, driver)) = chromium_and_driver() else {
        return;
    };
    let port = serve(root.path().to_path_buf());
    let browser = Browser::start(&chromium, &driver, root.path());
    browser.resize(900, 1200);
    browser.goto(&format!("http://127.0.0.1:{port}/web/article.html"));
    play_highlight_and_seek(&browser, 0, &timeline);

    // Two players on one page: starting the second pauses the first.
    browser.wait(
        20,
        "the second transcript is laid out",
        "return document.querySelectorAll('aloud-player')[1].shadowRoot.querySelectorAll('.s').length === 3",
        json!([]),
    );
    let hosts = browser.call(
        "POST",
        "/elements",
        json!({"using": "css selector", "value": "aloud-player"}),
    );
    browser.click(&browser.find_in_shadow(&hosts[0], "button.play"));
    assert_eq!(state(&browser, 0)["paused"], false);
    browser.click(&browser.find_in_shadow(&hosts[1], "button.play"));
    browser.wait(
        10,
        "the second player plays and the first has stopped",
        "const [a, b] = [...document.querySelectorAll('aloud-player')].map(p => p.audio);
         return a.paused && !b.paused && b.currentTime > 0.2",
        json!([]),
    );
    browser.click(&browser.find_in_shadow(&hosts[1], "button.play"));
    keep_screenshot(&browser.screenshot(None), "embedded.png", 800, 800);
    assert_eq!(browser.errors(), Vec::<String>::new(), "console errors");
}
