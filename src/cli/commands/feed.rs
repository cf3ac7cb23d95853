//! `aloud feed`: the podcast feed of a directory of narrations; and the feed `aloud batch
//! --feed` asks for.

use crate::cli::args::{BatchFeedArgs, FeedArgs};
use crate::cli::render::{plural, print_report};
use aloud::batch::BatchReport;
use aloud::feed::{FEED_FILE, FeedOptions, FeedReport};
use std::path::Path;

pub fn run(args: FeedArgs) -> aloud::Result<()> {
    let options = feed_options(
        &args.base_url,
        Channel {
            title: args.title,
            description: args.description,
            author: args.author,
            image: args.image,
            language: args.language,
            category: args.category,
            explicit: args.explicit,
        },
    )?;
    let report = aloud::feed::write(&args.dir, &options)?;
    print_report(args.json, &report, |report| {
        summary(report, &args.dir, options.base_url())
    });
    Ok(())
}

impl BatchFeedArgs {
    /// The feed asked for, its URLs checked before anything is narrated.
    pub fn options(&self) -> aloud::Result<Option<FeedOptions>> {
        let (true, Some(base_url)) = (self.feed, &self.base_url) else {
            return Ok(None);
        };
        feed_options(
            base_url,
            Channel {
                title: self.feed_title.clone(),
                description: self.feed_description.clone(),
                author: self.feed_author.clone(),
                image: self.feed_image.clone(),
                language: self.feed_language.clone(),
                category: self.feed_category.clone(),
                explicit: false,
            },
        )
        .map(Some)
    }
}

/// The channel settings `feed` and `batch --feed` share.
struct Channel {
    title: Option<String>,
    description: Option<String>,
    author: Option<String>,
    image: Option<String>,
    language: Option<String>,
    category: Option<String>,
    explicit: bool,
}

fn feed_options(base_url: &str, channel: Channel) -> aloud::Result<FeedOptions> {
    let mut options = FeedOptions::new(base_url)?;
    if let Some(image) = &channel.image {
        options = options.with_image(image)?;
    }
    options.title = channel.title;
    options.description = channel.description;
    options.author = channel.author;
    options.language = channel.language;
    options.category = channel.category;
    options.explicit = channel.explicit;
    Ok(options)
}

/// `audio/feed.xml: 3 episodes (1 new, 2 kept); publish audio at https://... and subscribe to https://.../feed.xml`
fn summary(report: &FeedReport, dir: &Path, base_url: &str) -> String {
    let removed = match report.removed.len() {
        0 => String::new(),
        n => format!(", {n} gone and left out"),
    };
    format!(
        "{}: {} episode{} ({} new, {} kept{removed}); publish {} at {base_url} and subscribe to {}",
        report.feed.display(),
        report.episodes.len(),
        plural(report.episodes.len()),
        report.added,
        report.kept,
        dir.display(),
        report.url
    )
}

/// The batch's feed; or why it was not written, when the batch's failed articles are the
/// error reported last.
pub fn print_batch_feed(report: &BatchReport) {
    if let Some(feed) = &report.feed {
        let base_url = feed.url.strip_suffix(FEED_FILE).unwrap_or(&feed.url);
        println!("{}", summary(feed, &report.out_dir, base_url));
    }
    if let (Some(error), true) = (&report.feed_error, report.failed > 0) {
        println!("feed not written: {error}");
    }
}
