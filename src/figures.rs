//! How every report writes a count: one thousands separator (`27,632`) and the right plural
//! (`1 run`, `2,000 runs`, `1 history`, `3,350 histories`), in every engine and command.

pub use joincheck_models::thousands;

/// `n` with its noun: `1 run`, `2,000 runs`; a noun ending in a consonant and `y` takes `ies`
/// (`1 history`, `2 histories`).
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    let plural = match noun.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{noun}s"),
    };
    format!("{} {plural}", thousands(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_separators_and_plurals() {
        assert_eq!(count(1, "run"), "1 run");
        assert_eq!(count(0, "run"), "0 runs");
        assert_eq!(count(27_632, "execution"), "27,632 executions");
        assert_eq!(count(1, "history"), "1 history");
        assert_eq!(count(4_700, "history"), "4,700 histories");
        assert_eq!(count(2, "day"), "2 days");
        assert_eq!(count(3, "distinct state"), "3 distinct states");
    }
}
