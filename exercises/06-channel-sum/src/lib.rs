//! Exercise 06: communicating over a channel.

/// Splits `numbers` over `workers` threads (at least one); each thread sends
/// the sum of its part over an `std::sync::mpsc` channel, and the caller adds
/// up what it receives.
pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    // TODO: nothing is summed yet. A plan:
    //   1. Create a channel with `std::sync::mpsc::channel()`: a `Sender`
    //      and a `Receiver`.
    //   2. Split `numbers` into `workers` parts. Every number belongs to
    //      exactly one part; some parts may be empty (more workers than
    //      numbers is allowed, and so is an empty vector).
    //   3. Spawn one thread per part. Give it its part (threads need data
    //      they own) and its own clone of the `Sender`; it sums its part
    //      and sends the partial sum.
    //   4. Drop the original `Sender`: as long as one sender is alive the
    //      channel is open, and a receiver waiting for more could wait
    //      forever.
    //   5. Receive one partial sum per worker and add them up.
    let _ = (numbers, workers);
    0
}
