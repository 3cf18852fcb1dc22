//! What each verdict category means, written for a student who met threads
//! this week, and one-line lead-ins for the compiler errors these exercises
//! produce most.
//!
//! This module holds words, not layout: `human` decides where they go. The
//! texts key off [`Category`] alone, so a detector never has to write its
//! own explanation; it fills `locations` and `details`, and the student
//! reads the same paragraph whichever check found the mistake.
//!
//! Compile errors stay rustc's own (it explains them better than we could);
//! [`compile_lead_ins`] only adds the course's translation in front of the
//! few errors that concurrency beginners meet first.

use crate::checks::Category;

/// The explanation of one category.
#[derive(Debug, Clone, Copy)]
pub struct Lesson {
    /// What went wrong, in a beginner's words.
    pub means: &'static str,
    /// What to do instead.
    pub instead: &'static str,
    /// The part of the lesson to reread, as the specs' `lesson` field names
    /// it (matched case-insensitively); `None`: the exercise's own README.
    pub part: Option<&'static str>,
}

/// The explanation of `category`.
pub fn lesson(category: Category) -> Lesson {
    match category {
        Category::CompileError => Lesson {
            means: "Rust refused to build your program, so nothing ran yet. The compiler's \
                    report above is precise: read its first error first (later ones are \
                    often caused by it); the line after `-->` is where to look.",
            instead: "Fix the first error, save, and grade again. The `help:` lines under an \
                      error often show the exact change to make.",
            part: None,
        },
        Category::Forbidden => Lesson {
            means: "Your code uses something this course rules out: `unsafe` code, a \
                    `static mut`, starting another program, or the network. These step \
                    around the rules that keep threads from corrupting each other's data, \
                    or reach outside your program, so a grade that depended on them would \
                    mean nothing.",
            instead: "Share data between threads with the safe tools of the lesson: move \
                      values into a thread with `move`, share them with `Arc`, change them \
                      under a `Mutex` or with an atomic, and send results back over a \
                      channel.",
            part: Some("synchronization primitives when required"),
        },
        Category::WrongAnswer => Lesson {
            means: "Your program ran to the end at normal timing, but what it printed (or \
                    returned) is not what the exercise asks for: a typo, a missing or extra \
                    line, a wrong number, or lines in an order the task does not allow.",
            instead: "Compare what was expected with what your program printed, above. If \
                      the lines are right but their order is not, ask yourself which thread \
                      prints each line, and where `main` waits for the others.",
            part: None,
        },
        Category::SleepReliance => Lesson {
            means: "Your program was right only because a wait by time happened to be long \
                    enough: a sleep, a timeout, a loop of `yield_now` or on `Instant`. The \
                    grader ran it again with its timing changed (waits by time skipped, \
                    threads started late) and the output broke. Such a wait is a guess about \
                    how long another thread needs; on a busy machine the guess is wrong, \
                    and when it is right you wait longer than needed.",
            instead: "Wait for the event itself, not for time to pass: keep the `JoinHandle` \
                      that `thread::spawn` returns and call `.join()` on it, or block on a \
                      channel's `recv()`. Both wait exactly as long as needed. Then delete \
                      the sleep.",
            part: Some("why sleep is not a good solution"),
        },
        Category::EarlyExit => Lesson {
            means: "`main` returned while your threads were still working. When `main` ends, \
                    the whole program ends, and threads that had not finished are stopped \
                    wherever they are: their lines or results are lost. A run that printed \
                    everything was luck: the threads happened to be quick that time.",
            instead: "Keep every `JoinHandle` (in a `Vec` if there are several) and call \
                      `.join()` on each before `main` prints its last line. `join()` also \
                      hands you the thread's result: `handle.join().unwrap()`.",
            part: Some("the program exits before its goroutines complete"),
        },
        Category::NotConcurrent => Lesson {
            means: "The work the exercise asks to run on threads did not run side by side: \
                    too few threads, work done by `main` instead of a thread, or each thread \
                    joined right after it was spawned, so only one ever ran at a time.",
            instead: "Spawn all the threads first and keep their handles; only then join \
                      them, in a second loop. Give each thread its own share of the work.",
            // What must run on threads is each exercise's own task.
            part: None,
        },
        Category::DataRace => Lesson {
            means: "Two threads used the same data without taking turns. The grader tried \
                    the possible orders of your threads' steps and found one that breaks \
                    the result; for a counter: both threads read the old value, both add \
                    one, both write back the same number, and one update is lost. On a real \
                    run this happens only now and then, which is what makes it dangerous.",
            instead: "Make the read and the write one step that no other thread can cut in \
                      two: change the value while holding its lock \
                      (`*count.lock().unwrap() += 1` on an `Arc<Mutex<_>>`) or use an \
                      atomic's `fetch_add`. Locking for the read and again for the write \
                      does not help: another thread can run in between.",
            part: Some("accessing shared data without synchronization"),
        },
        Category::Deadlock => Lesson {
            means: "Your threads can end up waiting for each other forever: each one is \
                    blocked on something only another blocked thread could give it. Often \
                    one thread holds lock A and waits for lock B while another holds B and \
                    waits for A; or a receiver waits for a message (or for the channel to \
                    close) while a `Sender` that will never send is still alive. The grader \
                    found an order of the threads' steps that gets there, or a run that hung \
                    with every thread waiting.",
            instead: "Take locks in one fixed order everywhere (for example, the lower \
                      account number first) and hold each only as long as you need it. A \
                      `for x in rx` loop ends only when every `Sender` is gone: after cloning \
                      the sender for each thread, drop the original (`drop(tx)`).",
            part: Some("synchronization primitives when required"),
        },
        Category::Timeout => Lesson {
            means: "Your program was still running when its time ran out, and was stopped. \
                    The message above says what it was doing at that moment: computing \
                    (some thread kept running: a loop whose end never came), or sleeping \
                    (a sleep longer than the time the exercise allows).",
            instead: "If it was computing, look for a loop whose condition can never become \
                      false, or a thread spinning until something changes: to wait for a \
                      thread, block in `join()` or in a channel's `recv()`. If it was \
                      sleeping, remove the sleep: nothing in these exercises needs one.",
            part: Some("the main function and blocking"),
        },
        Category::Crash => Lesson {
            means: "Your program panicked, aborted, or exited with a failing status. A panic \
                    in a spawned thread reaches `main` as an `Err` from `join()`, and \
                    `.unwrap()` on it makes `main` panic too; so read the first panic \
                    message, it is where the trouble started.",
            instead: "Go to the line the first panic names. The usual causes are an index \
                      past the end of a vector, `unwrap()` on a `None` or an `Err`, and an \
                      arithmetic overflow (grading builds check for it).",
            part: Some("creating a goroutine"),
        },
        Category::ResourceLimit => Lesson {
            means: "Your program used more than the grader allows: too much output (often a \
                    print inside a loop that never ends), too much memory, too many threads \
                    at once, or too large a file.",
            instead: "Print only what the task asks for, spawn as many threads as the task \
                      says (not one per item), and make sure every loop ends.",
            part: Some("creating a goroutine"),
        },
    }
}

