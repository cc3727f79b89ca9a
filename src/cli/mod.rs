//! Subcommands other than `run`.

use crate::tasks::REGISTRY;

/// `task-worker tasks`: the registered tasks and their defaults.
pub fn print_tasks() {
    println!("{:<26} {:>9} {:>8}  SUMMARY", "TASK", "TIMEOUT", "RETRIES");
    for t in REGISTRY {
        let timeout = t
            .default_timeout
            .map(|s| format!("{s}s"))
            .unwrap_or_else(|| "180s".into());
        println!(
            "{:<26} {:>9} {:>8}  {}",
            t.name, timeout, t.default_retries, t.summary
        );
    }
}
