#!/bin/sh
# Verify a Breaker audit export with openssl, sha256sum and the shell alone (docs/AUDIT.md).
# Usage: audit-recipe.sh EXPORT_DIR [EXPECTED_KEY_FINGERPRINT]     exit 0 = verified
set -eu
cd "$1"
field() { grep -o "\"$1\": \"[0-9a-f]*\"" manifest.json | cut -d'"' -f4; }

# 1. The manifest's signature, with the key shipped beside it.
openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in manifest.json -sigfile manifest.sig

# 2. That key's fingerprint: the manifest's, and (pinned) the one you recorded out of band.
fp=$(openssl pkey -pubin -in public-key.pem -outform DER | sha256sum | cut -c1-64)
[ "$fp" = "$(field key_fingerprint)" ] || { echo "key fingerprint differs from the manifest"; exit 1; }
[ -z "${2:-}" ] || [ "$fp" = "$2" ] || { echo "signed by $fp, not by the pinned key"; exit 1; }

# 3. Every file's SHA-256 as the manifest lists it.
sed -n '/"files": {/,/}/p' manifest.json | grep -o '"[^"]*": "[0-9a-f]\{64\}"' \
  | sed 's/^"\(.*\)": "\(.*\)"$/\2  \1/' | sha256sum --check --quiet

# 4. The chain: each line's prev is the SHA-256 of the previous line's exact bytes.
prev=$(field anchor_prev); n=0
while IFS= read -r line; do
  n=$((n + 1))
  case "$line" in *"\"prev\":\"$prev\"}") ;; *) echo "chain broken at line $n"; exit 1 ;; esac
  prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
done < audit.jsonl
[ "$prev" = "$(field last_hash)" ] || { echo "the last line does not hash to last_hash"; exit 1; }
echo "verified: $n records, key $fp"
