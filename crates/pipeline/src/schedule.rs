//! Runs the countries of a run, each on its own thread, at most `jobs` at a time, largest first (by a cost the
//! caller gives, the bytes to read: the run does not end with one large country working alone while the other
//! workers idle), with a per-country time limit: a
//! country over the limit is marked cancelled and abandoned (its thread is left to end on its own; it never blocks
//! publication, and the process exits after publishing), and the next country starts in its place. A country whose
//! work panics (a bug) ends as [`Outcome::Panicked`] instead of leaving the run waiting for a result that never
//! comes. Progress events from the country threads reach the run's observer through the calling thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::PipelineError;
use crate::progress::{RunObserver, Stage};

/// One country's work: given an observer for its stage events and its cancellation flag, returns its result.
pub type Work<T> = Box<dyn FnOnce(&dyn RunObserver, &AtomicBool) -> T + Send + 'static>;

/// How one country ended.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    /// Still running when the time limit passed; its thread was abandoned.
    TimedOut,
    /// Its work panicked (a bug in `dh`, not a fault of the delivery); the panic's text is not kept, as it may
    /// quote data.
    Panicked,
}

enum Event<T> {
    Stage(String, Stage),
    Done(usize, T),
    Panicked(usize),
}

/// Forwards stage events of a country thread to the scheduling thread.
struct Forward<T> {
    tx: mpsc::Sender<Event<T>>,
}

impl<T: Send> RunObserver for Forward<T> {
    fn stage_started(&self, country: &str, stage: Stage) {
        let _ = self.tx.send(Event::Stage(country.to_string(), stage));
    }
}

/// One country to run.
pub struct Task<T> {
    pub country: String,
    /// What the work is expected to cost (bytes to read; 0 for a country carried over): the costliest start
    /// first, ties in task order.
    pub cost: u64,
    pub work: Work<T>,
}

/// The order in which tasks of these costs start: costliest first, ties in task order.
pub fn start_order(costs: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(costs[i]), i));
    order
}

