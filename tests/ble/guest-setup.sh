# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs as PID 1 in the ble suite's guest (busybox sh), on the host's root
# mounted read-only, after initramfs-init.  Brings up the Bluetooth stack:
#
#   btvirt -L -l2      two LE-only virtual controllers, hci0 and hci1
#                      (dual-mode ones crash this kernel in hci_chan_del)
#   dbus-daemon        the system bus, with the host's policy files
#   bluetoothd -n -d   with its debug log in $ble_out/bluetoothd.log
#
# then waits until bluetoothd has registered both adapters on the bus, runs
# the commands of $ble_out/job (written by vm.py) one after the other, and
# powers the guest off.  Each command's exit status goes to $ble_out/status
# as "N STATUS"; a last line "end" says the guest got through all of them.

set -u
# shellcheck disable=SC2154 # set by the kernel command line (vm.py)
out=$ble_out
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
export BLE_OUT="$out"

uptime_s() {
	read -r up _ < /proc/uptime
	echo "$up"
}

say() {
	echo "ble-guest: [$(uptime_s)] $*"
}

finish() {
	dmesg > "$out/dmesg.log" 2>&1
	sync
	poweroff -f
	sleep 10
}

fail() {
	say "FATAL: $*"
	finish
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
	limit=$(( $1 * 10 ))
	what=$2
	shift 2
	i=0
	until "$@" > /dev/null 2>&1; do
		i=$(( i + 1 ))
		[ "$i" -ge "$limit" ] && fail "timed out waiting for $what"
		sleep 0.1
	done
}

have_controllers() {
	[ -e /sys/class/bluetooth/hci0 ] && [ -e /sys/class/bluetooth/hci1 ]
}

have_adapters() {
	objs=$(dbus-send --system --print-reply --dest=org.bluez / \
		org.freedesktop.DBus.ObjectManager.GetManagedObjects) || return 1
	case $objs in *'"/org/bluez/hci0"'*) ;; *) return 1 ;; esac
	case $objs in *'"/org/bluez/hci1"'*) ;; *) return 1 ;; esac
}

# ble_run N SECONDS COMMAND...: one command of the job, killed after
# SECONDS.
ble_run() {
	n=$1
	limit=$2
	shift 2
	say "run $n: $*"
	# coreutils' timeout (busybox sh would pick its own applet first):
	# status 124 when the limit was hit.
	/usr/bin/timeout -k 5 "$limit" "$@"
	rc=$?
	[ "$rc" -eq 124 ] && say "run $n: timed out after $limit s"
	echo "$n $rc" >> "$out/status"
	say "run $n exited with status $rc"
}

say "kernel $(uname -r) up, on the host's root"
# Kernel messages would cut into the test's lines on the console; they are
# kept in $out/dmesg.log instead.
dmesg -n 1

# The limits are generous: bluetoothd is up about 5 s after qemu starts
# on a quiet machine and took up to 14 s on a busy one, but two boots under
# a load of 4 on 2 cores ran out of 30 s here.
btvirt -L -l2 > "$out/btvirt.log" 2>&1 &
wait_for 90 "btvirt's controllers hci0 and hci1" have_controllers
say "controllers hci0 and hci1 present"

mkdir -p /run/dbus
dbus-daemon --system --nofork --nosyslog > "$out/dbus.log" 2>&1 &
wait_for 90 "the system bus" test -S /run/dbus/system_bus_socket

/usr/libexec/bluetooth/bluetoothd -n -d > "$out/bluetoothd.log" 2>&1 &
wait_for 90 "bluetoothd to register hci0 and hci1" have_adapters
say "bluetoothd up with hci0 and hci1"

[ -r "$out/job" ] || fail "no job file $out/job"
# shellcheck disable=SC1091 # written by vm.py for this run
. "$out/job"
echo end >> "$out/status"
say "all runs done"
finish
