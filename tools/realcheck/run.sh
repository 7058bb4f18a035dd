#!/usr/bin/env bash
# Boots Debian kernels under QEMU (TCG) with tools/realcheck/probe.c and prints what each kernel answered.
# Usage: tools/realcheck/run.sh [--only GROUPS] [PACKAGE...]     (default: the 6.1 and 6.12 images in the cache)
#   GROUPS: comma list of nd, ext4, mmap, memfd, stat, thp, proc, wait, mremap, hwpoison (default: all)
# Writes tools/realcheck/results/<kernel release>.txt. Needs qemu-system-x86, busybox-static, gcc, cpio, xz-utils.
# Kernel packages come from the crosscheck cache (~/.cache/kernelsim/crosscheck, $KERNELSIM_CROSSCHECK_CACHE),
# fetched with `apt-get download` when missing, exactly as `kernelsim crosscheck` does. Not part of any test run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KERNELSIM_CROSSCHECK_CACHE:-$HOME/.cache/kernelsim/crosscheck}
only=""
if [ "${1:-}" = --only ]; then only=$2; shift 2; fi
[ $# -eq 0 ] && set -- linux-image-6.1.0-57-amd64-unsigned linux-image-6.12.118+deb12-amd64-unsigned
work=$(mktemp -d /tmp/realcheck.XXXXXX); trap 'rm -rf "$work"' EXIT
gcc -static -O1 -o "$work/probe" "$here/probe.c"
mkdir -p "$here/results"
for pkg in "$@"; do
  k="$cache/$pkg"
  if [ ! -d "$k/root/boot" ]; then
    mkdir -p "$k" && (cd "$k" && apt-get download "$pkg" && dpkg-deb -x ./*.deb root && rm -f ./*.deb)
  fi
  vmlinuz=$(ls "$k"/root/boot/vmlinuz-*); release=${vmlinuz##*/vmlinuz-}
  r="$work/root-$release"; mkdir -p "$r"/{bin,dev,proc,sys,mnt,tmp,lib/modules}
  cp /bin/busybox "$r/bin/busybox"; cp "$work/probe" "$r/probe"
  cp "$here/init.sh" "$r/init"; echo "$only" > "$r/probe.only"
  chmod 755 "$r/init" "$r/probe"
  : > "$r/modules.list"
  for m in libnvdimm nd_btt nd_pmem nfit hwpoison-inject crc16 mbcache jbd2 crc32c_generic ext4; do   # dependency order (their .modinfo depends=)
    f=$(find "$k/root/lib/modules" -name "$m.ko*" | head -n 1)
    case "$f" in *.xz) xz -dc "$f" > "$r/lib/modules/$m.ko";; *.zst) zstd -qdc "$f" > "$r/lib/modules/$m.ko";; *) cp "$f" "$r/lib/modules/$m.ko";; esac
    echo "$m" >> "$r/modules.list"
  done
  (cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd-$release.gz"
  echo "== $pkg ($release)" >&2
  timeout 600 qemu-system-x86_64 -machine pc,nvdimm=on -m 512M,slots=2,maxmem=4G \
    -object memory-backend-ram,id=pm0,size=128M -device nvdimm,id=nv0,memdev=pm0 \
    -cpu max -smp 1 -kernel "$vmlinuz" -initrd "$work/initrd-$release.gz" \
    -append "console=ttyS0 loglevel=1 panic=-1 mitigations=off" \
    -nographic -no-reboot -monitor none -serial stdio < /dev/null > "$work/console-$release.txt" || true
  tr -d '\r' < "$work/console-$release.txt" | sed -n '/@@KS-BEGIN/,/@@KS-END/p' > "$here/results/$release${only:+-$only}.txt"
  [ -s "$here/results/$release${only:+-$only}.txt" ] || { echo "no output; console tail:" >&2; tail -n 20 "$work/console-$release.txt" >&2; }
  wc -l "$here/results/$release${only:+-$only}.txt" >&2
done
