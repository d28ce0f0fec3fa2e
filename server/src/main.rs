use clap::Parser;

/// mimalloc: the bulk import allocates rows on one thread and frees them on
/// another, in batches of megabytes; glibc's allocator returns and re-zeroes those
/// pages each time and contends on its arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = kvartal::cli::Cli::parse();
    // 8 MiB a worker: the GraphQL resolvers' futures nest deep (see .cargo/config.toml).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 << 20)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kvartal: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(kvartal::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kvartal: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
