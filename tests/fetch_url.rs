//! Fetching articles from URLs, against small HTTP servers on 127.0.0.1 started by each test.
//! Every server accepts a bounded number of connections, every write loop is bounded, and
//! timeouts are shortened so that the whole file runs in a few seconds.

use aloud::Error;
use aloud::ingest::{self, AddressPolicy, FetchOptions, ReadOptions, Source, fetch};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a handler sees of a request: its path.
type Handler = Box<dyn Fn(&str, &mut TcpStream) + Send>;

/// Serves up to `connections` requests with `handler` on a thread; returns `http://ip:port`.
fn serve(connections: usize, handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
            if let Some(path) = request_path(&mut stream) {
                handler(&path, &mut stream);
            }
        }
    });
    format!("http://{address}")
}

/// Reads the request head (at most 16 KiB) and returns the path of its request line.
fn request_path(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < 16 * 1024 && !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&head);
    head.split_whitespace().nth(1).map(str::to_string)
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

fn options() -> FetchOptions {
    FetchOptions {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        max_bytes: 256 * 1024,
        max_redirects: 5,
        addresses: AddressPolicy::Any,
    }
}

const STORY: &str = "<p>The council met on Tuesday night and voted to keep the library open on Sundays through the winter, reversing a decision made in the spring.</p><p>Librarians said visits had risen by a fifth since the spring, and that the Sunday hours were the busiest of the week for families with young children.</p><p>The change will cost about nine thousand dollars a year, which the council will take from its reserve fund.</p>";

fn story_page(headline: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{headline} | Town Paper</title></head><body>\
         <nav><a href=/>Home</a> <a href=/news>News</a></nav>\
         <article><h1>{headline}</h1>{STORY}</article><footer>Town Paper</footer></body></html>"
    )
}

fn load(url: &str, options: &FetchOptions) -> aloud::Result<aloud::document::Document> {
    ingest::load_source_with(&Source::parse(url)?, &reading(options))
}

/// Reading with these fetch limits, page furniture dropped as by default.
fn reading(fetch: &FetchOptions) -> ReadOptions {
    ReadOptions {
        fetch: fetch.clone(),
        ..ReadOptions::default()
    }
}

#[test]
fn a_latin1_page_is_fetched_and_decoded_by_its_content_type() {
    let base = serve(
        1,
        Box::new(|_, stream| {
            let mut body = b"<!doctype html><html><head><title>x</title></head><body><article><h1>Caf\xe9 reopens</h1><p>The caf\xe9 on the square reopened on Monday, its owner, Ren\xe9e Marchal, said.</p>".to_vec();
            body.extend_from_slice(STORY.as_bytes());
            body.extend_from_slice(b"</article></body></html>");
            respond(
                stream,
                "200 OK",
                &[("Content-Type", "text/html; charset=ISO-8859-1")],
                &body,
            );
        }),
    );
    let document = load(&format!("{base}/news/cafe.html"), &options()).expect("fetched");
    assert_eq!(document.title, "Café reopens");
    assert!(
        document
            .spoken_sentences()
            .any(|s| s.text.contains("Renée Marchal")),
        "{document:?}"
    );
}

#[test]
fn a_meta_charset_is_honoured_when_the_header_has_none() {
    let base = serve(
        1,
        Box::new(|_, stream| {
            let mut body = b"<html><head><meta charset=\"windows-1252\"></head><body><article><h1>Na\xefve plans</h1><p>\x93Quoted,\x94 she said of the na\xefve plans for the park.</p>".to_vec();
            body.extend_from_slice(STORY.as_bytes());
            body.extend_from_slice(b"</article></body></html>");
            respond(stream, "200 OK", &[("Content-Type", "text/html")], &body);
        }),
    );
    let document = load(&format!("{base}/"), &options()).expect("fetched");
    assert_eq!(document.title, "Naïve plans");
    assert!(
        document
            .spoken_sentences()
            .any(|s| s.text == "“Quoted,” she said of the naïve plans for the park."),
        "{document:?}"
    );
}

