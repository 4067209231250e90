//! The `ordo` binary as the tests run it: a command on a data dir and backend, and a server
//! on a free port that is killed if a test fails before stopping it.

use ordo_testkit::Backend;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `ordo` on `data_dir` and `backend`, with none of the caller's `ORDO_*` settings.
pub fn ordo(backend: &Backend, data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ordo"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .current_dir(data_dir)
        .env_remove("RUST_LOG")
        .env("ORDO_LOG_LEVEL", "info");
    for (key, _) in
        std::env::vars().filter(|(k, _)| k.starts_with("ORDO_") && k != "ORDO_LOG_LEVEL")
    {
        command.env_remove(key);
    }
    if let Backend::Postgres { url, schema_prefix } = backend {
        command
            .env("ORDO_DATABASE_URL", url)
            .env("ORDO_DATABASE_SCHEMA_PREFIX", schema_prefix);
    }
    command
}

/// A running `ordo serve`, killed if a test fails before stopping it.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` serving on a free port and returns it with its base URL.
pub fn listen(command: Command) -> (Server, String) {
    serving(command, "serve", "ordo is serving on ")
}

/// Runs `ordo {subcommand}` of `command` on a free port until its log says `serving` and
/// the address; returns it with that base URL.
pub fn serving(mut command: Command, subcommand: &str, serving: &str) -> (Server, String) {
    let mut child = command
        .args([subcommand, "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("ordo {subcommand} exited before listening"))
            .unwrap();
        if let Some(rest) = line.split(serving).nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Server(child), url)
}

/// Stops `server` with SIGTERM and checks that it shut down cleanly.
pub fn terminate(server: &mut Server) {
    let status = Command::new("kill")
        .arg(server.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.0.wait().unwrap();
    assert!(exit.success(), "a SIGTERM shutdown is clean: {exit:?}");
}
