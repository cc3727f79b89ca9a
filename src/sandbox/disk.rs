//! Disk use of a job root: bytes allocated and entries, without following symbolic links.
//!
//! Unprivileged code cannot get a per-directory quota, so the supervisor measures the root
//! a few times a second and ends the run once a cap is passed. A directory the job made
//! unreadable (`chmod 000`) is given back its owner's rights first: the job cannot hide
//! bytes from the count that way.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What was counted, and whether a cap stopped the count early.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DiskUse {
    pub bytes: u64,
    pub entries: u64,
    /// The largest regular file's length.
    pub largest_file: u64,
}

/// Measures `root`, stopping as soon as `max_bytes` or `max_entries` is exceeded.
pub fn measure(root: &Path, max_bytes: u64, max_entries: u64) -> DiskUse {
    let mut used = DiskUse::default();
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                if restore_owner_rights(&dir).is_err() {
                    continue;
                }
                match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(_) => continue,
                }
            }
            Err(_) => continue,
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            used.entries += 1;
            used.bytes += meta.blocks() * 512;
            if meta.is_file() {
                used.largest_file = used.largest_file.max(meta.len());
            }
            if used.bytes > max_bytes || used.entries > max_entries {
                return used;
            }
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    used
}

/// `chmod u+rwx` on a directory (never through a symbolic link).
pub fn restore_owner_rights(dir: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Ok(());
    }
    let mode = meta.permissions().mode() | 0o700;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bytes_and_entries_and_stops_at_the_cap() {
        let root = std::env::temp_dir().join(format!("tw-disk-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/f"), vec![1u8; 100_000]).unwrap();
        std::os::unix::fs::symlink("/usr", root.join("link")).unwrap();
        let used = measure(&root, u64::MAX, u64::MAX);
        assert_eq!(used.entries, 4);
        assert_eq!(used.largest_file, 100_000);
        assert!(used.bytes >= 100_000, "{used:?}");
        assert!(measure(&root, 10, u64::MAX).bytes > 10);
        assert_eq!(measure(&root, u64::MAX, 1).entries, 2);
        // Unreadable directories are opened up and counted.
        std::fs::set_permissions(root.join("a"), std::fs::Permissions::from_mode(0o000)).unwrap();
        assert_eq!(measure(&root, u64::MAX, u64::MAX).entries, 4);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
