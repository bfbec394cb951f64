//! The files a check writes besides its report: every counterexample under `--out DIR`, and the
//! Markdown report appended to GitHub's job summary.

use super::outcome::Outcome;
use crate::cli::output;
use joincheck::trace;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
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
/// `.txt`, each whole or not at all, and notes the replay file in the outcome. Returns false when
/// a file could not be written: that is noted for the run's last line ([`output::unwritten`]),
/// the counterexample stays in the report, and the run ends with exit 2.
pub fn save_counterexample(out: &Path, outcome: &mut Outcome) -> bool {
    let (Some(found), Some(file)) = (outcome.verdict.counterexample(), &outcome.file) else {
        return true;
    };
    let stem = outcome.file_stem();
    let json_path = out.join(format!("{stem}.json"));
    let hint = format!("joincheck replay {}", json_path.display());
    let json = format!("{:#}\n", file.to_json());
    let saved = output::write_whole(&json_path, json.as_bytes()).and_then(|()| {
        let trace = trace::text(found, Some(&hint));
        output::write_whole(&out.join(format!("{stem}.txt")), trace.as_bytes())
    });
    match saved {
        Ok(()) => {
            outcome.replay_file = Some(json_path);
            true
        }
        Err(message) => {
            output::unwritten(format!("the counterexample file {message}"));
            false
        }
    }
}

/// Appends the Markdown report to the GitHub job summary, when running in GitHub Actions. The
/// report starts on a line of its own even when an earlier step left the file without a final
/// newline: Markdown would otherwise glue its heading to that line. It is appended whole or not
/// at all: a failed write is cut back off, and noted for the run's last line.
pub fn append_step_summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|path| !path.is_empty()) else {
        return;
    };
    let path = PathBuf::from(path);
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| {
            let before = file.metadata()?.len();
            let ends_mid_line = before > 0 && {
                let mut last = [0];
                file.seek(SeekFrom::Start(before - 1))?;
                file.read_exact(&mut last)?;
                last[0] != b'\n'
            };
            let separator = if ends_mid_line { "\n" } else { "" };
            let written = file
                .write_all(format!("{separator}{markdown}\n").as_bytes())
                .and_then(|()| file.sync_all());
            if written.is_err() {
                let _ = file.set_len(before);
            }
            written
        });
    if let Err(error) = appended {
        output::unwritten(format!(
            "the report to GITHUB_STEP_SUMMARY ({}): {error}",
            path.display()
        ));
    }
}
