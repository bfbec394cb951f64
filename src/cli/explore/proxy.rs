//! The Explorer's front door. stateright's server answers without a `Content-Type` and names the
//! model by its Rust type (`StaterightModel`), which says neither the protocol nor the sizes; so
//! joincheck serves the user's port itself and passes each request on to stateright, on a port
//! of its own, adding the content type and naming the model in `/.status`.

use super::Stopped;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A request or response head larger than this is not one the Explorer makes or answers.
const MAX_HEAD: usize = 64 * 1024;

/// Serves `listener` forever, passing requests on to stateright at `backend`; `model` is what
/// `/.status` calls the model, and `stopped` where exploring stops.
pub fn serve(listener: TcpListener, backend: SocketAddr, model: String, stopped: Option<Stopped>) {
    for client in listener.incoming().flatten() {
        let (model, stopped) = (model.clone(), stopped.clone());
        std::thread::spawn(move || {
            let _ = answer(client, backend, &model, stopped.as_ref());
        });
    }
}

/// stateright's `/.status`, if it answers.
pub fn status(backend: SocketAddr) -> Option<Value> {
    let (_, body) = forward(backend, "GET", "/.status", &[]).ok()?;
    serde_json::from_slice(&body).ok()
}

/// One request: read it, ask stateright, answer with the content type (and the model's name).
fn answer(
    client: TcpStream,
    backend: SocketAddr,
    model: &str,
    stopped: Option<&Stopped>,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let (method, path, body) = read_request(&mut reader)?;
    // stateright answers GET only; HEAD is GET without the body (what `curl -I` and link
    // checkers send).
    let head = method == "HEAD";
    let asked = if head { "GET" } else { method.as_str() };
    let (status, mut content) = forward(backend, asked, &path, &body)?;
    if path == "/.status" {
        content = named(&content, model, stopped);
    }
    let mut client = client;
    write!(
        client,
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        content_type(&path),
        content.len()
    )?;
    if !head {
        client.write_all(&content)?;
    }
    client.flush()
}

/// The method, the path and the body of the request on `reader`.
fn read_request(reader: &mut impl BufRead) -> std::io::Result<(String, String, Vec<u8>)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let (method, path) = (words.next(), words.next());
    let (Some(method), Some(path)) = (method, path) else {
        return Err(std::io::Error::other("not an HTTP request"));
    };
    let (method, path) = (method.to_string(), path.to_string());
    let mut length = 0;
    let mut head = line.len();
    loop {
        let mut header = String::new();
        head += reader.read_line(&mut header)?;
        if header.trim().is_empty() || head > MAX_HEAD {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length.min(MAX_HEAD)];
    reader.read_exact(&mut body)?;
    Ok((method, path, body))
}

/// stateright's answer to the request: its status line's code and reason, and its body. HTTP/1.0,
/// so that stateright closes the connection after one response, which is then read to its end.
fn forward(
    backend: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(String, Vec<u8>)> {
    let mut stream = connect(backend)?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {backend}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("stateright's answer has no head"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_once(' '))
        .map_or("502 Bad Gateway", |(_, status)| status)
        .to_string();
    Ok((status, response[split + 4..].to_vec()))
}

/// A connection to stateright, which may still be starting: a request that comes first waits.
fn connect(backend: SocketAddr) -> std::io::Result<TcpStream> {
    let started = Instant::now();
    loop {
        match TcpStream::connect(backend) {
            Ok(stream) => return Ok(stream),
            Err(error) if started.elapsed() > Duration::from_secs(10) => return Err(error),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The content type of what stateright serves at `path`.
fn content_type(path: &str) -> &'static str {
    if path.starts_with("/.") {
        "application/json"
    } else if path.ends_with(".css") {
        "text/css; charset=utf-8"
    } else if path.ends_with(".js") {
        "text/javascript; charset=utf-8"
    } else {
        "text/html; charset=utf-8"
    }
}

/// `/.status` in `check`'s terms: `model` as the model's name instead of its Rust type,
/// `max_depth` in steps, where stateright counts the states on the path, the initial one too,
/// and `complete`: whether every state was explored, which stateright's `done` also says of an
/// exploration the memory budget stopped (`stopped` then says why).
fn named(status: &[u8], model: &str, stopped: Option<&Stopped>) -> Vec<u8> {
    match serde_json::from_slice::<Value>(status) {
        Ok(mut status) => {
            status["model"] = Value::String(model.to_string());
            if let Some(states) = status["max_depth"].as_u64() {
                status["max_depth"] = Value::from(states.saturating_sub(1));
            }
            let generated = status["state_count"].as_u64().unwrap_or(0);
            let why = stopped.and_then(|stopped| stopped.why(generated));
            status["complete"] = Value::Bool(why.is_none() && status["done"] == true);
            status["stopped"] = why.map_or(Value::Null, Value::String);
            status.to_string().into_bytes()
        }
        Err(_) => status.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_has_a_content_type_and_the_status_names_the_model() {
        assert_eq!(content_type("/"), "text/html; charset=utf-8");
        assert_eq!(content_type("/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("/.states/0/1"), "application/json");
        let status = br#"{"model":"joincheck_models::stateright_model::StaterightModel","done":true,"max_depth":5}"#;
        assert_eq!(
            named(status, "naive · 2 servers", None),
            r#"{"complete":true,"done":true,"max_depth":4,"model":"naive · 2 servers","stopped":null}"#
                .as_bytes()
        );
        let stopped = Stopped {
            most: 10,
            budget: "the memory budget of 1.0 KiB".to_string(),
        };
        let status = br#"{"done":true,"max_depth":5,"state_count":12}"#;
        let named: Value = serde_json::from_slice(&named(status, "m", Some(&stopped))).unwrap();
        assert_eq!(named["complete"], false);
        assert_eq!(
            named["stopped"],
            "exploring stopped after 12 generated states: the memory budget of 1.0 KiB has room \
             for no more; what was found so far is listed, the states beyond were not explored"
        );
    }
}
