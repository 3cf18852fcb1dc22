//! The trace parser on logs the shim wrote.
use super::parse::percent_decode;
use super::*;
use std::path::Path;

/// The lesson's sleep example (spawn, print, sleep 1 s, no join), as the
/// shim logged it at normal timing.
const SLEEP_EXAMPLE: &str = "\
ev=init pid=4459 seq=0 ns=453673855876 t=0 v=1 ppid=4458 base=0x558c0a6e1000 exe=/tmp/shim/progs/a
ev=spawn pid=4459 seq=1 ns=453674168402 t=0 child=1 rc=0
ev=detach pid=4459 seq=2 ns=453674174093 t=0 target=1 rc=0
ev=write pid=4459 seq=3 ns=453674195553 t=0 fd=1 n=16 off=0
ev=sleep pid=4459 seq=4 ns=453674198028 t=0 fn=clock_nanosleep abs=0 req_ns=1000000000 eff_ns=1000000000 ra=0x558c0a723de7,0x558c0a6f8aa6,0x558c0a6faaf3
ev=start pid=4459 seq=5 ns=453674239245 t=1 delay_ns=0
ev=write pid=4459 seq=6 ns=453674299147 t=1 fd=1 n=18 off=16
ev=end pid=4459 seq=7 ns=453674311230 t=1 how=return cpu_ns=162936
ev=write pid=4459 seq=8 ns=454674446396 t=0 fd=1 n=23 off=34
ev=exit pid=4459 seq=9 ns=454674501479 t=0 pending=0 cpu_ns=1922634 pcpu_ns=2119805
";

/// The same in a perturbed run (profile `late`): the sleep is skipped, the
/// thread is still held when main returns, and its line is lost.
const SLEEP_EXAMPLE_PERTURBED: &str = "\
ev=init pid=25141 seq=0 ns=1631297469717 t=0 v=2 ppid=25097 base=0x55f9a7d05000 exe=/tmp/tp/sleeper vt=1 start=late
ev=spawn pid=25141 seq=1 ns=1631297931073 t=0 child=1 rc=0
ev=detach pid=25141 seq=2 ns=1631297935962 t=0 target=1 rc=0
ev=write pid=25141 seq=3 ns=1631298029858 t=0 fd=1 n=16 off=0
ev=sleep pid=25141 seq=4 ns=1631298034927 t=0 fn=clock_nanosleep abs=0 req_ns=1000000000 eff_ns=0 ra=0x55f9a7d48787,0x55f9a7d20c45
ev=write pid=25141 seq=5 ns=1631298213683 t=0 fd=1 n=23 off=16
ev=exit pid=25141 seq=6 ns=1631298226567 t=0 pending=1 held=1 cpu_ns=2530894 pcpu_ns=2578734
";

/// Five threads, each joined before the next is spawned.
fn join_per_spawn() -> String {
    let mut log = String::from("ev=init pid=7 seq=0 ns=1000 t=0 v=1 ppid=1 base=0x0 exe=/x/c\n");
    let mut seq = 1;
    let mut line = |text: String| {
        log.push_str(&format!("{}\n", text.replace("SEQ", &seq.to_string())));
        seq += 1;
    };
    for i in 1..=5 {
        line(format!("ev=spawn pid=7 seq=SEQ ns=2000 t=0 child={i} rc=0"));
        line(format!("ev=start pid=7 seq=SEQ ns=2100 t={i} delay_ns=0"));
        line(format!(
            "ev=write pid=7 seq=SEQ ns=2200 t={i} fd=1 n=20 off={}",
            (i - 1) * 20
        ));
        line(format!(
            "ev=end pid=7 seq=SEQ ns=2300 t={i} how=return cpu_ns=100"
        ));
        line(format!("ev=join pid=7 seq=SEQ ns=2400 t=0 target={i} rc=0"));
    }
    line("ev=write pid=7 seq=SEQ ns=3000 t=0 fd=1 n=21 off=100".into());
    line("ev=exit pid=7 seq=SEQ ns=3100 t=0 pending=0 cpu_ns=5 pcpu_ns=9".into());
    log
}

