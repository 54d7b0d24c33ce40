//! The engine's pending events: popped in time order, ties in the order they were scheduled.
//!
//! A binary heap holds them, except the earliest one when it was scheduled earlier than all
//! the others: that one waits in a slot of its own and is popped without going through the
//! heap. Most events are transmit opportunities at the end of the frame just sent, earlier
//! than every frame still on its way, so most of them never touch the heap (whose sifting,
//! with the frames' octets streaming through the cache, cost a tenth of the run).
//!
//! Events that come in time order of their own (a link's frames arrive in the order they were
//! sent) can be pushed into a lane instead ([`EventQueue::push_in_lane`]): a FIFO that stays
//! sorted because an event goes there only when it is not earlier than the lane's last one
//! (else into the heap). Popping compares the lanes' first events with the earliest of the
//! rest; the order events come out in is the same wherever they waited.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

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
    /// Events in time order of their own, per lane (see [`EventQueue::push_in_lane`]).
    lanes: Vec<VecDeque<(Time, u64, E)>>,
    /// The earliest of the lanes' first events: (time, order, lane).
    lanes_first: Option<(Time, u64, usize)>,
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
            lanes: Vec::new(),
            lanes_first: None,
            order: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `ev` at `at`, after every event already scheduled at the same time.
    pub fn push(&mut self, at: Time, ev: E) {
        let order = self.reserve();
        self.push_reserved(at, order, ev);
    }

    /// A place in the scheduling order, for an event that may be pushed later
    /// ([`EventQueue::push_reserved`]) as if it had been pushed now.
    pub fn reserve(&mut self) -> u64 {
        self.order += 1;
        self.order
    }

    /// Schedules `ev` at `at` in the place `order` got from [`EventQueue::reserve`].
    pub fn push_reserved(&mut self, at: Time, order: u64, ev: E) {
        let key = (at, order);
        match &self.first {
            Some((t, o, _)) if key < (*t, *o) => {
                if let Some((t, o, e)) = self.first.take() {
                    self.push_heap(t, o, e);
                }
                self.first = Some((at, order, ev));
            }
            Some(_) => self.push_heap(at, order, ev),
            None => match self.heap.peek() {
                Some(Reverse((t, o, _))) if (*t, *o) < key => self.push_heap(at, order, ev),
                _ => self.first = Some((at, order, ev)),
            },
        }
    }

    /// Schedules `ev` at `at` like [`EventQueue::push`], in lane `lane`: cheaper than the heap
    /// when the lane's events are mostly pushed in time order (any lane number will do; a few
    /// small ones keep the queue small).
    pub fn push_in_lane(&mut self, lane: usize, at: Time, ev: E) {
        let order = self.reserve();
        if self.lanes.len() <= lane {
            self.lanes.resize_with(lane + 1, VecDeque::new);
        }
        let q = &mut self.lanes[lane];
        match q.back() {
            Some(&(t, o, _)) if (at, order) < (t, o) => self.push_reserved(at, order, ev),
            Some(_) => q.push_back((at, order, ev)),
            None => {
                q.push_back((at, order, ev));
                if self
                    .lanes_first
                    .is_none_or(|(t, o, _)| (at, order) < (t, o))
                {
                    self.lanes_first = Some((at, order, lane));
                }
            }
        }
    }

    /// The earliest of the lanes' first events, found again after one was popped.
    fn find_lanes_first(&self) -> Option<(Time, u64, usize)> {
        let mut best: Option<(Time, u64, usize)> = None;
        for (i, q) in self.lanes.iter().enumerate() {
            if let Some(&(t, o, _)) = q.front() {
                if best.is_none_or(|(bt, bo, _)| (t, o) < (bt, bo)) {
                    best = Some((t, o, i));
                }
            }
        }
        best
    }

    /// The earliest event and its time.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        // The earliest of the rest: `first` when there is one, else the heap's top.
        let rest = match (&self.first, self.heap.peek()) {
            (Some((t, o, _)), _) => Some((*t, *o)),
            (None, Some(Reverse((t, o, _)))) => Some((*t, *o)),
            (None, None) => None,
        };
        if let Some((t, o, i)) = self.lanes_first {
            if rest.is_none_or(|r| (t, o) < r) {
                let popped = self.lanes[i].pop_front().map(|(t, _, ev)| (t, ev));
                self.lanes_first = self.find_lanes_first();
                return popped;
            }
        }
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

    /// Random pushes and pops come out as from a plain sort by (time, scheduling order),
    /// events pushed in a place reserved earlier included.
    #[test]
    fn events_come_out_by_time_then_scheduling_order() {
        let mut rng = Rng::new(3, 0);
        let mut q = EventQueue::default();
        // (time, place in the scheduling order)
        let mut pending: Vec<(Time, u64)> = Vec::new();
        let mut reserved: Vec<(Time, u64)> = Vec::new();
        let mut lane_last: [Time; 3] = [0; 3];
        let mut now = 0;
        for _ in 0..20_000 {
            // Mostly soon after the last popped time, sometimes at the same time or far off.
            let at = now
                + match rng.below(4) {
                    0 => 0,
                    1 => rng.below(3),
                    2 => rng.below(100),
                    _ => rng.below(10_000),
                };
            match rng.below(8) {
                0 => reserved.push((at, q.reserve())),
                2 | 3 => {
                    // Into a lane: mostly in time order there, sometimes not.
                    let lane = rng.below(3) as usize;
                    let at = if rng.below(4) == 0 {
                        at
                    } else {
                        at.max(lane_last[lane])
                    };
                    lane_last[lane] = at;
                    let order = q.order + 1;
                    q.push_in_lane(lane, at, order);
                    pending.push((at, order));
                }
                1 if !reserved.is_empty() => {
                    // Pushed late, but not before what has already been popped.
                    let (at, order) = reserved.swap_remove(0);
                    let at = at.max(now);
                    q.push_reserved(at, order, order);
                    pending.push((at, order));
                }
                _ => {
                    let order = q.reserve();
                    q.push_reserved(at, order, order);
                    pending.push((at, order));
                }
            }
            while rng.below(3) == 0 {
                let want = pending
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, key)| **key)
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
