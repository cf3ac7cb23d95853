//! The `aloud` binary: a thin front over the library; the command line lives in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
