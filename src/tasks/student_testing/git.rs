//! Repository URLs and cloning (ctutor-tasks.md §3.2 `url`, §3.3 "Clone" and "Auth URL").
//!
//! The auth URL carries the token: it only ever goes into git's argument vector, never into a
//! log line or an error text, and git's own output is scrubbed of the token before it is logged.

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;
use tracing::{info, warn};
use url::Url;

use super::models::Repository;
use super::runner::scrub_secret_env;
use crate::config::redact_url;
use crate::tasks::process::{self, describe_status, ProcessLimits, RunError};

/// Bytes of git's output kept for the log.
const GIT_OUTPUT_CAP: usize = 16 * 1024;

/// The backend's URL rule, Python `re.match` of
/// `(?:git|ssh|https?|git@[-\w.]+):(//)?(.*?)(\.git)(/?|#[-\d\w._]+?)$`: a known scheme (or
/// `git@host:`), then anything ending in `.git`, `.git/` or `.git#<ref>`. `file://` URLs pass
/// only when `allow_file` is set (§3.2 [ours]). Control characters are refused outright (Python's
/// `$` would let one trailing newline through; git could not use it).
pub fn url_is_valid(url: &str, allow_file: bool) -> bool {
    if url.chars().any(char::is_control) {
        return false;
    }
    let rest = if allow_file && url.starts_with("file://") {
        &url["file:".len()..]
    } else {
        match scheme_len(url) {
            Some(n) => &url[n..],
            None => return false,
        }
    };
    if rest.ends_with(".git") || rest.ends_with(".git/") {
        return true;
    }
    match rest.rfind('#') {
        Some(i) => {
            let frag = &rest[i + 1..];
            rest[..i].ends_with(".git")
                && !frag.is_empty()
                && frag.chars().all(|c| is_word(c) || c == '-' || c == '.')
        }
        None => false,
    }
}

/// Python's `\w` for str patterns.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Length of the `scheme:` (or `git@host:`) prefix the pattern accepts.
fn scheme_len(url: &str) -> Option<usize> {
    for p in ["git:", "ssh:", "http:", "https:"] {
        if url.starts_with(p) {
            return Some(p.len());
        }
    }
    let host_and_rest = url.strip_prefix("git@")?;
    let host_len: usize = host_and_rest
        .chars()
        .take_while(|c| is_word(*c) || *c == '-' || *c == '.')
        .map(char::len_utf8)
        .sum();
    (host_len > 0 && host_and_rest[host_len..].starts_with(':')).then_some(4 + host_len + 1)
}

/// The URL git clones, with the token in it (§3.3 "Auth URL").
///
/// * no token, or a `file://` URL: the URL unchanged;
/// * `https://host/path` and `git@host:path`: `https://<user or x-token-auth>:<token>@host/path`,
///   the backend's own results;
/// * anything else: `user:token@` goes into the authority; scheme and port stay.
///
/// User and token are percent-encoded.
pub fn auth_url(repo: &Repository) -> String {
    if repo.token.is_empty() || repo.url.starts_with("file:") {
        return repo.url.clone();
    }
    let user = if repo.user.is_empty() {
        "x-token-auth"
    } else {
        repo.user.as_str()
    };
    let candidate = match repo.url.strip_prefix("git@") {
        // The backend turns every ':' into '/' and prefixes https://.
        Some(rest) => format!("https://{}", rest.replace(':', "/")),
        None => repo.url.clone(),
    };
    let Ok(mut url) = Url::parse(&candidate) else {
        warn!(url = %redact_url(&repo.url), "cannot put the token into this URL; cloning without it");
        return repo.url.clone();
    };
    if url.host_str().is_none_or(str::is_empty)
        || url.set_username(user).is_err()
        || url.set_password(Some(&repo.token)).is_err()
    {
        warn!(url = %redact_url(&repo.url), "cannot put the token into this URL; cloning without it");
        return repo.url.clone();
    }
    url.to_string()
}

/// Why a clone failed; the text has no URL and no token.
#[derive(Debug)]
pub struct CloneFailed(pub String);

/// `git clone --quiet -- <auth_url> <dest>`, then `git -C <dest> checkout --quiet --detach
/// <commit>` when a commit is given. A failed checkout is a failed clone (§3.3).
pub async fn clone(repo: &Repository, dest: &Path, timeout: Duration) -> Result<(), CloneFailed> {
    let shown = redact_url(&repo.url);
    let mut cmd = git_command();
    cmd.arg("clone")
        .arg("--quiet")
        .arg("--")
        .arg(auth_url(repo))
        .arg(dest);
    run_git(cmd, "clone", &shown, &repo.token, timeout).await?;
    if !repo.commit.is_empty() {
        // `--detach` makes git read the argument as a commit, never as a path.
        let mut cmd = git_command();
        cmd.arg("-C")
            .arg(dest)
            .arg("checkout")
            .arg("--quiet")
            .arg("--detach")
            .arg(&repo.commit);
        run_git(cmd, "checkout", &shown, &repo.token, timeout).await?;
    }
    info!(url = %shown, commit = %repo.commit, "repository cloned");
    Ok(())
}

