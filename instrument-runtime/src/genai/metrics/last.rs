//! The model-call attribute set a thread recorded last, with its bound instruments: a thread
//! that calls one model over and over (the usual case) finds them by comparing the call's
//! provider, models, server and error with the last ones, without hashing them or taking the
//! table's lock. Kept for the table and the meter provider it was bound under.

use std::cell::RefCell;
use std::sync::Arc;

use opentelemetry::StringValue;

use super::ChatPoints;
use super::recorder::{BoundGenAi, ChatBound};
use crate::state::meter_generation;

thread_local! {
    static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
}

/// The last attribute set and its instruments.
struct Last {
    /// The table's address and the provider's generation.
    table: usize,
    generation: u64,
    provider: StringValue,
    request_model: StringValue,
    response_model: Option<StringValue>,
    server: Option<(StringValue, i64)>,
    error: Option<String>,
    bound: Arc<ChatBound>,
}

impl Last {
    fn matches(&self, table: usize, generation: u64, points: &ChatPoints<'_>) -> bool {
        self.table == table
            && self.generation == generation
            && self.provider.as_str() == points.provider.as_str()
            && self.request_model.as_str() == points.request_model.as_str()
            && self.response_model.as_ref().map(StringValue::as_str)
                == points.response_model.map(StringValue::as_str)
            && self.server.as_ref() == points.server
            && self.error.as_deref() == points.error
    }
}

/// Runs `record` on the bound instruments of `points`' attribute set in `table`: this thread's
/// last ones when they match, else those `lookup` finds there (kept as the last). `false` when
/// `lookup` finds none (the table is full) and nothing was recorded.
pub(super) fn with_chat(
    table: &BoundGenAi,
    points: &ChatPoints<'_>,
    lookup: impl FnOnce() -> Option<Arc<ChatBound>>,
    record: impl FnOnce(&ChatBound),
) -> bool {
    let (table, generation) = (std::ptr::from_ref(table) as usize, meter_generation());
    let mut lookup = Some(lookup);
    let mut record = Some(record);
    let cached = LAST.try_with(|last| {
        let mut last = last.try_borrow_mut().ok()?;
        if !last
            .as_ref()
            .is_some_and(|last| last.matches(table, generation, points))
        {
            let bound = (lookup.take()?)()?;
            *last = Some(Last {
                table,
                generation,
                provider: points.provider.clone(),
                request_model: points.request_model.clone(),
                response_model: points.response_model.cloned(),
                server: points.server.cloned(),
                error: points.error.map(str::to_owned),
                bound,
            });
        }
        let last = last.as_ref()?;
        (record.take()?)(&last.bound);
        Some(())
    });
    if let Ok(Some(())) = cached {
        return true;
    }
    // No thread storage (a thread ending) or the cell in use: the table alone.
    match (lookup.and_then(|lookup| lookup()), record) {
        (Some(bound), Some(record)) => {
            record(&bound);
            true
        }
        _ => false,
    }
}
