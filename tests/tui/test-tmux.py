#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The tui suite in tmux: the real `dermaroll --simulate --speed 20`, as a
person would use it, on a private tmux server.

Usage: test-tmux.py DERMAROLL [MOCK_BLUEZ]  (prints TAP; the screens go out
as comments)

It starts on the home screen, opens the history there, starts the routine
with r, answers the checklist with send-keys, waits for the autopilot to move
the routine on, rolls by hand, follows a resize, reads the screens with
capture-pane, and at the end checks the demo history with
`dermaroll history --database`, and that the real history was not made.
Other runs quit with Ctrl-C and SIGTERM mid-routine (the terminal comes
back and the routine is stored as stopped early) and crash with SIGSEGV
(the terminal comes back, and the shell sees the signal).  The pairing
wizard pairs one of the virtual rollers nearby of --simulate, and the
real program (no option: the real history, Bluetooth on a system bus that
is not there) says why no roller can be reached, opens its settings, and
keeps a changed setting across a restart.  With MOCK_BLUEZ, the real
program finds the roller `dermaroll pair` recorded, connects it over the
stand-in bluetoothd on a private bus, and says when it is gone again.
"""
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

DERMAROLL = os.path.abspath(sys.argv[1])
# The stand-in bluetoothd of the dbus suite, for the real program's roller.
MOCK_BLUEZ = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
# A tmux server of our own per test: a server being killed never meets the
# next test's.
SERVER = None
WAIT_S = 60


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def tmux(*args, check_rc=True):
    p = subprocess.run(["tmux", "-L", SERVER, "-f", "/dev/null"] + list(args),
                       capture_output=True, text=True)
    if check_rc and p.returncode != 0:
        raise Failure("tmux %s: %s" % (" ".join(args), p.stderr))
    return p.stdout


def capture():
    return tmux("capture-pane", "-p", "-t", "t")


def wait_for(text, what=None):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        screen = capture()
        if text in screen:
            return screen
        time.sleep(0.1)
    raise Failure("%s: no %r on the screen:\n%s" % (what or "waiting", text, capture()))


def show(title, screen):
    print("# ---- %s" % title)
    for line in screen.rstrip("\n").split("\n"):
        print("# " + line)


class Sandbox:
    count = 0

    def __init__(self):
        global SERVER
        Sandbox.count += 1
        SERVER = "dermaroll-test-%d-%d" % (os.getpid(), Sandbox.count)
        self.root = tempfile.mkdtemp(prefix="dermaroll-tmux-")
        self.data = os.path.join(self.root, "data")
        self.home = os.path.join(self.root, "home")
        os.mkdir(self.data)
        os.mkdir(self.home)
        self.demo = os.path.join(self.data, "dermaroll", "demo.db")

    def env(self):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "XDG_DATA_HOME": self.data,
            "XDG_CONFIG_HOME": os.path.join(self.root, "config"),
            "TZ": "UTC",
            "LC_ALL": "C.UTF-8",
        }
        for k in ("DERMAROLL_DATA_DIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def start(self, cols=80, rows=24, args="--simulate --speed 20", env=None):
        exports = " ".join("%s=%s" % (k, v) for k, v in
                           dict(self.env(), **(env or {})).items())
        # After the program: its status, and whether the terminal is back
        # in canonical mode (a terminal left raw says -icanon).
        cmd = ("env %s %s %s; echo EXIT=$?; "
               "echo TTY=$(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon); "
               "sleep 600" % (exports, DERMAROLL, args))
        tmux("new-session", "-d", "-s", "t", "-x", str(cols), "-y", str(rows), cmd)

    def history(self):
        p = subprocess.run([DERMAROLL, "history", "--database", self.demo],
                           capture_output=True, text=True, env=self.env())
        check(p.returncode == 0, "history: %s" % p.stderr)
        return p.stdout

    def restart(self):
        """A new tmux server for the next run: the old one may still be
        on its way out when the next new-session comes."""
        global SERVER
        tmux("kill-server", check_rc=False)
        Sandbox.count += 1
        SERVER = "dermaroll-test-%d-%d" % (os.getpid(), Sandbox.count)

    def close(self):
        tmux("kill-server", check_rc=False)
        shutil.rmtree(self.root, ignore_errors=True)


def home():
    """The first screen; returns it."""
    screen = wait_for("Next allowed, with the 0.5 mm head of DR-SIM-", "the home screen")
    check("dermaroll - home" in screen, "the home screen's title:\n" + screen)
    return screen


def start_routine():
    home()
    tmux("send-keys", "-t", "t", "r")
    wait_for("question 1 of 8", "the checklist")


def answer_checklist():
    start_routine()
    for _ in range(7):
        tmux("send-keys", "-t", "t", "n")
    wait_for("question 8 of 8", "the last question")
    tmux("send-keys", "-t", "t", "y")


def test_whole_routine(sb):
    sb.start()
    screen = home()
    check("Forehead     now" in screen, "a first run locks nothing:\n" + screen)
    check("Sanitise the head before the next session" in screen, "the reminder:\n" + screen)
    show("home, a first run, 80x24", screen)
    answer_checklist()
    screen = wait_for("Zone 2 of 7: Left cheek", "the autopilot moves on")
    check("[v] Forehead" in screen, "the forehead is marked done")
    check("Passes  target 4 each way, at most 5" in screen, "pass counters")
    check("Pressure" in screen and "] 8 N" in screen, "the gauge")
    check("light < 1.0 N  target 1.0-4.0 N  hard > 5.0 N" in screen, "the bands")
    check("DR-SIM-0001  head 0.5 mm" in screen.split("\n")[0], "the title bar")
    show("routine, mid-session, 80x24", screen)
    # By hand: the direction changes on the screen.
    tmux("send-keys", "-t", "t", "d")
    wait_for("Hand  vertical", "the hand's direction")
    # A resize: the screen follows.
    tmux("resize-window", "-t", "t", "-x", "110", "-y", "30")
    deadline = time.monotonic() + WAIT_S
    while len(capture().split("\n")[0].rstrip()) <= 100:
        check(time.monotonic() < deadline, "the title bar follows the width:\n" + capture())
        time.sleep(0.1)
    show("after a resize to 110x30", capture())
    tmux("resize-window", "-t", "t", "-x", "80", "-y", "24")
    screen = wait_for("It is stored in the history.", "the aftercare")
    check("What to do and what to avoid" in screen, "aftercare advice")
    check("No retinoids, acids or vitamin C for 72 hours." in screen, "aftercare item")
    for zone in ("Forehead", "Left cheek", "Right cheek", "Nose", "Chin", "Upper lip"):
        check(any(l.startswith("   %s" % zone) and " done " in l for l in screen.split("\n")),
              "aftercare lists %s as done" % zone)
    show("aftercare, 80x24", screen)
    # q on the aftercare goes home, where the next dates are; q there quits.
    tmux("send-keys", "-t", "t", "q")
    wait_for("dermaroll - home", "home after the aftercare")
    tmux("send-keys", "-t", "t", "q")
    restored(wait_for("TTY=", "the program quits"), 0)
    out = sb.history()
    check("completed" in out, "a completed session:\n" + out)
    check("Roller: DR-SIM-0001" in out, "the virtual roller's serial:\n" + out)
    rows = [l for l in out.split("\n") if l.startswith("  ") and l.rstrip().endswith(" s")
            and " N " in l]
    check(len(rows) == 7, "seven zones stored:\n" + out)
    for l in rows:
        check(l.split()[-9:-6] == ["4", "4", "4"], "4 passes each way: %r" % l)
    check(not os.path.exists(os.path.join(sb.data, "dermaroll", "history.db")),
          "the demo never writes the real history")
    # A second demo is a new virtual roller, with a serial of its own, and
    # the home screen knows the first one's routine.
    sb.restart()
    sb.start()
    screen = wait_for("No retinoids, acids or vitamin C for 72 hours", "the reminders")
    forehead = [l for l in screen.split("\n") if l.startswith("   Forehead")]
    check(forehead and "now" not in forehead[0] and ":" in forehead[0],
          "the forehead is locked until a date:\n" + screen)
    show("home after a routine, 80x24", screen)
    tmux("send-keys", "-t", "t", "h")
    screen = wait_for("Passes per day, 12 weeks", "the history")
    check("1 session on 1 day" in screen and "84 passes" in screen, "the calendar:\n" + screen)
    show("history, calendar, 80x24", screen)
    tmux("send-keys", "-t", "t", "3")
    wait_for("Sessions, the newest first", "the sessions")
    tmux("send-keys", "-t", "t", "Enter")
    screen = wait_for("Reactions after it", "the session in full")
    check(sum(1 for l in screen.split("\n") if l.rstrip().endswith(" s")
              and "    4     4     4" in l) == 7, "seven zones in full:\n" + screen)
    show("history, the session in full, 80x24", screen)
    tmux("send-keys", "-t", "t", "q")
    wait_for("Sessions, the newest first", "back to the sessions")
    tmux("send-keys", "-t", "t", "q")
    answer_checklist()
    screen = wait_for("Zone 1 of 7: Forehead", "the second demo")
    check("DR-SIM-0002" in screen.split("\n")[0], "a new serial:\n" + screen)
    tmux("send-keys", "-t", "t", "C-c")
    restored(wait_for("TTY=", "Ctrl-C quits"), 0)
    out = sb.history()
    check("Roller: DR-SIM-0001" in out and "Roller: DR-SIM-0002" in out, out)


def test_pairing_wizard(sb):
    sb.start()
    home()
    tmux("send-keys", "-t", "t", "p")
    wait_for("dermaroll - pair a roller", "the pairing wizard")
    wait_for("not in pairing mode: hold its button 2 s", "a roller not in pairing mode")
    screen = wait_for("DR-3C09", "three rollers nearby")
    rows = [l for l in screen.split("\n") if "C0:FF:EE:00:" in l]
    check(len(rows) == 3, "three rollers listed:\n" + screen)
    check(all(" dBm" in l for l in rows), "each with its signal:\n" + screen)
    check(rows[0].startswith(" > DR-7A21"), "the first in pairing mode is chosen:\n" + screen)
    show("the pairing wizard listing rollers, 80x24", screen)
    # j skips the roller that is not in pairing mode; k comes back.
    tmux("send-keys", "-t", "t", "j")
    wait_for(" > DR-3C09", "j chooses the next roller in pairing mode")
    tmux("send-keys", "-t", "t", "k")
    wait_for(" > DR-7A21", "k comes back")
    tmux("send-keys", "-t", "t", "Enter")
    wait_for("Pair with the roller DR-7A21?", "the confirmation")
    tmux("send-keys", "-t", "t", "y")
    screen = wait_for("Name this roller", "naming")
    check("serial DR-NEAR-7A21" in screen, "its INFO was read:\n" + screen)
    tmux("send-keys", "-t", "t", *(["BSpace"] * 7))
    tmux("send-keys", "-t", "t", "-l", "Hall roller")
    tmux("send-keys", "-t", "t", "Enter")
    screen = wait_for("has 0.5 mm needles and has been used 3 times", "the head check")
    show("the head check, 80x24", screen)
    tmux("send-keys", "-t", "t", "Enter")
    wait_for("Hall roller (DR-NEAR-7A21) is paired and recorded", "done")
    tmux("send-keys", "-t", "t", "Enter")
    screen = wait_for("Hall roller (DR-NEAR-7A21)  0.5 mm head", "the new roller at home")
    tmux("send-keys", "-t", "t", "q")
    restored(wait_for("TTY=", "the program quits"), 0)
    p = subprocess.run([DERMAROLL, "rollers", "--database", sb.demo], capture_output=True,
                       text=True, env=sb.env())
    check(p.returncode == 0 and "Hall roller" in p.stdout and "DR-NEAR-7A21" in p.stdout,
          "the roller is in the demo history:\n" + p.stdout + p.stderr)


def test_settings_real(sb):
    # No --simulate: the real history, and a system bus that is not there.
    nobus = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + os.path.join(sb.root, "no-bus")}
    conf = os.path.join(sb.root, "config", "dermaroll", "dermaroll.conf")
    os.makedirs(os.path.dirname(conf))
    with open(conf, "w") as f:
        f.write("[routine]\nzones=forehead;elbow\n")
    sb.start(args="", env=nobus)
    screen = wait_for("dermaroll - home", "the real program's home")
    check("Bluetooth cannot be used: the system message bus" in screen,
          "why no roller can be reached:\n" + screen)
    check("No roller is paired yet: press p to pair one." in screen, "the wizard offered")
    check("'elbow' in zones" in screen, "the bad settings file:\n" + screen)
    show("home of the real program without Bluetooth, 80x24", screen)
    tmux("send-keys", "-t", "t", "c")
    wait_for("dermaroll - settings", "the settings")
    tmux("send-keys", "-t", "t", *(["j"] * 8))
    tmux("send-keys", "-t", "t", "Enter")
    screen = wait_for("Saved.", "a setting saved")
    check("[x] Hands" in screen, "hands chosen:\n" + screen)
    show("settings, 80x24", screen)
    with open(conf) as f:
        text = f.read()
    check("hands" in text.split("zones=")[1].split("\n")[0], "saved:\n" + text)
    check(os.stat(conf).st_mode & 0o777 == 0o600, "mode 0600")
    tmux("send-keys", "-t", "t", "q")
    wait_for("dermaroll - home", "back home")
    tmux("send-keys", "-t", "t", "q")
    restored(wait_for("TTY=", "the program quits"), 0)
    check(os.path.exists(os.path.join(sb.data, "dermaroll", "history.db")),
          "the real history is used")
    check(not os.path.exists(sb.demo), "not the demo history")
    # Read back at the next start.
    sb.restart()
    sb.start(args="", env=nobus)
    wait_for("dermaroll - home", "home again")
    tmux("send-keys", "-t", "t", "c")
    screen = wait_for("dermaroll - settings", "the settings again")
    check("[x] Hands" in screen and "[ ] Scalp" in screen, "kept:\n" + screen)
    check("is not a zone" not in screen, "the file is good now:\n" + screen)
    tmux("send-keys", "-t", "t", "q", "q")
    restored(wait_for("TTY=", "the program quits"), 0)


def info_hex():
    """The roller's INFO frame (PROTOCOL.md §7): DR-TEST-0001, a 0.5 mm head."""
    def s(text):
        return bytes([len(text)]) + text.encode()
    body = (s("1.0.0") + s("DR-TEST-0001") + struct.pack("<H", 500) + s("H-7") +
            struct.pack("<HQhHHHQB", 3, 0, 0, 1000, 40, 500, 123456, 0))
    return (bytes([0x10]) + struct.pack("<H", 4 + len(body)) + bytes([0x01]) +
            body).hex()


