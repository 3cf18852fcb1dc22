//! Hostile submissions (SPEC §9, research/sandbox.md): each is graded with
//! the right category in bounded time, nothing outside its scratch folder
//! changes, and no process of it survives.
//!
//! Two kinds of test. Graded ones are real submissions through
//! `grader check` (scan, build, run): every hostile act that an allowed
//! path reaches (threads, memory, output, files, the environment, printing)
//! is tried that way. The acts only unsafe code, `std::process` or `std::net`
//! can express are refused by the scan as `forbidden` first, which is right;
//! the run-time layers must hold on their own too, so small C programs do
//! those acts through the hidden `grader __run`, once with every mechanism
//! and once with only the mechanism under test. A last test repeats the key
//! cases as an ordinary user.
//!
//! Every program here is bounded by design (a "fork bomb" stops at 3,000
//! children, the limits are small), so that a sandbox failure cannot take
//! the machine down with it.

mod common;

use common::{Course, check_json, lines_spec};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

// ---------------------------------------------------------------- helpers

/// Processes whose command line mentions `marker` (zombies have none).
fn survivors(marker: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|e| e.file_name().to_str() != Some(me.as_str()))
        .filter_map(|e| {
            let raw = std::fs::read(e.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&raw).replace('\0', " ");
            text.contains(marker)
                .then(|| format!("{}: {text}", e.file_name().to_string_lossy()))
        })
        .collect()
}

#[track_caller]
fn assert_no_survivors(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = survivors(marker);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!("processes survived their run: {left:#?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file under `root` but `skip`, with its size and modification time.
fn snapshot(root: &Path, skip: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut map = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.starts_with(skip) {
                continue;
            }
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(p.clone());
            }
            map.insert(p, (m.len(), m.modified().unwrap()));
        }
    }
    map
}

#[track_caller]
fn categories(v: &Value) -> Vec<String> {
    v["categories"]
        .as_array()
        .unwrap_or_else(|| panic!("no categories: {v:#}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// A course tree with one exercise and its hostile submission, graded.
struct Graded {
    course: Course,
}

impl Graded {
    fn new(id: &str, spec: &str) -> Graded {
        let course = Course::new();
        course.spec(id, spec);
        Graded { course }
    }

    /// Grades `files` as a submission; checks that nothing outside the
    /// cache changed and nothing survived. Returns (exit, result, seconds).
    #[track_caller]
    fn grade(&self, id: &str, files: &[(&str, &str)]) -> (i32, Value, f64) {
        let sub = self.course.submission("subs/mallory", files);
        let root = self.course.root().to_path_buf();
        let cache = root.join("cache");
        let before = snapshot(&root, &cache);
        let start = Instant::now();
        let (code, v) = check_json(&self.course, id, &sub);
        let took = start.elapsed().as_secs_f64();
        let after = snapshot(&root, &cache);
        assert_eq!(
            before, after,
            "files outside the scratch folder changed: {v:#}"
        );
        assert_no_survivors(&root.to_string_lossy());
        eprintln!("{id}: {:?} in {took:.2} s", categories(&v));
        (code, v, took)
    }
}

fn spec_with(lines: &[&str], wall_ms: u64, extra_limits: &str) -> String {
    lines_spec(lines, wall_ms).replace("[limits]\n", &format!("[limits]\n{extra_limits}"))
}

/// The C compiler builds a helper into `dir`.
fn cc(dir: &Path, name: &str, source: &str, extra: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    let exe = dir.join(name);
    std::fs::write(&src, source).unwrap();
    let out = Command::new("cc")
        .args(["-O1", "-o"])
        .arg(&exe)
        .arg(&src)
        .args(extra)
        .output()
        .expect("cc runs");
    assert!(
        out.status.success(),
        "cc {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// A folder for helpers and runs that another user can use too.
fn lab() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::Builder::new()
        .prefix("grader-hostile-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn scratch(lab: &Path, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let d = lab.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// `grader __run` of `command` in `cwd`, with `opts`; its JSON.
#[track_caller]
fn sandboxed(
    grader: &Path,
    cwd: &Path,
    opts: &[&str],
    command: &[&dyn AsRef<std::ffi::OsStr>],
) -> Value {
    let mut c = Command::new(grader);
    c.arg("__run").arg("--cwd").arg(cwd).args(opts).arg("--");
    for a in command {
        c.arg(a);
    }
    run_json(c)
}

#[track_caller]
fn run_json(mut c: Command) -> Value {
    let start = Instant::now();
    let out = c.output().expect("the grader runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the grader itself failed ({:?}) after {:?}: {stdout}\n{}",
        out.status,
        start.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    assert!(v.get("error").is_none(), "the run failed: {v:#}");
    v
}

fn grader_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_grader"))
}

fn applied(v: &Value, mechanism: &str) -> bool {
    v["sandbox"]["mechanisms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["mechanism"] == mechanism && m["applied"] == true)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Mechanisms left out to test `only` on its own.
fn only(mechanism: &str) -> Vec<&'static str> {
    let all = ["user-namespace", "landlock", "seccomp", "cgroup", "uid"];
    let mut args = Vec::new();
    for m in all {
        if m != mechanism {
            args.push("--without");
            args.push(m);
        }
    }
    args
}

// ---------------------------------------------------------- C programs

/// Forks up to 3,000 sleeping children, retrying a refused fork as a bomb
/// would, until its time runs out.
const FORK_BOMB: &str = r#"
#include <stdio.h>
#include <unistd.h>
int main(void) {
    int made = 0;
    long refused = 0;
    while (made < 3000) {
        pid_t p = fork();
        if (p == 0) { for (;;) pause(); }
        if (p < 0) { refused++; continue; }
        made++;
    }
    printf("made %d, refused %ld\n", made, refused);
    return 0;
}
"#;

/// A setsid + double-fork daemon that keeps stdout open; the parent exits.
const DAEMON: &str = r#"
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void) {
    pid_t p = fork();
    if (p == 0) {
        setsid();
        if (fork() == 0) {
            for (;;) { printf("daemon alive\n"); fflush(stdout); sleep(1); }
        }
        _exit(0);
    }
    waitpid(p, 0, 0);
    printf("parent done\n");
    fflush(stdout);
    return 0;
}
"#;

/// Kills its parent, then every ancestor up to the grader (found by the
/// `__run` in its command line) through /proc.
const KILL_PARENT: &str = r#"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int parent_of(int pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *close = strrchr(buf, ')');
    if (!close) return -1;
    char state; int ppid;
    if (sscanf(close + 2, "%c %d", &state, &ppid) != 2) return -1;
    return ppid;
}
static int is_grader(int pid) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t i = 0; i + 5 <= n; i++) if (memcmp(buf + i, "__run", 5) == 0) return 1;
    return 0;
}
int main(void) {
    int r = kill(getppid(), SIGKILL);
    printf("kill(getppid()=%d): %s\n", getppid(), r ? strerror(errno) : "done");
    char self[64];
    ssize_t n = readlink("/proc/self", self, sizeof self - 1);
    int pid = n > 0 ? (self[n] = 0, atoi(self)) : -1;
    for (int i = 0; i < 4 && pid > 1; i++) {
        int up = parent_of(pid);
        if (up <= 1) break;
        int grader = is_grader(up);
        r = kill(up, SIGKILL);
        printf("kill(%d%s): %s\n", up, grader ? ", the grader" : "", r ? strerror(errno) : "done");
        if (grader) break;
        pid = up;
    }
    fflush(stdout);
    usleep(200000);
    printf("still here\n");
    return 0;
}
"#;

/// Connects to 127.0.0.1:<port>.
const TCP: &str = r#"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) { printf("socket: %s\n", strerror(errno)); return 0; }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[1]));
    a.sin_addr.s_addr = htonl(0x7f000001);
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    printf("connect: %s\n", r ? strerror(errno) : "CONNECTED");
    return 0;
}
"#;

/// Reads and appends to argv[1], creates argv[2].
const NEIGHBOUR: &str = r#"
#include <errno.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    FILE *r = fopen(argv[1], "r");
    printf("read: %s\n", r ? "READ" : strerror(errno));
    FILE *w = fopen(argv[1], "a");
    if (w) { fputs("pwned\n", w); fclose(w); }
    printf("write: %s\n", w ? "WROTE" : strerror(errno));
    FILE *c = fopen(argv[2], "w");
    printf("create: %s\n", c ? "CREATED" : strerror(errno));
    return 0;
}
"#;

/// 1,000 threads alive at once (small stacks: C's default is 8 MiB).
const THREADS_1000: &str = r#"
#include <pthread.h>
#include <stdio.h>
static pthread_barrier_t b;
static void *body(void *x) { pthread_barrier_wait(&b); return x; }
int main(void) {
    pthread_t t[1000];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_barrier_init(&b, 0, 1001);
    for (int i = 0; i < 1000; i++)
        if (pthread_create(&t[i], &attr, body, 0)) { printf("failed at %d\n", i); return 1; }
    pthread_barrier_wait(&b);
    for (int i = 0; i < 1000; i++) pthread_join(t[i], 0);
    printf("1000 threads done\n");
    return 0;
}
"#;

/// Starts threads until refused, then reports how many.
const THREAD_BOMB: &str = r#"
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *body(void *x) { for (;;) pause(); return x; }
int main(void) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int n = 0;
    pthread_t t;
    while (n < 5000 && pthread_create(&t, &attr, body, 0) == 0) n++;
    printf("threads: %d\n", n);
    return 3;
}
"#;

