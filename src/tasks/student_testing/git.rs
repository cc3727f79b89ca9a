//! Repository URLs and cloning (docs/course-tasks.md §3.2 `url`, §3.3 "Clone" and "Credentials").
//!
//! The token never goes into git's argument vector, a URL, a log line or an error text: git
//! gets it as an HTTP header through `GIT_CONFIG_*` variables (see [`clone_source`]), and
//! git's own output is scrubbed of it before it is logged.

use std::path::Path;
use std::time::Duration;

use std::path::PathBuf;

use tracing::{info, warn};
use url::Url;

use super::confined::{self, End, Spec};
use super::models::Repository;
use crate::sandbox::{self, Network};
use rq_worker::redact::redact_url;

/// Bytes of git's output kept for the log.
const GIT_OUTPUT_CAP: usize = 16 * 1024;

/// What git is given for one repository: a URL without credentials, and the credentials as
/// an HTTP header scoped to that URL's origin (§3.3 "Credentials", ours: the backend puts the
/// token into the URL; here it never reaches git's argument vector, where any local process
/// could read it, nor the clone's `.git/config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneSource {
    pub url: String,
    /// (`http.<origin>/.extraHeader`, `Authorization: Basic ...`).
    pub header: Option<(String, String)>,
}

/// * no token, or a `file://` URL: the URL unchanged, no header;
/// * `https://host/path` and `git@host:path` (which the backend turns into
///   `https://host/path`): the URL without user info, and Basic credentials
///   `<user or x-token-auth>:<token>`, as the backend's auth URL would send them;
/// * a token in the URL itself (`https://u:t@host/...`) is taken out the same way;
/// * other schemes cannot carry a token this way: the URL unchanged, no header (logged).
pub fn clone_source(repo: &Repository) -> CloneSource {
    let plain = CloneSource {
        url: repo.url.clone(),
        header: None,
    };
    if repo.url.starts_with("file:") {
        return plain;
    }
    let candidate = match repo.url.strip_prefix("git@") {
        // The backend turns every ':' into '/' and prefixes https://.
        Some(rest) if !repo.token.is_empty() => format!("https://{}", rest.replace(':', "/")),
        _ => repo.url.clone(),
    };
    let Ok(mut url) = Url::parse(&candidate) else {
        return plain;
    };
    let (mut user, mut token) = (repo.user.clone(), repo.token.clone());
    if let Some(p) = url.password() {
        if token.is_empty() {
            token = percent_decode(p);
            if user.is_empty() {
                user = percent_decode(url.username());
            }
        }
    }
    if token.is_empty() {
        return plain;
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        warn!(url = %redact_url(&repo.url), "a token can only be sent over http(s); cloning without it");
        return plain;
    }
    if user.is_empty() {
        user = "x-token-auth".into();
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let origin = match url.port() {
        Some(p) => format!(
            "{}://{}:{p}/",
            url.scheme(),
            url.host_str().unwrap_or_default()
        ),
        None => format!("{}://{}/", url.scheme(), url.host_str().unwrap_or_default()),
    };
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
    CloneSource {
        url: url.to_string(),
        header: Some((
            format!("http.{origin}.extraHeader"),
            format!("Authorization: Basic {basic}"),
        )),
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Why a clone failed; the texts have no URL and no token.
#[derive(Debug)]
pub enum CloneFailed {
    /// git failed (R2).
    Git(String),
    /// The sandbox is unavailable on this host (R3, fail closed): why.
    Sandbox(String),
    /// git was stopped for exceeding a sandbox limit, e.g. a clone too big for the disk cap
    /// (R7): the limit's name.
    Limit(String),
}

/// Where and how one clone runs.
pub struct CloneJob<'a> {
    pub repo: &'a Repository,
    pub dest: &'a Path,
    /// The job root (git may write only there) and its `HOME`.
    pub root: &'a Path,
    pub home: &'a Path,
    pub timeout: Duration,
    pub allow_file: bool,
}

/// `git clone --quiet -- <url> <dest>`, then `git -C <dest> checkout --quiet --detach
/// <commit>` when a commit is given. A failed checkout is a failed clone (§3.3). Both run
/// confined (writes only in the job root; the network is open), with no global or system
/// configuration, hooks off and only the allowed protocols.
pub async fn clone(job: &CloneJob<'_>, sandbox: &sandbox::Settings) -> Result<(), CloneFailed> {
    let repo = job.repo;
    let shown = redact_url(&repo.url);
    let source = clone_source(repo);
    let env = git_env(job, &source);
    let dest = job.dest.to_string_lossy().into_owned();
    let argv = vec![
        "git".into(),
        "clone".into(),
        "--quiet".into(),
        "--".into(),
        source.url.clone(),
        dest.clone(),
    ];
    run_git(
        job,
        argv,
        env.clone(),
        "clone",
        &shown,
        &repo.token,
        sandbox,
    )
    .await?;
    if !repo.commit.is_empty() {
        // `--detach` makes git read the argument as a commit, never as a path.
        let argv = vec![
            "git".into(),
            "-C".into(),
            dest,
            "checkout".into(),
            "--quiet".into(),
            "--detach".into(),
            repo.commit.clone(),
        ];
        run_git(job, argv, env, "checkout", &shown, &repo.token, sandbox).await?;
    }
    info!(url = %shown, commit = %repo.commit, "repository cloned");
    Ok(())
}

/// git's whole environment: nothing of the worker's but `PATH`, the locale and
/// `GIT_SSH_COMMAND`; configuration only from `GIT_CONFIG_*` variables.
fn git_env(job: &CloneJob<'_>, source: &CloneSource) -> Vec<(String, String)> {
    let mut env = super::confined::base_env();
    env.retain(|(k, _)| k == "PATH");
    let home = job.home.to_string_lossy().into_owned();
    env.extend(
        [
            ("HOME", home.as_str()),
            ("LANG", "C"),
            ("LC_ALL", "C"),
            ("GIT_TERMINAL_PROMPT", "0"),
            ("GIT_CONFIG_NOSYSTEM", "1"),
            ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let ssh = std::env::var("GIT_SSH_COMMAND").unwrap_or_else(|_| "ssh -o BatchMode=yes".into());
    env.push(("GIT_SSH_COMMAND".into(), ssh));
    let file = if job.allow_file { "always" } else { "never" };
    let mut config: Vec<(String, String)> = [
        ("core.hooksPath", "/dev/null"),
        ("core.fsmonitor", "false"),
        ("credential.helper", ""),
        ("protocol.allow", "never"),
        ("protocol.https.allow", "always"),
        ("protocol.http.allow", "always"),
        ("protocol.ssh.allow", "always"),
        ("protocol.git.allow", "always"),
        ("protocol.file.allow", file),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(h) = &source.header {
        config.push(h.clone());
    }
    env.push(("GIT_CONFIG_COUNT".into(), config.len().to_string()));
    for (i, (k, v)) in config.into_iter().enumerate() {
        env.push((format!("GIT_CONFIG_KEY_{i}"), k));
        env.push((format!("GIT_CONFIG_VALUE_{i}"), v));
    }
    env
}

/// The local path of a `file://` URL (read access for git, tests and local setups only).
fn file_url_path(url: &str) -> Option<PathBuf> {
    Url::parse(url).ok()?.to_file_path().ok()
}

async fn run_git(
    job: &CloneJob<'_>,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    step: &str,
    shown_url: &str,
    token: &str,
    sandbox: &sandbox::Settings,
) -> Result<(), CloneFailed> {
    let mut read = vec![job.root.to_path_buf()];
    if let Some(p) = file_url_path(&job.repo.url).filter(|_| job.allow_file) {
        read.push(p);
    }
    read.extend(sandbox.extra_read.iter().cloned());
    // git maps pack files: give it more address space than a test run.
    let mut limits = sandbox.limits;
    limits.memory_bytes = limits.memory_bytes.max(GIT_MIN_MEMORY);
    let spec = Spec {
        argv,
        cwd: job.root.to_path_buf(),
        root: job.root.to_path_buf(),
        env,
        read,
        write: vec![job.root.to_path_buf()],
        network: Network::Any,
        limits,
        timeout: job.timeout,
        grace: Duration::from_secs(5),
        output_cap: GIT_OUTPUT_CAP,
    };
    let ran = confined::run(spec, sandbox).await;
    let reason = match ran.end {
        End::Finished { success: true, .. } => return Ok(()),
        End::Finished { status, .. } => status,
        End::TimedOut => format!("timed out after {} s", job.timeout.as_secs()),
        End::LimitExceeded { limit, detail } => {
            warn!(url = %shown_url, step, %limit, %detail, "git exceeded a sandbox limit");
            return Err(CloneFailed::Limit(limit));
        }
        End::Unavailable(why) => why,
        End::SandboxUnavailable(why) => {
            warn!(url = %shown_url, step, "git not started: the sandbox is unavailable on this host: {why} (task-worker sandbox-check; --sandbox off opts out)");
            return Err(CloneFailed::Sandbox(why));
        }
    };
    // git's output holds what the repository and its server say: one escaped field.
    let output = scrub(&ran.stderr.text(), token);
    if sandbox.enabled {
        if let Some(limit) = limit_in_git_error(&output, &reason) {
            let output = crate::tasks::untrusted::for_log(output.trim(), 4096);
            warn!(url = %shown_url, step, %limit, output = %output, "git stopped at a sandbox limit");
            return Err(CloneFailed::Limit(limit.into()));
        }
    }
    let output = crate::tasks::untrusted::for_log(output.trim(), 4096);
    warn!(url = %shown_url, step, reason = %reason, output = %output, "git failed");
    Err(CloneFailed::Git(format!("git {step} failed: {reason}")))
}

/// The sandbox limit a failed git run ran into, from how it failed. The kernel stops a write
/// past `RLIMIT_FSIZE` (`EFBIG`, or SIGXFSZ), an allocation past `RLIMIT_AS`, and git then
/// deletes its partial pack, so the supervisor's measurement finds nothing over a limit: a
/// repository too large for the job would look like a broken one (R2) instead of R7.
fn limit_in_git_error(stderr: &str, status: &str) -> Option<&'static str> {
    let sigxfsz = format!("signal {}", libc::SIGXFSZ);
    if stderr.contains("File too large") || status == sigxfsz {
        Some("file size")
    } else if stderr.contains("No space left on device") || stderr.contains("Disk quota exceeded") {
        Some("disk")
    } else if stderr.contains("Out of memory")
        || stderr.contains("Cannot allocate memory")
        || stderr.contains("unable to mmap")
    {
        Some("memory")
    } else if stderr.contains("Resource temporarily unavailable") && stderr.contains("fork") {
        Some("processes")
    } else {
        None
    }
}

/// Address space git always gets (pack files are mapped).
const GIT_MIN_MEMORY: u64 = 4 << 30;

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

    #[test]
    fn limits_are_read_from_how_git_failed() {
        let efbig = "error: unable to write file .git/objects/pack/tmp_pack_x: File too large\nfatal: index-pack failed";
        assert_eq!(
            limit_in_git_error(efbig, "exit code 128"),
            Some("file size")
        );
        assert_eq!(limit_in_git_error("", "signal 25"), Some("file size"));
        assert_eq!(
            limit_in_git_error("fatal: Out of memory, malloc failed", "exit code 128"),
            Some("memory")
        );
        assert_eq!(
            limit_in_git_error("fatal: repository not found", "exit code 128"),
            None
        );
    }

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
    fn tokens_go_into_a_scoped_header_never_into_the_url() {
        let basic = |s: &str| {
            use base64::Engine;
            format!(
                "Authorization: Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        let src = clone_source(&repo("https://h/g/p.git", "", "TOK"));
        assert_eq!(src.url, "https://h/g/p.git");
        assert_eq!(
            src.header,
            Some((
                "http.https://h/.extraHeader".into(),
                basic("x-token-auth:TOK")
            ))
        );
        let src = clone_source(&repo("git@h:g/p.git", "", "TOK"));
        assert_eq!(src.url, "https://h/g/p.git");
        let src = clone_source(&repo("https://h/g/p.git", "bot", "T@K/1"));
        assert_eq!(src.header.unwrap().1, basic("bot:T@K/1"));
        // Port kept in both; credentials in the URL are moved out.
        let src = clone_source(&repo("http://u:p%40w@h:8080/g/p.git", "", ""));
        assert_eq!(src.url, "http://h:8080/g/p.git");
        assert_eq!(
            src.header,
            Some(("http.http://h:8080/.extraHeader".into(), basic("u:p@w")))
        );
        assert_eq!(
            clone_source(&repo("https://h/g/p.git", "", "")).header,
            None
        );
        assert_eq!(
            clone_source(&repo("file:///t/p.git", "", "TOK")).header,
            None
        );
        let ssh = clone_source(&repo("ssh://git@h/p.git", "", "TOK"));
        assert_eq!((ssh.url.as_str(), ssh.header), ("ssh://git@h/p.git", None));
    }

    #[test]
    fn scrub_hides_raw_and_encoded_tokens() {
        let t = scrub("fatal: https://x:T%40K@h and T@K", "T@K");
        assert_eq!(t, "fatal: https://x:***@h and ***");
    }
}
