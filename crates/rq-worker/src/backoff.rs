//! Exponential backoff for every retry loop: a first delay, doubled after each failure up to
//! a cap. One type so that every loop that waits out an outage (Redis, a database, an HTTP
//! service) behaves the same and logs the same numbers.

use std::time::Duration;

/// The delays of one retry loop: `first`, `2 × first`, … up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
    attempts: u32,
}

impl Backoff {
    /// Delays from `first`, doubled after each one, up to `max`.
    pub const fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first,
            max,
            next: first,
            attempts: 0,
        }
    }

    /// The same delay every time (a fixed retry interval).
    pub const fn constant(every: Duration) -> Backoff {
        Backoff::new(every, every)
    }

    /// The delay before the next try; the one after it doubles (up to the cap).
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        self.attempts = self.attempts.saturating_add(1);
        d
    }

    /// The delay [`next_delay`](Self::next_delay) will return, without taking it.
    pub fn peek(&self) -> Duration {
        self.next
    }

    /// Sleeps for the next delay.
    pub async fn wait(&mut self) {
        let d = self.next_delay();
        tokio::time::sleep(d).await;
    }

    /// Back to the first delay (after a success).
    pub fn reset(&mut self) {
        self.next = self.first;
        self.attempts = 0;
    }

    /// Delays taken since the start or the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The delay before retry `n` (1-based) of a loop that keeps no state:
    /// `first × 2^(n-1)`, capped.
    pub fn nth(first: Duration, max: Duration, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        first.saturating_mul(factor).min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(500));
        let got: Vec<_> = (0..5).map(|_| b.next_delay()).collect();
        assert_eq!(got, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
        assert_eq!(b.attempts(), 5);
        b.reset();
        assert_eq!((b.peek(), b.attempts()), (ms(100), 0));
        let mut c = Backoff::constant(ms(5));
        assert_eq!([c.next_delay(), c.next_delay()], [ms(5), ms(5)]);
    }

    #[test]
    fn nth_matches_the_stateful_sequence_and_never_overflows() {
        let (first, max) = (Duration::from_millis(250), Duration::from_secs(30));
        let mut b = Backoff::new(first, max);
        for n in 1..=12 {
            assert_eq!(Backoff::nth(first, max, n), b.next_delay(), "retry {n}");
        }
        assert_eq!(Backoff::nth(first, max, 0), first);
        assert_eq!(Backoff::nth(first, max, u32::MAX), max);
    }
}
