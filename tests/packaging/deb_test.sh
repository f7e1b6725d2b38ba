#!/usr/bin/env bash
# Builds faultline_<version>_amd64.deb from a build directory (CPack), installs it with dpkg into a
# scratch root, and checks what it installed: `faultline --version`, `man -l` on faultline(1), the
# systemd unit with `systemd-analyze verify`, and `lintian` (no errors); then removes it again and
# checks nothing is left.
#
#   deb_test.sh --build-dir DIR --version X.Y.Z
#
# Exit: 0 passed, 1 a check failed, 77 a tool the test needs is missing (skipped, with the reason).
set -euo pipefail

build=""
version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR --version X.Y.Z" >&2; exit 2 ;;
  esac
done
[ -d "$build" ] && [ -n "$version" ] || { echo "usage: $0 --build-dir DIR --version X.Y.Z" >&2; exit 2; }

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { echo "--- $*"; }

# Debian packages providing each tool (scripts/setup.sh installs them).
for tool in cpack:cmake dpkg:dpkg dpkg-shlibdeps:dpkg-dev file:file man:man-db systemd-analyze:systemd lintian:lintian; do
  command -v "${tool%%:*}" >/dev/null || skip "${tool%%:*} is not installed (Debian package ${tool##*:}; scripts/setup.sh installs it)"
done
[ "$(id -u)" -eq 0 ] || command -v fakeroot >/dev/null \
  || skip "not root and fakeroot is not installed (Debian package fakeroot), so dpkg cannot install into a scratch root"
[ "$(dpkg --print-architecture)" = amd64 ] || skip "the package is built for amd64; this machine is $(dpkg --print-architecture)"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/faultline-deb-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

check "cpack builds faultline_${version}_amd64.deb"
(cd "$build" && cpack -G DEB -B "$scratch/package" >"$scratch/cpack.log" 2>&1) || { cat "$scratch/cpack.log"; fail "cpack failed"; }
deb="$scratch/package/faultline_${version}_amd64.deb"
[ -f "$deb" ] || { ls -l "$scratch/package"; fail "cpack made no $deb"; }
dpkg-deb --info "$deb"
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
for lib in libc6 libstdc++6 libyaml-cpp libnl-3 libnl-route-3 libpq5 libhiredis libssl3 libnghttp2-14 libnetfilter-queue1 libmnl0; do
  [[ $depends == *"$lib"* ]] || fail "Depends does not name $lib (dpkg-shlibdeps should have found it)"
done

check "dpkg installs it into a scratch root"
root="$scratch/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
# The scratch root has no libc6 and friends registered; the host's libraries serve the binary.
dpkg_root=(dpkg --root="$root" --log="$scratch/dpkg.log" --force-depends --force-not-root)
[ "$(id -u)" -eq 0 ] || dpkg_root=(fakeroot "${dpkg_root[@]}")
"${dpkg_root[@]}" -i "$deb"
"${dpkg_root[@]}" -L faultline | sort >"$scratch/files"
for f in /usr/bin/faultline /usr/share/man/man1/faultline.1.gz /usr/share/bash-completion/completions/faultline \
         /usr/lib/systemd/system/faultline-proxy.service /usr/share/doc/faultline/copyright \
         /usr/share/doc/faultline/changelog.gz /usr/share/doc/faultline/README.md \
         /usr/share/doc/faultline/docs/experiment-format.md /usr/share/doc/faultline/examples/game-day.yaml; do
  grep -qx "$f" "$scratch/files" || fail "the package does not install $f"
  [ -e "$root$f" ] || fail "$f is not in the scratch root"
done

check "faultline --version"
"$root/usr/bin/faultline" --version | tee "$scratch/version"
head -n1 "$scratch/version" | grep -qx "faultline $version" || fail "--version does not start with 'faultline $version'"
grep -q '^commit ' "$scratch/version" || fail "--version names no commit"

check "man -l faultline.1.gz"
MANWIDTH=100 man --warnings=all -l "$root/usr/share/man/man1/faultline.1.gz" >"$scratch/man.txt" 2>"$scratch/man.err" \
  || { cat "$scratch/man.err"; fail "man -l failed"; }
[ ! -s "$scratch/man.err" ] || { cat "$scratch/man.err"; fail "man (groff) warned about the page"; }
for section in NAME SYNOPSIS COMMANDS "FAULT TYPES" "EXPERIMENT FORMAT" PRIVILEGES "EXIT STATUS" FILES; do
  grep -q "^$section" "$scratch/man.txt" || fail "faultline(1) has no $section section"
done
sed -n '1,12p' "$scratch/man.txt"

check "systemd-analyze verify faultline-proxy.service"
unit="$root/usr/lib/systemd/system/faultline-proxy.service"
grep -qx "ExecStart=/usr/bin/faultline proxy --api 127.0.0.1:8474 \$FAULTLINE_PROXY_ARGS" "$unit" \
  || fail "the unit does not start /usr/bin/faultline proxy on 127.0.0.1:8474"
grep -qx 'DynamicUser=yes' "$unit" && grep -qx 'ProtectSystem=strict' "$unit" && grep -qx 'CapabilityBoundingSet=' "$unit" \
  || fail "the unit is not sandboxed (DynamicUser, ProtectSystem=strict, no capabilities)"
# Verified as the host would load it, with ExecStart pointing into the scratch root (verify checks
# the executable exists; --root would need a whole system's units). --man=no: faultline(1) is in
# the scratch root, not in the host's man path (man -l checked it above).
sed "s|^ExecStart=/usr/bin/faultline |ExecStart=$root/usr/bin/faultline |" "$unit" >"$scratch/faultline-proxy.service"
if ! systemd-analyze verify --man=no "$scratch/faultline-proxy.service" >"$scratch/verify.log" 2>&1; then
  cat "$scratch/verify.log"
  fail "systemd-analyze verify failed"
fi
[ ! -s "$scratch/verify.log" ] || { cat "$scratch/verify.log"; fail "systemd-analyze verify reported problems"; }
echo "no problems"
systemd-analyze security --offline=true --no-pager "$scratch/faultline-proxy.service" 2>&1 | tail -n 1 || true

check "lintian"
lintian --tag-display-limit 0 --display-info "$deb" | tee "$scratch/lintian.log" || true
if grep -q '^E: ' "$scratch/lintian.log"; then
  fail "lintian reports errors"
fi

check "dpkg removes it and leaves nothing"
"${dpkg_root[@]}" --purge faultline
left=$(cd "$root" && find . -path ./var -prune -o \( -type f -o -type l \) -print)
[ -z "$left" ] || fail "left behind after --purge: $left"
echo "package_deb: passed"
