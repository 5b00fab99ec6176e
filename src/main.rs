//! The `crystalbay` binary: parses the command line and hands over to the library.

fn main() -> std::process::ExitCode {
    match crystalbay::commands::main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("crystalbay: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