#[test]
fn error_statuses_are_named() {
    for (status, code) in [
        ("404 Not Found", 404u16),
        ("500 Internal Server Error", 500),
    ] {
        let base = serve(
            1,
            Box::new(move |_, stream| {
                respond(
                    stream,
                    status,
                    &[("Content-Type", "text/html")],
                    b"<h1>Oops</h1>",
                );
            }),
        );
        let url = format!("{base}/missing.html");
        match load(&url, &options()) {
            Err(error @ Error::HttpStatus { .. }) => {
                let message = error.to_string();
                assert_eq!(message, format!("{url}: the server answered HTTP {status}"));
                assert!(matches!(error, Error::HttpStatus { status, .. } if status == code));
            }
            other => panic!("{status}: expected HttpStatus, got {other:?}"),
        }
    }
}

#[test]
fn redirects_are_followed_within_bounds() {
    let base = serve(
        2,
        Box::new(|path, stream| match path {
            "/old" => respond(
                stream,
                "301 Moved Permanently",
                &[("Location", "/new")],
                b"",
            ),
            _ => respond(
                stream,
                "200 OK",
                &[("Content-Type", "text/html; charset=utf-8")],
                story_page("Library stays open").as_bytes(),
            ),
        }),
    );
    let page = fetch::fetch_blocking(&format!("{base}/old"), &options()).expect("fetched");
    assert_eq!(page.url, format!("{base}/old"));
    assert_eq!(page.final_url, format!("{base}/new"));
    let document = ingest::parse_fetched(&page).expect("parsed");
    assert_eq!(document.title, "Library stays open");
}

#[test]
fn a_redirect_loop_is_named() {
    let base = serve(
        4,
        Box::new(|path, stream| {
            let target = if path == "/a" { "/b" } else { "/a" };
            respond(stream, "302 Found", &[("Location", target)], b"");
        }),
    );
    let url = format!("{base}/a");
    match load(&url, &options()) {
        Err(error @ Error::RedirectLoop { .. }) => {
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("{url}: redirect loop")),
                "{message}"
            );
        }
        other => panic!("expected RedirectLoop, got {other:?}"),
    }
}

#[test]
fn an_endless_redirect_chain_stops_at_the_limit() {
    let base = serve(
        8,
        Box::new(|path, stream| {
            let n: u32 = path.trim_start_matches("/hop/").parse().unwrap_or(0);
            let location = format!("/hop/{}", n + 1);
            respond(
                stream,
                "307 Temporary Redirect",
                &[("Location", &location)],
                b"",
            );
        }),
    );
    let url = format!("{base}/hop/0");
    match load(&url, &options()) {
        Err(error @ Error::TooManyRedirects { limit: 5, .. }) => {
            assert_eq!(error.to_string(), format!("{url}: more than 5 redirects"));
        }
        other => panic!("expected TooManyRedirects, got {other:?}"),
    }
}

#[test]
fn a_slow_server_times_out() {
    let quick = FetchOptions {
        timeout: Duration::from_secs(1),
        ..options()
    };
    // One server never answers; the other sends headers, then trickles its body.
    let silent = serve(
        1,
        Box::new(|_, _stream| std::thread::sleep(Duration::from_secs(4))),
    );
    let trickle = serve(
        1,
        Box::new(|_, stream| {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body>",
            );
            for _ in 0..40 {
                std::thread::sleep(Duration::from_millis(100));
                if stream.write_all(b"<p>slow</p>").is_err() {
                    break;
                }
            }
        }),
    );
    for base in [silent, trickle] {
        let url = format!("{base}/slow");
        let started = Instant::now();
        match load(&url, &quick) {
            Err(error @ Error::FetchTimeout { .. }) => {
                assert_eq!(
                    error.to_string(),
                    format!("{url}: no answer within 1 s (timed out)")
                );
            }
            other => panic!("expected FetchTimeout, got {other:?}"),
        }
        let took = started.elapsed();
        assert!(took < Duration::from_millis(2500), "took {took:?}");
    }
}

