#!/usr/bin/env bash
# Warm `grader check` of every reference solution, against the floor: a plain
# `rustc` compile of the same files and one run of the program.
#
#   benches/check.sh [RUNS [EXERCISE...]]   (default 7 runs each, every
#                                            exercise; prints medians)
#
# The floor is what SPEC §8 budgets against: a bin exercise may take at most
# 1.5x it, perturbed runs included; a library exercise, model check included,
# at most 4x a plain rustc compile of its lib.rs and main.rs. The grader is
# built in release mode first and warmed once per exercise (its caches:
# the timing shim, the model-check dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
shift || true
cargo build --release --quiet
G=${CARGO_TARGET_DIR:-$PWD/target}/release/grader
RUSTC=$(rustc --print sysroot)/bin/rustc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

python3 - "$G" "$RUSTC" "$T" "$RUNS" "$@" <<'PY'
import os, subprocess, sys, time, statistics, glob
grader, rustc, tmp, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
only = sys.argv[5:]
env = dict(os.environ, NO_COLOR="1")

def timed(cmd, **kw):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, **kw)
    return time.perf_counter() - t

def median(f):
    return statistics.median(f() for _ in range(runs))

print(f"{'exercise':<22} {'grader':>8} {'rustc+run':>10} {'ratio':>6}  budget")
for sol in sorted(glob.glob("solutions/*/")):
    ex = os.path.basename(sol.rstrip("/"))
    if only and ex not in only:
        continue
    pkg = ex.split("-", 1)[1]
    crate = pkg.replace("-", "_")
    lib = os.path.join(sol, "src/lib.rs")
    main = os.path.join(sol, "src/main.rs")
    out = os.path.join(tmp, ex)
    os.makedirs(out, exist_ok=True)
    check = [grader, "check", ex, "--path", sol]
    subprocess.run(check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)  # warm
    g = median(lambda: timed(check))
    def floor():
        t = time.perf_counter()
        if os.path.exists(lib):
            subprocess.run([rustc, "--edition", "2021", "--crate-type", "rlib", "--crate-name", crate,
                            lib, "-o", f"{out}/lib{crate}.rlib"], check=True)
            subprocess.run([rustc, "--edition", "2021", main, "-o", f"{out}/prog",
                            "--extern", f"{crate}={out}/lib{crate}.rlib"], check=True)
        else:
            subprocess.run([rustc, "--edition", "2021", main, "-o", f"{out}/prog"], check=True)
        subprocess.run([f"{out}/prog"], stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - t
    f = median(floor)
    budget = "4.0x" if os.path.exists(lib) else "1.5x"
    print(f"{ex:<22} {g*1000:>6.0f}ms {f*1000:>8.0f}ms {g/f:>5.2f}x  {budget}")

# What the perturbed runs add: 02 graded with its spec, and with the same
# spec less its timing check (budget: at most 15% more).
root = os.path.join(tmp, "no-timing")
spec = open("graders/02-hello-thread/spec.toml").read()
checks = spec.split("[[check]]")
kept = checks[0] + "".join("[[check]]" + c for c in checks[1:] if 'kind = "timing"' not in c)
os.makedirs(os.path.join(root, "graders/02-hello-thread"), exist_ok=True)
open(os.path.join(root, "graders/02-hello-thread/spec.toml"), "w").write(kept)
sol = "solutions/02-hello-thread"
with_timing = [grader, "check", "02-hello-thread", "--path", sol]
without = [grader, "--root", root, "check", "02-hello-thread", "--path", sol]
for cmd in (with_timing, without):
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)  # warm
# Interleaved, so that both see the same machine.
pairs = [(timed(with_timing), timed(without)) for _ in range(runs)]
w = statistics.median(p[0] for p in pairs)
n = statistics.median(p[1] for p in pairs)
print(f"02 perturbed runs: {w*1000:.0f}ms with, {n*1000:.0f}ms without: {(w/n-1)*100:+.0f}%  budget +15%")
PY
