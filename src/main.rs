//! The edge: parse arguments, run, map errors to exit codes.
//!
//! Exit codes: 0 ok; 1 nothing found where a command promises an answer;
//! 2 usage or input error (clap exits 2 itself); 3 kernel, permission or
//! I/O failure. A closed stdout (`| head`) ends the run quietly with 0.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use sockscope::cli::Cli;
use sockscope::config::Config;
use sockscope::services::Services;
use sockscope::{render, source};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(Config::from_cli(cli)) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
            // stderr may be closed too: never panic over a message.
            let _ = writeln!(io::stderr(), "sockscope: {}", chain.join(": "));
            ExitCode::from(3)
        }
    }
}

fn run(config: Config) -> anyhow::Result<ExitCode> {
    let services = config
        .services
        .as_deref()
        .map(Services::from_file)
        .transpose()?;
    let snapshot = source::read(&config.query, &config.source)?;
    {
        let mut err = io::stderr().lock();
        for w in &snapshot.warnings {
            let _ = writeln!(err, "sockscope: warning: {w}");
        }
    }
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    render::write(
        &mut out,
        &snapshot.sockets,
        config.format,
        &config.table,
        services.as_ref(),
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// ripgrep's rule: a BrokenPipe anywhere in the chain is a reader that
/// stopped listening, not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
