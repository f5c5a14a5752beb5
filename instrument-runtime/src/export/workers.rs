//! Threads kept to deliver batches: started as batches need them, at most a limit of them, each
//! waiting for the next batch once it delivered one, and ended when the pool is dropped (after
//! the batches handed to it). A thread started for every batch cost the batch processor a
//! thread's creation and the new thread its start and exit for each batch, and gave each batch's
//! frees a new thread's empty allocator caches.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Up to `limit` threads running the jobs handed to them, in order.
#[derive(Debug)]
pub(super) struct Workers<T> {
    shared: Arc<Shared<T>>,
    limit: usize,
}

#[derive(Debug)]
struct Shared<T> {
    jobs: Mutex<Jobs<T>>,
    ready: Condvar,
}

#[derive(Debug)]
struct Jobs<T> {
    waiting: VecDeque<T>,
    /// Threads started and not ended.
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
    /// The pool was dropped: threads end once nothing waits.
    closed: bool,
}

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, Jobs<T>> {
    shared.jobs.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Send + 'static> Workers<T> {
    /// A pool of at most `limit` threads (at least one), none started yet.
    pub(super) fn new(limit: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                jobs: Mutex::new(Jobs {
                    waiting: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    closed: false,
                }),
                ready: Condvar::new(),
            }),
            limit: limit.max(1),
        }
    }

    /// Hands `job` to a waiting thread, or to a new one made to run jobs with `start()` when
    /// no waiting thread is left for it and fewer than the limit run (else it waits for the next
    /// thread free). The job back when no thread runs and none can be started.
    pub(super) fn hand<F>(&self, job: T, name: &str, start: impl FnOnce() -> F) -> Result<(), T>
    where
        F: FnMut(T) + Send + 'static,
    {
        let mut jobs = lock(&self.shared);
        jobs.waiting.push_back(job);
        if jobs.idle > 0 {
            self.shared.ready.notify_one();
        }
        // A waiting thread takes one job: more jobs waiting than threads waiting start another.
        if jobs.waiting.len() <= jobs.idle || jobs.threads >= self.limit {
            return Ok(());
        }
        let shared = self.shared.clone();
        let run = start();
        match std::thread::Builder::new()
            .name(name.into())
            .spawn(move || work(&shared, run))
        {
            Ok(_) => {
                jobs.threads += 1;
                Ok(())
            }
            Err(_) if jobs.threads > 0 => Ok(()),
            Err(_) => Err(jobs.waiting.pop_back().expect("the job pushed above")),
        }
    }
}

impl<T> Drop for Workers<T> {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.ready.notify_all();
    }
}

/// A pool thread: runs the jobs as they come, until the pool is dropped and none waits.
fn work<T>(shared: &Shared<T>, mut run: impl FnMut(T)) {
    let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
    let mut jobs = lock(shared);
    loop {
        if let Some(job) = jobs.waiting.pop_front() {
            drop(jobs);
            run(job);
            jobs = lock(shared);
            continue;
        }
        if jobs.closed {
            jobs.threads -= 1;
            return;
        }
        jobs.idle += 1;
        jobs = shared
            .ready
            .wait(jobs)
            .unwrap_or_else(PoisonError::into_inner);
        jobs.idle -= 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn jobs_run_in_order_on_one_thread_kept_between_them() {
        let workers = Workers::new(1);
        let (sent, seen) = mpsc::channel();
        let mut starts = 0;
        for n in 0..5 {
            let sent = sent.clone();
            workers
                .hand(n, "test-worker", || {
                    starts += 1;
                    move |n: i32| sent.send((n, std::thread::current().id())).unwrap()
                })
                .unwrap();
        }
        let got: Vec<_> = (0..5)
            .map(|_| seen.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        assert_eq!(
            got.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        assert!(got.iter().all(|(_, thread)| *thread == got[0].1));
        assert_eq!(starts, 1, "one thread started for all five jobs");
    }

    #[test]
    fn jobs_handed_at_once_start_threads_up_to_the_limit() {
        let workers = Workers::new(2);
        let (sent, seen) = mpsc::channel();
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let mut starts = 0;
        for n in 0..2 {
            let (sent, held) = (sent.clone(), held.clone());
            workers
                .hand(n, "test-worker", || {
                    starts += 1;
                    move |n: i32| {
                        sent.send(n).unwrap();
                        let _ = held.lock().unwrap().recv();
                    }
                })
                .unwrap();
        }
        assert_eq!(
            starts, 2,
            "the second job did not wait for the first thread"
        );
        let mut got: Vec<i32> = (0..2)
            .map(|_| seen.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1]);
        drop(release);
    }

    #[test]
    fn dropping_the_pool_runs_what_was_handed_and_ends_the_threads() {
        let workers = Workers::new(2);
        let (sent, seen) = mpsc::channel();
        for n in 0..3 {
            let sent = sent.clone();
            workers
                .hand(n, "test-worker", || move |n: i32| sent.send(n).unwrap())
                .unwrap();
        }
        let shared = workers.shared.clone();
        drop(workers);
        drop(sent);
        let mut got: Vec<i32> = seen.iter().collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while lock(&shared).threads > 0 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(lock(&shared).threads, 0);
    }
}
