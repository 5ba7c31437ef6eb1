use clap::Parser;

// Loading a large bundle makes millions of small allocations (one per kept
// object and string); mimalloc serves them markedly faster than glibc malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    clearance::cli::run(clearance::cli::Cli::parse())
}
