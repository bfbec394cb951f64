//! The memory the machine lets this process have, from every limit that applies: what the
//! machine has available (`MemAvailable`), the room under the address-space limit (`ulimit -v`,
//! `RLIMIT_AS`) and the room under the memory limit of each cgroup the process is in (version 2
//! `memory.max`, version 1 `memory.limit_in_bytes`, ancestors included). Read from `/proc` and
//! `/sys` as text; elsewhere none is known.

use std::path::{Path, PathBuf};

/// One limit and the room it leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The memory available on the machine (`MemAvailable`).
    Available,
    /// The address-space limit, less what the process has mapped.
    AddressSpace,
    /// A cgroup's memory limit, less what the cgroup uses (page cache it may drop aside).
    Cgroup,
}

impl Limit {
    /// The limit in words: `the address-space limit (ulimit -v)`.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Available => "the memory available (MemAvailable)",
            Limit::AddressSpace => "the address-space limit (ulimit -v)",
            Limit::Cgroup => "the cgroup's memory limit",
        }
    }
}

/// The tightest limit that applies, and the bytes it leaves; `None` where none is known.
pub fn tightest() -> Option<(Limit, u64)> {
    let read = |path: &Path| std::fs::read_to_string(path).ok();
    let proc_file = |name: &str| read(&Path::new("/proc").join(name));
    [
        (
            Limit::Available,
            proc_file("meminfo").and_then(|m| available(&m)),
        ),
        (
            Limit::AddressSpace,
            proc_file("self/limits")
                .zip(proc_file("self/status"))
                .and_then(|(limits, status)| address_space_room(&limits, &status)),
        ),
        (
            Limit::Cgroup,
            proc_file("self/cgroup")
                .zip(proc_file("self/mountinfo"))
                .and_then(|(cgroups, mounts)| cgroup_room(&cgroups, &mounts, read)),
        ),
    ]
    .into_iter()
    .filter_map(|(limit, room)| room.map(|room| (limit, room)))
    .min_by_key(|(_, room)| *room)
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn available(meminfo: &str) -> Option<u64> {
    kilobytes(meminfo, "MemAvailable:")
}

/// The field `name` of a `/proc` file in kB (`VmSize:  3892 kB`), in bytes.
fn kilobytes(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(name))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kilobytes.checked_mul(1024)
}

/// The soft address-space limit of `/proc/self/limits` less the process's `VmSize`; `None`
/// when unlimited.
fn address_space_room(limits: &str, status: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max address space"))?;
    let soft: u64 = line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(soft.saturating_sub(kilobytes(status, "VmSize:")?))
}

/// A cgroup limit this large is no limit (version 1 writes "unlimited" as about 2^63).
const UNLIMITED: u64 = 1 << 62;

/// The least room any memory cgroup of the process leaves: for each hierarchy that has the
/// memory controller (version 2, or version 1's `memory`), the process's cgroup and each of its
/// ancestors, as mounted. `read` reads a file.
fn cgroup_room(
    cgroups: &str,
    mountinfo: &str,
    read: impl Fn(&Path) -> Option<String>,
) -> Option<u64> {
    let mut least: Option<u64> = None;
    for line in cgroups.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let version_2 = id == "0" && controllers.is_empty();
        if !version_2 && !controllers.split(',').any(|c| c == "memory") {
            continue;
        }
        let Some((root, mount)) = mount_of(mountinfo, version_2) else {
            continue;
        };
        for dir in ancestors(path, &root, &mount) {
            if let Some(room) = room_in(&dir, version_2, &read) {
                least = Some(least.map_or(room, |least| least.min(room)));
            }
        }
    }
    least
}

/// Where the memory hierarchy is mounted: (the cgroup its mount shows as its root, the mount
/// point), from `/proc/self/mountinfo`.
fn mount_of(mountinfo: &str, version_2: bool) -> Option<(String, PathBuf)> {
    mountinfo.lines().find_map(|line| {
        let (mount, filesystem) = line.split_once(" - ")?;
        let mount: Vec<&str> = mount.split(' ').collect();
        let filesystem: Vec<&str> = filesystem.split(' ').collect();
        let (root, point) = (mount.get(3)?, mount.get(4)?);
        let fits = match version_2 {
            true => filesystem.first() == Some(&"cgroup2"),
            false => {
                filesystem.first() == Some(&"cgroup")
                    && filesystem
                        .get(2)?
                        .split(',')
                        .any(|option| option == "memory")
            }
        };
        fits.then(|| (root.to_string(), PathBuf::from(point)))
    })
}

