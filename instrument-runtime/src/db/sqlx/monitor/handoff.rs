//! Passing the id of a connection from the hook that saw it to the monitored `acquire` that
//! receives it. sqlx runs `before_acquire` (an idle connection) or `after_connect` (a new one)
//! inside the `acquire` future, and nothing runs between the hook's end and the future's
//! completion, so the wrapper marks each poll of that future and the hook writes into the mark.
//! A statement that takes its connection out of sight (SeaORM's, which acquires from the pool
//! itself) runs marked as a whole, and the hook counts its checkout there.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::time::Instant;

#[derive(Clone, Copy)]
struct Acquiring {
    pool: usize,
    started: Instant,
    handed_out: Option<u64>,
    /// The hook counts the checkout (the future that acquires is not ours).
    checkout_in_hook: bool,
}

thread_local! {
    static ACQUIRING: Cell<Option<Acquiring>> = const { Cell::new(None) };
}

/// Runs `acquire` for `pool` (any address naming the pool), started at `started`; returns its
/// output and the id a hook handed out while it ran.
pub(crate) async fn acquire_marked<T>(
    pool: usize,
    started: Instant,
    acquire: impl Future<Output = T>,
) -> (T, Option<u64>) {
    marked(pool, started, false, acquire).await
}

/// Runs `work`, which acquires from `pool` out of sight, started at `started`: the hook that
/// hands it a connection counts the checkout.
#[cfg(any(test, feature = "sea-orm"))]
pub(crate) async fn checking_out_in_hook<T>(
    pool: usize,
    started: Instant,
    work: impl Future<Output = T>,
) -> T {
    marked(pool, started, true, work).await.0
}

async fn marked<T>(
    pool: usize,
    started: Instant,
    checkout_in_hook: bool,
    acquire: impl Future<Output = T>,
) -> (T, Option<u64>) {
    let mut acquire = pin!(acquire);
    let mut handed_out = None;
    let output = std::future::poll_fn(|cx| {
        let outer = ACQUIRING.replace(Some(Acquiring {
            pool,
            started,
            handed_out: None,
            checkout_in_hook,
        }));
        let poll = acquire.as_mut().poll(cx);
        if let Some(id) = ACQUIRING.replace(outer).and_then(|mark| mark.handed_out) {
            handed_out = Some(id);
        }
        poll
    })
    .await;
    (output, handed_out)
}

/// When the monitored `acquire` of `pool` now running on this thread began, if one is.
pub(crate) fn acquire_started(pool: usize) -> Option<Instant> {
    ACQUIRING
        .get()
        .filter(|mark| mark.pool == pool)
        .map(|mark| mark.started)
}

/// Hands connection `id` to the monitored `acquire` of `pool` running on this thread, if any;
/// when the hook is to count the checkout, returns when the acquire began.
pub(crate) fn hand_out(pool: usize, id: u64) -> Option<Instant> {
    ACQUIRING.with(|cell| {
        let mut mark = cell.get().filter(|mark| mark.pool == pool)?;
        mark.handed_out = Some(id);
        cell.set(Some(mark));
        mark.checkout_in_hook.then_some(mark.started)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_inside_the_acquire_hands_out_its_id() {
        let started = Instant::now();
        let ((), id) = futures_util::FutureExt::now_or_never(acquire_marked(7, started, async {
            assert_eq!(acquire_started(7), Some(started));
            assert_eq!(acquire_started(8), None);
            assert_eq!(hand_out(8, 1), None);
            assert_eq!(hand_out(7, 2), None);
        }))
        .unwrap();
        assert_eq!(id, Some(2));
        let counted =
            futures_util::FutureExt::now_or_never(checking_out_in_hook(7, started, async {
                hand_out(7, 4)
            }));
        assert_eq!(
            counted,
            Some(Some(started)),
            "the hook counts this checkout"
        );
        assert_eq!(hand_out(7, 3), None);
        assert_eq!(acquire_started(7), None);
    }
}