def test_real_roller(sb):
    address = "AA:BB:CC:DD:EE:01"
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    mock = None
    try:
        bus_address = bus.stdout.readline().strip()
        mock = subprocess.Popen(["/usr/bin/python3", MOCK_BLUEZ, "--adapter", "hci0",
                                 "--device", address, "--info", info_hex()],
                                env=dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus_address),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        check(mock.stdout.readline() == "READY\n", "the mock bluetoothd starts")
        env = dict(sb.env(), DBUS_SYSTEM_BUS_ADDRESS=bus_address)
        p = subprocess.run([DERMAROLL, "pair", address, "--yes", "--name", "Bathroom roller"],
                           env=env, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        check(p.returncode == 0, "dermaroll pair: %s%s" % (p.stdout, p.stderr))
        sb.start(args="", env={"DBUS_SYSTEM_BUS_ADDRESS": bus_address})
        screen = wait_for("DR-TEST-0001  head 0.5 mm", "the paired roller connects")
        check("Bathroom roller (DR-TEST-0001) (connected)" in screen,
              "home shows it connected:\n" + screen)
        check("No roller is paired yet" not in screen, "a roller is paired:\n" + screen)
        show("home of the real program, the roller connected over BlueZ, 80x24", screen)
        # bluetoothd goes away: the screen says so, and when it tries again.
        mock.kill()
        mock.wait()
        mock = None
        screen = wait_for("Trying again in", "the roller is gone")
        check("Bathroom roller (DR-TEST-0001) cannot be reached." in screen,
              "why, in words:\n" + screen)
        check("no roller connected" in screen.split("\n")[0], "the title bar:\n" + screen)
        show("home of the real program, the roller gone, 80x24", screen)
        tmux("send-keys", "-t", "t", "q")
        restored(wait_for("TTY=", "the program quits"), 0)
    finally:
        if mock:
            mock.kill()
            mock.wait()
        bus.kill()
        bus.wait()


def program_pid():
    shell = tmux("display-message", "-p", "-t", "t", "#{pane_pid}").strip()
    p = subprocess.run(["ps", "--ppid", shell, "-o", "pid=,comm="],
                       capture_output=True, text=True)
    for line in p.stdout.split("\n"):
        if line.split()[1:] == ["dermaroll"]:
            return int(line.split()[0])
    raise Failure("no dermaroll under the pane's shell: %r" % p.stdout)


def restored(screen, status):
    check("EXIT=%d" % status in screen, "exit status %d:\n%s" % (status, screen))
    check("TTY=icanon" in screen, "the terminal is back in canonical mode:\n" + screen)
    check("dermaroll - " not in screen, "the screen is given back:\n" + screen)


def test_sigterm(sb):
    sb.start()
    answer_checklist()
    wait_for("Zone 1 of 7: Forehead", "the first zone")
    os.kill(program_pid(), signal.SIGTERM)
    restored(wait_for("TTY=", "SIGTERM quits"), 0)
    check("stopped early" in sb.history(), "stored as stopped early")


def test_crash_restores_terminal(sb):
    sb.start()
    start_routine()
    os.kill(program_pid(), signal.SIGSEGV)
    restored(wait_for("TTY=", "the crash"), 128 + signal.SIGSEGV)


def test_ctrl_c(sb):
    sb.start()
    answer_checklist()
    wait_for("Zone 1 of 7: Forehead", "the first zone")
    wait_for("[#", "a first pass")
    tmux("send-keys", "-t", "t", "C-c")
    restored(wait_for("TTY=", "Ctrl-C quits"), 0)
    out = sb.history()
    check("stopped early" in out, "stored as stopped early:\n" + out)


def main():
    if not shutil.which("tmux"):
        print("1..0 # SKIP tmux is not installed")
        return 0
    tests = [test_whole_routine, test_ctrl_c, test_sigterm, test_crash_restores_terminal,
             test_pairing_wizard, test_settings_real]
    skip_real = None
    if not MOCK_BLUEZ:
        skip_real = "no stand-in bluetoothd given"
    elif not shutil.which("dbus-daemon"):
        skip_real = "dbus-daemon is not installed"
    elif subprocess.run(["/usr/bin/python3", "-c", "import dbusmock"],
                        capture_output=True).returncode != 0:
        skip_real = "python3-dbusmock is not installed"
    tests.append(test_real_roller)
    print("1..%d" % len(tests))
    failed = 0
    for i, t in enumerate(tests, 1):
        if t is test_real_roller and skip_real:
            print("ok %d - %s # SKIP %s" % (i, t.__name__, skip_real))
            continue
        sb = Sandbox()
        try:
            t(sb)
            print("ok %d - %s" % (i, t.__name__))
        except Exception:
            failed += 1
            print("not ok %d - %s" % (i, t.__name__))
            for line in traceback.format_exc().split("\n"):
                print("# " + line)
        finally:
            sb.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
