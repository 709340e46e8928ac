#!/usr/bin/env bash
# Mutation testing of the pure decision modules against their table tests (not run in CI).
#
#   bash tools/mutation.sh            # mutmut over verdict.py and policy_report.py (~35 min
#                                     # on 2 busy cores: ~1300 mutants)
#   MUT_ONLY=verdict bash tools/mutation.sh   # verdict.py with tests/test_verdict.py only
#
# Runs in a scratch copy (mutmut 3 rewrites the tree it runs in) with its own venv in
# /tmp/mut that borrows the project's dependencies from the lead's venv (a .pth file),
# so nothing is installed into the project's venv. Prints the score and the survivors.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="${MUT_VENV:-/tmp/mut}"
deps="${MUT_DEPS:-/work/main/.venv/lib/python3.11/site-packages}"
work="$(mktemp -d /tmp/mutwork.XXXXXX)"
trap 'rm -rf "$work"' EXIT
if [ ! -x "$venv/bin/mutmut" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "mutmut==3.*"
fi
# Everything but fluoride itself (mutmut puts the mutated copy first on the path).
links="$venv/project-deps"
rm -rf "$links" && mkdir -p "$links"
for entry in "$deps"/*; do
  case "$(basename "$entry")" in fluoride|fluoride-*|_editable_impl_fluoride*) continue;; esac
  ln -s "$entry" "$links/"
done
echo "$links" > "$("$venv/bin/python" -c 'import site; print(site.getsitepackages()[0])')/project-deps.pth"
cp -r "$here/src" "$here/tests" "$here/templates" "$here/docs" "$work/"
cp "$here/pyproject.toml" "$work/"
# mutmut 3 reads [mutmut] from setup.cfg; the tests are the two table modules.
{
  echo "[mutmut]"
  echo "source_paths=src/"
  # Mutate only the two decision modules; the rest of the package is copied unchanged.
  echo "do_not_mutate="
  if [ "${MUT_ONLY:-}" = verdict ]; then
    (cd "$work" && find src -name '*.py' ! -path src/fluoride/releases/verdict.py | sed 's/^/    /')
  else
    (cd "$work" && find src -name '*.py' ! -path src/fluoride/releases/verdict.py \
       ! -path src/fluoride/infra/policy_report.py | sed 's/^/    /')
  fi
  echo "also_copy="
  echo "    templates/"
  echo "    docs/"
  echo "pytest_add_cli_args_test_selection="
  echo "    tests/test_verdict.py"
  [ "${MUT_ONLY:-}" = verdict ] || echo "    tests/test_policy_report.py"
} > "$work/setup.cfg"
cd "$work"
"$venv/bin/mutmut" run --max-children 2 || true
"$venv/bin/mutmut" results --all true > "$work/results.txt" || true
echo "mutants: $(wc -l < "$work/results.txt")"
grep -c ": killed" "$work/results.txt" | sed 's/^/killed: /'
grep -v ": killed" "$work/results.txt"