#[test]
fn an_oversized_body_is_abandoned_while_streaming() {
    let (sent_tx, sent_rx) = mpsc::channel();
    let base = serve(
        1,
        Box::new(move |_, stream| {
            // No Content-Length: only counting while reading can stop it.
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n",
            );
            let chunk = vec![b'a'; 64 * 1024];
            let mut sent = 0usize;
            // Up to 256 MiB, which the client must never wait for.
            for _ in 0..4096 {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
                sent += chunk.len();
            }
            let _ = sent_tx.send(sent);
        }),
    );
    let small = FetchOptions {
        max_bytes: 64 * 1024,
        ..options()
    };
    let url = format!("{base}/huge");
    let started = Instant::now();
    match load(&url, &small) {
        Err(error @ Error::TooLarge { .. }) => {
            assert_eq!(
                error.to_string(),
                format!("{url}: larger than the 64 KiB limit")
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    let sent = sent_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server finished");
    assert!(sent < 64 * 1024 * 1024, "the client read {sent} bytes");
}

#[test]
fn a_declared_oversized_body_is_refused_before_reading() {
    let base = serve(
        1,
        Box::new(|_, stream| {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 999999999\r\n\r\n<html>",
            );
            std::thread::sleep(Duration::from_millis(500));
        }),
    );
    let url = format!("{base}/declared");
    assert!(matches!(
        load(&url, &options()),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn what_is_not_a_page_is_refused() {
    let base = serve(
        4,
        Box::new(|path, stream| {
            match path {
            "/photo.png" => respond(
                stream,
                "200 OK",
                &[("Content-Type", "image/png")],
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            ),
            "/binary" => respond(
                stream,
                "200 OK",
                &[("Content-Type", "text/html; charset=utf-8")],
                b"<html>\xff\xfe\0\0</html>",
            ),
            "/empty" => respond(stream, "200 OK", &[("Content-Type", "text/html")], b""),
            _ => respond(
                stream,
                "200 OK",
                &[("Content-Type", "text/html")],
                b"<!doctype html><html><body><nav><a href=/a>Home</a> <a href=/b>Sports</a></nav></body></html>",
            ),
        }
        }),
    );
    let png = format!("{base}/photo.png");
    match load(&png, &options()) {
        Err(error @ Error::UnsupportedContent { .. }) => {
            assert_eq!(
                error.to_string(),
                format!("{png}: not a web page or text (Content-Type: image/png)")
            );
        }
        other => panic!("expected UnsupportedContent, got {other:?}"),
    }
    let binary = format!("{base}/binary");
    match load(&binary, &options()) {
        Err(error @ Error::NotText { .. }) => {
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("{binary}: not UTF-8 text"))
            );
        }
        other => panic!("expected NotText, got {other:?}"),
    }
    let empty = format!("{base}/empty");
    match load(&empty, &options()) {
        Err(error @ Error::EmptyInput { .. }) => {
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("{empty}: nothing to narrate"))
            );
        }
        other => panic!("expected EmptyInput, got {other:?}"),
    }
    let links = format!("{base}/links");
    match load(&links, &options()) {
        Err(error @ Error::NoArticle { .. }) => {
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("{links}: no article"))
            );
        }
        other => panic!("expected NoArticle, got {other:?}"),
    }
}

#[test]
fn other_schemes_are_refused_without_a_request() {
    for url in ["file:///etc/passwd", "ftp://127.0.0.1/x"] {
        match fetch::fetch_blocking(url, &options()) {
            Err(error @ Error::UnsupportedScheme { .. }) => {
                assert!(error.to_string().starts_with(url), "{error}");
            }
            other => panic!("{url}: expected UnsupportedScheme, got {other:?}"),
        }
        assert!(matches!(
            Source::parse(url),
            Err(Error::UnsupportedScheme { .. })
        ));
    }
}

#[test]
fn a_redirect_to_another_scheme_is_refused() {
    let base = serve(
        1,
        Box::new(|_, stream| {
            respond(
                stream,
                "302 Found",
                &[("Location", "file:///etc/passwd")],
                b"",
            );
        }),
    );
    assert!(matches!(
        load(&format!("{base}/sneaky"), &options()),
        Err(Error::UnsupportedScheme { .. })
    ));
}

#[test]
fn a_refused_connection_names_the_url() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let url = format!("http://127.0.0.1:{port}/gone");
    match load(&url, &options()) {
        Err(error @ Error::Fetch { .. }) => {
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("{url}: cannot connect")),
                "{error}"
            );
        }
        other => panic!("expected Fetch, got {other:?}"),
    }
}

