//! The edge: parse arguments, run, map errors to exit codes.
//!
//! Exit codes: 0 ok; 1 nothing found where a command promises an answer
//! (`who`); 2 usage or input error (clap exits 2 itself); 3 kernel,
//! permission or I/O failure. A closed stdout (`| head`) ends the run
//! quietly with 0.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use sockscope::app;
use sockscope::cli::Cli;
use sockscope::config::{Config, ConfigError, Mode, OutputFormat};
use sockscope::render;
use sockscope::services::Services;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
            // stderr may be closed too: never panic over a message.
            let _ = writeln!(io::stderr(), "sockscope: {}", chain.join(": "));
            let usage = err
                .chain()
                .any(|c| c.downcast_ref::<ConfigError>().is_some());
            ExitCode::from(if usage { 2 } else { 3 })
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::from_cli(cli)?;
    let services = config
        .services
        .as_deref()
        .map(Services::from_file)
        .transpose()?;
    let report = app::gather(&config)?;
    {
        let mut err = io::stderr().lock();
        for note in &report.notes {
            let _ = writeln!(err, "sockscope: {note}");
        }
    }
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let code = match &config.mode {
        Mode::List => {
            render::write(
                &mut out,
                &report.sockets,
                config.format,
                &config.table,
                services.as_ref(),
            )?;
            ExitCode::SUCCESS
        }
        Mode::Who(target) => {
            let protocols = &config.query.protocols;
            match config.format {
                OutputFormat::Table => render::who::write_text(
                    &mut out,
                    target,
                    protocols,
                    &report.sockets,
                    &config.table,
                )?,
                _ => render::who::write_json(&mut out, target, protocols, &report.sockets)?,
            }
            if report.sockets.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    };
    out.flush()?;
    Ok(code)
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