#[test]
fn parses_the_sleep_example() {
    let trace = Trace::parse(SLEEP_EXAMPLE.as_bytes());
    assert_eq!(trace.ignored_lines, 0);
    let init = trace.init.as_ref().unwrap();
    assert_eq!(init.pid, 4459);
    assert_eq!(init.exe, Path::new("/tmp/shim/progs/a"));
    assert_eq!(init.base, 0x558c0a6e1000);
    assert_eq!(trace.threads.len(), 2);
    let t1 = &trace.threads[1];
    assert_eq!(t1.created_by, Some(0));
    assert!(t1.detached);
    assert_eq!(t1.end, Some(EndKind::Return));
    assert_eq!(t1.cpu_ns, Some(162936));
    assert_eq!(trace.threads[0].cpu_ns, Some(1922634));
    assert_eq!(trace.sleeps.len(), 1);
    let sleep = &trace.sleeps[0];
    assert_eq!(sleep.requested_ns, 1_000_000_000);
    assert_eq!(sleep.return_addresses[1], 0x558c0a6f8aa6);
    assert_eq!(sleep.at.ns, 453674198028 - 453673855876);
    assert_eq!(trace.alive_at_exit(), Some(vec![]));
}

#[test]
fn the_perturbed_sleep_example_leaves_its_thread_held() {
    let perturbed = Trace::parse(SLEEP_EXAMPLE_PERTURBED.as_bytes());
    assert_eq!(perturbed.ignored_lines, 0);
    let init = perturbed.init.as_ref().unwrap();
    assert!(init.virtual_time);
    assert_eq!(init.start.as_deref(), Some("late"));
    assert_eq!(perturbed.alive_at_exit(), Some(vec![1]));
    let exit = perturbed.exit.unwrap();
    assert_eq!((exit.pending, exit.held), (1, 1));
    assert_eq!(perturbed.threads[1].started, None);
    assert_eq!(perturbed.sleeps[0].effective_ns, 0);
}

#[test]
fn timed_waits_and_counted_calls_are_parsed() {
    let log = "\
ev=init pid=1 seq=0 ns=0 t=0 v=2 ppid=0 base=0x0 exe=/p vt=1 start=first
ev=spawn pid=1 seq=1 ns=1 t=0 child=1 rc=0
ev=start pid=1 seq=2 ns=2 t=1 delay_ns=400 why=quiescent
ev=wait pid=1 seq=3 ns=3 t=0 fn=futex abs=1 req_ns=100000000 eff_ns=0 ra=0x10,0x20
ev=yield pid=1 seq=4 ns=4 t=0 n=1000
ev=clock pid=1 seq=5 ns=5 t=0 n=7
ev=sleeps pid=1 seq=6 ns=6 t=1 n=30 req_ns=30000000
ev=trunc pid=1 seq=7 ns=7 t=1
";
    let trace = Trace::parse(log.as_bytes());
    assert_eq!(trace.ignored_lines, 0);
    assert!(trace.truncated);
    assert_eq!(trace.threads[1].released_by.as_deref(), Some("quiescent"));
    assert_eq!(trace.threads[1].start_delay_ns, 400);
    let wait = &trace.timed_waits[0];
    assert_eq!(
        (wait.function.as_str(), wait.requested_ns),
        ("futex", 100_000_000)
    );
    assert_eq!(wait.return_addresses, [0x10, 0x20]);
    let kinds: Vec<_> = trace
        .repeats
        .iter()
        .map(|r| (r.thread, r.kind, r.count))
        .collect();
    assert_eq!(
        kinds,
        [
            (Some(0), RepeatKind::Yield, 1000),
            (Some(0), RepeatKind::Clock, 7),
            (Some(1), RepeatKind::Sleeps, 30),
        ]
    );
    assert_eq!(trace.repeats[2].requested_ns, 30_000_000);
}

