#!/usr/bin/env bash
# Checks (default) or rewrites (--fix) the native engine's C/C++ files against ../.clang-format.
# The style is pinned to clang-format 14 (Debian bookworm's package): other major versions format
# some constructs differently, so with another version, or none, this says so in one line and
# passes; CI installs version 14 (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=check
[[ "${1:-}" == "--fix" ]] && mode=fix
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z "$cf" ]]; then
  echo "clang-format: not installed, C/C++ format check skipped (apt-get install clang-format)" >&2
  exit 0
fi
major=$("$cf" --version | sed -nE 's/.*version ([0-9]+)\..*/\1/p')
if [[ "$major" != "14" ]]; then
  echo "clang-format: found version $major, the style is pinned to 14; C/C++ format check skipped" >&2
  exit 0
fi
mapfile -t files < <(find include src tests tools -type f \( -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.cu' \) | sort)
if [[ "$mode" == fix ]]; then
  "$cf" -i "${files[@]}"
else
  "$cf" --dry-run --Werror "${files[@]}"
  echo "clang-format: ${#files[@]} C/C++ files formatted"
fi
