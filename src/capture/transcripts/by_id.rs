//! Buckets named by strings, found by interned id while an import's calls are summed.
//!
//! A report's maps are keyed by name (`sessions`, `models`, …). Looking a session id up in a
//! string map for each of tens of thousands of calls was most of a warm import's summary; here
//! each distinct id is named once and every later call is an array index. Ids that name the
//! same string share one bucket, which is added to in call order, so the sums are exactly what
//! the string map gave (floating-point costs included).

use std::collections::{BTreeMap, HashMap};

/// No slot yet for an id.
const UNSEEN: u32 = u32::MAX;

/// Buckets of `T` by name, reached by id.
#[derive(Debug)]
pub struct ById<T> {
    /// Each id's bucket index, or [`UNSEEN`].
    slot_of_id: Vec<u32>,
    slot_of_name: HashMap<String, u32>,
    buckets: Vec<(String, T)>,
}

impl<T> Default for ById<T> {
    fn default() -> Self {
        ById {
            slot_of_id: Vec::new(),
            slot_of_name: HashMap::new(),
            buckets: Vec::new(),
        }
    }
}

impl<T: Default> ById<T> {
    /// The bucket of `id`, named by `name` the first time `id` is seen.
    pub fn get(&mut self, id: u32, name: impl FnOnce() -> String) -> &mut T {
        let index = id as usize;
        if index >= self.slot_of_id.len() {
            self.slot_of_id.resize(index + 1, UNSEEN);
        }
        let mut slot = self.slot_of_id[index];
        if slot == UNSEEN {
            let name = name();
            slot = match self.slot_of_name.get(&name) {
                Some(&slot) => slot,
                None => {
                    let slot = self.buckets.len() as u32;
                    self.slot_of_name.insert(name.clone(), slot);
                    self.buckets.push((name, T::default()));
                    slot
                }
            };
            self.slot_of_id[index] = slot;
        }
        &mut self.buckets[slot as usize].1
    }

    /// Moves every bucket into `map` under its name (replacing what `map` had there).
    pub fn into_map(self, map: &mut BTreeMap<String, T>) {
        map.extend(self.buckets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_one_name_share_a_bucket_and_each_name_is_asked_once() {
        let mut by_id: ById<u64> = ById::default();
        let mut asked = 0;
        for (id, name) in [(7, "a"), (2, "b"), (7, "a"), (9, "a"), (2, "b"), (7, "a")] {
            *by_id.get(id, || {
                asked += 1;
                name.to_string()
            }) += 1;
        }
        assert_eq!(asked, 3, "once per id");
        let mut map = BTreeMap::new();
        by_id.into_map(&mut map);
        assert_eq!(map, BTreeMap::from([("a".into(), 4), ("b".into(), 2)]));
    }
}