fn git_command() -> Command {
    let mut cmd = Command::new("git");
    scrub_secret_env(&mut cmd);
    cmd.env("GIT_TERMINAL_PROMPT", "0").env("LC_ALL", "C");
    if std::env::var_os("GIT_SSH_COMMAND").is_none() {
        // Never wait for a passphrase or host-key prompt.
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    cmd
}

async fn run_git(
    cmd: Command,
    step: &str,
    shown_url: &str,
    token: &str,
    timeout: Duration,
) -> Result<(), CloneFailed> {
    let limits = ProcessLimits {
        timeout,
        grace: Duration::from_secs(5),
        output_cap: GIT_OUTPUT_CAP,
    };
    let result = process::run(cmd, limits).await;
    let (reason, output) = match result {
        Ok(f) if f.status.success() => return Ok(()),
        Ok(f) => (describe_status(&f.status), f.stderr.text()),
        Err(RunError::TimedOut { stderr, .. }) => (
            format!("timed out after {} s", timeout.as_secs()),
            stderr.text(),
        ),
        Err(e) => (e.to_string(), String::new()),
    };
    let output = scrub(&output, token);
    warn!(url = %shown_url, step, reason = %reason, output = %output.trim(), "git failed");
    Err(CloneFailed(format!("git {step} failed: {reason}")))
}

/// `text` with the token (raw and percent-encoded) replaced by `***`.
fn scrub(text: &str, token: &str) -> String {
    if token.is_empty() {
        return text.to_string();
    }
    let mut out = text.replace(token, "***");
    let mut probe = match Url::parse("https://h/") {
        Ok(u) => u,
        Err(_) => return out,
    };
    if probe.set_password(Some(token)).is_ok() {
        if let Some(encoded) = probe.password() {
            if encoded != token {
                out = out.replace(encoded, "***");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(url: &str, user: &str, token: &str) -> Repository {
        Repository {
            url: url.into(),
            user: user.into(),
            token: token.into(),
            branch: "main".into(),
            path: String::new(),
            commit: String::new(),
        }
    }

    #[test]
    fn url_rule_matches_the_backend_pattern() {
        for ok in [
            "https://gitlab.com/g/p.git",
            "http://h:8080/g/p.git/",
            "git@gitlab.com:g/p.git",
            "ssh://git@h/p.git",
            "git://h/p.git#v1.0_rc-2",
            "https:p.git",
        ] {
            assert!(url_is_valid(ok, false), "{ok}");
        }
        for bad in [
            "https://gitlab.com/g/p",
            "ftp://h/p.git",
            "file:///tmp/p.git",
            "git@:p.git",
            "https://h/p.git#",
            "https://h/p.git#a b",
            "https://h/p.git\n",
            "ext::sh -c touch% /tmp/pwned.git",
            "-uhttps://h/p.git",
        ] {
            assert!(!url_is_valid(bad, false), "{bad}");
        }
        assert!(url_is_valid("file:///tmp/p.git", true));
        assert!(!url_is_valid("file:///tmp/p", true));
    }

    #[test]
    fn auth_urls_as_the_backend_builds_them() {
        assert_eq!(
            auth_url(&repo("https://h/g/p.git", "", "TOK")),
            "https://x-token-auth:TOK@h/g/p.git"
        );
        assert_eq!(
            auth_url(&repo("git@h:g/p.git", "", "TOK")),
            "https://x-token-auth:TOK@h/g/p.git"
        );
        assert_eq!(
            auth_url(&repo("https://h/g/p.git", "bot", "T@K/1")),
            "https://bot:T%40K%2F1@h/g/p.git"
        );
        // Ours: scheme and port kept.
        assert_eq!(
            auth_url(&repo("http://h:8080/g/p.git", "", "TOK")),
            "http://x-token-auth:TOK@h:8080/g/p.git"
        );
        assert_eq!(
            auth_url(&repo("https://h/g/p.git", "", "")),
            "https://h/g/p.git"
        );
        assert_eq!(
            auth_url(&repo("file:///t/p.git", "", "TOK")),
            "file:///t/p.git"
        );
    }

    #[test]
    fn scrub_hides_raw_and_encoded_tokens() {
        let t = scrub("fatal: https://x:T%40K@h and T@K", "T@K");
        assert_eq!(t, "fatal: https://x:***@h and ***");
    }
}
