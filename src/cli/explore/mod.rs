//! `joincheck explore`: stateright's Explorer (a web UI) over one protocol model.
//!
//! The model is `joincheck_models::StaterightModel`: the same transitions the checker explores,
//! with actions shown as `server-1 check sue → team-A` and each step as the database operation
//! and its answer. stateright serves it on a local port of its own; the user's port is served by
//! the [`proxy`], which adds what stateright's answers lack.

mod proxy;

use super::memory::{Budget, Bytes, PROCESS};
use super::output::thousands;
use super::protocol_arg::OneProtocol;
use super::sizes::SizeArgs;
use super::{interrupt, output};
use crate::cli::values::whole;
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

Exit status: 2 bad usage, a port that cannot be served, or a banner that cannot be written;
otherwise it serves until stopped.")]
pub struct ExploreArgs {
    /// The protocol to explore. Example: --protocol naive
    #[arg(long, value_name = "NAME", value_enum)]
    protocol: OneProtocol,
    #[command(flatten)]
    sizes: SizeArgs,
    /// The port on 127.0.0.1. Example: --port 3000
    #[arg(long, value_name = "P", default_value_t = 3000,
          value_parser = whole::<u16>(1, 65_535), allow_negative_numbers = true)]
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
    /// Stop exploring before the states stateright keeps outgrow this much memory (K, M, G, T or
    /// P) [default: half the room the tightest memory limit leaves]. Example: --max-memory 2G
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<Bytes>,
}

/// The memory stateright's on-demand checker takes per state it generates, with room to spare:
/// each new state waits to be expanded as a job (the state, 105 bytes, its fingerprint and the
/// path of action indices to it), and its fingerprint and parent stay in a map that doubles as it
/// fills. Measured (release, `VmHWM` less the process before exploring) at most 307 bytes per
/// generated state, on naive at 6,6,6,2, whose 222 successors a state keep many jobs waiting.
const BYTES_PER_EXPLORED_STATE: u64 = 512;

/// Runs `joincheck explore`; serves until the process is stopped.
pub fn run(args: &ExploreArgs) -> Result<i32, String> {
    let protocol = args.protocol.0;
    let sizes = args.sizes.sizes()?;
    let model = ProtocolModel::try_new(protocol, sizes).map_err(|error| error.to_string())?;
    let model = match args.leaves {
        true => model.with_leaves().map_err(|error| error.to_string())?,
        false => model,
    };
    // The sizes `check` refuses are those whose states outgrow what any machine explores.
    model.checkable().map_err(|too_big| too_big.to_string())?;
    let budget = Budget::new(args.max_memory);
    let most = budget.map(|budget| budget.room() / BYTES_PER_EXPLORED_STATE);
    if let (Some(budget), Some(0)) = (budget, most) {
        return Err(format!(
            "{} leaves no room for states beyond the process's own {}",
            budget.describe(),
            Bytes(PROCESS)
        ));
    }
    let what = format!("{sizes}{}", requests_in_words(args.leaves));
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = TcpListener::bind(address)
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    // stateright's server panics on a port it cannot bind: take a free one, then hand it over.
    let backend = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|free| free.local_addr())
        .map_err(|error| format!("cannot find a local port for the Explorer: {error}"))?;
    interrupt::end_on_signal();
    let mut banner =
        format!("Explorer for {protocol} at {what}: http://{address}/ (Ctrl-C to stop)\n");
    if !args.lazy {
        banner
            .push_str("exploring every state in the background; discoveries appear at /.status\n");
    }
    if let (Some(budget), Some(most)) = (budget, most) {
        banner.push_str(&format!(
            "exploring stops after {} generated states: {} has room for about that many\n",
            thousands(most),
            budget.describe()
        ));
    }
    output::emit(&banner);
    if output::stdout_failed() {
        // Nobody would learn where it serves: say so and end (the caller reports the line).
        return Ok(super::EXIT_USAGE);
    }
    if !args.lazy {
        std::thread::spawn(move || run_to_completion(backend));
    }
    if let Some(most) = most {
        std::thread::spawn(move || say_when_stopped(backend, most));
    }
    std::thread::spawn(move || {
        let checker = StaterightModel::of(model).checker();
        let checker = match most {
            Some(most) => checker.target_state_count(usize::try_from(most).unwrap_or(usize::MAX)),
            None => checker,
        };
        let _checker = checker.serve(backend);
    });
    let stopped = most.map(|most| Stopped {
        most,
        budget: budget.map(|budget| budget.describe()).unwrap_or_default(),
    });
    proxy::serve(listener, backend, format!("{protocol} · {what}"), stopped);
    Ok(super::EXIT_OK)
}

/// Where exploring stops: at `most` generated states, which `budget` (in words) has room for.
#[derive(Clone)]
pub struct Stopped {
    /// The states stateright may generate.
    pub most: u64,
    /// The budget, in words.
    pub budget: String,
}

impl Stopped {
    /// Why exploring stopped, once stateright has generated `generated` states: `None` before.
    pub fn why(&self, generated: u64) -> Option<String> {
        (generated >= self.most).then(|| {
            format!(
                "exploring stopped after {} generated states: {} has room for no more; what was \
                 found so far is listed, the states beyond were not explored",
                thousands(generated),
                self.budget
            )
        })
    }
}

/// Says on stderr, once, when stateright has generated `most` states and stopped exploring.
fn say_when_stopped(backend: SocketAddr, most: u64) {
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let Some(status) = proxy::status(backend) else {
            continue;
        };
        let generated = status["state_count"].as_u64().unwrap_or(0);
        if generated >= most {
            eprintln!(
                "joincheck: exploring stopped after {} generated states ({} distinct): the \
                 memory budget has room for no more; the Explorer serves what was found",
                thousands(generated),
                thousands(status["unique_state_count"].as_u64().unwrap_or(0))
            );
            return;
        }
        if status["done"] == true {
            return;
        }
    }
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
