# Shared by faultline's scripts: announce steps, install Debian packages once, build once.
# Sourced, not run.

FAULTLINE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FAULTLINE_BUILD=${FAULTLINE_BUILD:-$FAULTLINE_ROOT/build}

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# Everything faultline builds against and the real servers its demo and tests start.
FAULTLINE_PACKAGES=(
  g++ cmake ninja-build pkg-config git
  libboost1.81-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libnl-3-dev libnl-route-3-dev libnetfilter-queue-dev libmnl-dev
  libhiredis-dev libpq-dev libssl-dev libnghttp2-dev catch2
  redis-server postgresql postgresql-contrib
  iproute2 iptables nftables procps curl openssl python3 prometheus
  libxml2-utils
  nginx-light wrk nghttp2-client python3-grpcio
  clang
  qemu-system-x86 busybox-static cpio kmod
  dpkg-dev file lintian man-db systemd
)

# ensure_packages PKG... : apt-get install only what is missing (idempotent).
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "all $# packages already installed"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root; run this script as root (or with sudo)"
  note "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build_faultline : configure (first time) and build with Ninja; incremental afterwards.
build_faultline() {
  if [ ! -f "$FAULTLINE_BUILD/build.ninja" ]; then
    note "configuring $FAULTLINE_BUILD"
    # Optimised, without debug info: -g makes the coroutine-heavy units a third slower to compile.
    # Precompiled headers: a clean build parses Asio, json and fmt once per library, not per file.
    cmake -S "$FAULTLINE_ROOT" -B "$FAULTLINE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DFAULTLINE_PCH=ON >/dev/null
  fi
  note "building (ninja, $(nproc) cores)"
  ninja -C "$FAULTLINE_BUILD" "$@"
}
