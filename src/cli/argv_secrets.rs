//! No secret in an argument vector: any process of the machine can read another's
//! `/proc/<pid>/cmdline`, and the test runner or a submission could copy it. A password flag
//! (`--redis-password`, `--api-password`, `--postgres-password`) or a URL option with a password
//! in it (`--redis-url`, `--database-url`, `--api-url`) given **on the command line** is refused
//! before anything runs, with one line naming the variable (or `*_FILE`) to use instead. The
//! same settings from the environment or from `*_FILE` work as before.

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};

use super::args::Cli;

/// (argument id, flag, where to put it instead).
const PASSWORDS: &[(&str, &str, &str)] = &[
    (
        "redis_password",
        "--redis-password",
        "REDIS_PASSWORD or REDIS_PASSWORD_FILE",
    ),
    (
        "redis_sentinel_password",
        "--redis-sentinel-password",
        "REDIS_SENTINEL_PASSWORD or REDIS_SENTINEL_PASSWORD_FILE",
    ),
    (
        "api_password",
        "--api-password",
        "EXECUTION_BACKEND_API_PASSWORD or EXECUTION_BACKEND_API_PASSWORD_FILE",
    ),
    (
        "postgres_password",
        "--postgres-password",
        "POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE",
    ),
];

/// URL options whose value must carry no password on the command line.
const URLS: &[(&str, &str, &str)] = &[
    (
        "url",
        "-u/--url",
        "RQ_REDIS_URL or REDIS_URL (or their *_FILE forms), which `worker` reads without -u, or REDIS_PASSWORD",
    ),
    (
        "redis_url",
        "--redis-url",
        "REDIS_PASSWORD or REDIS_PASSWORD_FILE (or the whole URL in REDIS_URL or REDIS_URL_FILE)",
    ),
    (
        "database_url",
        "--database-url",
        "POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE (or the whole URL in POSTGRES_URL or POSTGRES_URL_FILE)",
    ),
    (
        "api_url",
        "--api-url",
        "EXECUTION_BACKEND_API_USER and EXECUTION_BACKEND_API_PASSWORD (or their *_FILE forms)",
    ),
];

/// `Err(one line)` when `argv` (program name first, `run` already inserted where implied)
/// carries a secret. A command line clap refuses anyway is left to the normal parse.
pub fn check(argv: &[std::ffi::OsString]) -> Result<(), String> {
    let Ok(matches) = Cli::command().try_get_matches_from(argv) else {
        return Ok(());
    };
    let mut level = Some(&matches);
    while let Some(m) = level {
        check_level(m)?;
        level = m.subcommand().map(|(_, sub)| sub);
    }
    Ok(())
}

fn from_command_line(m: &ArgMatches, id: &str) -> bool {
    m.ids().any(|i| i.as_str() == id) && m.value_source(id) == Some(ValueSource::CommandLine)
}

fn check_level(m: &ArgMatches) -> Result<(), String> {
    for (id, flag, instead) in PASSWORDS {
        if from_command_line(m, id) {
            return Err(format!(
                "{flag} is refused: on the command line a password can be read by every process of this machine (/proc/<pid>/cmdline); use {instead}"
            ));
        }
    }
    for (id, flag, instead) in URLS {
        if !from_command_line(m, id) {
            continue;
        }
        let has_password = m
            .get_one::<String>(id)
            .and_then(|raw| url::Url::parse(raw).ok())
            .is_some_and(|u| u.password().is_some());
        if has_password {
            return Err(format!(
                "{flag} with a password in it is refused: on the command line it can be read by every process of this machine (/proc/<pid>/cmdline); give the URL without it and use {instead}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::with_default_subcommand;

    fn argv(words: &[&str]) -> Vec<std::ffi::OsString> {
        let v = std::iter::once("task-worker")
            .chain(words.iter().copied())
            .map(Into::into)
            .collect();
        with_default_subcommand(v)
    }

    #[test]
    fn secrets_on_the_command_line_are_refused() {
        for (words, names) in [
            (
                &["--redis-password", "pw"][..],
                "use REDIS_PASSWORD or REDIS_PASSWORD_FILE",
            ),
            (
                &["--redis-password=pw", "status"][..],
                "REDIS_PASSWORD_FILE",
            ),
            (
                &["status", "--redis-password", "pw"][..],
                "REDIS_PASSWORD_FILE",
            ),
            (
                &["-q", "x", "--api-password", "pw"][..],
                "EXECUTION_BACKEND_API_PASSWORD_FILE",
            ),
            (
                &["health", "--redis-url", "redis://:pw@h:6379"][..],
                "REDIS_URL_FILE",
            ),
            (
                &["--redis-url", "redis://u:pw@h:6379", "status"][..],
                "REDIS_URL_FILE",
            ),
            (
                &["--database-url", "postgres://u:pw@h/db"][..],
                "POSTGRES_URL_FILE",
            ),
            (
                &["history", "--database-url=postgres://u:pw@h/db"][..],
                "POSTGRES_PASSWORD_FILE",
            ),
            (
                &["--api-url", "http://u:pw@h/api"][..],
                "EXECUTION_BACKEND_API_PASSWORD",
            ),
            (&["--postgres-password", "pw"][..], "POSTGRES_PASSWORD_FILE"),
            (&["worker", "-u", "redis://:pw@h:6379"][..], "RQ_REDIS_URL"),
        ] {
            let e = check(&argv(words)).unwrap_err();
            assert!(e.contains(names), "{words:?}: {e}");
            assert!(!e.contains("pw@"), "{e}");
            assert!(e.contains("/proc/<pid>/cmdline"), "{e}");
        }
    }

    #[test]
    fn urls_without_passwords_and_other_options_pass() {
        for words in [
            &["--redis-url", "redis://h:6379", "-q", "x"][..],
            &["--redis-url", "redis://user@h:6379"][..],
            &["--database-url", "postgres://postgres@127.0.0.1:5432/db"][..],
            &["status", "--json"][..],
            &["worker", "-u", "redis://h:6379", "q1"][..],
            &["--api-url", "http://h/api", "--api-user", "svc"][..],
            &["tasks"][..],
            // Left to the normal parse, which says what is wrong.
            &["--no-such-flag"][..],
        ] {
            assert_eq!(check(&argv(words)), Ok(()), "{words:?}");
        }
    }
}
