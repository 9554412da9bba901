#!/usr/bin/env bash
# Run a command once per CPython >= 3.11 on this machine, with PYTHON=<interpreter> set.
# Interpreters come from pyenv (if present) and from python3.N on PATH; each version once.
set -euo pipefail
declare -A seen
pythons=()
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for d in "$root"/versions/*/; do candidates+=("$d/bin/python"); done
fi
for n in 11 12 13 14 15 16; do
  p=$(command -v "python3.$n" 2>/dev/null || true)
  [ -n "$p" ] && candidates+=("$p")
done
for p in "${candidates[@]}"; do
  [ -x "$p" ] || continue
  v=$("$p" -c 'import sys, platform
ok = platform.python_implementation() == "CPython" and sys.version_info >= (3, 11)
print("%d.%d" % sys.version_info[:2] if ok else "")' 2>/dev/null || true)
  [ -n "$v" ] || continue
  [ -n "${seen[$v]:-}" ] && continue
  seen[$v]=1
  pythons+=("$p")
done
if [ ${#pythons[@]} -eq 0 ]; then echo "each-python: no CPython >= 3.11 found" >&2; exit 1; fi
status=0
for p in "${pythons[@]}"; do
  echo "=== $("$p" -c 'import sys; print(sys.version.split()[0])') ($p)"
  "$@" PYTHON="$p" || status=1
done
exit $status
