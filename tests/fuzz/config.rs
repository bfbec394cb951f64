//! The fuzz targets' proptest configuration: a short round unless `JOINCHECK_FUZZ_CASES` asks
//! for more cases.

use proptest::test_runner::Config;

/// `short` cases, or `JOINCHECK_FUZZ_CASES`; no failure files written into the tree.
pub fn config(short: u32) -> Config {
    let cases = std::env::var("JOINCHECK_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(short);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}
