#!/bin/sh
# Secrets from files: $SECRETS_DIR/callcenter_<section>_<key> (default /run/secrets, where
# Docker and Compose put secrets) becomes CALLCENTER_<SECTION>_<KEY> unless that variable
# is already set, e.g. /run/secrets/callcenter_auth_token_secret -> CALLCENTER_AUTH_TOKEN_SECRET.
set -eu
secrets_dir=${SECRETS_DIR:-/run/secrets}
if [ -d "$secrets_dir" ]; then
  for file in "$secrets_dir"/callcenter_*; do
    [ -f "$file" ] || continue
    name=$(basename "$file" | tr '[:lower:]' '[:upper:]')
    if [ -z "$(printenv "$name" || true)" ]; then
      export "$name=$(cat "$file")"
    fi
  done
fi
exec "$@"