#[test]
fn attributes_output_lines_to_threads() {
    let trace = Trace::parse(SLEEP_EXAMPLE.as_bytes());
    let out = b"Hello from main\nHello from thread\nMain function finished\n";
    let lines = trace.line_writers(1, out);
    let got: Vec<_> = lines
        .iter()
        .map(|l| (l.text.as_str(), l.writer()))
        .collect();
    assert_eq!(
        got,
        [
            ("Hello from main", Some(0)),
            ("Hello from thread", Some(1)),
            ("Main function finished", Some(0)),
        ]
    );
    // Output the log does not account for has no writer.
    let lines = trace.line_writers(
        1,
        b"Hello from main\nHello from thread\nMain function finished\nextra\n",
    );
    assert_eq!(lines[3].writer(), None);
    assert!(!lines[3].complete);
    assert!(trace.line_writers(2, b"").is_empty());
}

#[test]
fn a_line_written_by_two_threads_has_no_single_writer() {
    let log = "\
ev=init pid=1 seq=0 ns=0 t=0 v=1 ppid=0 base=0x0 exe=/p
ev=spawn pid=1 seq=1 ns=0 t=0 child=1 rc=0
ev=write pid=1 seq=2 ns=0 t=0 fd=2 n=4 off=0
ev=write pid=1 seq=3 ns=0 t=1 fd=2 n=6 off=4
ev=write pid=1 seq=4 ns=0 t=0 fd=2 n=1 off=10
";
    let trace = Trace::parse(log.as_bytes());
    let lines = trace.line_writers(2, b"err 1err 2\n\n");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].writers, [0, 1]);
    assert_eq!(lines[0].writer(), None);
    assert!(lines[0].complete);
    assert_eq!(lines[1].text, "");
    assert!(!lines[1].complete);
}

#[test]
fn sequential_joins_are_seen() {
    let trace = Trace::parse(join_per_spawn().as_bytes());
    assert_eq!(trace.ignored_lines, 0);
    assert_eq!(trace.spawned_by(0), [1, 2, 3, 4, 5]);
    assert!(trace.sequential_join_per_spawn());
    assert_eq!(trace.spawned_before_first_join(0), 1);
    assert_eq!(trace.max_concurrent(), 1);
    assert!(trace.spawned().iter().all(|t| t.cpu_ns.is_some()));
}

#[test]
fn spawn_all_then_join_all_is_concurrent() {
    let log = "\
ev=init pid=3 seq=0 ns=0 t=0 v=1 ppid=1 base=0x0 exe=/p
ev=spawn pid=3 seq=1 ns=1 t=0 child=1 rc=0
ev=spawn pid=3 seq=2 ns=2 t=0 child=2 rc=0
ev=start pid=3 seq=3 ns=3 t=2 delay_ns=20000000
ev=start pid=3 seq=4 ns=4 t=1 delay_ns=20000000
ev=end pid=3 seq=5 ns=5 t=1 how=return cpu_ns=900
ev=sleep pid=3 seq=6 ns=6 t=0 fn=clock_nanosleep abs=0 req_ns=50000000 eff_ns=0 ra=0x10
ev=end pid=3 seq=7 ns=7 t=2 how=return cpu_ns=100
ev=join pid=3 seq=8 ns=8 t=0 target=1 rc=0
ev=join pid=3 seq=9 ns=9 t=0 target=2 rc=0
ev=exit pid=3 seq=10 ns=10 t=0 pending=0 cpu_ns=1 pcpu_ns=2
";
    let trace = Trace::parse(log.as_bytes());
    assert!(!trace.sequential_join_per_spawn());
    assert_eq!(trace.spawned_before_first_join(0), 2);
    assert_eq!(trace.max_concurrent(), 2);
    // Sleep, then join: harmless.
    assert_eq!(trace.threads[1].cpu_ns, Some(900));
    assert_eq!(trace.threads[2].cpu_ns, Some(100));
}

