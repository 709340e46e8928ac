#!/usr/bin/env bash
# Run checkov (security policies) on the CloudFormation templates, offline.
#
# checkov lives in its own virtual environment (.venv-checkov at the repository root)
# because its dependency pins clash with the project's; it is created on first use.
# --skip-download keeps checkov from fetching policies or guidelines from the network.
# Exit status: non-zero when any check fails (each accepted finding is skipped in the
# template's resource Metadata, with the reason).
#
# Usage: tools/checkov.sh [TEMPLATE...]
#   (default: templates/fluoride.yaml and templates/environment.yaml)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -eq 0 ]]; then
    set -- "$root/templates/fluoride.yaml" "$root/templates/environment.yaml"
fi
files=()
for template in "$@"; do files+=(--file "$template"); done
venv="${CHECKOV_VENV:-$root/.venv-checkov}"
version="${CHECKOV_VERSION:-3.2.533}"
python="${PYTHON:-python3}"

# (Re)install when the venv is missing or holds another version than the pinned one.
if [[ ! -x "$venv/bin/checkov" || "$(cat "$venv/.checkov-version" 2>/dev/null)" != "$version" ]]; then
    echo "checkov: installing checkov==$version into $venv" >&2
    "$python" -m venv "$venv"
    log="$venv/pip-install.log"
    if ! "$venv/bin/pip" install --disable-pip-version-check "checkov==$version" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "checkov: installing checkov==$version failed (full log: $log)" >&2
        exit 2
    fi
    echo "$version" >"$venv/.checkov-version"
fi

# BC_SKIP_MAPPING / no API key: checkov runs its bundled policies only, fully offline.
export BC_SKIP_MAPPING=TRUE
export CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
exec "$venv/bin/checkov" \
    --quiet --compact \
    --skip-download \
    --framework cloudformation \
    "${files[@]}"