struct Helpers {
    lab: tempfile::TempDir,
    fork_bomb: PathBuf,
    daemon: PathBuf,
    kill_parent: PathBuf,
    tcp: PathBuf,
    neighbour: PathBuf,
    threads_1000: PathBuf,
    thread_bomb: PathBuf,
}

fn helpers() -> Helpers {
    let lab = lab();
    let d = lab.path();
    Helpers {
        fork_bomb: cc(d, "fork_bomb", FORK_BOMB, &[]),
        daemon: cc(d, "daemon", DAEMON, &[]),
        kill_parent: cc(d, "kill_parent", KILL_PARENT, &[]),
        tcp: cc(d, "tcp", TCP, &[]),
        neighbour: cc(d, "neighbour", NEIGHBOUR, &[]),
        threads_1000: cc(d, "threads_1000", THREADS_1000, &["-pthread"]),
        thread_bomb: cc(d, "thread_bomb", THREAD_BOMB, &["-pthread"]),
        lab,
    }
}

// ------------------------------------------------- graded submissions

/// Grades a one-file program under extra limits; it must fail with
/// `resource-limit` within `max_secs`.
#[track_caller]
fn assert_resource_limit(id: &str, limits: &str, main_rs: &str, max_secs: f64) {
    let g = Graded::new(id, &spec_with(&["done"], 10_000, limits));
    let (code, v, took) = g.grade(id, &[("src/main.rs", main_rs)]);
    assert_eq!(code, 1);
    assert_eq!(categories(&v), ["resource-limit"], "{v:#}");
    assert!(took < max_secs, "took {took} s");
}

#[test]
fn a_thread_bomb_is_a_resource_limit() {
    assert_resource_limit(
        "01-bomb",
        "tasks = 300\n",
        "fn main() {\n    let mut handles = Vec::new();\n    loop {\n        handles.push(std::thread::spawn(|| std::thread::park()));\n    }\n}\n",
        8.0,
    );
}

#[test]
fn a_20_gb_allocation_is_a_resource_limit() {
    assert_resource_limit(
        "01-alloc",
        "memory_mb = 256\n",
        "fn main() {\n    let v = vec![1u8; 20 << 30];\n    println!(\"{}\", v[v.len() / 2]);\n}\n",
        10.0,
    );
}

#[test]
fn endless_stdout_is_a_resource_limit() {
    assert_resource_limit(
        "01-flood",
        "",
        "fn main() { loop { println!(\"PASS score 10/10\"); } }\n",
        8.0,
    );
}

