//! A stream produced by a future that owns what the stream borrows (a checked-out connection and
//! the rows streaming from it): the future sends each item through a one-slot channel, and the
//! stream drives the future whenever it is polled.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use tokio::sync::mpsc;

/// The stream of what `produce` sends.
pub(crate) fn generate<'e, T, F>(produce: impl FnOnce(mpsc::Sender<T>) -> F) -> BoxStream<'e, T>
where
    T: Send + 'e,
    F: Future<Output = ()> + Send + 'e,
{
    let (sender, items) = mpsc::channel(1);
    Box::pin(Generated {
        producer: Some(Box::pin(produce(sender))),
        items,
    })
}

struct Generated<'e, T> {
    producer: Option<BoxFuture<'e, ()>>,
    items: mpsc::Receiver<T>,
}

impl<T> Stream for Generated<'_, T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if let Poll::Ready(item) = this.items.poll_recv(cx) {
            return Poll::Ready(item);
        }
        if let Some(producer) = &mut this.producer
            && producer.as_mut().poll(cx).is_ready()
        {
            this.producer = None;
        }
        this.items.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn the_stream_yields_what_the_future_sends_then_ends() {
        let owned = vec![1, 2, 3];
        let stream = generate(|sender| async move {
            for item in &owned {
                if sender.send(*item).await.is_err() {
                    return;
                }
            }
        });
        assert_eq!(stream.collect::<Vec<_>>().await, vec![1, 2, 3]);
    }
}
