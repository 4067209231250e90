//! What services expose to the binary, by type: their use cases, for the demo, the command
//! line and tests.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// Values by type: `Arc<dyn CatalogClient>`, `Arc<Identity>`, … one of each.
#[derive(Default, Clone)]
pub struct Shared {
    values: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Shared {
    /// Replaces any earlier value of the same type.
    pub fn insert<T: ?Sized + Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.values.insert(TypeId::of::<Arc<T>>(), Arc::new(value));
    }

    #[must_use]
    pub fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.values
            .get(&TypeId::of::<Arc<T>>())
            .and_then(|value| value.downcast_ref::<Arc<T>>())
            .cloned()
    }

    /// # Errors
    /// When nothing of type `T` was provided.
    pub fn require<T: ?Sized + Send + Sync + 'static>(&self) -> anyhow::Result<Arc<T>> {
        self.get::<T>()
            .ok_or_else(|| anyhow::anyhow!("nothing provides {}", std::any::type_name::<T>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    trait Greeter: Send + Sync {
        fn greet(&self) -> &'static str;
    }
    struct English;
    impl Greeter for English {
        fn greet(&self) -> &'static str {
            "hello"
        }
    }

    #[test]
    fn values_are_found_by_their_type_only() {
        let mut shared = Shared::default();
        assert!(shared.get::<dyn Greeter>().is_none());
        shared.insert::<dyn Greeter>(Arc::new(English));
        shared.insert(Arc::new(7_u32));
        assert_eq!(shared.get::<dyn Greeter>().unwrap().greet(), "hello");
        assert_eq!(*shared.get::<u32>().unwrap(), 7);
        assert!(shared.get::<u64>().is_none());
    }
}
