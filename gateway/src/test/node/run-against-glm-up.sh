#!/usr/bin/env bash
# Runs the SDK conformance suite for tools, structured output, n, logprobs, completions and the
# tokenizer (tools-conformance.mjs: the official openai and zhipuai npm clients, ajv), then the Files
# API one (files-conformance.mjs, the openai client; OTHER_KEY in the environment adds the
# other-tenant check) against a running `./glm up`, reading its gateway URL, demo API key and model from <data>/endpoints.json.
#
#   ./glm up --data /tmp/glm-e2e --ephemeral-ports &      # wait for the ready block
#   gateway/src/test/node/run-against-glm-up.sh /tmp/glm-e2e
#
# Or give GATEWAY, KEY and MODEL in the environment (any deployment) and no argument.
# SUITE=embeddings-conformance.mjs runs the embeddings suite instead (EMBED_MODEL, EMBED_DIMS).
# Against a real worker the injection check runs too (REAL_TOKENIZER=1).
# Exit status 0 when every check passed. npm packages install once into $WORK (default
# /tmp/glm-sdk-conformance) from the pinned package-lock.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-/tmp/glm-sdk-conformance}
if [ $# -ge 1 ]; then
  endpoints="$1/endpoints.json"
  [ -f "$endpoints" ] || { echo "no $endpoints: is ./glm up --data $1 running?" >&2; exit 2; }
  eval "$(node -e '
    const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const q = (s) => "\x27" + String(s).replace(/\x27/g, "\x27\\\x27\x27") + "\x27";
    console.log(`export GATEWAY=${q(e.gateway_url)} KEY=${q(e.api_key)} MODEL=${q(e.model)}`);
    if (e.embedding_model) console.log(`export EMBED_MODEL=${q(e.embedding_model)}`);
  ' "$endpoints")"
fi
: "${GATEWAY:?set GATEWAY or pass the ./glm up data folder}" "${KEY:?}" "${MODEL:?}"
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/tools-conformance.mjs" \
  "$here/embeddings-conformance.mjs" "$here/files-conformance.mjs" "$here/batches-conformance.mjs" "$work/"
if [ ! -d "$work/node_modules/ajv" ] || [ ! -d "$work/node_modules/openai" ] || [ ! -d "$work/node_modules/zhipuai" ]; then
  (cd "$work" && npm ci --no-audit --no-fund >&2)
fi
cd "$work"
# SUITE=embeddings-conformance.mjs: the embeddings checks (EMBED_MODEL from endpoints.json; the
# demo model's vectors are 512 wide), billing included
if [ "${SUITE:-}" = embeddings-conformance.mjs ]; then
  export EMBED_DIMS=${EMBED_DIMS:-512} CHECK_BILLING=${CHECK_BILLING:-1}
  : "${EMBED_MODEL:?set EMBED_MODEL or pass the ./glm up data folder}"
fi
# no SUITE: the tools checks, then the Files API checks
if [ -n "${SUITE:-}" ]; then exec node "$SUITE"; fi
export REAL_TOKENIZER=1   # a real worker: the injection check runs too
node tools-conformance.mjs
node files-conformance.mjs
# the Batches API (openai client): 50 lines run through Kafka; the balance drops by their batch price
CHECK_BILLING=${CHECK_BILLING:-1} exec node batches-conformance.mjs
