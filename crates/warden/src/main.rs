//! `warden`: the Trust & Safety operations platform in one binary.
//!
//! This file only parses the command line, runs the command, and turns an
//! error into a message and an exit code. A closed pipe (`warden ... | head`)
//! is not an error.

mod classifier_config;
mod cli;
mod commands;
mod config;
mod delivery_config;
mod escalation_config;
mod kpi_config;
mod limits;
mod progress;
mod quality_config;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            let broken_pipe = error.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
