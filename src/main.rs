//! The `aloud` binary: a thin front over the library; the command line lives in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    keep_onnx_runtime_from_reporting();
    cli::run()
}

/// ONNX Runtime 1.32 carries Microsoft's 1DS telemetry: unless told not to, starting it keeps
/// a device id and an event store under `~/.cache/Microsoft/DeveloperTools` for upload to
/// mobile.events.data.microsoft.com. A narration tool has no business doing either. The
/// runtime reads `ORT_DISABLE_TELEMETRY` when it starts, later and on another thread, so it is
/// set here, first; a value the user set is left as it is.
fn keep_onnx_runtime_from_reporting() {
    const VARIABLE: &str = "ORT_DISABLE_TELEMETRY";
    if std::env::var_os(VARIABLE).is_none() {
        // SAFETY: nothing has started a thread yet, so nothing reads the environment while
        // it changes.
        unsafe { std::env::set_var(VARIABLE, "1") };
    }
}
