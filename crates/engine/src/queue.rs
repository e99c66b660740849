//! The requests waiting for the engine, oldest first. A request that arrives drops the waiting
//! ones it makes pointless ([`Request::supersedes`]), so a fast run of box drags or photos
//! costs one match, not one per step.

use std::collections::VecDeque;

use cf_protocol::Request;

/// Waiting requests with who asked.
#[derive(Debug)]
pub struct RequestQueue<A> {
    waiting: VecDeque<(A, Request)>,
}

impl<A> Default for RequestQueue<A> {
    fn default() -> Self {
        RequestQueue {
            waiting: VecDeque::new(),
        }
    }
}

impl<A: PartialEq> RequestQueue<A> {
    /// Queues `request`, dropping what it supersedes of the same asker's waiting requests.
    pub fn push(&mut self, from: A, request: Request) {
        self.waiting
            .retain(|(asker, older)| *asker != from || !request.supersedes(older));
        self.waiting.push_back((from, request));
    }

    /// Takes the oldest request for which `runnable` holds; the others keep their order.
    pub fn take_first(&mut self, runnable: impl Fn(&Request) -> bool) -> Option<(A, Request)> {
        let position = self.waiting.iter().position(|(_, r)| runnable(r))?;
        self.waiting.remove(position)
    }

    /// True when some waiting request is runnable.
    pub fn any(&self, runnable: impl Fn(&Request) -> bool) -> bool {
        self.waiting.iter().any(|(_, r)| runnable(r))
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use cf_protocol::{FaceRect, Filter};

    use super::*;

    fn drag(seq: u32) -> Request {
        Request::Match {
            seq,
            photo: 1,
            face: FaceRect {
                x1: 0.0,
                y1: 0.0,
                x2: 30.0 + seq as f32,
                y2: 30.0,
                quarter_turns: 0,
            },
            filter: Filter::default(),
        }
    }

    #[test]
    fn a_run_of_drags_leaves_only_the_last_one() {
        let mut queue = RequestQueue::default();
        for seq in 1..=5 {
            queue.push(0, drag(seq));
        }
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.take_first(|_| true), Some((0, drag(5))));
        assert!(queue.is_empty());
    }

    #[test]
    fn a_new_photo_drops_waiting_boxes_but_a_load_keeps_its_place() {
        let mut queue = RequestQueue::default();
        let load = Request::Load {
            manifest: String::new(),
            network: "look".into(),
        };
        queue.push(0, drag(1));
        queue.push(0, load.clone());
        queue.push(
            0,
            Request::Analyse {
                seq: 2,
                photo: 2,
                bytes: vec![1],
                filter: Filter::default(),
            },
        );
        let order: Vec<Request> =
            std::iter::from_fn(|| queue.take_first(|_| true).map(|r| r.1)).collect();
        assert_eq!(order.len(), 2);
        assert_eq!(order[0], load);
        assert!(matches!(order[1], Request::Analyse { seq: 2, .. }));
    }

    #[test]
    fn what_cannot_run_yet_keeps_waiting_in_order() {
        let mut queue = RequestQueue::default();
        queue.push(0, drag(1));
        queue.push(0, Request::Bench);
        let is_bench = |r: &Request| matches!(r, Request::Bench);
        assert!(queue.any(is_bench));
        assert_eq!(queue.take_first(is_bench), Some((0, Request::Bench)));
        assert!(!queue.any(is_bench));
        assert_eq!(queue.take_first(|_| true), Some((0, drag(1))));
    }

    #[test]
    fn another_askers_requests_are_not_superseded() {
        let mut queue = RequestQueue::default();
        queue.push(0, drag(1));
        queue.push(1, drag(2));
        assert_eq!(queue.len(), 2);
    }
}
