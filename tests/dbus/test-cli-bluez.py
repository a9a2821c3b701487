#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`dermaroll scan` and `dermaroll pair` against the stand-in bluetoothd.

Usage: test-cli-bluez.py DERMAROLL MOCK_BLUEZ  (prints TAP)

Starts a private bus (dbus-daemon --session), runs mock-bluez.py on it for
each test, and runs dermaroll with DBUS_SYSTEM_BUS_ADDRESS pointing at it:
that is how dermaroll finds the system bus, so nothing else is needed.
Standard input is /dev/null (not a terminal), so dermaroll never waits
for an answer.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback

import dbus

DERMAROLL = os.path.abspath(sys.argv[1])
MOCK = os.path.abspath(sys.argv[2])
ADDRESS = "AA:BB:CC:DD:EE:01"
DEVICE = "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def equal(got, want, what="output"):
    if got != want:
        raise Failure("%s differs:\n--- want\n%s\n--- got\n%s" % (what, want, got))


def info_hex(needle_um=500, head_serial="H-7", uses=3):
    """An INFO frame (PROTOCOL.md §7), as the roller's INFO characteristic
    returns it."""
    def s(text):
        return bytes([len(text)]) + text.encode()
    body = (s("1.0.0") + s("DR-TEST-0001") + struct.pack("<H", needle_um) +
            s(head_serial) + struct.pack("<HQhHHHQB", uses, 0, 0, 1000, 40, 500,
                                          123456, 0))
    return (bytes([0x10]) + struct.pack("<H", 4 + len(body)) + bytes([0x01]) +
            body).hex()