/// The directories of the cgroup at `path` and of its ancestors under the mount of `root` at
/// `mount`, deepest first; the mount point itself last.
fn ancestors(path: &str, root: &str, mount: &Path) -> Vec<PathBuf> {
    let below = path.strip_prefix(root).unwrap_or(path).trim_matches('/');
    let parts: Vec<&str> = below.split('/').filter(|part| !part.is_empty()).collect();
    (0..=parts.len())
        .rev()
        .map(|depth| {
            parts[..depth]
                .iter()
                .fold(mount.to_path_buf(), |dir, part| dir.join(part))
        })
        .collect()
}

/// The room the memory limit of the cgroup at `dir` leaves, if it has one.
fn room_in(dir: &Path, version_2: bool, read: &impl Fn(&Path) -> Option<String>) -> Option<u64> {
    let (limit, usage, inactive) = match version_2 {
        true => ("memory.max", "memory.current", "inactive_file"),
        false => (
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
            "total_inactive_file",
        ),
    };
    let number = |name: &str| read(&dir.join(name))?.trim().parse::<u64>().ok();
    let limit = number(limit).filter(|limit| *limit < UNLIMITED)?;
    let usage = number(usage).unwrap_or(0);
    // Page cache the kernel reclaims before it kills: not memory the cgroup lacks.
    let inactive = read(&dir.join("memory.stat"))
        .and_then(|stat| {
            stat.lines()
                .find_map(|line| line.strip_prefix(inactive)?.trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    Some(limit.saturating_sub(usage.saturating_sub(inactive)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A filesystem of a few files.
    fn files(entries: &[(&str, &str)]) -> impl Fn(&Path) -> Option<String> {
        let files: HashMap<PathBuf, String> = entries
            .iter()
            .map(|(path, text)| (PathBuf::from(path), text.to_string()))
            .collect();
        move |path: &Path| files.get(path).cloned()
    }

    #[test]
    fn the_address_space_limit_leaves_what_is_not_mapped() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max address space         2048000000           unlimited            bytes\n";
        let status = "Name:\tjoincheck\nVmSize:\t    3892 kB\n";
        assert_eq!(
            address_space_room(limits, status),
            Some(2_048_000_000 - 3892 * 1024)
        );
        let unlimited = limits.replace("2048000000", "unlimited ");
        assert_eq!(address_space_room(&unlimited, status), None);
        assert_eq!(
            available("MemTotal: 10 kB\nMemAvailable:   2048 kB\n"),
            Some(2 << 20)
        );
    }

    #[test]
    fn a_version_2_cgroup_and_its_ancestors_limit_the_room() {
        let cgroups = "0::/jobs/ci\n";
        let mountinfo = "31 23 0:28 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n";
        let read = files(&[
            ("/sys/fs/cgroup/jobs/ci/memory.max", "max\n"),
            ("/sys/fs/cgroup/jobs/memory.max", "1073741824\n"),
            ("/sys/fs/cgroup/jobs/memory.current", "536870912\n"),
            (
                "/sys/fs/cgroup/jobs/memory.stat",
                "anon 1\ninactive_file 268435456\n",
            ),
        ]);
        // 1 GiB, less 512 MiB used of which 256 MiB is cache it may drop.
        assert_eq!(cgroup_room(cgroups, mountinfo, read), Some(768 << 20));
    }

    #[test]
    fn a_version_1_memory_cgroup_limits_the_room_where_it_is_mounted() {
        let cgroups = "9:name=systemd:/\n4:memory:/process_api/run\n0::/\n";
        let mountinfo = "\
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        let read = files(&[
            (
                "/sys/fs/cgroup/memory/process_api/run/memory.limit_in_bytes",
                "314572800\n",
            ),
            (
                "/sys/fs/cgroup/memory/process_api/run/memory.usage_in_bytes",
                "741376\n",
            ),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
        ]);
        assert_eq!(
            cgroup_room(cgroups, mountinfo, read),
            Some(314_572_800 - 741_376)
        );
        // In a container the mount shows the cgroup itself as its root.
        let mountinfo =
            "35 31 0:32 /process_api/run /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        let read = files(&[("/sys/fs/cgroup/memory/memory.limit_in_bytes", "1048576\n")]);
        assert_eq!(cgroup_room(cgroups, mountinfo, read), Some(1 << 20));
        // No memory controller mounted: no limit known.
        assert_eq!(cgroup_room(cgroups, "", files(&[])), None);
    }
}
