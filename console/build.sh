#!/usr/bin/env bash
# Builds or tests the console with the machine's Node.js and npm (Maven runs this; so can you).
#   build.sh build OUT_DIR   npm ci when the lock file changed, then npm run build into OUT_DIR
#   build.sh test            npm test (Vitest)
# Without Node.js >= 20 and npm it prints one line and succeeds: the console is skipped and the
# gateway answers /console with a note saying so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
mode="${1:-build}"

version=$(node --version 2>/dev/null || true)
major=$(sed -E 's/^v([0-9]+).*/\1/' <<<"${version:-v0}")
if [[ ! "$major" =~ ^[0-9]+$ ]] || (( major < 20 )) || ! command -v npm >/dev/null 2>&1; then
  echo "console: skipped, it needs Node.js >= 20 and npm (found: ${version:-no node})"
  exit 0
fi

# npm ci only when package-lock.json differs from the one installed last time
stamp=node_modules/.glm-installed-lock.json
if [[ ! -f "$stamp" ]] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

case "$mode" in
  build)
    out="${2:?usage: build.sh build OUT_DIR}"
    if [[ -f "$out/index.html" ]] && [[ -z "$(find src index.html vite.config.ts tsconfig.json package-lock.json \
          -newer "$out/index.html" -print -quit)" ]]; then
      echo "console: up to date ($out)"
      exit 0
    fi
    CONSOLE_OUT_DIR="$out" npm run --silent build
    ;;
  test)
    npm test --silent
    ;;
  *)
    echo "usage: build.sh build OUT_DIR | build.sh test" >&2
    exit 2
    ;;
esac
