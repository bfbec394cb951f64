//! Flags that no engine of this run uses (`--symmetry` with `--engine shuttle`, `--iterations`
//! with `--engine model`): accepted, since a script may pass them to every run, but named in one
//! line on stderr, so that nobody believes they changed the result.

use joincheck_models::verdict::Engine;

/// Each engine-specific flag (by clap's id) with the engines that use it.
const USED_BY: [(&str, &[Engine]); 10] = [
    (
        "database",
        &[Engine::Loom, Engine::Shuttle, Engine::Proptest],
    ),
    ("symmetry", &[Engine::Model]),
    ("leaves", &[Engine::Model]),
    ("threads", &[Engine::Model]),
    ("max_states", &[Engine::Model]),
    ("max_memory", &[Engine::Model]),
    ("preemption_bound", &[Engine::Loom]),
    ("iterations", &[Engine::Shuttle]),
    ("seed", &[Engine::Shuttle, Engine::Proptest]),
    ("cases", &[Engine::Proptest]),
];

/// The warning for the flags in `given` (clap ids) that none of `engines` uses, if any.
pub fn warning(given: &[String], engines: &[Engine]) -> Option<String> {
    let ignored: Vec<String> = USED_BY
        .iter()
        .filter(|(id, users)| {
            given.iter().any(|g| g == id) && !users.iter().any(|u| engines.contains(u))
        })
        .map(|(id, users)| {
            let names: Vec<&str> = users.iter().map(|engine| engine.name()).collect();
            format!("--{} ({} only)", id.replace('_', "-"), names.join(" and "))
        })
        .collect();
    if ignored.is_empty() {
        return None;
    }
    Some(format!(
        "ignoring {}: no engine that uses {} runs here",
        ignored.join(", "),
        if ignored.len() == 1 { "it" } else { "them" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_flags_of_engines_that_do_not_run_are_named() {
        let given = ["symmetry", "threads", "seed", "timeout"].map(String::from);
        assert_eq!(
            warning(&given, &[Engine::Shuttle]).as_deref(),
            Some(
                "ignoring --symmetry (model only), --threads (model only): no engine that uses \
                 them runs here"
            )
        );
        assert_eq!(warning(&given, &[Engine::Model, Engine::Proptest]), None);
        assert_eq!(
            warning(&given, &[Engine::Model]).as_deref(),
            Some("ignoring --seed (shuttle and proptest only): no engine that uses it runs here")
        );
    }
}
