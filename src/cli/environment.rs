//! The command's flags set every engine setting. loom, shuttle and proptest also read variables
//! of their own (`LOOM_MAX_PREEMPTIONS`, `SHUTTLE_RANDOM_SEED`, `PROPTEST_CASES`, …), which would
//! change what a check covers without the report knowing, override a flag, or make an engine
//! panic on a value it cannot parse. So the command removes them before anything runs, child
//! processes included, and says which it ignored.

/// The prefixes of the variables loom, shuttle and proptest read.
const ENGINE_PREFIXES: [&str; 3] = ["LOOM_", "SHUTTLE_", "PROPTEST_"];

/// Removes the engines' variables from this process's environment; returns their names, sorted.
/// Call it before any thread starts: the environment is shared by the whole process.
pub fn remove_engine_variables() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| ENGINE_PREFIXES.iter().any(|p| name.starts_with(p)))
        .collect();
    names.sort();
    for name in &names {
        std::env::remove_var(name);
    }
    names
}

/// The warning for `names`, the variables removed: one line.
pub fn ignored_warning(names: &[String]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    Some(format!(
        "ignoring {}: joincheck's flags set every engine setting (see `joincheck check --help`)",
        names.join(", ")
    ))
}
