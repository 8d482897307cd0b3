#!/usr/bin/env bash
# Proves the suite catches bugs: applies each planted bug (a patch beside this script) to a scratch worktree of
# HEAD, runs each layer of the suite on it, and prints a table of which layers caught it. Every bug must be caught
# by at least one layer; the script exits 1 if one is not. Nothing is installed: each layer builds in the worktree's
# reactor, so the real local repository never sees a planted bug.
#
# Usage: verify/planted-bugs/run.sh [--first] [--layers unit,verify,...] [patch ...]
# Layers: unit (allocator tests), verify (shadow heap and fault injection), fuzz (jqwik), stress (stress smoke),
#         concurrency (Lincheck and jcstress), bench (the benchmark runner's tests, for bugs in bench/). Default: all layers, every patch. With --first, the layers after the
#         first that catches a bug are skipped (shown as "."): the table then says which layer catches it first.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
root="$(cd "$here/../.." && pwd -P)"
all_layers=(unit verify fuzz stress concurrency bench)
layers=("${all_layers[@]}")
patches=()
first=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --first) first=1; shift ;;
        --layers) IFS=, read -r -a layers <<<"$2"; shift 2 ;;
        *) patches+=("$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")"); shift ;;
    esac
done
[[ ${#patches[@]} -gt 0 ]] || patches=("$here"/*.patch)

scratch="$(mktemp -d /tmp/hakmem-planted.XXXXXX)"
tree="$scratch/tree"
cleanup() {
    git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1
    rm -rf "$scratch"
}
trap cleanup EXIT
git -C "$root" worktree add --detach -q "$tree" HEAD

# Maven arguments of each layer. Upstream modules of the reactor build but run no tests (-Dtest selects by path).
layer_args() {
    local common=(-B -q -o -Djacoco.skip=true -Dsurefire.failIfNoSpecifiedTests=false)
    case "$1" in
        unit) echo "${common[*]} -pl allocator test" ;;
        verify) echo "${common[*]} -pl verify -am test -Dtest=dev/hakmem/verify/**/*" ;;
        fuzz) echo "${common[*]} -pl fuzz -am test -Dtest=dev/hakmem/fuzz/**/*" ;;
        stress) echo "${common[*]} -pl stress -am test -Dtest=dev/hakmem/stress/**/*" ;;
        concurrency) echo "${common[*]} -pl concurrency -am verify -Dtest=**/*Lincheck*" ;;
        bench) echo "${common[*]} -pl bench -am test -Dtest=dev/hakmem/bench/**/*" ;;
    esac
}

printf '%-40s' "planted bug"
printf ' %-12s' "${layers[@]}"
printf '\n'
missed=0
for patch in "${patches[@]}"; do
    name="$(basename "$patch" .patch)"
    git -C "$tree" checkout -q -- .
    if ! git -C "$tree" apply "$patch"; then
        echo "$name: the patch no longer applies to HEAD" >&2
        missed=1
        continue
    fi
    printf '%-40s' "$name"
    caught=0
    for layer in "${layers[@]}"; do
        if [[ $first -eq 1 && $caught -eq 1 ]]; then
            printf ' %-12s' "."
            continue
        fi
        log="$scratch/$name.$layer.log"
        # shellcheck disable=SC2046
        (cd "$tree" && timeout 900 mvn $(layer_args "$layer")) >"$log" 2>&1
        rc=$?
        if [[ $rc -eq 0 ]]; then
            result="-"
        elif [[ $rc -eq 124 ]]; then
            result="CAUGHT(hang)"
            caught=1
        elif grep -qE "Could not find the selected project" "$log"; then
            result="n/a"
        elif grep -qE "COMPILATION ERROR|cannot find symbol" "$log"; then
            result="no-build"
        else
            result="CAUGHT"
            caught=1
        fi
        printf ' %-12s' "$result"
    done
    printf '\n'
    if [[ $caught -eq 0 ]]; then
        missed=1
    fi
done
git -C "$tree" checkout -q -- .
if [[ $missed -ne 0 ]]; then
    echo "at least one planted bug was not caught" >&2
    exit 1
fi
echo "every planted bug was caught"