/// One-line translations of the compiler errors in `rendered` (rustc's
/// human output) that these exercises cause most, each once, in the order
/// of the errors.
pub fn compile_lead_ins(rendered: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for block in error_blocks(rendered) {
        if let Some(line) = lead_in(block)
            && !out.contains(&line)
        {
            out.push(line);
        }
    }
    out
}

/// Splits rustc's output into one text per `error...` diagnostic (its notes
/// and helps included); warnings and the closing "aborting" line are left out.
fn error_blocks(rendered: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = Vec::new();
    let mut pos = 0;
    for line in rendered.split_inclusive('\n') {
        if line.starts_with("error") || line.starts_with("warning") {
            starts.push(pos);
        }
        pos += line.len();
    }
    starts.push(rendered.len());
    starts
        .windows(2)
        .map(|w| &rendered[w[0]..w[1]])
        .filter(|b| b.starts_with("error") && !b.starts_with("error: aborting"))
        .collect()
}

fn code(block: &str) -> &str {
    block
        .strip_prefix("error[")
        .and_then(|rest| rest.split_once(']'))
        .map(|(code, _)| code)
        .unwrap_or("")
}

/// The first backquoted name after `marker` in `text`.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let start = rest.find('`')? + 1;
    let len = rest[start..].find('`')?;
    Some(&rest[start..start + len])
}

