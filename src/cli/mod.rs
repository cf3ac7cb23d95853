//! The `aloud` command line: flags parsed in layers (definitions in `args`, library options
//! from them in `options`), one module per command, and every failure rendered as one line.

mod args;
mod commands;
mod options;
mod progress;
mod render;
mod service_args;

use args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

/// Parses the command line, runs the command, and says how it went.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Narrate(args) => commands::narrate::run(*args),
        Command::Batch(args) => commands::batch::run(*args),
        Command::Preview(args) => commands::preview::run(*args),
        Command::Setup(args) => commands::setup::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Voices(args) => commands::voices::run(args),
        Command::Cache(args) => commands::cache::run(args),
        Command::Feed(args) => commands::feed::run(args),
        Command::Player(args) => commands::player::run(args),
        Command::Serve(args) => commands::serve::run(*args),
        Command::Worker(args) => commands::worker::run(*args),
        Command::Status(args) => commands::status::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A player that quit early is not an error of ours.
        Err(aloud::Error::ReaderGone { .. }) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("aloud: error: {error}");
            ExitCode::FAILURE
        }
    }
}
