#!/bin/sh
# Export every format of the bundled examples with the installed hotpath, so the outputs
# of two versions can be compared (tools/export-diff.py BEFORE AFTER).
#
#   tools/export-all.sh OUT [PROFILES]
#
# Runs examples/*.py under hotpath run (functions, --lines, --memory) into OUT/runs/
# (profile files, and the run's own stderr), then writes `hotpath report`, every
# `hotpath export --format` and the HTML report of each profile into OUT/runs/. With
# PROFILES (a directory of .hprof files, e.g. an earlier OUT/runs), those same files are
# also exported into OUT/same/: the same input exported by two versions must give the
# same bytes (apart from the report's time stamp), while fresh runs differ in timings.
# PY names the interpreter with hotpath installed (default: .venv-3.12/bin/python).
set -eu
OUT=${1:?usage: tools/export-all.sh OUT [PROFILES]}
PROFILES=${2:-}
PY=${PY:-.venv-3.12/bin/python}
case $PY in /*) ;; *) PY=$(pwd)/$PY ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FORMATS=$("$PY" -c 'from hotpath import report; print(" ".join(sorted(report.FORMATS)))')
mkdir -p "$OUT/runs"
OUT=$(cd "$OUT" && pwd)
hp() { "$PY" -m hotpath "$@"; }

export_one() {    # export_one PROFILE DIR: every output of one profile file
    p=$1; d=$2; b=$(basename "$p" .hprof)
    hp report "$p" --limit 0 > "$d/$b.report.txt" 2>&1 || echo "exit $?" >> "$d/$b.report.txt"
    for f in $FORMATS; do
        hp export "$p" --format "$f" -o "$d/$b.$f" > "$d/$b.$f.log" 2>&1 ||
            echo "exit $?" >> "$d/$b.$f.log"
        sed -i "s#$d/##g" "$d/$b.$f.log"
    done
}

cd "$OUT/runs"
for ex in "$ROOT"/examples/*.py; do
    n=$(basename "$ex" .py)
    hp run -o "$n.functions.hprof" "$ex" > "$n.functions.stdout" 2> "$n.functions.stderr" || true
    hp run --lines -o "$n.lines.hprof" "$ex" > "$n.lines.stdout" 2> "$n.lines.stderr" || true
    hp run --memory -o "$n.memory.hprof" "$ex" > "$n.memory.stdout" 2> "$n.memory.stderr" || true
done
for p in "$OUT"/runs/*.hprof; do export_one "$p" "$OUT/runs"; done

if [ -n "$PROFILES" ]; then
    mkdir -p "$OUT/same"
    for p in "$PROFILES"/*.hprof; do
        cp "$p" "$OUT/same/"
        export_one "$OUT/same/$(basename "$p")" "$OUT/same"
    done
fi
echo "tools/export-all.sh: wrote $OUT"
