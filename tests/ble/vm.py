#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Boots the ble suite's guest under qemu and runs commands in it (TAP).

Usage: vm.py --kit KITDIR --out RUNDIR [--keep DIR] --run "CMD ARGS" ...

First makes sure the kit is ready (kit.py, cached in KITDIR), then boots
Debian's kernel with qemu's TCG (this machine's /dev/kvm cannot run it),
the host's root read-only over virtio-9p and RUNDIR read-write at the same
path.  In the guest, guest-setup.sh starts two virtual controllers, the
system bus and bluetoothd, then runs each --run command (split like a shell
would, as root, with BLE_OUT=RUNDIR in its environment), one after the
other, each with --run-timeout seconds.

Output is TAP.  A command reports its own checks as lines starting with
"ok - " or "not ok - " (numbers are added here); every other line of the
guest's console becomes a "# [seconds since qemu started] ..." comment.
Each command's exit status is one more test point.  When anything fails,
the logs of bluetoothd, dbus-daemon and btvirt and the kernel's messages
are printed after it; all of them stay in RUNDIR:

  console.log  the guest's console, with host timestamps
  bluetoothd.log, dbus.log, btvirt.log, dmesg.log
  job, status  what the guest was asked to run and how each run ended
"""
import argparse
import os
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kit  # noqa: E402  (next to this file)

GUEST_SETUP = os.path.join(HERE, "guest-setup.sh")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RESULT = re.compile(r"^(ok|not ok)\b(?:\s+\d+)?\s*(?:-\s*)?(.*)$")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def point(self, ok, what):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, what),
              flush=True)

    def comment(self, text):
        for line in text.splitlines() or [""]:
            print("# " + line, flush=True)

    def finish(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed or self.n == 0 else 0


def qemu_command(meta, rundir, args):
    append = " ".join([
        "console=ttyS0", "panic=-1", "loglevel=4", "mitigations=off",
        "random.trust_cpu=on", "ble_out=" + rundir,
        "ble_setup=" + GUEST_SETUP, "ble_keep=" + ":".join(args.keep)])
    return [
        "qemu-system-x86_64",
        "-accel", "tcg,thread=multi", "-cpu", "max",
        "-smp", str(args.smp), "-m", str(args.memory),
        "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
        "-serial", "stdio",
        "-kernel", os.path.join(meta["dir"], meta["vmlinux"]),
        "-initrd", os.path.join(meta["dir"], meta["initramfs"]),
        "-append", append,
        "-device", "virtio-rng-pci",
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,"
                   "readonly=on,multidevs=remap",
        "-virtfs", "local,path=%s,mount_tag=out,security_model=none" % rundir,
    ]


def write_job(rundir, runs, run_timeout):
    lines = ["# written by vm.py: the commands guest-setup.sh runs"]
    for i, cmd in enumerate(runs, 1):
        argv = shlex.split(cmd)
        lines.append("ble_run %d %d %s" % (i, run_timeout,
                                           " ".join(shlex.quote(a) for a in argv)))
    with open(os.path.join(rundir, "job"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def run_guest(cmd, rundir, timeout, tap):
    """Runs qemu, turning the console into TAP.  Returns (status, secs)."""
    t0 = time.monotonic()
    console = open(os.path.join(rundir, "console.log"), "w", encoding="utf-8")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    timed_out = False

    def line_out(raw):
        text = raw.decode("utf-8", "replace").rstrip("\r\n").replace("\r", "")
        text = ANSI.sub("", text)
        stamp = "[%6.2f] " % (time.monotonic() - t0)
        console.write(stamp + text + "\n")
        m = RESULT.match(text)
        if m:
            tap.point(m.group(1) == "ok", m.group(2))
        else:
            tap.comment(stamp + text)

    while True:
        left = t0 + timeout - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        if not sel.select(min(left, 1.0)):
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            line_out(raw)
    if buf:
        line_out(buf)
    if timed_out:
        os.killpg(proc.pid, signal.SIGKILL)
        tap.comment("qemu killed: the guest ran past the %d s limit" % timeout)
    status = proc.wait()
    console.close()
    return status, time.monotonic() - t0, timed_out


def show_logs(rundir, tap):
    for name, tail in (("bluetoothd.log", 400), ("dbus.log", 50),
                       ("btvirt.log", 50), ("dmesg.log", 200)):
        path = os.path.join(rundir, name)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            tap.comment("--- %s: none" % name)
            continue
        cut = len(lines) > tail
        tap.comment("--- %s%s" % (path, " (last %d lines)" % tail if cut else ""))
        tap.comment("\n".join(lines[-tail:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kit", required=True, help="kit folder (kit.py)")
    ap.add_argument("--out", required=True, help="this run's output folder")
    ap.add_argument("--run", action="append", required=True,
                    help="a command to run in the guest (repeatable)")
    ap.add_argument("--timeout", type=int, default=150,
                    help="seconds for the whole guest, boot included")
    ap.add_argument("--run-timeout", type=int, default=90,
                    help="seconds for each command")
    ap.add_argument("--keep", action="append", default=[],
                    help="a folder under /tmp that the guest must see "
                    "(the guest has a tmpfs on /tmp; repeatable)")
    ap.add_argument("--memory", type=int, default=1024, help="guest MiB")
    ap.add_argument("--smp", type=int, default=2, help="guest CPUs")
    args = ap.parse_args()
    tap = Tap()
    kit.log = lambda msg: tap.comment("kit: " + msg)

    t0 = time.monotonic()
    try:
        meta = kit.prepare(os.path.abspath(args.kit))
    except kit.KitError as e:
        tap.point(False, "guest kit ready")
        tap.comment(str(e))
        return tap.finish()
    except OSError as e:
        tap.point(False, "guest kit ready")
        tap.comment("cannot prepare the kit in %s: %s" % (args.kit, e))
        return tap.finish()
    tap.point(True, "guest kit ready: kernel %s (%.1f s)"
              % (meta["release"], time.monotonic() - t0))

    rundir = os.path.abspath(args.out)
    args.keep = [os.path.abspath(k) for k in args.keep]
    if re.search(r"[\s:]", rundir + GUEST_SETUP + "".join(args.keep)):
        tap.point(False, "paths without spaces or colons (the kernel command "
                  "line carries them): %s" % rundir)
        return tap.finish()
    if shutil.which("qemu-system-x86_64") is None:
        tap.point(False, "qemu-system-x86_64 installed (Debian package "
                  "qemu-system-x86; scripts/install-deps installs it)")
        return tap.finish()
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    write_job(rundir, args.run, args.run_timeout)

    status, secs, timed_out = run_guest(qemu_command(meta, rundir, args),
                                        rundir, args.timeout, tap)
    tap.comment("qemu exited with status %d after %.1f s" % (status, secs))

    results = {}
    ended = False
    try:
        with open(os.path.join(rundir, "status"), encoding="utf-8") as f:
            for line in f:
                words = line.split()
                if words == ["end"]:
                    ended = True
                elif len(words) == 2:
                    results[int(words[0])] = int(words[1])
    except OSError:
        pass
    for i, cmd in enumerate(args.run, 1):
        rc = results.get(i)
        if rc is None:
            why = "timed out" if timed_out else "the guest stopped first"
            tap.point(False, "%s: did not finish (%s)" % (cmd, why))
        else:
            tap.point(rc == 0, "%s: exit status %d%s" % (
                cmd, rc, " (timed out)" if rc == 124 else ""))
    tap.point(ended and not timed_out, "guest ran every command and "
              "powered off (%.1f s)" % secs)
    if tap.failed:
        show_logs(rundir, tap)
    tap.comment("logs in " + rundir)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
