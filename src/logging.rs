//! Logging setup: readable text for people or one JSON object per line for log shippers.
//! The level comes from `RUST_LOG` (default `info`), or from `worker`'s `--logging_level`.
//!
//! Text logs carry ANSI colour only when the stream they go to (stderr) is a terminal: under
//! `docker compose logs`, journald or a file they are plain text. `NO_COLOR` (any value) turns
//! colour off on a terminal too.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Whether text logs should be coloured: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn use_ansi() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

pub fn init(format: LogFormat) {
    init_with(format, None);
}

/// [`init`] with a level given on the command line (`worker`'s `--logging_level`, `-v`, `-q`),
/// which wins over `RUST_LOG`.
pub fn init_with(format: LogFormat, level: Option<&str>) {
    let filter = match level {
        Some(l) => EnvFilter::new(l),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.with_target(false).with_ansi(use_ansi()).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_ansi(false)
            .try_init(),
    };
    // Already initialised (tests): keep the existing subscriber.
    let _ = result;
}
