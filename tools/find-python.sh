#!/usr/bin/env bash
# Print the path of a working interpreter named by $1: a path, a name on PATH such as
# python3.12, or a version such as 3.12. pyenv's shims for a version that is installed but
# not selected fail when run, so each candidate is run once; pyenv's installed versions
# are looked in after PATH. Prints nothing (exit 1) when there is none.
set -uo pipefail
want=${1:-python3}
works() { "$1" -c 'import sys' >/dev/null 2>&1; }
candidates=()
if [[ "$want" == */* ]]; then
  candidates+=("$want")
else
  p=$(command -v "$want" 2>/dev/null) && candidates+=("$p")
  ver=${want#python}                       # python3.12 -> 3.12
  if [[ "$ver" =~ ^3\.[0-9]+$ ]]; then
    p=$(command -v "python$ver" 2>/dev/null) && candidates+=("$p")
    if command -v pyenv >/dev/null 2>&1; then
      root=$(pyenv root)
      # the newest installed patch release of that version
      for d in $(ls -d "$root"/versions/"$ver".*/ 2>/dev/null | sort -V -r); do
        candidates+=("${d%/}/bin/python")
      done
    fi
  fi
fi
for c in "${candidates[@]}"; do
  if [ -x "$c" ] && works "$c"; then echo "$c"; exit 0; fi
done
exit 1
