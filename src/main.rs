//! The edge: parse the arguments, build the configuration, run the command
//! on a thread with room for clap, and exit with the command's status.
//!
//! Exit statuses ([`ExitStatus`]): 0 ok; 1 nothing found where a command
//! promises an answer (`who`); 2 usage or input error (clap exits 2
//! itself); 3 kernel, permission or I/O failure. A closed stdout (`| head`)
//! ends the run quietly with 0. Ctrl-C (SIGINT) keeps its default action:
//! the process dies by the signal, so the parent sees it (shells report
//! 130) and a shell loop around sockscope stops; a SIGINT ignored at start
//! (`nohup`) stays ignored.

use std::io::{self, Write};
use std::process::ExitCode;

use sockscope::commands::{self, CommandError, ExitStatus};
use sockscope::config::Config;
use sockscope::config::cli::Cli;

fn main() -> ExitCode {
    match commands::on_run_stack(run) {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            let _ = writeln!(io::stderr(), "sockscope: cannot start a thread: {e}");
            ExitCode::from(ExitStatus::Failure as u8)
        }
    }
}

/// Everything `main` does, on the run's thread.
fn run() -> ExitStatus {
    let cli = Cli::parse_args();
    let outcome = Config::from_cli(cli)
        .map_err(CommandError::from)
        .and_then(|config| commands::execute(&config));
    match outcome {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            let status = err.exit_status();
            if status != ExitStatus::Success || err.is_note() {
                // stderr may be closed too: never panic over a message.
                let _ = writeln!(io::stderr(), "sockscope: {}", err.message());
            }
            status
        }
    }
}