/// Runs `tasks` at most `jobs` at a time, costliest first; `finished` is called on the calling thread as each
/// country ends (in completion order). Returns the outcomes in the order of `tasks`.
pub fn run_countries<T: Send + 'static>(
    tasks: Vec<Task<T>>,
    jobs: usize,
    limit: Option<Duration>,
    observer: &dyn RunObserver,
    mut finished: impl FnMut(usize, &Outcome<T>),
) -> Result<Vec<Outcome<T>>, PipelineError> {
    let n = tasks.len();
    let (tx, rx) = mpsc::channel::<Event<T>>();
    let mut outcomes: Vec<Option<Outcome<T>>> = (0..n).map(|_| None).collect();
    let mut running: Vec<(usize, Instant, Arc<AtomicBool>)> = Vec::new();
    let order = start_order(&tasks.iter().map(|t| t.cost).collect::<Vec<_>>());
    let mut tasks: Vec<Option<Task<T>>> = tasks.into_iter().map(Some).collect();
    let mut pending = order
        .into_iter()
        .filter_map(|index| Some((index, tasks.get_mut(index)?.take()?)));
    let mut done = 0;
    while done < n {
        while running.len() < jobs.max(1) {
            let Some((index, Task { country, work, .. })) = pending.next() else {
                break;
            };
            let cancelled = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&cancelled);
            let tx = tx.clone();
            std::thread::Builder::new()
                .name(format!("dh-{country}"))
                .spawn(move || {
                    let forward = Forward { tx: tx.clone() };
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        work(&forward, &flag)
                    }));
                    let _ = tx.send(match result {
                        Ok(result) => Event::Done(index, result),
                        Err(_) => Event::Panicked(index),
                    });
                })
                .map_err(|e| PipelineError::ThreadPool {
                    jobs,
                    message: e.to_string(),
                })?;
            running.push((index, Instant::now(), cancelled));
        }
        let wait = match limit {
            Some(limit) => running
                .iter()
                .map(|(_, start, _)| (*start + limit).saturating_duration_since(Instant::now()))
                .min()
                .unwrap_or(limit),
            None => Duration::from_secs(3600),
        };
        let ended = match rx.recv_timeout(wait) {
            Ok(Event::Stage(country, stage)) => {
                observer.stage_started(&country, stage);
                None
            }
            Ok(Event::Done(index, result)) => Some((index, Outcome::Done(result))),
            Ok(Event::Panicked(index)) => Some((index, Outcome::Panicked)),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PipelineError::Internal(
                    "country threads disconnected".to_string(),
                ));
            }
        };
        // a late result of an abandoned country is dropped
        if let Some((index, outcome)) = ended
            && let Some(at) = running.iter().position(|(i, _, _)| *i == index)
        {
            running.swap_remove(at);
            finished(index, &outcome);
            outcomes[index] = Some(outcome);
            done += 1;
        }
        if let Some(limit) = limit {
            let now = Instant::now();
            running.retain(|(index, start, cancelled)| {
                if now.duration_since(*start) < limit {
                    return true;
                }
                cancelled.store(true, Ordering::SeqCst);
                let outcome = Outcome::TimedOut;
                finished(*index, &outcome);
                outcomes[*index] = Some(outcome);
                done += 1;
                false
            });
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::TimedOut))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_over_the_time_limit_is_abandoned_and_the_others_finish() {
        let gate = Arc::new(std::sync::Barrier::new(2));
        let hung = Arc::clone(&gate);
        let tasks: Vec<Task<u32>> = vec![
            task(
                "AAA",
                0,
                Box::new(move |_: &dyn RunObserver, _: &AtomicBool| {
                    hung.wait(); // never released within the test's time limit
                    1
                }),
            ),
            task("BBB", 0, Box::new(|_: &dyn RunObserver, _: &AtomicBool| 2)),
            task("CCC", 0, Box::new(|_: &dyn RunObserver, _: &AtomicBool| 3)),
        ];
        let start = Instant::now();
        let mut order = Vec::new();
        let outcomes = run_countries(
            tasks,
            1,
            Some(Duration::from_millis(200)),
            &crate::progress::Silent,
            |i, _| order.push(i),
        )
        .unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(matches!(outcomes[0], Outcome::TimedOut));
        assert!(matches!(outcomes[1], Outcome::Done(2)));
        assert!(matches!(outcomes[2], Outcome::Done(3)));
        assert_eq!(order, vec![0, 1, 2]);
        gate.wait(); // let the abandoned thread end
    }

    #[test]
    fn a_country_that_panics_ends_as_panicked_and_the_others_finish() {
        // Before: the panicking thread never sent a result and the run waited for it until the time limit.
        let tasks: Vec<Task<u32>> = vec![
            task(
                "AAA",
                0,
                Box::new(|_: &dyn RunObserver, _: &AtomicBool| -> u32 { panic!("a bug") }),
            ),
            task("BBB", 0, Box::new(|_: &dyn RunObserver, _: &AtomicBool| 2)),
        ];
        let start = Instant::now();
        let outcomes = run_countries(tasks, 1, None, &crate::progress::Silent, |_, _| {}).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(matches!(outcomes[0], Outcome::Panicked));
        assert!(matches!(outcomes[1], Outcome::Done(2)));
    }

    #[test]
    fn without_a_limit_every_country_finishes() {
        let tasks: Vec<Task<usize>> = (0..5)
            .map(|i| {
                let work: Work<usize> = Box::new(move |_: &dyn RunObserver, _: &AtomicBool| i * 10);
                task(&format!("C{i}"), 0, work)
            })
            .collect();
        let outcomes = run_countries(tasks, 2, None, &crate::progress::Silent, |_, _| {}).unwrap();
        for (i, o) in outcomes.iter().enumerate() {
            assert!(matches!(o, Outcome::Done(v) if *v == i * 10));
        }
    }

    fn task<T>(country: &str, cost: u64, work: Work<T>) -> Task<T> {
        Task {
            country: country.to_string(),
            cost,
            work,
        }
    }

    #[test]
    fn the_costliest_countries_start_first_and_outcomes_keep_task_order() {
        let started = Arc::new(std::sync::Mutex::new(Vec::new()));
        let tasks: Vec<Task<usize>> = [
            ("AAA", 5),
            ("BBB", 90),
            ("CCC", 0),
            ("DDD", 90),
            ("EEE", 40),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (country, cost))| {
            let started = Arc::clone(&started);
            let work: Work<usize> = Box::new(move |_: &dyn RunObserver, _: &AtomicBool| {
                started.lock().unwrap().push(i);
                i
            });
            task(country, cost, work)
        })
        .collect();
        let outcomes = run_countries(tasks, 1, None, &crate::progress::Silent, |_, _| {}).unwrap();
        assert_eq!(*started.lock().unwrap(), vec![1, 3, 4, 0, 2]);
        for (i, o) in outcomes.iter().enumerate() {
            assert!(matches!(o, Outcome::Done(v) if *v == i));
        }
    }
}