#[tokio::test]
async fn async_loading_and_blocking_inside_a_runtime() {
    let base = serve(
        2,
        Box::new(|_, stream| {
            respond(
                stream,
                "200 OK",
                &[("Content-Type", "text/html")],
                story_page("Library stays open").as_bytes(),
            );
        }),
    );
    let source = Source::parse(&format!("{base}/story")).expect("url");
    let document = ingest::load_source_async(&source, &reading(&options()))
        .await
        .expect("async load");
    assert_eq!(document.title, "Library stays open");
    // The blocking variant must not panic inside a runtime.
    let again = ingest::load_source_with(&source, &reading(&options())).expect("blocking load");
    assert_eq!(again, document);
}

/// The binary refuses bad URLs with one line naming them, before any voice is loaded.
#[test]
fn the_command_line_names_a_failing_url() {
    let base = serve(
        1,
        Box::new(|_, stream| respond(stream, "404 Not Found", &[], b"")),
    );
    let dir = tempfile::tempdir().expect("dir");
    for (url, needle) in [
        (
            format!("{base}/gone.html"),
            "the server answered HTTP 404 Not Found".to_string(),
        ),
        (
            "file:///etc/passwd".to_string(),
            "only http:// and https://".to_string(),
        ),
    ] {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_aloud"))
            .args(["narrate", &url, "--offline"])
            .current_dir(dir.path())
            .output()
            .expect("aloud runs");
        assert!(!run.status.success());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            stderr
                .trim()
                .starts_with(&format!("aloud: error: {url}: {needle}")),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(run.stdout.is_empty());
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

/// Fetching for others: only public addresses, checked on the URL and on every redirect.
fn public_only(except: &[&str]) -> FetchOptions {
    FetchOptions {
        addresses: AddressPolicy::PublicOnly {
            except: except
                .iter()
                .map(|a| a.parse().expect("an address"))
                .collect(),
        },
        ..options()
    }
}

/// A server that counts the requests it got and answers each with a page.
fn counting_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let base = serve(
        4,
        Box::new(move |_, stream| {
            seen.fetch_add(1, Ordering::SeqCst);
            respond(
                stream,
                "200 OK",
                &[("Content-Type", "text/html")],
                story_page("Inside").as_bytes(),
            );
        }),
    );
    (base, hits)
}

#[test]
fn private_loopback_and_metadata_addresses_are_refused_without_a_request() {
    use std::sync::atomic::Ordering;
    let (base, hits) = counting_server();
    let guarded = public_only(&[]);
    let port = base.rsplit(':').next().expect("a port");
    for url in [
        format!("{base}/story"),
        format!("http://localhost:{port}/story"),
        format!("http://[::ffff:127.0.0.1]:{port}/story"),
        "http://10.0.0.1/story".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ] {
        let started = Instant::now();
        match load(&url, &guarded) {
            Err(error @ Error::AddressRefused { .. }) => {
                let text = error.to_string();
                assert!(text.contains("not a public address"), "{text}");
            }
            other => panic!("{url}: expected AddressRefused, got {other:?}"),
        }
        // Refused before any connection: no waiting on an unroutable 10.0.0.1.
        assert!(started.elapsed() < Duration::from_secs(1), "{url}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the server was never asked");
    // Without the policy the same page is fetched.
    assert!(load(&format!("{base}/story"), &options()).is_ok());
}

#[test]
fn a_redirect_to_a_private_address_is_refused() {
    use std::sync::atomic::Ordering;
    let (inner, inner_hits) = counting_server();
    let inner_port = inner.rsplit(':').next().expect("a port").to_string();
    // The first server is allowed by exception; it redirects to addresses that are not.
    let targets = [
        format!("http://127.0.0.2:{inner_port}/story"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/".to_string(),
    ];
    for target in targets {
        let location = target.clone();
        let outer = serve(
            1,
            Box::new(move |_, stream| {
                respond(stream, "302 Found", &[("Location", location.as_str())], b"");
            }),
        );
        match load(&format!("{outer}/start"), &public_only(&["127.0.0.1"])) {
            Err(Error::AddressRefused {
                target: refused, ..
            }) => {
                assert_eq!(refused, target);
            }
            other => panic!("{target}: expected AddressRefused, got {other:?}"),
        }
    }
    assert_eq!(inner_hits.load(Ordering::SeqCst), 0);
    // An exception lets the operator's own address through.
    assert!(load(&format!("{inner}/story"), &public_only(&["127.0.0.1"])).is_ok());
}