#[test]
fn a_10_gb_file_is_a_resource_limit() {
    assert_resource_limit(
        "01-file",
        "file_bytes = 4194304\n",
        "use std::io::Write;\nfn main() {\n    let mut f = std::fs::File::create(\"big\").unwrap();\n    let chunk = vec![7u8; 1 << 20];\n    for _ in 0..10 * 1024 {\n        f.write_all(&chunk).unwrap();\n    }\n    println!(\"done\");\n}\n",
        8.0,
    );
}

#[test]
fn a_neighbours_submission_can_be_neither_read_nor_written() {
    let g = Graded::new("01-peek", &spec_with(&["done"], 10_000, ""));
    let bob = g
        .course
        .submission(
            "subs/bob",
            &[("src/main.rs", "fn main() { println!(\"bob's secret\"); }\n")],
        )
        .join("src/main.rs");
    let outside = g.course.root().join("planted.txt");
    let main = format!(
        r#"fn main() {{
    match std::fs::read_to_string({bob:?}) {{
        Ok(s) => println!("READ {{}}", s.len()),
        Err(e) => println!("read: {{:?}}", e.kind()),
    }}
    match std::fs::OpenOptions::new().append(true).open({bob:?}) {{
        Ok(_) => println!("OPENED FOR WRITING"),
        Err(e) => println!("write: {{:?}}", e.kind()),
    }}
    match std::fs::write({outside:?}, "planted") {{
        Ok(_) => println!("PLANTED"),
        Err(e) => println!("plant: {{:?}}", e.kind()),
    }}
    match std::fs::read_to_string("/etc/shadow") {{
        Ok(_) => println!("SHADOW"),
        Err(e) => println!("shadow: {{:?}}", e.kind()),
    }}
}}
"#
    );
    let (code, v, _) = g.grade("01-peek", &[("src/main.rs", &main)]);
    assert_eq!(code, 1);
    assert_eq!(categories(&v), ["wrong-answer"], "{v:#}");
    let printed = v["checks"][1]["details"].as_str().unwrap();
    for leak in ["READ", "OPENED", "PLANTED", "SHADOW"] {
        assert!(!printed.contains(leak), "{leak}: {printed}");
    }
    assert!(printed.contains("read: PermissionDenied"), "{printed}");
    assert_eq!(
        std::fs::read_to_string(&bob).unwrap(),
        "fn main() { println!(\"bob's secret\"); }\n"
    );
    assert!(!outside.exists());
}

#[test]
fn the_environment_of_the_grader_does_not_reach_the_program() {
    let g = Graded::new("01-env", &spec_with(&["done"], 10_000, ""));
    let sub = g.course.main(
        "subs/mallory",
        "fn main() { for (k, v) in std::env::vars() { println!(\"{k}={v}\"); } }\n",
    );
    let canary = format!("canary-{}", std::process::id());
    let out = g
        .course
        .grader()
        .env("GRADER_TEST_SECRET_TOKEN", &canary)
        .args(["check", "01-env", "--format", "json", "--path"])
        .arg(&sub)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&canary), "{text}");
    assert!(
        text.contains("RUST_BACKTRACE=0"),
        "the program's output is shown: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(categories(&v), ["wrong-answer"]);
}

