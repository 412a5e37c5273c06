//! Runs the offline sandbox until Ctrl-C or SIGTERM: `cargo run --example sandbox -- [PORT] [STATE_FILE]`.
//!
//! Prints the base URL and an `OPENTRAIN_API_BASE_URL=...` line on stdout, and on stderr the
//! one-time link a person opens to sign in to the human pages (approvals, checkout, claim,
//! settings). CI starts it to run schemathesis against a live server (scripts/schemathesis.sh).

use opentrain_sandbox::{Sandbox, SandboxOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port = match args.next() {
        Some(p) => p.parse().map_err(|_| format!("PORT must be a number, got {p:?}"))?,
        None => 0,
    };
    let options = SandboxOptions { port, state_file: args.next().map(Into::into), ..Default::default() };
    let sandbox = Sandbox::start(options).await?;
    println!("OpenTrain sandbox listening on {}", sandbox.base_url());
    println!("OPENTRAIN_API_BASE_URL={}", sandbox.base_url());
    eprintln!("{}", sandbox.sign_in_notice());
    // Either signal writes the state file before exiting.
    sandbox.serve_until_stopped().await?;
    Ok(())
}
