//! Shared state handed to handlers by type: `ctx.data::<ApiClient>()`.
//!
//! The worker's builder takes any number of values
//! ([`WorkerBuilder::data`](crate::WorkerBuilder::data)), one per type; every job's
//! [`TaskContext`](super::TaskContext) sees the same ones.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// Values by type. Cheap to clone (one `Arc`).
///
/// ```
/// use std::sync::Arc;
///
/// use rq_worker::DataMap;
///
/// struct ApiClient {
///     base_url: String,
/// }
///
/// let mut data = DataMap::default();
/// data.insert(ApiClient { base_url: "http://api.local".into() });
/// data.insert(3u32); // one value per type: a second `u32` would replace this one
///
/// assert_eq!(data.get::<ApiClient>().map(|c| c.base_url.as_str()), Some("http://api.local"));
/// // An `Arc` to move into spawned work:
/// let client: Arc<ApiClient> = data.shared::<ApiClient>().ok_or("no client")?;
/// assert_eq!(client.base_url, "http://api.local");
/// # Ok::<(), &str>(())
/// ```
#[derive(Clone, Default)]
pub struct DataMap {
    values: Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl DataMap {
    /// Adds (or replaces) the value of type `T`.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.insert_shared(Arc::new(value));
    }

    /// Adds a value that is already shared.
    pub fn insert_shared<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        Arc::make_mut(&mut self.values).insert(TypeId::of::<T>(), value);
    }

    /// The value of type `T`, if there is one.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }

    /// The value as an `Arc`, to move into spawned work.
    pub fn shared<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|v| v.clone().downcast::<T>().ok())
    }
}

impl std::fmt::Debug for DataMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataMap({} values)", self.values.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_type() {
        #[derive(Debug, PartialEq)]
        struct Greeting(String);
        let mut d = DataMap::default();
        assert!(d.get::<Greeting>().is_none());
        d.insert(Greeting("hi".into()));
        d.insert(7u32);
        let copy = d.clone();
        d.insert(8u32);
        assert_eq!(copy.get::<u32>(), Some(&7), "a clone keeps its values");
        assert_eq!(d.get::<u32>(), Some(&8));
        assert_eq!(d.shared::<Greeting>().unwrap().0, "hi");
    }
}
