#!/usr/bin/env bash
# Regenerates the protobuf code into a scratch directory and compares it with
# what is committed, so a proto change without `make proto` fails `make test`
# without touching the work tree.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin/buf generate -o "$tmp"
if ! diff -r -q -x go.mod -x go.sum -x '*_handwritten.go' -x embed.go "$tmp/proto/gen/go" proto/gen/go >"$tmp/diff.txt" 2>&1; then
  # Files only in the committed tree that buf does not write are fine when they
  # are the module files; anything else is a difference.
  if grep -v -E 'Only in proto/gen/go(/openapi)?: (go\.mod|go\.sum|embed\.go|doc\.go)$' "$tmp/diff.txt" | grep -q .; then
    echo "generated code is stale: run 'make proto' and commit the result" >&2
    cat "$tmp/diff.txt" >&2
    exit 1
  fi
fi
echo "generated code is up to date"
