use clap::Parser;

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
