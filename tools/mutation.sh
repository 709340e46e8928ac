#!/usr/bin/env bash
# Mutation testing of the pure decision modules against their table tests (not run in CI).
#
#   bash tools/mutation.sh            # mutmut over verdict.py and policy_report.py (~35 min
#                                     # on 2 busy cores: ~1300 mutants)
#   MUT_ONLY=verdict bash tools/mutation.sh   # verdict.py with tests/test_verdict.py only
#   MUT_MODULES="src/fluoride/infra/plan.py" MUT_TESTS="tests/test_plan.py" \
#     bash tools/mutation.sh          # any pure modules, against the tests that judge them
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
  "$venv/bin/pip" install -q "mutmut==${MUT_VERSION:-3.8.1}"  # pinned: CI-free, still reproducible
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
# mutmut 3 reads [mutmut] from setup.cfg: the modules to mutate and the tests that judge them.
{
  echo "[mutmut]"
  echo "source_paths=src/"
  if [ "${MUT_ONLY:-}" = verdict ]; then
    MUT_MODULES="src/fluoride/releases/verdict.py"; MUT_TESTS="tests/test_verdict.py"
  fi
  modules="${MUT_MODULES:-src/fluoride/releases/verdict.py src/fluoride/infra/policy_report.py}"
  tests="${MUT_TESTS:-tests/test_verdict.py tests/test_policy_report.py}"
  # Mutate only the named modules; the rest of the package is copied unchanged.
  echo "do_not_mutate="
  (cd "$work" && find src -name '*.py' | sort) | grep -vxF -f <(tr ' ' '\n' <<<"$modules") \
    | sed 's/^/    /'
  echo "also_copy="
  echo "    templates/"
  echo "    docs/"
  echo "pytest_add_cli_args_test_selection="
  tr ' ' '\n' <<<"$tests" | sed 's/^/    /'
} > "$work/setup.cfg"
cd "$work"
"$venv/bin/mutmut" run --max-children 2 || true
"$venv/bin/mutmut" results --all true > "$work/results.txt" || true
echo "mutants: $(wc -l < "$work/results.txt")"
grep -c ": killed" "$work/results.txt" | sed 's/^/killed: /'
grep -v ": killed" "$work/results.txt"
# Each survivor's diff, so it can be judged (an equivalent mutant, or a missing test row).
for mutant in $(grep -v ": killed" "$work/results.txt" | sed 's/:.*//'); do
  echo "--- $mutant"
  "$venv/bin/mutmut" show "$mutant" | grep '^[-+][^-+]' || true
done
