//! `joincheck explore`: stateright's Explorer (a web UI) over one protocol model.
//!
//! The model is `joincheck_models::stateright_model`: the same transitions the checker explores,
//! with actions shown as `server-1 check sue → team-A` and each step as the database operation
//! and its answer.

use super::sizes::SizeArgs;
use clap::Args;
use joincheck::protocols;
use joincheck_models::stateright_model;
use stateright::Model;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Arguments of `joincheck explore`.
#[derive(Args, Debug)]
pub struct ExploreArgs {
    /// The protocol: naive, event-sourced, event-sourced-per-user or event-sourced-per-team.
    /// Example: --protocol naive
    #[arg(long, value_name = "NAME")]
    protocol: String,
    #[command(flatten)]
    sizes: SizeArgs,
    /// The port on 127.0.0.1. Example: --port 3000
    #[arg(long, value_name = "P", default_value_t = 3000,
          value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// Only compute states as they are clicked, instead of exploring every state in the
    /// background (which finds and lists the discoveries, such as naive's violation, at once).
    /// Example: --lazy
    #[arg(long)]
    lazy: bool,
}

/// Runs `joincheck explore`; serves until the process is stopped.
pub fn run(args: &ExploreArgs) -> Result<i32, String> {
    let protocol = protocols::named(&args.protocol)?;
    let sizes = args.sizes.sizes()?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    // stateright's server panics on a port it cannot bind: find out first, in one line.
    drop(
        TcpListener::bind(address)
            .map_err(|error| format!("cannot listen on {address}: {error}"))?,
    );
    println!("Explorer for {protocol} at {sizes}: http://{address}/ (Ctrl-C to stop)");
    if !args.lazy {
        println!("exploring every state in the background; discoveries appear at /.status");
        std::thread::spawn(move || run_to_completion(address));
    }
    let _ = std::io::stdout().flush();
    let _checker = stateright_model(protocol, sizes).checker().serve(address);
    Ok(super::EXIT_OK)
}

/// Asks the Explorer, once it answers, to explore every state.
fn run_to_completion(address: SocketAddr) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(mut stream) = TcpStream::connect(address) {
            let request = format!(
                "POST /.runtocompletion HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_end(&mut Vec::new());
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
