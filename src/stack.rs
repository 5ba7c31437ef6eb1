//! Stack growth for the recursive passes. Expression depth is bounded by the
//! parser; this keeps that bound safe on any thread, whatever its stack size.

use std::cell::Cell;

/// Grows the stack before running `f` when less than this much is left: room
/// for the 16 levels between two checks even with debug-build frames.
const RED_ZONE: usize = 1024 * 1024;
/// Size of each new stack segment.
const SEGMENT: usize = 8 * 1024 * 1024;

pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// The recursion depth of one pass. Checking the stack costs a thread-local
/// read and a call; [`Depth::descend`] does it every 16 levels, which is far
/// inside the red zone for any frame of these passes.
#[derive(Default)]
pub(crate) struct Depth(Cell<usize>);

impl Depth {
    #[inline]
    pub(crate) fn descend<R>(&self, f: impl FnOnce() -> R) -> R {
        let depth = self.0.get();
        self.0.set(depth + 1);
        let result = if depth.is_multiple_of(16) {
            guard(f)
        } else {
            f()
        };
        self.0.set(depth);
        result
    }
}

/// [`Depth::descend`] for passes that hold `&mut self` (the checker, the
/// compiler's lowering): the count lives in the pass, reached by `depth`.
pub(crate) fn descend_mut<S, R>(
    state: &mut S,
    depth: fn(&mut S) -> &mut usize,
    f: impl FnOnce(&mut S) -> R,
) -> R {
    *depth(state) += 1;
    let result = if depth(state).is_multiple_of(16) {
        guard(|| f(state))
    } else {
        f(state)
    };
    *depth(state) -= 1;
    result
}
