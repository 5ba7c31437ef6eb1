#!/usr/bin/env bash
# Seeds the fuzz corpora from the repository's policies and evidence.
set -euo pipefail
cd "$(dirname "$0")"
for t in parse check fmt_roundtrip eval evidence; do mkdir -p "corpus/$t"; done
n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  for t in parse check fmt_roundtrip eval; do cp "$f" "corpus/$t/seed-$n.clr"; done
done < <(find ../policies ../tests -name '*.clr' -size -64k -print0)
while IFS= read -r -d '' f; do
  n=$((n + 1))
  cp "$f" "corpus/eval/seed-$n.json"
done < <(find ../policies ../tests -name '*.json' -size -64k -print0)
while IFS= read -r -d '' f; do
  n=$((n + 1))
  cp "$f" "corpus/evidence/seed-$n"
done < <(find ../policies ../tests \( -name '*.json' -o -name '*.yaml' -o -name '*.yml' -o -name '*.xml' \) -size -64k -print0)
echo "seeded $n files"
