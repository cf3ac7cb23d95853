//! Progress on a terminal: engine-file messages, a narration's sentence bar, and a batch's
//! one bar over every article with a line per finished article.

use super::render::{clock, plural};
use aloud::assets::Progress;
use aloud::batch::{Article, BatchEvent, Status};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

/// Provisioning messages go to stderr so `--json` output stays clean.
pub fn report_assets(quiet: bool) -> impl FnMut(Progress) {
    move |progress| {
        if !quiet {
            eprintln!("aloud: {progress}");
        }
    }
}

/// A bar on stderr drawn with `template`, hidden unless `show` and stderr is a terminal.
pub fn bar(show: bool, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !show || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The one progress display of a batch: a bar over every sentence to narrate, with articles
/// done, audio made and its rate; a line per finished article above it (or alone, without
/// a terminal).
pub struct BatchDisplay {
    bar: ProgressBar,
    articles: Vec<Article>,
    quiet: bool,
    state: Mutex<BatchTally>,
}

#[derive(Default)]
struct BatchTally {
    to_narrate: usize,
    finished: usize,
    audio_seconds: f64,
    started: Option<Instant>,
}

impl BatchDisplay {
    pub fn new(bar: ProgressBar, articles: Vec<Article>, quiet: bool) -> Self {
        BatchDisplay {
            bar,
            articles,
            quiet,
            state: Mutex::new(BatchTally::default()),
        }
    }

    fn say(&self, line: String) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn show(&self, event: BatchEvent) {
        let Ok(mut tally) = self.state.lock() else {
            return;
        };
        match event {
            BatchEvent::Asset(message) => self.say(format!("aloud: {message}")),
            BatchEvent::Planned {
                articles,
                skipped,
                failed,
                sentences,
            } => {
                tally.to_narrate = articles - skipped - failed;
                tally.started = Some(Instant::now());
                self.bar.set_length(sentences as u64);
                if skipped > 0 {
                    self.say(format!(
                        "aloud: {skipped} of {articles} article{} already done, skipped",
                        plural(articles)
                    ));
                }
            }
            BatchEvent::Reading { article, articles } => {
                self.bar
                    .set_message(format!("reading article {} of {articles}", article + 1));
                return;
            }
            BatchEvent::ArticleStarted { .. } => {}
            BatchEvent::SentenceDone { added_seconds, .. } => {
                tally.audio_seconds += added_seconds;
                self.bar.inc(1);
            }
            BatchEvent::ArticleFinished { article, status } => {
                tally.finished += 1;
                if let Some(entry) = self.articles.get(article) {
                    let verdict = match status {
                        Status::Failed => "failed",
                        _ => "narrated",
                    };
                    self.say(format!(
                        "aloud: [{}/{}] {verdict} {}",
                        tally.finished, tally.to_narrate, entry.source
                    ));
                }
            }
        }
        let elapsed = tally
            .started
            .map_or(0.0, |started| started.elapsed().as_secs_f64());
        self.bar.set_message(format!(
            "{}/{} articles · {} of audio ({:.1}x real time)",
            tally.finished,
            tally.to_narrate,
            clock(tally.audio_seconds),
            tally.audio_seconds / elapsed.max(1e-3)
        ));
    }
}