class Bus:
    def __init__(self):
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.proc.stdout.readline().strip()

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Sandbox:
    def __init__(self, bus):
        self.bus = bus
        self.root = tempfile.mkdtemp(prefix="dermaroll-bluez-cli-")
        self.db = os.path.join(self.root, "history.db")
        self.mock = None
        self.conn = None

    def start_mock(self, *args):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus.address)
        self.mock = subprocess.Popen(["/usr/bin/python3", MOCK, "--info", info_hex()] +
                                     list(args), env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        equal(self.mock.stdout.readline(), "READY\n", "mock start")
        self.conn = dbus.bus.BusConnection(self.bus.address)

    def get(self, path, iface, prop):
        obj = self.conn.get_object("org.bluez", path)
        return obj.Get(iface, prop, dbus_interface="org.freedesktop.DBus.Properties")

    def run(self, *args, status=0):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.root,
            "XDG_DATA_HOME": self.root,
            "XDG_CONFIG_HOME": self.root,
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "DERMAROLL_TEST_NOW": "2026-12-12T11:00:00Z",
            "DBUS_SYSTEM_BUS_ADDRESS": self.bus.address,
        }
        for k in ("DERMAROLL_DATA_DIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        p = subprocess.run([DERMAROLL] + list(args), env=env, capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        if p.returncode != status:
            raise Failure("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s"
                          % (" ".join(args), p.returncode, status, p.stdout, p.stderr))
        return p

    def cleanup(self):
        if self.conn:
            self.conn.close()
        if self.mock:
            self.mock.kill()
            self.mock.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def row(what, address, name, signal, state):
    return "%-7s %s  %-16s  %-9s  %s\n" % (what, address, name, signal, state)


# ---- scan ----

def test_scan_help(sb):
    for cmd in ("scan", "pair"):
        p = sb.run(cmd, "--help")
        check(p.stdout.startswith("Usage:\n  dermaroll %s [OPTION" % cmd), p.stdout)
        check("--adapter=hciN" in p.stdout and "--power-on" in p.stdout, p.stdout)
    check("--database=PATH" in sb.run("pair", "--help").stdout, "pair has --database")


def test_scan_lists_rollers(sb):
    sb.start_mock("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,0101,-52",
                  "--advertise", "AA:BB:CC:DD:EE:03,,-60",
                  "--stranger", "AA:BB:CC:DD:EE:09")
    p = sb.run("scan", "--seconds", "1")
    equal(p.stdout,
          "Looking for rollers for 1 seconds...\n" +
          row("Found", "AA:BB:CC:DD:EE:02", "DermaRoll", "-52 dBm", "ready to pair") +
          row("Found", "AA:BB:CC:DD:EE:03", "DermaRoll", "-60 dBm", "not in pairing mode") +
          "2 rollers found.\n")
    equal(p.stderr, "", "stderr")
    # StopDiscovery left before dermaroll exited; the bus may deliver it
    # after this test's own call, so give it a moment.
    for _ in range(100):
        if not sb.get("/org/bluez/hci0", "org.bluez.Adapter1", "Discovering"):
            break
        time.sleep(0.02)
    check(not sb.get("/org/bluez/hci0", "org.bluez.Adapter1", "Discovering"),
          "discovery stopped")


def test_scan_changes(sb):
    # -52 to -50: too small a change for a line; then pairing mode ends.
    sb.start_mock("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,0101,-52",
                  "--later", "AA:BB:CC:DD:EE:02,0101,-50",
                  "--later", "AA:BB:CC:DD:EE:02,0001,-50",
                  "--later", "AA:BB:CC:DD:EE:02,0001,-70")
    p = sb.run("scan", "--seconds", "2")
    equal(p.stdout,
          "Looking for rollers for 2 seconds...\n" +
          row("Found", "AA:BB:CC:DD:EE:02", "DermaRoll", "-52 dBm", "ready to pair") +
          row("Changed", "AA:BB:CC:DD:EE:02", "DermaRoll", "-50 dBm", "not in pairing mode") +
          row("Changed", "AA:BB:CC:DD:EE:02", "DermaRoll", "-70 dBm", "not in pairing mode") +
          "1 roller found.\n")


def test_scan_paired_and_unknown_signal(sb):
    sb.start_mock("--adapter", "hci0", "--device", ADDRESS, "--rssi", "127")
    p = sb.run("scan", "--seconds", "1", "--adapter", "hci0")
    equal(p.stdout,
          "Looking for rollers for 1 seconds...\n" +
          row("Found", ADDRESS, "DermaRoll DR-TEST-0001", "signal ?", "paired") +
          "1 roller found.\n")


def test_scan_none(sb):
    sb.start_mock("--adapter", "hci0")
    p = sb.run("scan", "--seconds", "1")
    equal(p.stdout, "Looking for rollers for 1 seconds...\n"
          "No rollers found. Check that the roller is switched on and close by.\n")


def test_scan_usage(sb):
    for args, msg in ((["--seconds", "0"], "--seconds must be between 1 and 600."),
                      (["--seconds", "601"], "--seconds must be between 1 and 600."),
                      (["extra"], "unexpected argument 'extra'.")):
        p = sb.run("scan", *args, status=2)
        equal(p.stderr, "dermaroll scan: %s\n"
              "Run 'dermaroll scan --help' to see the options.\n" % msg)


SCAN_FAILURES = [
    ("bluetoothd-not-running", None,
     "The Bluetooth service (bluetoothd) is not running. Start it, for example with "
     "'systemctl start bluetooth', then connect again."),
    ("no-adapter", [],
     "No Bluetooth adapter found. Plug one in, or check that the computer's Bluetooth "
     "is enabled in its firmware settings."),
    ("rfkill", ["--adapter", "hci0", "--power", "off-blocked"],
     "Bluetooth is blocked by rfkill (a switch, a key or airplane mode). Unblock it, "
     "for example with 'rfkill unblock bluetooth', then connect again."),
    ("powered-off", ["--adapter", "hci0", "--power", "off"],
     "Bluetooth is off. Turn it on, or run this again with --power-on to let "
     "dermaroll turn it on."),
]


def make_scan_failure(args, sentence):
    def test(sb):
        if args is not None:
            sb.start_mock(*args)
        p = sb.run("scan", "--seconds", "1", status=1)
        equal(p.stderr, "dermaroll scan: %s\n" % sentence)
        equal(p.stdout, "")
        if args and "off" in args:
            check(not sb.get("/org/bluez/hci0", "org.bluez.Adapter1", "Powered"),
                  "not powered on silently")
    return test


def test_scan_power_on(sb):
    sb.start_mock("--adapter", "hci0", "--power", "off",
                  "--advertise", "AA:BB:CC:DD:EE:02,0101,-52")
    p = sb.run("scan", "--seconds", "1", "--power-on")
    equal(p.stdout,
          "Bluetooth is now on.\nLooking for rollers for 1 seconds...\n" +
          row("Found", "AA:BB:CC:DD:EE:02", "DermaRoll", "-52 dBm", "ready to pair") +
          "1 roller found.\n")
    check(sb.get("/org/bluez/hci0", "org.bluez.Adapter1", "Powered"), "powered on")


# ---- pair ----

def test_pair(sb):
    sb.start_mock("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
                  "--adv-data", "0101")
    p = sb.run("pair", ADDRESS.lower(), "--yes", "--name", "Bathroom roller",
               "--database", sb.db)
    equal(p.stdout,
          "Paired with the roller Bathroom roller (AA:BB:CC:DD:EE:01), serial "
          "DR-TEST-0001, firmware 1.0.0.\n"
          "Its head H-7 has 0.5 mm needles and has been used 3 times.\n")
    for prop in ("Paired", "Bonded", "Trusted"):
        check(sb.get(DEVICE, "org.bluez.Device1", prop), prop)
    p = sb.run("rollers", "--database", sb.db)
    check("DR-TEST-0001  Bathroom roller  1.0.0     H-7   0.5 mm" in p.stdout, p.stdout)


def test_pair_refused_head(sb):
    sb.start_mock("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
                  "--adv-data", "0101", "--info", info_hex(needle_um=1500, head_serial="H-15"))
    p = sb.run("pair", ADDRESS, "--yes", "--database", sb.db)
    equal(p.stdout,
          "Paired with the roller DR-TEST-0001 (AA:BB:CC:DD:EE:01), firmware 1.0.0.\n"
          "Refused: its head H-15 has 1.5 mm needles. Needles of 1.5 mm or longer are for "
          "clinics only, so dermaroll refuses every session with this head. Fit a shorter "
          "head, then run 'dermaroll rollers new-head DR-TEST-0001'.\n")


def test_pair_not_in_pairing_mode(sb):
    sb.start_mock("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
                  "--adv-data", "0001")
    p = sb.run("pair", ADDRESS, "--yes", "--seconds", "1", "--database", sb.db, status=1)
    equal(p.stderr,
          "dermaroll pair: The roller AA:BB:CC:DD:EE:01 is not in pairing mode, so it "
          "would refuse. Hold its button until the light blinks (pairing mode lasts 60 "
          "seconds), then try again.\n")
    check(not sb.get(DEVICE, "org.bluez.Device1", "Paired"), "not paired")
    check(not os.path.exists(sb.db), "nothing recorded")


def test_pair_found_by_scanning(sb):
    sb.start_mock("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,0101,-52")
    # Seen in pairing mode once discovery runs; the stand-in cannot connect
    # it afterwards, so pairing works and reading INFO does not.
    p = sb.run("pair", "AA:BB:CC:DD:EE:02", "--yes", "--database", sb.db, status=1)
    equal(p.stdout, "Looking for the roller AA:BB:CC:DD:EE:02...\n")
    equal(p.stderr, "dermaroll pair: The roller is paired, but its details could not be "
          "read, so it is not in the history yet. Could not connect to the roller. Check "
          "that it is switched on and within a few metres, then try again.\n")
    check(sb.get("/org/bluez/hci0/dev_AA_BB_CC_DD_EE_02", "org.bluez.Device1", "Trusted"),
          "trusted")


def test_pair_not_found(sb):
    sb.start_mock("--adapter", "hci0")
    p = sb.run("pair", ADDRESS, "--yes", "--seconds", "1", status=1)
    equal(p.stderr,
          "dermaroll pair: No roller AA:BB:CC:DD:EE:01 was found nearby. Check that it is "
          "switched on and close by, hold its button until the light blinks, then try "
          "again.\n")


def test_pair_needs_yes(sb):
    sb.start_mock("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
                  "--adv-data", "0101")
    p = sb.run("pair", ADDRESS, status=2)
    equal(p.stderr,
          "dermaroll pair: standard input is not a terminal, so nobody can confirm: give "
          "--yes to pair without being asked.\n"
          "Run 'dermaroll pair --help' to see the options.\n")
    check(not sb.get(DEVICE, "org.bluez.Device1", "Paired"), "not paired")


PAIR_ERRORS = [
    ("rejected", "org.bluez.Error.AuthenticationRejected",
     "The roller rejected pairing: it pairs only in pairing mode. Pair it again: hold "
     "its button until the light blinks, then run 'dermaroll pair'."),
    ("timeout", "org.bluez.Error.AuthenticationTimeout",
     "Pairing with the roller took too long. Pair it again: hold its button until the "
     "light blinks, then run 'dermaroll pair'."),
]


def make_pair_error(name, sentence):
    def test(sb):
        sb.start_mock("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
                      "--adv-data", "0101", "--pair-error", name)
        p = sb.run("pair", ADDRESS, "--yes", "--database", sb.db, status=1)
        equal(p.stderr, "dermaroll pair: %s\n" % sentence)
        check(not sb.get(DEVICE, "org.bluez.Device1", "Trusted"), "not trusted")
    return test


def test_pair_usage(sb):
    for args, msg in (([], "give the roller's address, as in: dermaroll pair "
                       "AA:BB:CC:DD:EE:FF."),
                      (["AA:BB:CC"], "'AA:BB:CC' is not a Bluetooth address (it looks like "
                       "AA:BB:CC:DD:EE:FF)."),
                      ([ADDRESS, "--seconds", "0"], "--seconds must be between 1 and 120."),
                      ([ADDRESS, "--name", ""], "a roller's name needs 1 to 64 bytes of "
                       "text on one line.")):
        p = sb.run("pair", *args, status=2)
        equal(p.stderr, "dermaroll pair: %s\n"
              "Run 'dermaroll pair --help' to see the options.\n" % msg)


def test_pair_bluetoothd_missing(sb):
    p = sb.run("pair", ADDRESS, "--yes", status=1)
    equal(p.stderr,
          "dermaroll pair: The Bluetooth service (bluetoothd) is not running. Start it, "
          "for example with 'systemctl start bluetooth', then connect again.\n")


TESTS = [
    ("scan/help", test_scan_help),
    ("scan/lists-rollers", test_scan_lists_rollers),
    ("scan/changes", test_scan_changes),
    ("scan/paired-unknown-signal", test_scan_paired_and_unknown_signal),
    ("scan/none", test_scan_none),
    ("scan/usage", test_scan_usage),
    ("scan/power-on", test_scan_power_on),
] + [("scan/errors/" + n, make_scan_failure(a, s)) for n, a, s in SCAN_FAILURES] + [
    ("pair/success", test_pair),
    ("pair/head-refused", test_pair_refused_head),
    ("pair/not-in-pairing-mode", test_pair_not_in_pairing_mode),
    ("pair/found-by-scanning", test_pair_found_by_scanning),
    ("pair/not-found", test_pair_not_found),
    ("pair/needs-yes", test_pair_needs_yes),
    ("pair/usage", test_pair_usage),
    ("pair/bluetoothd-missing", test_pair_bluetoothd_missing),
] + [("pair/errors/" + n, make_pair_error(e, s)) for n, e, s in PAIR_ERRORS]


def main():
    bus = Bus()
    failed = 0
    print("1..%d" % len(TESTS))
    try:
        for i, (name, func) in enumerate(TESTS, 1):
            sb = Sandbox(bus)
            try:
                func(sb)
                print("ok %d - %s" % (i, name))
            except Exception:
                failed += 1
                print("not ok %d - %s" % (i, name))
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
            finally:
                sb.cleanup()
            sys.stdout.flush()
    finally:
        bus.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
