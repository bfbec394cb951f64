//! The value of `--timeout` (`check`, `conform`, `stress`): seconds, as a positive number that a
//! clock can reach.

use std::time::Duration;

/// The most seconds `--timeout` takes: about 31 years, far beyond any run, and well inside what
/// a `Duration` and the engines' clocks handle.
const MAX_SECONDS: f64 = 1e9;

/// `--timeout SECS`, or why not.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(format!("{text} seconds: the timeout must be positive"));
    }
    if seconds > MAX_SECONDS {
        return Err(format!(
            "{text} seconds is too large: the timeout is at most 1,000,000,000 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_itself_is_taken() {
        assert_eq!(seconds("1e9"), Ok(Duration::from_secs(1_000_000_000)));
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert!(seconds("inf").unwrap_err().contains("too large"));
        assert!(seconds("NaN").unwrap_err().contains("must be positive"));
    }
}
