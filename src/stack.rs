//! Stack growth for the recursive passes. Expression depth is bounded by the
//! parser; this keeps that bound safe on any thread, whatever its stack size.

/// Grows the stack before running `f` when less than this much is left.
const RED_ZONE: usize = 128 * 1024;
/// Size of each new stack segment.
const SEGMENT: usize = 2 * 1024 * 1024;

pub(crate) fn guard<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
