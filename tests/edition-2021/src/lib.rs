//! Instrumented async fns in an edition-2021 crate. An `async fn`'s future captures every
//! lifetime of its signature; an `impl Trait` written in an edition-2021 crate captures only the
//! ones it names. The expansions must keep the `async fn`'s captures here too.

#![deny(warnings)]

use instrument::{metric, trace_method};

/// Borrows two references, returns neither: the future still holds both.
#[trace_method]
pub async fn sum(a: &u32, b: &u32) -> u32 {
    *a + *b
}

/// Returns a reborrow of its input.
#[trace_method]
pub async fn first_word(text: &str) -> &str {
    text.split(' ').next().unwrap_or("")
}

/// `impl Trait` in argument position and a borrowed slice.
#[metric(histogram = "edition_total_ms")]
pub async fn total(values: impl IntoIterator<Item = u32>, extra: &[u32]) -> u32 {
    values.into_iter().sum::<u32>() + extra.iter().sum::<u32>()
}

/// A counter mutated through `&mut self`.
#[derive(Debug, Default)]
pub struct Counter {
    count: u32,
}

impl Counter {
    /// Adds `by` and returns the count, reborrowed from `self`.
    #[trace_method]
    pub async fn bump(&mut self, by: &u32) -> &mut u32 {
        self.count += by;
        &mut self.count
    }
}

/// A native async trait.
#[allow(async_fn_in_trait)]
pub trait Lookup {
    /// The length of `key` plus the implementor's offset.
    async fn lookup(&self, key: &str) -> usize;
}

impl Lookup for Counter {
    #[trace_method]
    async fn lookup(&self, key: &str) -> usize {
        key.len() + self.count as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn behave_as_plain_async_fns_and_record_a_span_each() {
        let (counter, captured) = instrument::testing::capture_async(async {
            let (a, b) = (2, 3);
            assert_eq!(sum(&a, &b).await, 5);
            let text = String::from("hello world");
            assert_eq!(first_word(&text).await, "hello");
            assert_eq!(total(vec![1, 2], &[3]).await, 6);
            let mut counter = Counter::default();
            *counter.bump(&4).await += 1;
            assert_eq!(counter.lookup("key").await, 8);
            counter
        })
        .await;
        assert_eq!(counter.count, 5);
        let names: Vec<String> = captured
            .spans()
            .iter()
            .map(|s| s.name.to_string())
            .collect();
        assert_eq!(
            names,
            ["sum", "first_word", "Counter.bump", "Counter.lookup"]
        );
    }
}
