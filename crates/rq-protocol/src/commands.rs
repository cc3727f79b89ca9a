//! RQ's pub/sub worker commands (rq-protocol.md §6.9, §11): JSON messages on
//! `rq:pubsub:<worker name>`, sent by `send_shutdown_command`, `send_kill_horse_command`,
//! `send_stop_job_command` and RQ 3.0's stop-execution.

use serde::Deserialize;

/// One command for a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `shutdown`: a warm shutdown of the whole process.
    Shutdown,
    /// `kill-horse`: kill the running job.
    KillHorse,
    /// `stop-job` (no execution) or `stop-execution` (RQ 3.0, one execution): stop the job,
    /// which ends `stopped`.
    Stop {
        /// The job to stop.
        job_id: String,
        /// The execution to stop (`stop-execution`); `None` for any execution of the job.
        execution_id: Option<String>,
    },
    /// A command this worker does not know (logged and ignored, as RQ does).
    Unknown(String),
}

#[derive(Deserialize)]
struct Raw {
    command: String,
    job_id: Option<String>,
    execution_id: Option<String>,
}

/// Parses a message; `Err` says why it is malformed.
pub fn parse(payload: &[u8]) -> Result<Command, String> {
    let raw: Raw = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    Ok(match raw.command.as_str() {
        "shutdown" => Command::Shutdown,
        "kill-horse" => Command::KillHorse,
        "stop-job" | "stop-execution" => {
            let Some(job_id) = raw.job_id else {
                return Err(format!("{} without job_id", raw.command));
            };
            // `stop-job` names no execution even if the message carries one.
            let execution_id = if raw.command == "stop-execution" {
                raw.execution_id
            } else {
                None
            };
            Command::Stop {
                job_id,
                execution_id,
            }
        }
        _ => Command::Unknown(raw.command),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rqs_commands() {
        assert_eq!(parse(br#"{"command":"shutdown"}"#), Ok(Command::Shutdown));
        assert_eq!(
            parse(br#"{"command":"kill-horse"}"#),
            Ok(Command::KillHorse)
        );
        assert_eq!(
            parse(br#"{"command":"stop-job","job_id":"j","execution_id":"x"}"#),
            Ok(Command::Stop {
                job_id: "j".into(),
                execution_id: None
            })
        );
        assert_eq!(
            parse(br#"{"command":"stop-execution","job_id":"j","execution_id":"x"}"#),
            Ok(Command::Stop {
                job_id: "j".into(),
                execution_id: Some("x".into())
            })
        );
        assert!(parse(br#"{"command":"stop-job"}"#).is_err());
        assert!(parse(b"nope").is_err());
        assert_eq!(
            parse(br#"{"command":"dance"}"#),
            Ok(Command::Unknown("dance".into()))
        );
    }
}
