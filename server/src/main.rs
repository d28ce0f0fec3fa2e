use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = kvartal::cli::Cli::parse();
    match kvartal::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kvartal: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
