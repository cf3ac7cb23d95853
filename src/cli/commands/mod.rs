//! One module per subcommand: each turns its arguments into library calls and prints the
//! result, as words or as JSON.

pub mod batch;
pub mod cache;
pub mod feed;
pub mod inspect;
pub mod narrate;
pub mod plan;
pub mod player;
pub mod preview;
pub mod serve;
pub mod setup;
pub mod status;
pub mod voices;
pub mod worker;
