#!/bin/busybox sh
# /init of the realcheck guest (tools/realcheck/run.sh): pseudo file systems, the crosscheck's libnvdimm modules
# plus hwpoison-inject, a dump of the label-less NVDIMM's nd tree, then the probe. Output between markers.
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /tmp /mnt/ramfs /mnt/huge
mount -t tmpfs tmpfs /tmp; mount -t ramfs ramfs /mnt/ramfs
echo 4 > /proc/sys/vm/nr_hugepages; mount -t hugetlbfs hugetlbfs /mnt/huge
for m in $(cat /modules.list); do insmod /lib/modules/$m.ko || echo "@@setup insmod $m failed"; done
i=0; while [ ! -e /sys/bus/nd/devices/namespace0.0 ] && [ $i -lt 200 ]; do i=$((i+1)); sleep 0.05; done
echo @@KS-BEGIN
echo "== env"; uname -r; grep -E ' / | /tmp | /mnt' /proc/mounts
PROBE_ONLY=$(cat /probe.only)
case ",$PROBE_ONLY," in ,,|*,nd,*)
echo "== nd"
echo "nd.devices $(ls /sys/bus/nd/devices | tr '\n' ' ')"
echo "nd.drivers $(ls /sys/bus/nd/drivers | tr '\n' ' ')"
echo "nd.class $(ls /sys/class/nd 2>&1 | tr '\n' ' ')"
for l in /sys/class/nd/*; do echo "nd.classlink $(basename $l) -> $(readlink $l)"; done
for l in /sys/dev/char/*; do t=$(readlink $l); case $t in *nd*|*ndctl*|*nmem*) echo "nd.devchar $(basename $l) -> $t";; esac; done
for l in /sys/dev/block/*; do t=$(readlink $l); case $t in *pmem*) echo "nd.devblock $(basename $l) -> $t";; esac; done
ls -l /dev/ndctl0 /dev/nmem0 /dev/pmem0 2>&1 | sed 's/^/nd.dev /'
grep -E 'nd|dax|pmem|nmem' /proc/devices | sed 's/^/nd.procdevices /'
for d in /sys/bus/nd/devices/*; do
  n=$(basename $d); echo "nd.dir $n -> $(readlink $d)"
  cd $d
  for f in $(find . -maxdepth 2 ! -path './power*' | sort); do
    f=${f#./}; [ "$f" = . ] && continue
    if [ -L "$f" ]; then echo "nd.attr $n/$f link $(readlink $f)"
    elif [ -d "$f" ]; then echo "nd.attr $n/$f dir"
    else echo "nd.attr $n/$f $(stat -c %a $f) [$(cat $f 2>&1 | head -c 300 | tr '\n' '|')]"; fi
  done
  cd /
done;;
esac
echo "== probe"
/probe $PROBE_ONLY
case ",$PROBE_ONLY," in ,,|*,ext4,*)
  # ext4 (a busybox mke2fs file system, 4 KiB blocks) on the NVDIMM set up as fsdax the way the crosscheck does,
  # mounted without and with DAX: MAP_SYNC through ext4_file_mmap's daxdev_mapping_supported.
  echo "== ext4"
  d=/sys/bus/nd/devices; r=$d/region0
  echo namespace0.0 > /sys/bus/nd/drivers/nd_pmem/unbind; pfn=$(cat $r/pfn_seed)
  echo 2b4b2fde-6c3b-4c5e-9f2a-5d1c0e7a3b11 > $d/$pfn/uuid; echo pmem > $d/$pfn/mode; echo 2097152 > $d/$pfn/align
  echo namespace0.0 > $d/$pfn/namespace; echo $pfn > /sys/bus/nd/drivers/nd_pmem/bind
  i=0; while [ ! -e /dev/pmem0 ] && [ $i -lt 200 ]; do i=$((i+1)); sleep 0.05; done
  mke2fs -q -b 4096 /dev/pmem0 >/dev/null 2>&1 || echo "ext4.mke2fs failed"
  mkdir -p /mnt/ext4
  for o in dax=never dax=always; do
    if mount -t ext4 -o $o /dev/pmem0 /mnt/ext4 2>/dev/null; then /probe mapsync ext4-$o /mnt/ext4; umount /mnt/ext4; else echo "ext4.mount $o failed"; fi
  done;;
esac
echo @@KS-END
poweroff -f
