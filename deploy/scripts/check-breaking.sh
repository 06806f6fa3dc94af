#!/usr/bin/env bash
# buf breaking against the previous commit. The first commit that adds the
# contracts has nothing to break, and a shallow clone may lack HEAD~1: both are
# said out loud rather than silently passing.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
if ! git rev-parse -q --verify HEAD~1 >/dev/null; then
  echo "buf breaking: no previous commit to compare with; skipped"
  exit 0
fi
if ! git ls-tree -r --name-only HEAD~1 -- proto/api | grep -q '\.proto$'; then
  echo "buf breaking: the previous commit has no contracts yet; skipped"
  exit 0
fi
bin/buf breaking --against '.git#ref=HEAD~1'
echo "buf breaking: no breaking change against HEAD~1"