#[test]
fn a_fake_verdict_printed_by_a_library_that_exits_0_fails() {
    let spec =
        lines_spec(&["count = 4000"], 10_000).replace("kind = \"bin\"", "kind = \"lib+bin\"");
    let g = Graded::new("05-shared-counter", &spec);
    let (code, v, _) = g.grade(
        "05-shared-counter",
        &[
            (
                "src/lib.rs",
                r#"pub fn count_concurrently(_threads: usize, _increments: usize) -> usize {
    println!("PASS  score 10/10");
    println!("{{\"status\": \"pass\", \"score\": 10, \"max_score\": 10, \"categories\": []}}");
    println!("test result: ok. 10 passed; 0 failed");
    std::process::exit(0)
}
"#,
            ),
            (
                "src/main.rs",
                "fn main() { println!(\"count = {}\", shared_counter::count_concurrently(4, 1000)); }\n",
            ),
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(v["status"], "fail");
    assert_eq!(categories(&v), ["wrong-answer"], "{v:#}");
}

#[test]
fn include_str_of_a_file_outside_the_submission_is_refused() {
    let g = Graded::new("01-incl", &spec_with(&["done"], 10_000, ""));
    let secret = g.course.root().join("secret.txt");
    std::fs::write(&secret, "the instructor's key").unwrap();
    let main = format!(
        "const S: &str = include_str!({secret:?});\nfn main() {{ println!(\"{{S}}\"); }}\n"
    );
    let (code, v, _) = g.grade("01-incl", &[("src/main.rs", &main)]);
    assert_eq!(code, 1);
    assert_eq!(categories(&v), ["forbidden"], "{v:#}");
    assert!(!v.to_string().contains("the instructor's key"));
    // A path the scan cannot read (built by a macro) meets the compile
    // sandbox instead.
    let dir = secret.parent().unwrap().to_string_lossy().into_owned();
    let main = format!(
        "const S: &str = include_str!(concat!({dir:?}, \"/secret.txt\"));\nfn main() {{ println!(\"{{S}}\"); }}\n"
    );
    let (code, v, _) = g.grade("01-incl", &[("src/main.rs", &main)]);
    assert_eq!(code, 1);
    let cats = categories(&v);
    assert!(cats == ["forbidden"] || cats == ["compile-error"], "{v:#}");
    assert!(!v.to_string().contains("the instructor's key"), "{v:#}");
}

#[test]
fn a_legitimate_1000_thread_program_passes() {
    let g = Graded::new("01-many", &spec_with(&["done"], 20_000, ""));
    let (code, v, took) = g.grade(
        "01-many",
        &[(
            "src/main.rs",
            r#"use std::sync::{Arc, Barrier};
fn main() {
    let barrier = Arc::new(Barrier::new(1001));
    let handles: Vec<_> = (0..1000)
        .map(|_| {
            let b = Arc::clone(&barrier);
            std::thread::spawn(move || {
                b.wait();
            })
        })
        .collect();
    barrier.wait();
    for h in handles {
        h.join().unwrap();
    }
    println!("done");
}
"#,
        )],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["status"], "pass");
    assert!(took < 15.0, "took {took} s");
}

#[test]
fn process_and_network_code_is_forbidden_before_it_runs() {
    let g = Graded::new("01-proc", &spec_with(&["done"], 10_000, ""));
    let (_, v, _) = g.grade(
        "01-proc",
        &[(
            "src/main.rs",
            "fn main() { loop { let _ = std::process::Command::new(\"/proc/self/exe\").spawn(); } }\n",
        )],
    );
    assert_eq!(categories(&v), ["forbidden"], "{v:#}");
    let (_, v, _) = g.grade(
        "01-proc",
        &[(
            "src/main.rs",
            "fn main() { let _ = std::net::TcpStream::connect(\"127.0.0.1:22\"); }\n",
        )],
    );
    assert_eq!(categories(&v), ["forbidden"], "{v:#}");
}

// ------------------------------------------- the run-time layers alone

#[test]
fn a_fork_bomb_is_capped_and_swept() {
    let h = helpers();
    let g = grader_bin();
    let marker = h.lab.path().to_string_lossy().into_owned();
    let cwd = scratch(h.lab.path(), "run");
    // Every layer; RLIMIT_NPROC counted in the run's user namespace alone
    // (the kernel exempts uid 0 from it, so a root grader keeps the run's
    // own uid for this); the cgroup's pids.max alone (root only).
    let mut cases = vec![vec![]];
    if is_root() {
        cases.push(vec![
            "--without",
            "landlock",
            "--without",
            "seccomp",
            "--without",
            "cgroup",
        ]);
        cases.push(only("cgroup"));
    } else {
        cases.push(only("user-namespace"));
    }
    for opts in cases {
        let mut all = vec!["--wall-ms", "2000", "--tasks", "200"];
        all.extend(&opts);
        let start = Instant::now();
        let v = sandboxed(&g, &cwd, &all, &[&h.fork_bomb]);
        let took = start.elapsed();
        eprintln!(
            "fork bomb {opts:?}: {} {} in {took:?}",
            v["termination"], v["category"]
        );
        assert_eq!(v["category"], "resource-limit", "{opts:?}: {v:#}");
        assert!(took < Duration::from_secs(6), "{took:?}");
        assert_no_survivors(&marker);
    }
}

#[test]
fn a_setsid_daemon_is_killed_and_does_not_stall_the_run() {
    let h = helpers();
    let g = grader_bin();
    let marker = h.lab.path().to_string_lossy().into_owned();
    let cwd = scratch(h.lab.path(), "run");
    // Every layer; the launcher's subreaper sweep on its own; the PID
    // namespace (and the sweep).
    for opts in [vec![], only("none"), only("user-namespace")] {
        let start = Instant::now();
        let v = sandboxed(&g, &cwd, &opts, &[&h.daemon]);
        let took = start.elapsed();
        eprintln!("daemon {opts:?}: {} in {took:?}", v["termination"]);
        assert_eq!(v["termination"], "Exited(0)", "{opts:?}: {v:#}");
        assert!(
            v["stdout"].as_str().unwrap().contains("parent done"),
            "{v:#}"
        );
        assert!(
            took < Duration::from_secs(3),
            "the daemon stalled the run: {took:?}"
        );
        assert_no_survivors(&marker);
    }
}

#[test]
fn killing_the_parent_leaves_the_grader_standing() {
    let h = helpers();
    let g = grader_bin();
    let marker = h.lab.path().to_string_lossy().into_owned();
    let cwd = scratch(h.lab.path(), "run");
    // Every layer, then each mechanism that stops it on its own: signal
    // scoping, the PID namespace, and (as root) a uid of its own.
    let mut cases = vec![vec![], only("landlock"), only("user-namespace")];
    if is_root() {
        cases.push(only("uid"));
    }
    for opts in cases {
        let v = sandboxed(&g, &cwd, &opts, &[&h.kill_parent]);
        let stdout = v["stdout"].as_str().unwrap();
        eprintln!("kill parent {opts:?}: {stdout}");
        assert!(!stdout.contains("the grader): done"), "{opts:?}: {v:#}");
        assert!(stdout.contains("still here"), "{opts:?}: {v:#}");
        assert_eq!(v["termination"], "Exited(0)", "{opts:?}: {v:#}");
        assert_no_survivors(&marker);
    }
}

#[test]
fn a_tcp_connect_to_localhost_does_not_connect() {
    let h = helpers();
    let g = grader_bin();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let cwd = scratch(h.lab.path(), "run");
    for opts in [
        vec![],
        only("user-namespace"),
        only("landlock"),
        only("seccomp"),
    ] {
        let v = sandboxed(&g, &cwd, &opts, &[&h.tcp, &port]);
        let stdout = v["stdout"].as_str().unwrap();
        eprintln!("tcp {opts:?}: {stdout}");
        assert!(!stdout.contains("CONNECTED"), "{opts:?}: {v:#}");
        assert!(listener.accept().is_err(), "{opts:?}: a connection arrived");
    }
    // The test can tell: with no mechanism at all, it connects.
    let v = sandboxed(&g, &cwd, &["--bare"], &[&h.tcp, &port]);
    assert!(v["stdout"].as_str().unwrap().contains("CONNECTED"), "{v:#}");
}

#[test]
fn a_neighbours_files_are_out_of_reach_of_each_mechanism() {
    use std::os::unix::fs::PermissionsExt;
    let h = helpers();
    let g = grader_bin();
    let bob = scratch(h.lab.path(), "bob");
    let file = bob.join("main.rs");
    std::fs::write(&file, "bob's work\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let planted = h.lab.path().join("planted");
    let cwd = scratch(h.lab.path(), "run");
    let mut cases = vec![vec![], only("landlock")];
    if is_root() {
        cases.push(only("uid"));
    }
    for opts in cases {
        let v = sandboxed(&g, &cwd, &opts, &[&h.neighbour, &file, &planted]);
        let stdout = v["stdout"].as_str().unwrap();
        eprintln!("neighbour {opts:?}: {stdout}");
        assert!(!stdout.contains("WROTE"), "{opts:?}: {v:#}");
        assert!(!stdout.contains("CREATED"), "{opts:?}: {v:#}");
        if opts != only("uid") {
            // A uid of its own still reads a world-readable file; Landlock
            // does not let it.
            assert!(!stdout.contains("READ"), "{opts:?}: {v:#}");
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "bob's work\n");
        assert!(!planted.exists());
    }
}

#[test]
fn the_compiler_cannot_read_outside_the_crate() {
    // rustc itself in the sandbox, as the build runs it: read the toolchain,
    // write the crate. `include_str!` of a neighbour's file fails to build.
    let lab = lab();
    let secret = lab.path().join("secret.txt");
    std::fs::write(&secret, "the instructor's key").unwrap();
    let krate = scratch(lab.path(), "crate");
    std::fs::write(
        krate.join("main.rs"),
        format!(
            "const S: &str = include_str!({secret:?});\nfn main() {{ println!(\"{{S}}\"); }}\n"
        ),
    )
    .unwrap();
    let sysroot = String::from_utf8(
        Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .args(["--print", "sysroot"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let sysroot = PathBuf::from(sysroot.trim());
    let rustc = sysroot.join("bin/rustc");
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "--read".into(),
            sysroot.to_string_lossy().into_owned(),
            "--env".into(),
            format!("TMPDIR={}", krate.display()),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        sandboxed(
            &grader_bin(),
            &krate,
            &a,
            &[&rustc, &"main.rs", &"-o", &"prog"],
        )
    };
    let v = run(&[]);
    assert_eq!(v["termination"], "Exited(1)", "{v:#}");
    assert!(
        v["stderr"].as_str().unwrap().contains("ermission denied"),
        "{v:#}"
    );
    assert!(!krate.join("prog").exists());
    // Without Landlock the same build reads the secret: the test can tell.
    let v = run(&["--without", "landlock", "--without", "uid"]);
    assert_eq!(v["termination"], "Exited(0)", "{v:#}");
}

#[test]
fn the_graders_environment_cannot_be_read_through_proc() {
    // Clearing the environment is not enough if /proc/<grader>/environ can
    // be read: Landlock's ptrace scoping and a uid of its own each stop it.
    let lab = lab();
    let cwd = scratch(lab.path(), "run");
    let script = "for p in /proc/[0-9]*; do cat $p/environ 2>/dev/null; done | tr '\\0' '\\n' | grep -c canary-in-proc";
    let mut cases = vec![vec![], only("landlock")];
    if is_root() {
        cases.push(only("uid"));
    }
    for opts in cases {
        let mut c = Command::new(grader_bin());
        c.env("GRADER_TEST_SECRET_TOKEN", "canary-in-proc")
            .arg("__run")
            .arg("--cwd")
            .arg(&cwd)
            .args(&opts)
            .args(["--", "/bin/sh", "-c", script]);
        let v = run_json(c);
        assert_eq!(v["stdout"], "0\n", "{opts:?}: {v:#}");
    }
    // The test can tell: with no mechanism, the canary is found.
    let mut c = Command::new(grader_bin());
    c.env("GRADER_TEST_SECRET_TOKEN", "canary-in-proc")
        .arg("__run")
        .arg("--cwd")
        .arg(&cwd)
        .args(["--bare", "--", "/bin/sh", "-c", script]);
    let v = run_json(c);
    assert_ne!(v["stdout"], "0\n", "{v:#}");
}

#[test]
fn a_thousand_threads_fit_and_a_thread_bomb_does_not() {
    let h = helpers();
    let g = grader_bin();
    let cwd = scratch(h.lab.path(), "run");
    let v = sandboxed(&g, &cwd, &[], &[&h.threads_1000]);
    assert_eq!(v["termination"], "Exited(0)", "{v:#}");
    // The task limit on its own (per run, in the user namespace).
    let v = sandboxed(&g, &cwd, &["--tasks", "300"], &[&h.thread_bomb]);
    let n: u32 = v["stdout"]
        .as_str()
        .unwrap()
        .trim()
        .trim_start_matches("threads: ")
        .parse()
        .unwrap_or(9999);
    assert!(n < 300, "{v:#}");
}

#[test]
fn doctor_names_every_layer_and_ci_gets_layers_0_and_1() {
    let out = Command::new(grader_bin())
        .args(["doctor", "--require", "0,1", "--runs", "3"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "layer 0",
        "layer 1",
        "layer 2",
        "landlock",
        "seccomp",
        "cgroup",
        "uid",
        "cost of one run",
    ] {
        assert!(text.contains(word), "{word}: {text}");
    }
    assert!(
        out.status.success(),
        "layers 0 and 1 must hold here: {text}"
    );
}

// ---------------------------------------------------- as an ordinary user

const USER: &str = "grader-hostile";

/// A non-root uid to run as: the current one, or (as root) a user made
/// for this test.
fn ordinary_user() -> Option<(u32, u32)> {
    if !is_root() {
        return None;
    }
    let id = |flag: &str| {
        Command::new("id")
            .args([flag, USER])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u32>()
                    .ok()
            })
    };
    if id("-u").is_none() {
        let _ = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                USER,
            ])
            .status();
    }
    Some((id("-u")?, id("-g")?))
}

#[test]
fn the_key_cases_hold_for_an_ordinary_user() {
    if !is_root() {
        // Already an ordinary user: the tests above are the proof.
        eprintln!("not root: every test of this file already runs as an ordinary user");
        return;
    }
    let Some((uid, gid)) = ordinary_user() else {
        eprintln!("SKIPPED: cannot create the user {USER} (useradd failed)");
        return;
    };
    let h = helpers();
    // The grader binary, where that user can run it.
    let g = h.lab.path().join("grader");
    std::fs::copy(grader_bin(), &g).unwrap();
    let cwd = scratch(h.lab.path(), "run");
    std::os::unix::fs::chown(&cwd, Some(uid), Some(gid)).unwrap();
    let marker = h.lab.path().to_string_lossy().into_owned();
    let as_user = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .arg("--clear-groups")
            .arg("--")
            .arg(&g);
        for a in args {
            c.arg(a);
        }
        c.env("GRADER_TEST_SECRET_TOKEN", "canary-as-user");
        c
    };
    let run = |opts: &[&str], command: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"__run", &"--cwd", &cwd];
        for o in opts {
            args.push(o);
        }
        args.push(&"--");
        args.extend_from_slice(command);
        run_json(as_user(&args))
    };

    // Layers 0 and 1 need no privilege.
    let out = as_user(&[&"doctor", &"--require", &"0,1", &"--runs", &"0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "as {USER}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("not root"), "{text}");

    let v = run(&["--wall-ms", "2000", "--tasks", "200"], &[&h.fork_bomb]);
    assert_eq!(v["category"], "resource-limit", "{v:#}");
    assert!(applied(&v, "user-namespace"), "{v:#}");
    assert!(!applied(&v, "cgroup") && !applied(&v, "uid"), "{v:#}");
    assert_no_survivors(&marker);

    let v = run(&[], &[&h.daemon]);
    assert_eq!(v["termination"], "Exited(0)", "{v:#}");
    assert_no_survivors(&marker);

    let v = run(&[], &[&h.kill_parent]);
    assert!(
        v["stdout"].as_str().unwrap().contains("still here"),
        "{v:#}"
    );
    assert!(
        !v["stdout"].as_str().unwrap().contains("the grader): done"),
        "{v:#}"
    );

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let v = run(&[], &[&h.tcp, &port]);
    assert!(
        !v["stdout"].as_str().unwrap().contains("CONNECTED"),
        "{v:#}"
    );
    assert!(listener.accept().is_err());

    let bob = scratch(h.lab.path(), "bob");
    let file = bob.join("main.rs");
    std::fs::write(&file, "bob's work\n").unwrap();
    let planted = h.lab.path().join("planted");
    let v = run(&[], &[&h.neighbour, &file, &planted]);
    let stdout = v["stdout"].as_str().unwrap();
    assert!(
        !stdout.contains("READ") && !stdout.contains("WROTE"),
        "{v:#}"
    );
    assert!(!planted.exists());

    let v = run(&[], &[&"/usr/bin/env"]);
    assert!(
        !v["stdout"].as_str().unwrap().contains("canary-as-user"),
        "{v:#}"
    );

    let v = run(&[], &[&h.threads_1000]);
    assert_eq!(
        v["termination"], "Exited(0)",
        "1,000 threads as {USER}: {v:#}"
    );
    let v = run(&["--tasks", "300"], &[&h.thread_bomb]);
    assert!(
        !v["stdout"].as_str().unwrap().contains("threads: 5000"),
        "{v:#}"
    );
    assert_no_survivors(&marker);

    // The whole pipeline (scan, rustc, run) as that user, where it can reach
    // a toolchain: a rustup toolchain under root's 0700 home it cannot.
    let sysroot = String::from_utf8(
        Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .args(["--print", "sysroot"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let rustc = PathBuf::from(sysroot.trim()).join("bin/rustc");
    let reachable = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg("--")
        .arg(&rustc)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !reachable {
        eprintln!(
            "SKIPPED: `grader check` as {USER}: it cannot run {} (a folder above it is private); the run-time layers above were checked as {USER}",
            rustc.display()
        );
        return;
    }
    let tree = scratch(h.lab.path(), "course");
    let spec = scratch(&tree, "graders/01-bomb");
    std::fs::write(
        spec.join("spec.toml"),
        spec_with(&["done"], 10_000, "tasks = 300\n"),
    )
    .unwrap();
    let sub = scratch(&tree, "sub/src");
    std::fs::write(
        sub.join("main.rs"),
        "fn main() { let mut v = Vec::new(); loop { v.push(std::thread::spawn(|| std::thread::park())); } }\n",
    )
    .unwrap();
    let cache = scratch(&tree, "cache");
    std::os::unix::fs::chown(&cache, Some(uid), Some(gid)).unwrap();
    let sub = tree.join("sub");
    let mut c = as_user(&[
        &"--root",
        &tree,
        &"check",
        &"01-bomb",
        &"--format",
        &"json",
        &"--path",
        &sub,
    ]);
    let out = c
        .env("GRADER_CACHE_DIR", &cache)
        .env("RUSTC", &rustc)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(categories(&v), ["resource-limit"], "as {USER}: {v:#}");
}

// ------------------------------------ issue 10: verdicts, rewrite, crashes

/// A course holding the repository's exercise `id`: its spec, scenarios
/// and functional tests.
fn repo_exercise(id: &str) -> Course {
    let c = Course::new();
    c.repo_spec(id);
    for part in ["model", "unit"] {
        let from = common::repo().join("graders").join(id).join(part);
        let Ok(entries) = std::fs::read_dir(&from) else {
            continue;
        };
        let dest = c.root().join("graders").join(id).join(part);
        std::fs::create_dir_all(&dest).unwrap();
        for f in entries.flatten() {
            std::fs::copy(f.path(), dest.join(f.file_name())).unwrap();
        }
    }
    c
}

fn fixture(id: &str, name: &str) -> PathBuf {
    common::repo()
        .join("graders")
        .join(id)
        .join("wrong")
        .join(name)
}

#[track_caller]
fn named<'a>(v: &'a Value, check: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == check)
        .unwrap_or_else(|| panic!("no check {check}: {v:#}"))
}

#[test]
fn a_library_that_forges_the_harness_report_never_passes_a_harness_check() {
    // Bank::new reads its stdin for the harness's key (drained and closed
    // before any student code runs), prints "done" lines tagged with
    // whatever it found and exits 0, wherever it runs. No check passes:
    // every harness sees a process that ended before its last step.
    let c = repo_exercise("07-bank-transfer");
    let (code, v) = check_json(
        &c,
        "07-bank-transfer",
        &fixture("07-bank-transfer", "forges-the-harness-report"),
    );
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(named(&v, "output")["status"], "fail", "{v:#}");
    for check in [
        "edge-cases",
        "self-transfer",
        "opposite-transfers",
        "total-during-transfer",
        "no-overdraft",
    ] {
        let c = named(&v, check);
        assert_eq!(c["status"], "fail", "{check}: {v:#}");
        assert_eq!(c["category"], "crash", "{check}: {v:#}");
        let message = c["message"].as_str().unwrap();
        assert!(message.contains("before the harness finished"), "{c:#}");
    }
    assert_eq!(v["score"], 0, "{v:#}");
    // Forging with no thread at all: the model check itself sees the
    // early exit.
    let c = repo_exercise("05-shared-counter");
    let (code, v) = check_json(
        &c,
        "05-shared-counter",
        &fixture("05-shared-counter", "forges-without-threads"),
    );
    assert_eq!(code, 1, "{v:#}");
    for check in ["edge-cases", "two-threads"] {
        assert_eq!(named(&v, check)["category"], "crash", "{check}: {v:#}");
    }
}

#[test]
fn a_run_cannot_open_its_own_proc_files_or_descriptors() {
    // What a harness's key or a perturbed run's profile could leak through:
    // /proc/self's memory, environment, command line, maps, descriptors.
    let lab = lab();
    let cwd = scratch(lab.path(), "run");
    let script = "for f in /proc/self/environ /proc/self/cmdline /proc/self/maps /proc/self/mem \
                  /proc/self/status /proc/1/environ; do cat $f >/dev/null 2>&1 && echo open $f; done; \
                  cat /proc/cpuinfo >/dev/null && echo cpuinfo";
    let mut c = Command::new(grader_bin());
    c.args(["__run", "--cwd"])
        .arg(&cwd)
        .args(["--", "/bin/sh", "-c", script]);
    let v = run_json(c);
    assert!(applied(&v, "landlock"), "{v:#}");
    assert_eq!(v["stdout"], "cpuinfo\n", "{v:#}");
    // The test can tell: without Landlock they open.
    let mut c = Command::new(grader_bin());
    c.args(["__run", "--cwd"]).arg(&cwd).args([
        "--without",
        "landlock",
        "--",
        "/bin/sh",
        "-c",
        script,
    ]);
    let v = run_json(c);
    assert!(
        v["stdout"]
            .as_str()
            .unwrap()
            .contains("open /proc/self/environ"),
        "{v:#}"
    );
}

#[test]
fn no_spelling_of_std_walks_around_the_model_checker() {
    // Racy counters whose atomics or threads are spelled so that a source
    // rewrite misses them are refused from the compiled harness; those it
    // rewrites are model-checked and their race found. None passes.
    let cases = [
        ("macro-argument-root", "forbidden"),
        ("crate-std-after-extern-crate", "forbidden"),
        ("self-std", "forbidden"),
        ("raw-identifier-std", "forbidden"),
        ("renamed-extern-crate", "forbidden"),
        ("real-threads-through-a-macro", "forbidden"),
        ("counts-in-an-environment-variable", "forbidden"),
        ("swallows-panics-with-a-hook", "forbidden"),
        ("leading-colons-std", "data-race"),
        ("core-sync", "data-race"),
        ("alloc-sync", "data-race"),
        ("shadows-the-scenario-assertion", "data-race"),
    ];
    let c = repo_exercise("05-shared-counter");
    let next = std::sync::Mutex::new(cases.iter());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(&(name, want)) = next.lock().unwrap().next() else {
                        return;
                    };
                    let (_, v) =
                        check_json(&c, "05-shared-counter", &fixture("05-shared-counter", name));
                    let model = named(&v, "two-threads");
                    if model["status"] != "fail" || model["category"] != want {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{name}: want {want}, got {model:#}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn forbidden_constructs_spelled_through_macros_are_refused() {
    // Process spawning and file inclusion through macro arguments, a path
    // built by concat!, a cfg_attr module path: what rustc compiled and
    // read says so, whatever the scan saw.
    let c = Course::new();
    c.repo_spec("01-sequential");
    for (name, says) in [
        ("spawns-a-process-through-a-macro", "spawning a process"),
        ("includes-a-file-through-a-macro", "outside the submission"),
        ("module-path-outside-by-cfg-attr", "outside the submission"),
    ] {
        let (code, v) = check_json(&c, "01-sequential", &fixture("01-sequential", name));
        assert_eq!(code, 1, "{name}: {v:#}");
        let build = named(&v, "build");
        assert_eq!(build["category"], "forbidden", "{name}: {v:#}");
        assert!(
            build["message"].as_str().unwrap().contains(says),
            "{name}: {build:#}"
        );
    }
}

#[test]
fn an_expression_nested_50000_deep_is_a_verdict_and_a_batch_goes_on() {
    let deep_brackets = format!(
        "fn main() {{\n    let x = {}1{};\n    println!(\"{{x}}\");\n}}\n",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let deep_unary = format!(
        "fn main() {{\n    let x = {}true;\n    println!(\"{{x}}\");\n}}\n",
        "!".repeat(50_000)
    );
    let g = Graded::new("01-deep", &spec_with(&["done"], 10_000, ""));
    for main in [&deep_brackets, &deep_unary] {
        let (code, v, took) = g.grade("01-deep", &[("src/main.rs", main)]);
        assert_eq!(code, 1, "{v:#}");
        assert_eq!(categories(&v), ["compile-error"], "{v:#}");
        assert!(
            v["checks"][0]["message"]
                .as_str()
                .unwrap()
                .contains("src/main.rs:2"),
            "{v:#}"
        );
        assert!(took < 30.0, "took {took} s");
    }
    // In a class, the deep one is graded and so is everyone else.
    let class = g.course.root().join("class");
    for (student, main) in [
        ("mallory", deep_brackets.as_str()),
        ("alice", "fn main() { println!(\"done\"); }\n"),
    ] {
        let d = class.join(student).join("01-deep").join("src");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("main.rs"), main).unwrap();
    }
    let out = g.course.root().join("out");
    let status = g
        .course
        .grader()
        .args(["batch", "--jobs", "2", "--out"])
        .arg(&out)
        .arg(&class)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let by_student: BTreeMap<String, (String, Vec<String>)> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["student"].as_str().unwrap().to_string(),
                (r["status"].as_str().unwrap().to_string(), categories(r)),
            )
        })
        .collect();
    assert_eq!(
        by_student.get("mallory"),
        Some(&("fail".to_string(), vec!["compile-error".to_string()])),
        "{results:#}"
    );
    assert_eq!(
        by_student.get("alice"),
        Some(&("pass".to_string(), vec![])),
        "{results:#}"
    );
}

