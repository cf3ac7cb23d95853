//! aloud: turn written articles into listenable audio.

mod abbreviation;
pub mod assets;
pub mod audio;
pub mod batch;
pub mod cache;
pub mod document;
pub mod error;
pub mod feed;
pub mod fs;
pub mod human;
pub mod ingest;
pub mod inspect;
pub mod jobs;
pub mod lexicon;
pub mod narrate;
pub mod normalize;
pub mod plan;
pub mod player;
pub mod segment;
pub mod serve;
pub mod sidecar;
pub mod stitch;
pub mod synth;
mod tls;
pub mod voice;

pub use error::{Error, Result};

// The README's Rust examples are compiled with the doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
