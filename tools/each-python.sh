#!/usr/bin/env bash
# Run a command once per supported CPython (3.11-3.15), with PYTHON=<interpreter> appended.
# Interpreters come from pyenv (if present) and python3.N on PATH; the versions not found
# there (3.14, 3.15 on this project's machines) run inside the Debian unstable root that
# tools/debian-pythons.sh builds, in a copy of the checkout. Each version once. A version
# that cannot be had says so loudly; it never passes silently.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
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
status=0
summary=()
for p in "${pythons[@]}"; do
  v=$("$p" -c 'import sys; print(sys.version.split()[0])')
  echo "=== $v ($p)"
  if "$@" PYTHON="$p"; then summary+=("$v: passed"); else summary+=("$v: FAILED"); status=1; fi
done

# The newer versions from the Debian root.
missing=()
for v in 3.14 3.15; do [ -n "${seen[$v]:-}" ] || missing+=("$v"); done
if [ ${#missing[@]} -gt 0 ] && [ -z "${HOTPATH_HOST_ONLY:-}" ]; then
  rc=0; "$here/debian-pythons.sh" ensure || rc=$?
  if [ $rc -eq 0 ]; then
    # Read the list whole first: `versions | grep -q` under pipefail races (grep exits at the
    # first match, the writer then dies of SIGPIPE and the pipeline counts as failed).
    available=$("$here/debian-pythons.sh" versions)
    for v in "${missing[@]}"; do
      if ! grep -qx "$v" <<<"$available"; then
        echo "=== $v: NOT AVAILABLE in the Debian root" >&2; summary+=("$v: missing"); status=1; continue
      fi
      echo "=== $v (Debian unstable root)"
      if "$here/debian-pythons.sh" run "$v" "$@"; then summary+=("$v: passed"); else summary+=("$v: FAILED"); status=1; fi
    done
  elif [ $rc -eq 3 ]; then
    for v in "${missing[@]}"; do summary+=("$v: SKIPPED (no Debian root here, see above)"); done
  else
    for v in "${missing[@]}"; do summary+=("$v: FAILED (the Debian root could not be built)"); done
    status=1
  fi
fi
if [ ${#summary[@]} -eq 0 ]; then echo "each-python: no CPython >= 3.11 found" >&2; exit 1; fi
echo "=== each-python summary:"; printf '  %s\n' "${summary[@]}"
exit $status
