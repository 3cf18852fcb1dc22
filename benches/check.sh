#!/usr/bin/env bash
# Warm `grader check` of every reference solution, against the floor: a plain
# `rustc` compile of the same files and one run of the program.
#
#   benches/check.sh [RUNS]        (default 7 runs each; prints medians)
#
# The floor is what SPEC §8 budgets against: a bin exercise may take at most
# 1.5x it, perturbed runs included; a library exercise, model check included,
# at most 4x a plain rustc compile of its lib.rs and main.rs. The grader is
# built in release mode first and warmed once per exercise (its caches:
# the timing shim, the model-check dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
cargo build --release --quiet
G=${CARGO_TARGET_DIR:-$PWD/target}/release/grader
RUSTC=$(rustc --print sysroot)/bin/rustc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

python3 - "$G" "$RUSTC" "$T" "$RUNS" <<'PY'
import os, subprocess, sys, time, statistics, glob
grader, rustc, tmp, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
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
PY
