//! The files a check writes besides its report: every counterexample under `--out DIR`, and the
//! Markdown report appended to GitHub's job summary.

use super::outcome::Outcome;
use joincheck::trace;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Creates `--out` and makes sure a file can be written there, before any check runs.
pub fn prepare_out(out: &Path) -> Result<(), String> {
    let cannot =
        |error: std::io::Error| format!("cannot write to --out {}: {error}", out.display());
    std::fs::create_dir_all(out).map_err(cannot)?;
    let probe = out.join(".joincheck-write-test");
    std::fs::write(&probe, b"").map_err(cannot)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Writes the counterexample of `outcome`, if it has one, to `out` as `PROTOCOL-ENGINE.json` and
/// `.txt`, and notes the replay file in the outcome. Returns false when a file could not be
/// written: the counterexample is still in the report, and the run ends with exit 2.
pub fn save_counterexample(out: &Path, outcome: &mut Outcome) -> bool {
    let (Some(found), Some(file)) = (outcome.verdict.counterexample(), &outcome.file) else {
        return true;
    };
    let stem = outcome.file_stem();
    let json_path = out.join(format!("{stem}.json"));
    let hint = format!("joincheck replay {}", json_path.display());
    let saved = save(&json_path, &format!("{:#}\n", file.to_json())).and_then(|()| {
        save(
            &out.join(format!("{stem}.txt")),
            &trace::text(found, Some(&hint)),
        )
    });
    match saved {
        Ok(()) => {
            outcome.replay_file = Some(json_path);
            true
        }
        Err(message) => {
            eprintln!("joincheck: {message}; the counterexample is in the report");
            false
        }
    }
}

fn save(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// Appends the Markdown report to the GitHub job summary, when running in GitHub Actions. The
/// report starts on a line of its own even when an earlier step left the file without a final
/// newline: Markdown would otherwise glue its heading to that line.
pub fn append_step_summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|path| !path.is_empty()) else {
        return;
    };
    let ends_mid_line = std::fs::read(&path)
        .ok()
        .and_then(|contents| contents.last().copied())
        .is_some_and(|last| last != b'\n');
    let separator = if ends_mid_line { "\n" } else { "" };
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(format!("{separator}{markdown}\n").as_bytes()));
    if let Err(error) = appended {
        let path = PathBuf::from(path);
        eprintln!(
            "joincheck: could not append to GITHUB_STEP_SUMMARY ({}): {error}",
            path.display()
        );
    }
}