#[test]
fn garbage_and_a_cut_off_line_are_ignored() {
    let mut log = SLEEP_EXAMPLE.replace(
        "ev=start",
        "Hello I am the student\n\u{0}\u{1}binary\nev=join pid=4459 seq=x\nev=start",
    );
    log.push_str("ev=end pid=4459 seq=10 ns=4546745");
    let mut bytes = log.into_bytes();
    bytes.splice(0..0, b"\xff\xfe not utf-8\n".iter().copied());
    let trace = Trace::parse(&bytes);
    // Not UTF-8, two lines of text, a broken event, the cut-off line.
    assert_eq!(trace.ignored_lines, 5);
    assert_eq!(trace.threads.len(), 2);
    assert_eq!(trace.sleeps.len(), 1);
    assert!(trace.exit.is_some());
}

#[test]
fn absurd_thread_indices_do_not_grow_the_table() {
    let log = "\
ev=init pid=1 seq=0 ns=0 t=0 v=1 ppid=0 base=0x0 exe=/p
ev=spawn pid=1 seq=1 ns=0 t=0 child=99999999999 rc=0
ev=start pid=1 seq=2 ns=0 t=4000000000 delay_ns=0
";
    let trace = Trace::parse(log.as_bytes());
    assert_eq!(trace.threads.len(), 1);
    assert_eq!(trace.ignored_lines, 2);
}

#[test]
fn other_processes_are_kept_apart() {
    let log = "\
ev=init pid=10 seq=0 ns=0 t=0 v=1 ppid=1 base=0x1000 exe=/my%20dir/prog
ev=init pid=11 seq=0 ns=5 t=0 v=1 ppid=10 base=0x0 exe=/bin/sh
ev=spawn pid=11 seq=1 ns=6 t=0 child=1 rc=0
ev=exit pid=10 seq=1 ns=9 t=0 pending=0 cpu_ns=1 pcpu_ns=1
";
    let trace = Trace::parse(log.as_bytes());
    assert_eq!(trace.init.as_ref().unwrap().exe, Path::new("/my dir/prog"));
    assert!(trace.loaded_into(Path::new("/my dir/prog")));
    assert!(!trace.loaded_into(Path::new("/bin/sh")));
    assert_eq!(trace.other_processes.len(), 1);
    assert_eq!(trace.other_processes[0].exe, Path::new("/bin/sh"));
    assert_eq!(trace.threads.len(), 1);
    assert_eq!(trace.ignored_lines, 1);
}

#[test]
fn no_init_means_the_shim_did_not_load() {
    let trace = Trace::parse(b"");
    assert!(trace.init.is_none());
    assert_eq!(trace.exit, None);
    assert_eq!(trace.alive_at_exit(), None);
}

#[test]
fn refused_variables_and_failed_spawns_are_reported() {
    let log = "\
ev=init pid=1 seq=0 ns=0 t=0 v=1 ppid=0 base=0x0 exe=/p delay_ms=5 bad=GRADER_SLEEP_SCALE,GRADER_SLEEP_INVERT
ev=spawn pid=1 seq=1 ns=0 t=0 child=1 rc=11
ev=exit pid=1 seq=2 ns=0 t=0 pending=0 cpu_ns=1 pcpu_ns=1
";
    let trace = Trace::parse(log.as_bytes());
    assert_eq!(
        trace.init.as_ref().unwrap().refused,
        ["GRADER_SLEEP_SCALE", "GRADER_SLEEP_INVERT"]
    );
    assert_eq!(trace.failed_spawns, 1);
    assert!(trace.spawned().is_empty());
}

#[test]
fn percent_decoding_keeps_bad_escapes() {
    assert_eq!(percent_decode("a%20b%zz%4"), b"a b%zz%4");
    assert_eq!(percent_decode("%C3%A9"), "é".as_bytes());
}
