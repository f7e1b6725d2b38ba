#!/usr/bin/env bash
# The real-kernel lane of the network fault. This machine's kernel has no sch_netem, so the netem
# engine is proven on Debian's kernel instead: downloads linux-image-amd64's kernel package with apt
# (into a cache under the build directory; nothing is installed on the host), builds an initramfs
# (busybox, the sch_netem/sch_prio/cls_u32/veth modules, iproute2, netem_tool and their libraries),
# boots it under qemu with TCG, and lets `netem_tool check` judge the guest's console.
#
#   run.sh --work-dir DIR --tool PATH/netem_tool --faultline PATH/faultline
#
# Exit: 0 all checks passed, 1 a check failed or the lane broke, 77 qemu cannot run here (skip).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=""
tool=""
faultline=""
while [ $# -gt 0 ]; do
  case "$1" in
    --work-dir) work=$2; shift 2 ;;
    --tool) tool=$2; shift 2 ;;
    --faultline) faultline=$2; shift 2 ;;
    *) echo "usage: $0 --work-dir DIR --tool PATH/netem_tool --faultline PATH/faultline" >&2; exit 2 ;;
  esac
done
[ -n "$work" ] && [ -x "$tool" ] && [ -x "$faultline" ] \
  || { echo "usage: $0 --work-dir DIR --tool PATH/netem_tool --faultline PATH/faultline" >&2; exit 2; }

started=$SECONDS
phase() { echo "qemu-netem: [$((SECONDS - started))s] $*"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "qemu-netem: $*" >&2; exit 1; }

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (apt install qemu-system-x86), so no kernel with netem can be booted here"
# grep reads the whole list (no -q): under pipefail an early exit would SIGPIPE busybox and fail the check
[ -x /bin/busybox ] && /bin/busybox --list | grep -x insmod >/dev/null || fail "needs a static busybox at /bin/busybox (apt install busybox-static)"
for t in cpio modinfo apt-get apt-cache dpkg-deb ldd strip gzip; do
  command -v $t >/dev/null || fail "needs '$t' (scripts/setup.sh installs cpio, kmod and busybox-static)"
done
command -v ip >/dev/null && command -v tc >/dev/null || fail "needs iproute2's ip and tc for the guest (apt install iproute2)"

work=$(mkdir -p "$work" && cd "$work" && pwd)
tool=$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")
cache="$work/cache"
mkdir -p "$cache"

# 1. Debian's kernel package, once per build directory.
vmlinuz=$(ls "$cache"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
if [ -z "$vmlinuz" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  if [ -z "$pkg" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  fi
  [ -n "$pkg" ] || fail "apt does not know linux-image-amd64; run apt-get update"
  phase "downloading $pkg with apt"
  (cd "$cache" && rm -f ./*.deb && apt-get download "$pkg" >/dev/null 2>"$cache/download.log") \
    || fail "apt-get download $pkg failed: $(tail -n2 "$cache/download.log")"
  deb=$(ls "$cache"/*.deb | head -n1)
  # Only the kernel and the modules the lane needs (the package unpacks to ~400 MB).
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$cache" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/net/sched/*' \
    './lib/modules/*/kernel/drivers/net/veth.ko*' './lib/modules/*/modules.*'
  rm -f "$deb"
  vmlinuz=$(ls "$cache"/boot/vmlinuz-* | head -n1)
fi
kver=${vmlinuz##*/vmlinuz-}
moddir="$cache/lib/modules/$kver"

# 2. The initramfs.
phase "building the initramfs"
root="$work/initramfs"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,modules,etc,run,tmp,proc,sys,dev}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$here/guest-init.sh" "$root/init"
cp "$here/lane.yaml" "$root/"

# modules, dependencies first (modinfo reads them from the .ko files, no depmod needed)
declare -A placed=()
order=()
place_module() {
  local name=$1 file dep
  [ -n "${placed[$name]:-}" ] && return 0
  placed[$name]=1
  file=$(find "$moddir/kernel" -name "$name.ko*" | head -n1)
  [ -n "$file" ] || { grep -q "/$name.ko" "$moddir/modules.builtin" && return 0; fail "module $name not in $kver"; }
  for dep in $(modinfo -F depends "$file" | tr ',' ' '); do place_module "$dep"; done
  cp "$file" "$root/modules/"
  order+=("${file##*/}")
}
for m in sch_netem sch_prio cls_u32 veth sch_htb sch_tbf; do place_module $m; done
printf '%s\n' "${order[@]}" > "$root/modules.list"

# binaries and the shared libraries they load
copy_binary() {
  local bin=$1 dest=$2 lib
  cp -L "$bin" "$root$dest"
  strip --strip-unneeded "$root$dest" 2>/dev/null || true
  for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
  done
}
copy_binary "$tool" /usr/bin/netem_tool
copy_binary "$faultline" /usr/bin/faultline
copy_binary "$(command -v ip)" /usr/sbin/ip
copy_binary "$(command -v tc)" /usr/sbin/tc
for d in /usr/lib/x86_64-linux-gnu/tc /usr/lib/tc; do
  if [ -d "$d" ]; then mkdir -p "$root$d"; cp "$d"/*.dist "$root$d/"; fi
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 > "$work/initrd.gz")
# The guest's root is the unpacked initramfs, in its memory (at most half of it): 1 GiB holds the
# release binaries; a sanitizer build's are several times larger.
guest_mb=$(( $(du -sm "$root" | cut -f1) * 3 + 768 ))
[ "$guest_mb" -ge 1024 ] || guest_mb=1024

# 3. Boot. The guest powers off when done; the timeout only guards against a hang.
console="$work/console.log"
phase "booting $kver under qemu (TCG); console in $console"
set +e
timeout 300 qemu-system-x86_64 -accel tcg -icount shift=0,sleep=off -nographic -m "${guest_mb}M" -smp 1 -no-reboot \
  -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" </dev/null >"$console" 2>"$work/qemu.err"
status=$?
set -e
if [ $status -ne 0 ] && ! grep -q "RESULT" "$console"; then
  [ $status -eq 124 ] && fail "the guest hung (no result within 300 s); see $console"
  skip "qemu-system-x86_64 could not run a guest here (exit $status): $(tail -n3 "$work/qemu.err" | tr '\n' ' ')"
fi
grep -E "^(GUEST|RESULT|ERROR|CAPABILITY)" "$console" | tr -d '\r' || true

# 4. The verdict, from the console alone.
phase "guest powered off; checking its results"
"$tool" check "$console"
