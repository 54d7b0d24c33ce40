//! The engine's pending events: popped in time order, ties in the order they were scheduled.
//!
//! A binary heap holds them, except the earliest one when it was scheduled earlier than all
//! the others: that one waits in a slot of its own and is popped without going through the
//! heap. Most events are transmit opportunities at the end of the frame just sent, earlier
//! than every frame still on its way, so most of them never touch the heap (whose sifting,
//! with the frames' octets streaming through the cache, cost a tenth of the run).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Time;

/// Events of type `E` by time.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// The earliest event, when it is earlier than everything in `heap`.
    first: Option<(Time, u64, E)>,
    /// (time, order, slot) of the other events; their events wait in `slots`.
    heap: BinaryHeap<Reverse<(Time, u64, usize)>>,
    slots: Vec<Option<E>>,
    free_slots: Vec<usize>,
    /// Scheduling order, for ties.
    order: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            first: None,
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            order: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `ev` at `at`, after every event already scheduled at the same time.
    pub fn push(&mut self, at: Time, ev: E) {
        self.order += 1;
        let key = (at, self.order);
        match &self.first {
            Some((t, o, _)) if key < (*t, *o) => {
                if let Some((t, o, e)) = self.first.take() {
                    self.push_heap(t, o, e);
                }
                self.first = Some((at, self.order, ev));
            }
            Some(_) => self.push_heap(at, self.order, ev),
            None => match self.heap.peek() {
                Some(Reverse((t, o, _))) if (*t, *o) < key => self.push_heap(at, self.order, ev),
                _ => self.first = Some((at, self.order, ev)),
            },
        }
    }

    /// The earliest event and its time.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        if let Some((t, _, ev)) = self.first.take() {
            return Some((t, ev));
        }
        let Reverse((t, _, slot)) = self.heap.pop()?;
        let ev = self.slots[slot].take().expect("a heap entry has its event");
        self.free_slots.push(slot);
        Some((t, ev))
    }

    fn push_heap(&mut self, at: Time, order: u64, ev: E) {
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.slots[s] = Some(ev);
                s
            }
            None => {
                self.slots.push(Some(ev));
                self.slots.len() - 1
            }
        };
        self.heap.push(Reverse((at, order, slot)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Random pushes and pops come out as from a plain sort by (time, scheduling order).
    #[test]
    fn events_come_out_by_time_then_scheduling_order() {
        let mut rng = Rng::new(3, 0);
        let mut q = EventQueue::default();
        let mut pending: Vec<(Time, u32)> = Vec::new();
        let mut now = 0;
        for id in 0..20_000u32 {
            // Mostly soon after the last popped time, sometimes at the same time or far off.
            let at = now
                + match rng.below(4) {
                    0 => 0,
                    1 => rng.below(3),
                    2 => rng.below(100),
                    _ => rng.below(10_000),
                };
            q.push(at, id);
            pending.push((at, id));
            while rng.below(3) == 0 {
                let want = pending
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, (t, id))| (*t, *id))
                    .map(|(i, _)| i);
                let got = q.pop();
                assert_eq!(got, want.map(|i| pending.remove(i)));
                if let Some((t, _)) = got {
                    now = t;
                }
            }
        }
        pending.sort();
        for p in pending {
            assert_eq!(q.pop(), Some(p));
        }
        assert_eq!(q.pop(), None);
    }
}
