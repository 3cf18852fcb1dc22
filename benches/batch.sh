#!/usr/bin/env bash
# Throughput of `grader batch` on a class of STUDENTS students x every
# exercise (default 20), reported as submissions per minute:
#
#   benches/batch.sh [STUDENTS]
#
# 1. `--jobs 1`, every submission graded (`--regrade`);
# 2. `--jobs 2`, every submission graded (`--regrade`);
# 3. `--jobs 4`, every submission graded: a worker often waits (a program
#    sleeping, a perturbed run), so more workers than cores can pay;
# 4. `--jobs 2` again without `--regrade`: every result comes from the store.
#
# Each student hands in every reference solution with a line of their own
# added, so no two submissions are identical and none is graded once for
# several students; half use `<student>/<id>/`, a quarter a clone
# (`<student>/exercises/<id>/`), a quarter a `grader pack` archive. The
# grader is built in release mode and its one-time caches (timing shim,
# model-check dependencies) are warmed first, as they are after a course's
# first `grader check`. SPEC §8's budget is 100 students x 8 exercises in
# under 5 minutes on 2 cores: the last line scales run 2 to that class.
set -euo pipefail
cd "$(dirname "$0")/.."
STUDENTS=${1:-20}
cargo build --release --quiet
G=${CARGO_TARGET_DIR:-$PWD/target}/release/grader
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export GRADER_CACHE_DIR=$T/cache NO_COLOR=1

ids=$(ls graders)
n_ids=$(echo "$ids" | wc -l)
mkdir -p "$T/class" "$T/course"
cp -r graders "$T/course/"
for s in $(seq -w 1 "$STUDENTS"); do
  student="student$s"
  case $((10#$s % 4)) in
    0|2) base="$T/class/$student" ;;
    1) base="$T/class/$student/exercises" ;;
    3) base="$T/course/exercises" ; rm -rf "$base" ;;
  esac
  for id in $ids; do
    mkdir -p "$base/$id"
    cp -r "solutions/$id/src" "$base/$id/"
    for f in $(find "$base/$id/src" -name '*.rs'); do echo "// $student" >> "$f"; done
  done
  if [ $((10#$s % 4)) = 3 ]; then
    "$G" --root "$T/course" pack --out "$T/class/$student.tar.gz" >/dev/null
  fi
done
total=$((STUDENTS * n_ids))

for id in $ids; do "$G" check "$id" --path "solutions/$id" >/dev/null || true; done

timed() {
  local start end
  start=$(date +%s.%N)
  "$@" >"$T/last.out" 2>/dev/null || { cat "$T/last.out"; exit 1; }
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }'
}
rate() { echo "$1 $2" | awk '{ printf "%.0f", $1 / $2 * 60 }'; }

echo "class: $STUDENTS students x $n_ids exercises = $total submissions ($(nproc) cores)"
t1=$(timed "$G" batch "$T/class" --jobs 1 --regrade --out "$T/out1")
echo "jobs 1: $t1 s, $(rate $total "$t1") submissions/min   ($(grep -o 'graded [0-9]*, reused [0-9]*' "$T/last.out"))"
t2=$(timed "$G" batch "$T/class" --jobs 2 --regrade --out "$T/out2")
echo "jobs 2: $t2 s, $(rate $total "$t2") submissions/min   ($(grep -o 'graded [0-9]*, reused [0-9]*' "$T/last.out"))"
t4=$(timed "$G" batch "$T/class" --jobs 4 --regrade --out "$T/out4")
echo "jobs 4: $t4 s, $(rate $total "$t4") submissions/min   (more workers than cores: grading waits on the programs' sleeps)"
t3=$(timed "$G" batch "$T/class" --jobs 2 --out "$T/out3")
echo "cached re-run: $t3 s   ($(grep -o 'graded [0-9]*, reused [0-9]*' "$T/last.out"))"
echo "$t2 $total" | awk '{ printf "100 students x 8 exercises at jobs 2: about %.0f s (budget 300 s)\n", $1 / $2 * 800 }'
