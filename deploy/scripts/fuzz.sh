#!/usr/bin/env bash
# Runs every Go fuzz target in the workspace for the given time each
# (default 20s). Seed corpora (testdata/fuzz) already run in `make test`.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
fuzztime=${1:-20s}
status=0
while IFS= read -r match; do
  file=${match%%:*}
  name=$(sed -E 's/.*func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"$match")
  dir=$(dirname "$file")
  echo "== $dir $name ($fuzztime)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir"; then
    status=1
  fi
done < <(git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go')
exit $status