#[test]
fn compile_time_attacks_end_at_the_compile_limits_that_they_reach() {
    // The compile has limits of its own; each attack is a verdict naming
    // the limit it reached, in bounded time, and the grader carries on.
    let g = Graded::new(
        "01-compile",
        &spec_with(
            &["Task 1 started", "Task 1 finished"],
            10_000,
            "compile_ms = 8000\ncompile_memory_mb = 768\n",
        ),
    );
    for (name, says) in [
        ("const-eval-loop", "time limit of 8 s"),
        ("huge-constant", "768 MiB of memory"),
        ("exponential-macro", ""),
        ("huge-static", ""),
    ] {
        let main =
            std::fs::read_to_string(fixture("01-sequential", name).join("src/main.rs")).unwrap();
        let (code, v, took) = g.grade("01-compile", &[("src/main.rs", &main)]);
        assert_eq!(code, 1, "{name}: {v:#}");
        assert_eq!(categories(&v), ["resource-limit"], "{name}: {v:#}");
        let message = v["checks"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {message}");
        assert!(message.contains("the compiler"), "{name}: {message}");
        assert!(took < 40.0, "{name} took {took} s");
    }
}

// ------------------------------------------------- terminal and log safety

/// Whether `text` holds anything that acts on a terminal or a log: an
/// escape other than the grader's own colour codes, a carriage return, a
/// bell, a C1 control or a bidirectional override.
fn acts_on_a_terminal(text: &str) -> Option<String> {
    let own_colours = regex::Regex::new(r"\x1b\[[0-9;]*m").unwrap();
    let rest = own_colours.replace_all(text, "");
    rest.char_indices()
        .find(|(_, c)| {
            matches!(c, '\x00'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}')
        })
        .map(|(i, _)| format!("{:?}", &rest[i.saturating_sub(40)..(i + 40).min(rest.len())]))
}

/// A program whose output clears the screen, prints a fake PASS, retitles
/// the window, rewrites a line with `\r` and starts workflow commands
/// (graders/02-hello-thread/wrong/terminal-escapes): it fails as the wrong
/// answer it is, and no report obeys it — the terminal report (coloured or
/// not), the GitHub annotations, JUnit, the feedback file and the class
/// page all show its text escaped.
#[test]
fn output_that_would_repaint_the_terminal_or_forge_workflow_commands_is_shown_escaped() {
    let course = Course::new();
    let id = "02-hello-thread";
    course.repo_spec(id);
    let fixture = common::repo()
        .join("graders")
        .join(id)
        .join("wrong/terminal-escapes");
    let sub = course.root().join("class/mallory").join(id);
    std::fs::create_dir_all(sub.join("src")).unwrap();
    std::fs::copy(fixture.join("src/main.rs"), sub.join("src/main.rs")).unwrap();
    let (code, v) = check_json(&course, id, &sub);
    assert_eq!(code, 1);
    assert_eq!(categories(&v), ["wrong-answer"], "{v:#}");

    let check = |args: &[&str]| {
        let out = course
            .grader()
            .args(["check", id, "--path"])
            .arg(&sub)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    for color in ["never", "always"] {
        let human = check(&["--color", color, "--format", "human"]);
        assert!(
            human.contains("PASS  score 10/10"),
            "the output is shown: {human}"
        );
        assert!(human.contains("\\x1b[2J"), "as an escape: {human}");
        if let Some(at) = acts_on_a_terminal(&human) {
            panic!("the terminal report (--color {color}) obeys the program: {at}");
        }
    }
    let gh = check(&["--format", "github"]);
    assert!(acts_on_a_terminal(&gh).is_none(), "{gh}");
    for line in gh.lines().filter(|l| l.starts_with("::")) {
        assert!(
            ["::error title=", "::warning title=", "::notice title="]
                .iter()
                .any(|p| line.starts_with(p)),
            "a workflow command the grader did not write: {line}"
        );
    }
    // Its `%0A` stays text (`%250A`): the runner decodes it back to `%0A`.
    assert!(
        gh.contains("%250A::add-mask::secret"),
        "encoded, on one line: {gh}"
    );
    let junit = check(&["--format", "junit"]);
    assert!(junit.contains("\\x1b[2J") && acts_on_a_terminal(&junit).is_none());

    let out = course.root().join("reports");
    let batch = course
        .grader()
        .args(["batch", "--out"])
        .arg(&out)
        .arg(course.root().join("class"))
        .output()
        .unwrap();
    assert!(
        batch.status.success(),
        "{}",
        String::from_utf8_lossy(&batch.stderr)
    );
    for file in [
        "feedback/mallory.md",
        "report.html",
        "junit.xml",
        "results.json",
    ] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        if file != "results.json" {
            assert!(
                text.contains("PASS  score 10/10"),
                "{file} shows the output"
            );
        }
        if let Some(at) = acts_on_a_terminal(&text) {
            panic!("{file} holds raw control characters: {at}");
        }
    }
}
