//! Progress reporting: a handler's progress goes into the job's `meta['progress']`, written the
//! way Python's `job.save_meta()` does (`HSET meta <serializer.dumps(meta)>`, not compressed),
//! keeping every other key of the existing meta, as Python's `job.meta['progress'] = …;
//! job.save_meta()` does.

use std::future::Future;
use std::pin::Pin;

use crate::connection::RedisConnection;
use tokio::sync::Mutex;
use tracing::warn;

use crate::rq::codec::{Limits, Serializer};
use crate::tasks::ProgressSink;
use crate::value::Value;

pub struct MetaProgress {
    con: RedisConnection,
    job_key: String,
    serializer: Serializer,
    meta: Mutex<Value>,
}

impl MetaProgress {
    /// `meta_raw` is the job's `meta` field at start (`{}` when absent or undecodable).
    pub fn new(
        con: RedisConnection,
        job_key: String,
        serializer: Serializer,
        meta_raw: Option<&[u8]>,
    ) -> Self {
        let meta = meta_raw
            .and_then(|raw| serializer.loads(raw, &Limits::default()).ok())
            .filter(|v| matches!(v, Value::Dict(_)))
            .unwrap_or(Value::Dict(Vec::new()));
        MetaProgress {
            con,
            job_key,
            serializer,
            meta: Mutex::new(meta),
        }
    }
}

impl ProgressSink for MetaProgress {
    fn report<'a>(&'a self, progress: Value) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let mut meta = self.meta.lock().await;
            if let Value::Dict(pairs) = &mut *meta {
                let key = Value::Str("progress".into());
                match pairs.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, v)) => *v = progress,
                    None => pairs.push((key, progress)),
                }
            }
            let bytes = match self.serializer.dumps(&meta) {
                Ok(b) => b,
                Err(e) => {
                    warn!("progress not recorded: {e}");
                    return;
                }
            };
            let mut con = self.con.clone();
            let r: redis::RedisResult<()> = crate::rq::job::save_meta(&self.job_key, bytes)
                .query_async(&mut con)
                .await;
            if let Err(e) = r {
                warn!("progress not recorded: {e}");
            }
        })
    }
}
