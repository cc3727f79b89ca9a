//! `<NAME>_FILE` for every secret setting: Docker and Kubernetes secrets are files
//! (`/run/secrets/<name>`), and a secret in a file stays out of `docker inspect` and of the
//! process environment of anything that inherits it.
//!
//! Before the command line is parsed, each `<NAME>_FILE` that is set (and not empty) is read,
//! one trailing newline trimmed, and put into `<NAME>`, where clap finds it like any other
//! variable. Both set, or a file that cannot be read, is an error for the subcommands that
//! use secrets; the others ignore it (a variable a subcommand does not use never makes it
//! fail).

/// The settings that may come from a file.
pub const SECRET_VARS: &[&str] = &[
    "REDIS_PASSWORD",
    "REDIS_URL",
    "RQ_REDIS_URL",
    "REDIS_SENTINEL_PASSWORD",
    "POSTGRES_PASSWORD",
    "POSTGRES_URL",
    "EXECUTION_BACKEND_API_USER",
    "EXECUTION_BACKEND_API_PASSWORD",
    "TOKEN_SECRET",
];

/// Secrets files are small; a larger one is a mistake (a directory listing, a dump).
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Reads every set `<NAME>_FILE` into `<NAME>`; returns the first problem, if any (the
/// variables that could be read are set even then). Call before any thread is started.
pub fn load_into_env() -> Result<(), String> {
    let mut first_error = None;
    for name in SECRET_VARS {
        let file_var = format!("{name}_FILE");
        let Some(path) = std::env::var_os(&file_var).filter(|p| !p.is_empty()) else {
            continue;
        };
        let direct = std::env::var_os(name).filter(|v| !v.is_empty());
        let result = if direct.is_some() {
            Err(format!("both {name} and {file_var} are set: use one"))
        } else {
            read_secret(std::path::Path::new(&path))
                .map_err(|e| format!("{file_var}={}: {e}", path.to_string_lossy()))
        };
        match result {
            // Single-threaded here (see the caller), so changing the environment is sound.
            Ok(value) => std::env::set_var(name, value),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn read_secret(path: &std::path::Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_SECRET_BYTES {
        return Err(format!("larger than {MAX_SECRET_BYTES} bytes"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if text.is_empty() {
        return Err("the file is empty".into());
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_trimmed() {
        let dir = std::env::temp_dir().join(format!("tw-secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s");
        for (content, want) in [
            ("pw\n", Ok("pw")),
            ("pw\r\n", Ok("pw")),
            ("pw\n\n", Ok("pw\n")),
            (" pw ", Ok(" pw ")),
            ("\n", Err("the file is empty")),
        ] {
            std::fs::write(&p, content).unwrap();
            assert_eq!(
                read_secret(&p).as_deref(),
                want.map_err(str::to_string).as_deref()
            );
        }
        assert_eq!(read_secret(&dir).unwrap_err(), "not a regular file");
        assert!(read_secret(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
