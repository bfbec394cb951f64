//! Files a command reads, where `-` is standard input (`replay -`, `check --workload -`).

use std::io::Read as _;
use std::path::Path;

/// Whether `file` means standard input.
pub fn is_stdin(file: &Path) -> bool {
    file.as_os_str() == "-"
}

/// `file` as a message names it.
pub fn name(file: &Path) -> String {
    match is_stdin(file) {
        true => "standard input".to_string(),
        false => file.display().to_string(),
    }
}

/// The text of `file`, or of standard input for `-`.
pub fn read(file: &Path) -> std::io::Result<String> {
    if !is_stdin(file) {
        return std::fs::read_to_string(file);
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    Ok(text)
}
