//! `aloud serve`: the HTTP API over a queue, with workers inside it unless told otherwise.

use crate::cli::commands::worker::{address_policy, open_queue, runtime, worker_options};
use crate::cli::service_args::ServeArgs;
use aloud::ingest::FetchOptions;
use aloud::jobs::worker_name;
use aloud::serve::ServeOptions;
use aloud::serve::auth::Tokens;

pub fn run(args: ServeArgs) -> aloud::Result<()> {
    let tokens = match &args.token_file {
        Some(path) => Tokens::from_file(path).map_err(aloud::Error::job)?,
        None => Tokens::default(),
    };
    // Refused before anything is opened: no tokens means loopback only.
    aloud::serve::auth::check_listen(args.listen, &tokens).map_err(aloud::Error::job)?;
    let addresses = address_policy(args.allow_private_urls, &args.allow_address);
    let work = worker_options(&args.runner, addresses.clone())?;
    let options = ServeOptions {
        tokens,
        store: work.store.clone(),
        fetch: FetchOptions {
            addresses,
            ..FetchOptions::default()
        },
        max_body: args.max_body,
        rate_per_minute: args.rate_limit,
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let out_dir = &args.runner.queue.out_dir;
        std::fs::create_dir_all(out_dir).map_err(|e| aloud::Error::io(out_dir, e))?;
        let queue = open_queue(&args.runner.queue).await?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| aloud::Error::Usage {
                message: format!("cannot listen on {}: {e}", args.listen),
            })?;
        let local = listener.local_addr().map_err(|e| aloud::Error::Usage {
            message: format!("cannot listen on {}: {e}", args.listen),
        })?;
        for _ in 0..args.workers {
            let (queue, work, name) = (queue.clone(), work.clone(), worker_name());
            tokio::spawn(async move {
                if let Err(error) =
                    aloud::jobs::worker::run(&queue, work, name, std::future::pending()).await
                {
                    eprintln!("aloud serve: worker stopped: {error}");
                }
            });
        }
        match args.json {
            true => println!(
                "{}",
                serde_json::json!({"listening": local.to_string(), "queue": queue.url().redacted()})
            ),
            false => eprintln!(
                "aloud serve: listening on http://{local}, queue {}",
                queue.url().redacted()
            ),
        }
        aloud::serve::serve(listener, queue, options, std::future::pending())
            .await
            .map_err(aloud::Error::job)
    })
}
