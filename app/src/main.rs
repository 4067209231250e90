use clap::Parser;

/// mimalloc returns freed memory to the system where glibc's allocator keeps it in
/// per-thread arenas (argon2 hashes 19 MiB at a time), and allocates faster under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = ordo_app::cli::Cli::parse();
    match ordo_app::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
