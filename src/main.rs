use clap::Parser;

fn main() -> std::process::ExitCode {
    clearance::cli::run(clearance::cli::Cli::parse())
}
