//! `joincheck explore`: stateright's Explorer (a web UI) over one protocol model.
//!
//! The model is `joincheck_models::StaterightModel`: the same transitions the checker explores,
//! with actions shown as `server-1 check sue → team-A` and each step as the database operation
//! and its answer. stateright serves it on a local port of its own; the user's port is served by
//! the [`proxy`], which adds what stateright's answers lack.

mod proxy;

use super::interrupt;
use super::protocol_arg::OneProtocol;
use super::sizes::SizeArgs;
use clap::Args;
use joincheck_models::{requests_in_words, ProtocolModel, StaterightModel};
use stateright::Model;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Arguments of `joincheck explore`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  joincheck explore --protocol naive --port 3000          then open http://127.0.0.1:3000/
  joincheck explore --protocol event-sourced --servers 3 --lazy
  joincheck explore --protocol lease-lock --leaves

/.status gives max_depth in steps, as `check` does (stateright itself counts the states on the
path, the initial state too, one more).

Stopping: Ctrl-C, SIGTERM or SIGHUP ends it (exit 128 + the signal), even when a script started
it in the background.

Exit status: 2 bad usage, or a port that cannot be served; otherwise it serves until stopped.")]
pub struct ExploreArgs {
    /// The protocol to explore. Example: --protocol naive
    #[arg(long, value_name = "NAME", value_enum)]
    protocol: OneProtocol,
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
    /// Let each request be a join or a leave (of any user from any team), not only a join, as
    /// `check --leaves` does. Example: --leaves
    #[arg(long)]
    leaves: bool,
}

/// Runs `joincheck explore`; serves until the process is stopped.
pub fn run(args: &ExploreArgs) -> Result<i32, String> {
    let protocol = args.protocol.0;
    let sizes = args.sizes.sizes()?;
    let model = ProtocolModel::try_new(protocol, sizes).map_err(|error| error.to_string())?;
    let model = match args.leaves {
        true => model.with_leaves().map_err(|error| error.to_string())?,
        false => model,
    };
    let what = format!("{sizes}{}", requests_in_words(args.leaves));
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = TcpListener::bind(address)
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    // stateright's server panics on a port it cannot bind: take a free one, then hand it over.
    let backend = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|free| free.local_addr())
        .map_err(|error| format!("cannot find a local port for the Explorer: {error}"))?;
    interrupt::end_on_signal();
    println!("Explorer for {protocol} at {what}: http://{address}/ (Ctrl-C to stop)");
    if !args.lazy {
        println!("exploring every state in the background; discoveries appear at /.status");
        std::thread::spawn(move || run_to_completion(backend));
    }
    let _ = std::io::stdout().flush();
    std::thread::spawn(move || {
        let _checker = StaterightModel::of(model).checker().serve(backend);
    });
    proxy::serve(listener, backend, format!("{protocol} · {what}"));
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