fn lead_in(block: &str) -> Option<String> {
    let first_line = block.lines().next().unwrap_or("");
    // `join()` gives a `Result`: the payload type is the tell, whatever the
    // error's code (E0308 on a `let`, E0369 on `+`, E0277 in a `sum`...).
    if block.contains("Box<dyn Any + Send") || block.contains("Box<(dyn Any + Send") {
        return Some(
            "`join()` returns a `Result` (an `Err` when the thread panicked): write \
             `handle.join().unwrap()` to get the value the thread returned."
                .into(),
        );
    }
    match code(block) {
        "E0373" => {
            let name = quoted_after(first_line, "borrows").unwrap_or("a local variable");
            Some(format!(
                "A thread may outlive the function that spawned it, so its closure cannot \
                 borrow `{name}`: add `move` (`thread::spawn(move || ...)`) so the thread \
                 owns what it uses."
            ))
        }
        "E0382" => {
            let name = quoted_after(first_line, "moved value:").unwrap_or("it");
            if block.contains("JoinHandle") {
                Some(format!(
                    "`join()` uses up its handle: `{name}` can be joined only once. Join \
                     each thread exactly once."
                ))
            } else if block.contains("Arc<") {
                Some(format!(
                    "`{name}` moved into the first thread's closure, so the next thread cannot \
                     have it: clone the Arc before each spawn (`let {name} = Arc::clone(&{name});`) \
                     and move the clone in."
                ))
            } else if block.contains("Sender<") {
                Some(format!(
                    "`{name}` moved into the first thread's closure: clone the sender before \
                     each spawn (`let {name} = {name}.clone();`) and move the clone in."
                ))
            } else if block.contains("closure") {
                Some(format!(
                    "`{name}` moved into a thread's closure and cannot be used again: give \
                     each thread its own (to share one value, put it in an `Arc` and clone \
                     the Arc before each spawn)."
                ))
            } else {
                None
            }
        }
        "E0277" if first_line.contains("cannot be sent between threads") => {
            if first_line.contains("`Rc<") {
                Some(
                    "`Rc` counts its owners without synchronization, so it cannot cross \
                     threads: use `std::sync::Arc` instead."
                        .into(),
                )
            } else if first_line.contains("MutexGuard") {
                Some(
                    "A `MutexGuard` (a lock being held) cannot move to another thread: move \
                     the `Arc<Mutex<_>>` in and call `.lock()` inside the thread."
                        .into(),
                )
            } else {
                None
            }
        }
        "E0277"
            if first_line.contains("cannot be shared between threads")
                && (first_line.contains("`RefCell<") || first_line.contains("`Cell<")) =>
        {
            Some(
                "`Cell` and `RefCell` change values without synchronization, so threads \
                 cannot share them: use a `Mutex` (or an atomic) inside the `Arc`."
                    .into(),
            )
        }
        "E0594" | "E0596" if first_line.contains("`Arc`") => Some(
            "An `Arc` shares a value read-only: to change it, put a `Mutex` inside \
             (`Arc<Mutex<T>>`, then `*x.lock().unwrap() += 1`) or use an atomic."
                .into(),
        ),
        "E0412" | "E0422" | "E0425" | "E0433" => {
            let name = quoted_after(first_line, "cannot find")
                .or_else(|| quoted_after(first_line, "undeclared"))?;
            let path = std_path(name)?;
            Some(format!(
                "`{name}` is not in scope: add `use {path};` at the top of the file."
            ))
        }
        _ => None,
    }
}

