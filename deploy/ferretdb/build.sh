#!/usr/bin/env bash
# Builds deploy/ferretdb/ferretdb-local: FerretDB v1 (the local MongoDB-wire server) with the
# patches in patches/ applied to the module exactly as the Go module proxy serves it. Why the
# patch exists: README.md here.
#
# Runs before anything needs the binary (`npm run build`), never inside a test. Does nothing when
# .build/stamp matches the inputs; libs/process/src/ferretdb.ts computes the same hash to refuse
# a stale binary, so keep the two lists of inputs in step.
set -euo pipefail
export LC_ALL=C # patches/*.patch in byte order, as the harness sorts them
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/ferretdb-local"
work="$here/.build"
module="github.com/FerretDB/FerretDB"
say() { echo "ferretdb: $*"; }

if [ -n "${FERRETDB_BIN:-}" ]; then
  say "FERRETDB_BIN=$FERRETDB_BIN is used instead; not building"
  exit 0
fi

inputs_hash() {
  (cd "$here" && cat main.go go.mod go.sum build.sh patches/*.patch) | sha256sum | cut -d' ' -f1
}
up_to_date() { [ -x "$out" ] && [ -f "$work/stamp" ] && [ "$(cat "$work/stamp")" = "$stamp" ]; }

stamp="$(inputs_hash)"
if up_to_date; then
  say "$out is up to date"
  exit 0
fi

command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || { say "Go 1.24 or newer is needed to build FerretDB (https://go.dev/dl/), or set FERRETDB_BIN to a FerretDB v1 binary" >&2; exit 1; }
command -v git >/dev/null 2>&1 || { say "git is required to apply patches/" >&2; exit 1; }

# Two builds at once (npm test in two shells) would delete each other's sources.
mkdir -p "$work"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$work/lock"
  flock 9
  if up_to_date; then
    say "$out was built meanwhile"
    exit 0
  fi
fi

start=$SECONDS
# Go prints nothing while it compiles; a line now and then shows CI logs it is not stuck. sleep
# must not hold stdout or stderr, or a pipe reading them waits for it after the build.
(while sleep 20 >/dev/null 2>&1 && kill -0 $$ 2>/dev/null; do say "still working ($((SECONDS - start)) s)"; done) 9>&- &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true' EXIT

version="$(cd "$here" && go list -m -f '{{.Version}}' "$module")"
say "building $module@$version with $(go version | cut -d' ' -f3) (cold Go caches: 1-2 minutes)"
say "downloading $module@$version through the Go module proxy"
(cd "$here" && go mod download "$module")
dir="$(cd "$here" && go list -m -f '{{.Dir}}' "$module")"
[ -d "$dir" ] || { say "go mod download gave no directory for $module" >&2; exit 1; }

# The copy keeps the module cache's read-only modes until chmod; an interrupted build leaves it so.
[ ! -d "$work/src" ] || chmod -R u+w "$work/src"
rm -rf "$work/src" "$work/go.mod" "$work/go.sum"
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
for p in "$here"/patches/*.patch; do
  say "applying patches/$(basename "$p")"
  (cd "$work/src" && git apply -p1 "$p")
done

# A private go.mod that points the module at the patched copy; the committed go.mod stays plain.
cp "$here/go.mod" "$here/go.sum" "$work/"
(cd "$here" && go mod edit -modfile="$work/go.mod" -replace "$module=$work/src")

say "compiling (Go fetches the other modules first)"
# -buildvcs=false: the repository may belong to another user (CI containers), which makes Go's
# VCS stamping fail; the binary does not need it.
(cd "$here" && go build -modfile="$work/go.mod" -trimpath -buildvcs=false -o "$out.tmp" .)
mv "$out.tmp" "$out"
echo "$stamp" >"$work/stamp"
say "built $out in $((SECONDS - start)) s"
