//! The `ordo` command line. Every subcommand reads the same configuration.

use crate::config::{Config, LogFormat, Overrides};
use crate::platform::Platform;
use anyhow::Context;
use clap::{Parser, Subcommand};
use ordo_kernel::PageRequest;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(name = "ordo", version, about = "Ordo: real-time order processing")]
pub struct Cli {
    /// Configuration file [default: ./ordo.toml when present]
    #[arg(long, global = true, env = "ORDO_CONFIG")]
    config: Option<PathBuf>,
    /// Where SQLite databases and signing keys live [default: ./data]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Log output format
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every service and the gateway in this process; or, with `--service`, only the
    /// services named, on PostgreSQL and NATS, calling the others where
    /// `services.NAME.urls` says they run.
    Serve {
        /// Address of the gateway [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Run only these services (comma-separated: `orders,delivery`).
        #[arg(long = "service", value_delimiter = ',')]
        services: Vec<String>,
        /// Load the demo city first (once per data dir) and print its accounts.
        #[arg(long)]
        demo: bool,
        /// Run a gentle simulated city beside it (a few people ordering now and then,
        /// couriers riding), so that there is something alive to look at.
        #[arg(long)]
        sim: bool,
    },
    /// The public entry when services run in processes of their own: routes the API to
    /// the instances `services.NAME.urls` names, with the same authentication, limits and
    /// errors as `serve`; serves the web apps.
    Gateway {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Load the demo city (merchants, menus, stock, a customer, staff, couriers, an
    /// administrator) and print its accounts, then exit.
    Demo,
    /// Apply every service's database migrations, then exit.
    Migrate,
    /// Administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Access-token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Dead letters: events a consumer rejected or gave up on.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// The event bus.
    Bus {
        #[command(subcommand)]
        command: BusCommand,
    },
    /// Reports.
    Reports {
        #[command(subcommand)]
        command: ReportsCommand,
    },
    /// The search index.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// Copy the embedded platform (every service's SQLite database at one moment, while it
    /// serves, and the signing keys sealed with `ORDO_BACKUP_PASSPHRASE`) into a new
    /// directory, with a manifest of checksums.
    Backup {
        /// The directory to write; new or empty.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty data dir, after checking its every file, its
    /// databases' integrity and the passphrase (`ORDO_BACKUP_PASSPHRASE`).
    Restore {
        /// The backup's directory.
        #[arg(long)]
        from: PathBuf,
    },
    /// Ask this process's own `/readyz` (or `/healthz`) on the configured `listen` address
    /// and exit 0 when it answers 200: a container's health check, in an image that has
    /// no shell or curl.
    Probe {
        /// Liveness (`/healthz`) rather than readiness.
        #[arg(long)]
        live: bool,
        /// The address the process listens on [default: the configured `listen`; a
        /// wildcard is asked on loopback]
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Drive a whole simulated city through the API (customers, merchants, couriers) and
    /// report what became of the orders and how long each stage took.
    Sim(crate::sim::SimArgs),
    /// Benchmarks (not tests): print a table and write JSON.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// List dead letters, newest first.
    List {
        /// Only this consumer's.
        #[arg(long)]
        consumer: Option<String>,
        /// At most this many (1 to 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Ask the consumer to handle the event once more; a running server takes it within
    /// a second.
    Replay { id: Uuid },
    /// Drop a dead letter for good.
    Discard { id: Uuid },
}

#[derive(Debug, Subcommand)]
enum BusCommand {
    /// Send again every event published since a time (RFC 3339), e.g. after the broker
    /// lost messages; consumers ignore what they already handled.
    Republish {
        #[arg(long, value_parser = parse_time)]
        since: OffsetDateTime,
    },
}

#[derive(Debug, Subcommand)]
enum ReportsCommand {
    /// Make every report counter again from the journal of the events they were counted
    /// from, in one transaction (a running server's reports stay consistent meanwhile).
    Rebuild,
}

#[derive(Debug, Subcommand)]
enum SearchCommand {
    /// Build the search index again from what search recorded of the catalogue, its stock
    /// and ratings. Stop a server using the same data dir first: the index has one writer.
    Reindex,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Outbox -> relay -> consumer throughput and latency, embedded and on NATS.
    Bus(crate::bench::bus::BusBench),
    /// Checkout throughput and latency over HTTP, beside the HTTP ceiling of the same run.
    Checkout(crate::bench::checkout::CheckoutBench),
    /// Menu and order reads over HTTP, beside the HTTP ceiling of the same run.
    Read(crate::bench::read::ReadBench),
    /// A trivial upstream asked directly, through `ordo gateway` and through Envoy.
    Gateway(crate::bench::gateway::GatewayBench),
    /// The operators' report over a large history, beside the HTTP ceiling of the same run.
    Reports(crate::bench::reports::ReportsBench),
    /// Search over a large catalogue, beside the HTTP ceiling of the same run; index build
    /// and how soon a change is searchable.
    Search(crate::bench::search::SearchBench),
    /// Courier position reports per second over HTTP, beside `GET /healthz`.
    Locations(crate::bench::delivery::LocationsBench),
    /// From a merchant's accept to the offer visible to the nearest courier, with
    /// thousands of couriers online.
    Dispatch(crate::bench::delivery::DispatchBench),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an administrator (the only way to make one).
    Create {
        #[arg(long)]
        email: String,
        /// The password; read from standard input when omitted.
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Sign new tokens with a fresh key; tokens signed by the old one stay valid until
    /// they expire. A running server picks the change up within seconds.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print it, secrets redacted.
    Check,
}

/// Runs the command line.
///
/// # Errors
/// Whatever stopped the command; printed by `main`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let (listen, run) = match &cli.command {
        Command::Serve {
            listen, services, ..
        } => (*listen, services.clone()),
        Command::Gateway { listen } | Command::Probe { listen, .. } => (*listen, Vec::new()),
        _ => (None, Vec::new()),
    };
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        listen,
        log_format: cli.log_format,
        run,
    };
    let mut config = Config::load(cli.config.as_deref(), &overrides)?;
    // A measurement measures the platform, not its logging: no line per request meanwhile;
    // a health check, every few seconds, says only what it found.
    if matches!(
        cli.command,
        Command::Sim(_) | Command::Bench { .. } | Command::Probe { .. }
    ) {
        config.log_level = "warn".into();
    }
    // Migrations, dead letters, reports and the rest act on every service, wherever each
    // is served.
    if !matches!(cli.command, Command::Serve { .. }) {
        config.run.clear();
    }
    let _telemetry = crate::logging::init(&config)?;
    // A server's connections, and a simulated city's, need more than the default soft limit.
    ordo_http::overload::raise_open_files_limit();

    match cli.command {
        Command::Serve { demo, sim, .. } => serve(config, demo, sim).await,
        Command::Gateway { .. } => {
            let file = cli.config.clone();
            let reread = move || Ok(Config::load(file.as_deref(), &overrides)?);
            crate::edge::run(config, Box::new(reread)).await
        }
        Command::Sim(args) => crate::sim::run(args).await,
        Command::Probe { live, .. } => crate::probe::probe(&config, live).await,
        Command::Backup { to } => crate::backup::backup(&config, &to).await,
        Command::Restore { from } => crate::backup::restore(&config, &from).await,
        Command::Demo => {
            let platform = Platform::open(config).await?;
            load_demo(&platform).await
        }
        Command::Migrate => {
            let platform = Platform::open(config).await?;
            for name in platform.databases().keys() {
                println!("{name}: up to date");
            }
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Create { email, password },
        } => {
            let password = match password {
                Some(password) => password,
                None => read_password()?,
            };
            let platform = Platform::open(config).await?;
            let user = platform
                .service::<ordo_identity::Identity>()?
                .create_admin(&email, &password)
                .await
                .map_err(|error| match error {
                    ordo_identity::AppError::Invalid(violations) => anyhow::anyhow!("{violations}"),
                    other => anyhow::Error::new(other),
                })?;
            println!("created administrator {} ({})", user.email, user.id);
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let retain = std::time::Duration::from_secs(
                config.identity.access_token_ttl_secs + ordo_http::auth::LEEWAY_SECONDS,
            );
            let path = config.keys_file();
            if !path.exists() {
                ordo_identity::Keyring::open(&path, retain)?;
            }
            let kid = ordo_identity::Keyring::rotate(&path, retain)?;
            println!(
                "now signing with key {kid}; previous keys stay valid for {} s",
                retain.as_secs()
            );
            Ok(())
        }
        Command::Dlq { command } => dead_letters(config, command).await,
        Command::Bus {
            command: BusCommand::Republish { since },
        } => {
            let platform = Platform::open(config).await?;
            let mut total = 0;
            for (name, db) in platform.databases() {
                let count = ordo_bus::republish(db, since).await?;
                println!("{name}: {count} events to send again");
                total += count;
            }
            println!("{total} events marked; a running server sends them within a second");
            Ok(())
        }
        Command::Reports {
            command: ReportsCommand::Rebuild,
        } => {
            let platform = Platform::open(config).await?;
            let facts = platform
                .service::<ordo_analytics::Analytics>()?
                .rebuild()
                .await
                .map_err(anyhow::Error::new)?;
            println!("reports rebuilt from {facts} journaled facts");
            Ok(())
        }
        Command::Search {
            command: SearchCommand::Reindex,
        } => {
            let platform = Platform::open(config).await?;
            let started = std::time::Instant::now();
            let documents = platform
                .service::<ordo_search::Search>()?
                .rebuild()
                .await
                .map_err(anyhow::Error::new)?;
            println!(
                "search index rebuilt: {documents} documents in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Reports(args),
        } => crate::bench::reports::run(args).await,
        Command::Bench {
            command: BenchCommand::Search(args),
        } => crate::bench::search::run(args).await,
        Command::Bench {
            command: BenchCommand::Bus(args),
        } => crate::bench::bus::run(args).await,
        Command::Bench {
            command: BenchCommand::Checkout(args),
        } => crate::bench::checkout::run(args).await,
        Command::Bench {
            command: BenchCommand::Gateway(args),
        } => crate::bench::gateway::run(args).await,
        Command::Bench {
            command: BenchCommand::Read(args),
        } => crate::bench::read::run(args).await,
        Command::Bench {
            command: BenchCommand::Locations(args),
        } => crate::bench::delivery::locations(args).await,
        Command::Bench {
            command: BenchCommand::Dispatch(args),
        } => crate::bench::delivery::dispatch(args).await,
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            println!("{}", serde_json::to_string_pretty(&config)?);
            eprintln!("configuration is valid");
            Ok(())
        }
    }
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time such as 2026-11-23T10:00:00Z: {e}"))
}

async fn dead_letters(config: Config, command: DlqCommand) -> anyhow::Result<()> {
    let platform = Platform::open(config).await?;
    let letters = ordo_bus::DeadLetters::new(platform.databases().values().cloned().collect());
    match command {
        DlqCommand::List { consumer, limit } => {
            let page = PageRequest::parse(Some(limit), None)?;
            let page = letters.list(consumer.as_deref(), page).await?;
            if page.items.is_empty() {
                println!("no dead letters");
            }
            for letter in page.items {
                println!(
                    "{}  {}  {} {} (subject {})  {} attempts, dead at {}{}\n    {}",
                    letter.id,
                    letter.consumer,
                    letter.event_type,
                    letter.event_id,
                    letter.subject,
                    letter.attempts,
                    letter.dead_at,
                    if letter.replay_requested {
                        ", replay requested"
                    } else {
                        ""
                    },
                    letter.last_error
                );
            }
            Ok(())
        }
        DlqCommand::Replay { id } => {
            anyhow::ensure!(letters.replay(id).await?, "no dead letter {id}");
            println!("replay of {id} requested; a running server handles it within a second");
            Ok(())
        }
        DlqCommand::Discard { id } => {
            anyhow::ensure!(letters.discard(id).await?, "no dead letter {id}");
            println!("dead letter {id} discarded");
            Ok(())
        }
    }
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password given on standard input");
    Ok(password)
}

async fn load_demo(platform: &Platform) -> anyhow::Result<()> {
    let address = format!("http://{}", platform.config().listen);
    match crate::demo::load(platform).await? {
        Some(accounts) => println!("{}", crate::demo::table(&accounts, &address)),
        None => {
            println!("The demo city is already loaded; its passwords were printed when it was.")
        }
    }
    Ok(())
}

async fn serve(mut config: Config, demo: bool, sim: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let started = std::time::Instant::now();
    let address = listener.local_addr()?;
    // The port bound, not 0: links in messages lead here when no public_url is set.
    config.listen = address;
    tracing::info!(%address, "ordo is starting on http://{address}");
    // The same socket twice: one answers while the databases are opened, the other serves
    // the platform after; connections waiting in between go to the platform.
    let socket = listener.into_std()?;
    let starting = tokio::net::TcpListener::from_std(socket.try_clone()?)?;
    let listener = tokio::net::TcpListener::from_std(socket)?;
    let (opened, opened_rx) = tokio::sync::oneshot::channel::<()>();
    let answering = tokio::spawn(crate::ops::serve_while_starting(starting, async move {
        let _ = opened_rx.await;
    }));
    let platform = tokio::select! {
        platform = Platform::open(config) => platform?,
        () = shutdown_signal() => {
            tracing::info!("stopped while starting");
            return Ok(());
        }
    };
    if demo {
        load_demo(&platform).await?;
    }
    let _ = opened.send(());
    answering.await??;
    tracing::info!(
        %address,
        storage = if platform.config().database_url.is_some() { "postgres" } else { "sqlite" },
        data_dir = %platform.config().data_dir.display(),
        startup_ms = started.elapsed().as_millis(),
        "ordo is serving on {}://{address}",
        if platform.config().http.tls_cert_file.is_some() { "https" } else { "http" }
    );
    if sim {
        tokio::spawn(crate::sim::gentle(address));
    }
    platform.serve(listener, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