/// Where the std items of these exercises live.
fn std_path(name: &str) -> Option<&'static str> {
    Some(match name {
        "thread" => "std::thread",
        "Arc" => "std::sync::Arc",
        "Mutex" => "std::sync::Mutex",
        "RwLock" => "std::sync::RwLock",
        "Barrier" => "std::sync::Barrier",
        "mpsc" => "std::sync::mpsc",
        "Duration" => "std::time::Duration",
        "Ordering" => "std::sync::atomic::Ordering",
        "AtomicUsize" => "std::sync::atomic::AtomicUsize",
        "AtomicU64" => "std::sync::atomic::AtomicU64",
        "AtomicBool" => "std::sync::atomic::AtomicBool",
        "JoinHandle" => "std::thread::JoinHandle",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_words() {
        for c in Category::ALL {
            let l = lesson(c);
            assert!(l.means.len() > 80 && l.instead.len() > 40, "{c}");
        }
    }

    #[test]
    fn closures_borrowing_a_local_are_told_to_move() {
        let r = "error[E0373]: closure may outlive the current function, but it borrows `i`, \
                 which is owned by the current function\n --> src/main.rs:6:36\n\nerror: \
                 aborting due to 1 previous error\n";
        let l = compile_lead_ins(r);
        assert_eq!(l.len(), 1, "{l:?}");
        assert!(
            l[0].contains("borrow `i`") && l[0].contains("add `move`"),
            "{l:?}"
        );
    }

    #[test]
    fn a_value_moved_into_two_threads_is_told_apart_by_its_type() {
        let arc = "error[E0382]: use of moved value: `c`\n  | move occurs because `c` has type \
                   `Arc<Mutex<i32>>`\n  | value moved into closure here\n";
        assert!(compile_lead_ins(arc)[0].contains("Arc::clone(&c)"));
        let handle = "error[E0382]: use of moved value: `handle`\n  | move occurs because \
                      `handle` has type `JoinHandle<()>`\n";
        assert!(compile_lead_ins(handle)[0].contains("joined only once"));
        let tx = "error[E0382]: use of moved value: `tx`\n  | has type `Sender<i32>`\n";
        assert!(compile_lead_ins(tx)[0].contains("tx.clone()"));
    }

    #[test]
    fn send_and_sync_errors_name_the_thread_safe_type() {
        let rc = "error[E0277]: `Rc<i32>` cannot be sent between threads safely\n";
        assert!(compile_lead_ins(rc)[0].contains("use `std::sync::Arc`"));
        let guard = "error[E0277]: `std::sync::MutexGuard<'_, i32>` cannot be sent between threads safely\n";
        assert!(compile_lead_ins(guard)[0].contains("`.lock()` inside the thread"));
        let cell = "error[E0277]: `RefCell<i32>` cannot be shared between threads safely\n";
        assert!(compile_lead_ins(cell)[0].contains("`Mutex`"));
        let arc = "error[E0594]: cannot assign to data in an `Arc`\n";
        assert!(compile_lead_ins(arc)[0].contains("`Arc<Mutex<T>>`"));
    }

    #[test]
    fn a_join_result_used_as_a_value_is_told_to_unwrap() {
        let r = "error[E0308]: mismatched types\nhelp: consider using `Result::expect` to unwrap \
                 the `Result<u64, Box<(dyn Any + Send + 'static)>>` value\n";
        assert!(compile_lead_ins(r)[0].contains("handle.join().unwrap()"));
    }

    #[test]
    fn missing_imports_name_their_path_once() {
        let r = "error[E0433]: cannot find module or crate `thread` in this scope\n\
                 error[E0433]: cannot find module or crate `thread` in this scope\n\
                 error[E0433]: cannot find type `Mutex` in this scope\n\
                 error[E0425]: cannot find value `whatever` in this scope\n";
        let l = compile_lead_ins(r);
        assert_eq!(l.len(), 2, "{l:?}");
        assert!(l[0].contains("use std::thread;"));
        assert!(l[1].contains("use std::sync::Mutex;"));
    }

    #[test]
    fn other_errors_and_warnings_get_no_lead_in() {
        let r = "warning: unused variable: `x`\nerror[E0308]: mismatched types\n expected `i32`, \
                 found `&str`\nerror: aborting due to 1 previous error\n";
        assert!(compile_lead_ins(r).is_empty());
    }
}
