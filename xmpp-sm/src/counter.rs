//! Stanza counters modulo 2^32 (XEP-0198 §4: "h" wraps to zero after
//! 2^32 - 1) and the unacknowledged-stanza queue both roles keep.

use std::collections::VecDeque;

use bytes::Bytes;

/// Why an acknowledgement was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// The peer claims to have handled stanzas that were never sent
    /// (XEP-0198 §4 `<handled-count-too-high/>`).
    #[error("handled count {h} is higher than the {sent} stanzas sent")]
    TooHigh {
        /// The peer's claimed count.
        h: u32,
        /// Our send count.
        sent: u32,
    },
    /// The count is lower than one the peer acknowledged before: the
    /// history it asks for is no longer kept.
    #[error("handled count {h} is behind the acknowledged count {acked}")]
    Behind {
        /// The peer's claimed count.
        h: u32,
        /// What it acknowledged before.
        acked: u32,
    },
}

/// How many steps `to` is ahead of `from`, modulo 2^32. Used to compare
/// counters across the wrap.
pub fn ahead_by(from: u32, to: u32) -> u32 {
    to.wrapping_sub(from)
}

/// The stanzas sent but not yet acknowledged by the peer, with the send
/// count. Stanzas are kept serialized so a retransmission reuses the
/// bytes (no allocation beyond the queued [`Bytes`]).
#[derive(Clone, Debug, Default)]
pub struct Unacked {
    queue: VecDeque<Bytes>,
    /// Number of stanzas sent, modulo 2^32.
    sent: u32,
}

impl Unacked {
    /// An empty queue whose send count starts at `origin` (0 per XEP-0198;
    /// other values only in tests of the counter wrap).
    pub fn new(origin: u32) -> Self {
        Unacked {
            queue: VecDeque::new(),
            sent: origin,
        }
    }

    /// An empty queue with room for `capacity` stanzas before it grows.
    pub fn with_capacity(origin: u32, capacity: usize) -> Self {
        Unacked {
            queue: VecDeque::with_capacity(capacity),
            sent: origin,
        }
    }

    /// Records one sent stanza.
    #[inline]
    pub fn push(&mut self, stanza: Bytes) {
        self.queue.push_back(stanza);
        self.sent = self.sent.wrapping_add(1);
    }

    /// The send count (modulo 2^32).
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// The count the peer has acknowledged so far.
    pub fn acked(&self) -> u32 {
        // The queue never holds more than u32::MAX entries: its length is
        // bounded by the configured buffer.
        self.sent.wrapping_sub(self.queue.len() as u32)
    }

    /// Number of unacknowledged stanzas.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether every sent stanza was acknowledged.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The unacknowledged stanzas, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Bytes> {
        self.queue.iter()
    }

    /// Applies the peer's handled count `h`: drops the stanzas it covers
    /// and returns how many were dropped. A count beyond the send count or
    /// behind the previous acknowledgement is refused and changes nothing
    /// (counts are compared modulo 2^32: `h` is "behind" when it is less
    /// than 2^31 steps before the acknowledged count).
    pub fn ack(&mut self, h: u32) -> Result<usize, AckError> {
        let acked = self.acked();
        let newly = ahead_by(acked, h) as usize;
        if newly == 0 {
            return Ok(0);
        }
        if newly > self.queue.len() {
            let behind = ahead_by(h, acked);
            if behind < 1 << 31 {
                return Err(AckError::Behind { h, acked });
            }
            return Err(AckError::TooHigh { h, sent: self.sent });
        }
        self.queue.drain(..newly);
        Ok(newly)
    }

    /// Removes and returns every unacknowledged stanza.
    pub fn take_all(&mut self) -> Vec<Bytes> {
        self.queue.drain(..).collect()
    }

    /// Forgets the queue and restarts counting at `origin` (a fresh
    /// session after a failed resumption).
    pub fn reset(&mut self, origin: u32) {
        self.queue.clear();
        self.sent = origin;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(n: u64) -> Bytes {
        Bytes::from(n.to_string())
    }

    #[test]
    fn ack_releases_exactly_the_covered_stanzas() {
        let mut q = Unacked::new(0);
        for i in 0..5 {
            q.push(b(i));
        }
        assert_eq!(q.ack(3), Ok(3));
        assert_eq!(q.iter().next(), Some(&b(3)));
        assert_eq!(q.ack(3), Ok(0));
        assert_eq!(q.ack(2), Err(AckError::Behind { h: 2, acked: 3 }));
        assert_eq!(q.ack(6), Err(AckError::TooHigh { h: 6, sent: 5 }));
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn wrap_is_seamless() {
        let mut q = Unacked::new(u32::MAX - 1);
        for i in 0..4 {
            q.push(b(i));
        }
        assert_eq!(q.sent(), 2);
        assert_eq!(q.ack(u32::MAX), Ok(1));
        assert_eq!(q.ack(1), Ok(2));
        assert_eq!(q.acked(), 1);
        assert_eq!(q.ack(3), Err(AckError::TooHigh { h: 3, sent: 2 }));
    }

    proptest! {
        /// Against a model with unbounded counters: whatever the origin,
        /// an ack releases exactly `h - acked` stanzas, a count beyond
        /// the send count is refused, and nothing else changes.
        #[test]
        fn matches_unbounded_model(
            origin in any::<u32>(),
            ops in proptest::collection::vec((any::<bool>(), 0u64..40), 1..200),
        ) {
            let mut q = Unacked::new(origin);
            let (mut sent, mut acked) = (0u64, 0u64);
            for (push, k) in ops {
                if push {
                    for _ in 0..k % 8 {
                        q.push(b(sent));
                        sent += 1;
                    }
                } else {
                    let target = acked + k;
                    let h = (u64::from(origin) + target) as u32;
                    let r = q.ack(h);
                    if target <= sent {
                        prop_assert_eq!(r, Ok((target - acked) as usize));
                        acked = target;
                    } else {
                        let too_high = matches!(r, Err(AckError::TooHigh { .. }));
                        prop_assert!(too_high, "{:?}", r);
                    }
                }
                prop_assert_eq!(q.len() as u64, sent - acked);
                prop_assert_eq!(q.sent(), (u64::from(origin) + sent) as u32);
                prop_assert_eq!(q.iter().next().cloned(), (acked < sent).then(|| b(acked)));
            }
        }
    }
}
