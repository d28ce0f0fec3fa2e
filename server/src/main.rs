use clap::Parser;

/// mimalloc: the bulk import allocates rows on one thread and frees them on
/// another, in batches of megabytes; glibc's allocator returns and re-zeroes those
/// pages each time and contends on its arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
