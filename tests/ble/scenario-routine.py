#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ble suite: whole routines from roller-sim --ble (hci1) to dermaroll (hci0).

    scenario-routine.py BUILD_DIR SOURCE_DIR

Everything goes through the programs a user runs, over the real bluetoothd:

1. roller-sim --ble --adapter hci1 --pairing, with passes rolled while no
   host was there (--prefill) waiting in its offline log;
2. `dermaroll pair` pairs it (its INFO read takes the default path,
   AcquireNotify), and the history records its address;
3. `dermaroll session --roller` runs a routine with AcquireNotify forced
   (DERMAROLL_BLUEZ_NOTIFY=acquire): streamed, stored, and the offline log
   synced into the history once;
4. the same with StartNotify forced;
5. a link drop: the roller is switched off mid-session (hci1 powered
   off, then roller-sim stopped with SIGTERM, never SIGKILL: see drop())
   and started again on the same flash file; the session resumes, nothing
   is lost or stored twice;
6. another roller at the recorded address (a different serial, same bond)
   is refused (PROTOCOL.md §9.5);
7. an address the history does not know is refused, and so is the roller
   once its bond is removed (not paired any more);
8. clean-up: roller-sim stopped, no devices left on either adapter.

Every step checks the history itself (sqlite3): each pass once, no seq
missing.  The notification counts per path are printed.  One roller-sim
serves the pairing and the sessions up to the drop, so each session is a
bonded host's reconnection to the same GATT application.  After every
dermaroll, `pair` included, the roller must be disconnected within
T_LET_GO (dermaroll closes the link and waits for bluetoothd to drop it:
bluetoothd 5.66 crashes when the owner of an AcquireNotify socket leaves
the bus first).  roller-sim disconnects its host itself on SIGTERM
before it unregisters (scenario-peripheral.py checks that); here it is
stopped with no host connected anyway (see drop()).  Helpers come from
scenario-pair.py.
"""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import dbus
import dbus.mainloop.glib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sp = __import__("scenario-pair")

BUILD = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DERMAROLL_BUILD", "")
SOURCE = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.environ.get("BLE_OUT", "/tmp")
SIM = os.path.join(BUILD, "device-proto/sim/roller-sim")
DERMAROLL = os.path.join(BUILD, "tui/dermaroll")
HOME = "/tmp/routine-home"
DB = os.path.join(HOME, "history.db")
STATE = "/tmp/routine-roller.state"
OTHER_STATE = "/tmp/routine-other.state"

# Device time runs this many times faster: one zone (12 passes, about 21 s
# of rolling) streams in about 7 s at some 60 notifications/s, well under
# what bluetoothd keeps up with under TCG (tests/ble/README.md), and the
# 60 s of pairing mode last 20 s, which leaves room for a discovery that
# misses its first report (10.5 s, README.md).
SPEED = "3"
PREFILL = 6
PASSES_PER_ZONE = 12
# Generous limits (about three times what was measured).
T_READY = 60
T_PAIR = 120
T_SESSION = 150
T_DROP_SEEN = 60
T_LET_GO = 10
# A dermaroll that waited for the disconnection leaves none to wait for.
T_WAITED = 0.5

CHECKLIST = """[checklist]
skin = no
sunburn = no
flare = no
scars = no
isotretinoin = no
bleeding = no
pregnancy = no
sanitised = yes
"""


def env(notify=None):
    e = dict(os.environ)
    e.update({
        "DERMAROLL_DATA_DIR": os.path.join(SOURCE, "data"),
        "HOME": HOME,
        "XDG_DATA_HOME": os.path.join(HOME, "data"),
        "XDG_CONFIG_HOME": os.path.join(HOME, "config"),
        "XDG_STATE_HOME": os.path.join(HOME, "state"),
        # How each BlueZ link closed, and the reconnections.
        "G_MESSAGES_DEBUG": "dermaroll-bluez dermaroll-reconnect",
    })
    e.pop("DERMAROLL_BLUEZ_NOTIFY", None)
    if notify:
        e["DERMAROLL_BLUEZ_NOTIFY"] = notify
    return e


def routine_file(zone):
    path = os.path.join(HOME, "routine-%s.conf" % zone)
    with open(path, "w") as f:
        f.write("[routine]\nformat = 1\nzones = %s\nneedle_mm = 0.5\n%s" % (zone, CHECKLIST))
    return path


def show(tag, text):
    for line in text.splitlines():
        sp.note("%s: %s" % (tag, line))


def dermaroll(tag, args, limit, notify=None, status=0):
    t = time.monotonic()
    try:
        p = subprocess.run([DERMAROLL] + args, env=env(notify), capture_output=True,
                           text=True, timeout=limit)
    except subprocess.TimeoutExpired as e:
        show(tag, (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else e.stdout or "")
        raise sp.StepFailed("dermaroll %s did not end within %d s" % (args[0], limit))
    show(tag, p.stdout)
    show(tag + " (stderr)", p.stderr)
    if p.returncode != status:
        raise sp.StepFailed("dermaroll %s exited with %d, want %d" % (args[0], p.returncode,
                                                                      status))
    return p, time.monotonic() - t


class Sim:
    def __init__(self, tag, *extra, speed=SPEED):
        self.log_path = os.path.join(OUT, "roller-sim-routine-%s.log" % tag)
        self.tag = tag
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [SIM, "--ble", "--adapter", "hci1", "--speed", speed] + list(extra),
            stdout=log, stderr=subprocess.STDOUT, env=env())
        sp.wait_until(T_READY, "roller-sim to say ready",
                      lambda: self.proc.poll() is not None or
                      "ready on hci1" in self.text())
        if self.proc.poll() is not None:
            raise sp.StepFailed("roller-sim exited: %s" % self.text()[-400:])

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, kill=False):
        if self.proc.poll() is not None:
            return
        if kill:
            self.proc.kill()
            self.proc.wait(10)
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise sp.StepFailed("roller-sim did not stop on SIGTERM within 10 s")


def history():
    """(passes, distinct seqs, max seq, offline passes, sessions) as stored."""
    db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
    try:
        n, distinct, top, offline = db.execute(
            "SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0),"
            " coalesce(sum(source = 'offline'), 0) FROM passes").fetchone()
        sessions = db.execute("SELECT count(*) FROM sessions").fetchone()[0]
    finally:
        db.close()
    return n, distinct, top, offline, sessions


def check_history(want_passes, want_sessions):
    n, distinct, top, offline, sessions = history()
    if n != want_passes or distinct != n or top != n or sessions != want_sessions:
        raise sp.StepFailed("history: %d passes, %d distinct seqs, highest %d, %d sessions; "
                            "want %d passes, seqs 1..%d once each, %d sessions"
                            % (n, distinct, top, sessions, want_passes, want_passes,
                               want_sessions))
    return "history: %d passes, seqs 1..%d each once (%d from the offline log), %d sessions" % (
        n, top, offline, sessions)


def summary_figures(out):
    m = re.search(r"^Stored in .*: 1 session, (\d+) passes", out, re.M)
    nots = re.search(r"^Notifications: (\d+) through AcquireNotify \(ATT MTU (\d+)\), "
                     r"(\d+) through StartNotify, (\d+) indications", out, re.M)
    stream = re.search(r"^Stream: (\d+) frames, (\d+) gaps", out, re.M)
    if not m or not nots or not stream or "Nothing lost:" not in out:
        raise sp.StepFailed("the session summary lacks its figures")
    return (int(m.group(1)), [int(x) for x in nots.groups()],
            [int(x) for x in stream.groups()])


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    host = sp.Side("host (hci0)", "hci0")
    roller = sp.Side("roller (hci1)", "hci1")
    state = {"stored": 0, "sessions": 0}
    os.makedirs(HOME, exist_ok=True)
    for f in (DB, DB + "-wal", DB + "-shm"):
        if os.path.exists(f):
            os.unlink(f)

    def setup():
        for s in (host, roller):
            sp.call(s.props.Set, sp.ADAPTER, "Powered", dbus.Boolean(True))
            s.address = str(s.prop("Address"))
        t = time.monotonic()
        # The same roller-sim, registered once, serves the pairing and
        # every session up to the link drop: each session is a bonded
        # host's reconnection.
        state["sim"] = Sim("a", "--pairing", "--prefill", str(PREFILL), "--state", STATE,
                           "--fresh", "--discard-unsynced")
        return "roller-sim %s ready in %.2f s, %d passes in its offline log" % (
            roller.address, time.monotonic() - t, PREFILL)

    def pair():
        # The default notification path (AcquireNotify) for the INFO
        # read: bluetoothd 5.66 can crash (use after free in gatt-client.c
        # sock_hup) when the owner of an AcquireNotify socket leaves the
        # bus before bluetoothd has seen the socket close, so `dermaroll
        # pair`, like `dermaroll session`, waits for the link to go down
        # before it exits; let_go() checks that it did.
        with sp.advertising():
            p, took = dermaroll("pair", ["pair", roller.address, "--adapter", "hci0",
                                         "--yes", "--seconds", "30", "--database", DB],
                                T_PAIR)
        if "Paired with the roller" not in p.stdout:
            raise sp.StepFailed("no 'Paired with the roller' line")
        db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True)
        row = db.execute("SELECT serial, address FROM rollers").fetchall()
        db.close()
        if row != [("DR-SIM-0001", roller.address.upper())]:
            raise sp.StepFailed("rollers in the history: %r" % row)
        # bluetoothd drops the link 2 s after Disconnect(): still
        # connected when dermaroll pair has ended means it did not wait.
        let_go()
        if state["let_go"][-1] > T_WAITED:
            raise sp.StepFailed("the roller was still connected when dermaroll pair ended "
                                "(disconnected %.1f s later)" % state["let_go"][-1])
        return "paired in %.1f s; the history has DR-SIM-0001 at %s; disconnected %.1f s " \
            "after dermaroll pair ended" % (took, roller.address, state["let_go"][-1])

    def let_go():
        # dermaroll asks BlueZ to disconnect on its way out (link_close);
        # BlueZ does so after its 2 s disconnect timer, and refuses
        # notifications meanwhile.  A roller still connected well after
        # that was left behind: that fails the step.
        dev = host.device_of(roller.address)
        if not dev:
            return
        obj = host.bus.get_object(sp.BLUEZ, dev[0])
        props = dbus.Interface(obj, sp.PROPS)
        t = time.monotonic()
        while time.monotonic() - t < T_LET_GO and bool(props.Get(sp.DEVICE, "Connected")):
            sp.pump(0.1)
        took = time.monotonic() - t
        if bool(props.Get(sp.DEVICE, "Connected")):
            sp.call(dbus.Interface(obj, sp.DEVICE).Disconnect)
            raise sp.StepFailed("the roller is still connected %d s after dermaroll ended"
                                % T_LET_GO)
        state.setdefault("let_go", []).append(took)

    def session(zone, notify, extra_passes):
        let_go()
        p, took = dermaroll("session " + notify, [
            "session", "--roller", roller.address, "--adapter", "hci0",
            "--plan", routine_file(zone), "--database", DB], T_SESSION, notify=notify)
        passes, (acq, mtu, start, ind), (frames, gaps) = summary_figures(p.stdout)
        if passes != PASSES_PER_ZONE:
            raise sp.StepFailed("%d passes in the session, want %d" % (passes, PASSES_PER_ZONE))
        if notify == "acquire" and (acq == 0 or start != 0 or mtu < 100):
            raise sp.StepFailed("AcquireNotify forced: %d acquired, %d StartNotify" % (acq, start))
        if notify == "start" and (start == 0 or acq != 0):
            raise sp.StepFailed("StartNotify forced: %d acquired, %d StartNotify" % (acq, start))
        state["stored"] += PASSES_PER_ZONE + extra_passes
        state["sessions"] += 1
        state.setdefault("counts", []).append((notify, acq, start, ind, frames, gaps, took))
        h = check_history(state["stored"], state["sessions"])
        return ("%.1f s; %d stream frames, %d gaps; notifications: %d AcquireNotify "
                "(MTU %d), %d StartNotify, %d indications; %s"
                % (took, frames, gaps, acq, mtu, start, ind, h))

    def routine_acquire():
        # The offline log (PREFILL passes) is synced into the history first.
        return session("forehead", "acquire", PREFILL)

    def routine_start():
        return session("left-cheek", "start", 0)

    def drop():
        args = [DERMAROLL, "session", "--roller", roller.address, "--adapter", "hci0",
                "--plan", routine_file("chin"), "--database", DB]
        let_go()
        log_path = os.path.join(OUT, "session-drop.log")
        log = open(log_path, "w")
        t = time.monotonic()
        proc = subprocess.Popen(args, env=env(), stdout=log, stderr=subprocess.STDOUT)
        base = state["stored"]
        try:
            sp.wait_until(T_DROP_SEEN, "3 passes of the session stored",
                          lambda: proc.poll() is not None or history()[0] >= base + 3)
            if proc.poll() is not None:
                raise sp.StepFailed("the session ended before the drop")
            before = history()[0]
            # The roller's radio goes first (hci1 powered off: the link
            # drops as when a roller is switched off or goes out of
            # reach), then roller-sim stops with SIGTERM.  A SIGTERM alone
            # would disconnect the host cleanly first (roller-sim does
            # that because bluetoothd 5.66 aborts, libdbus's
            # "dbus_message_new_method_call() ... destination" assertion,
            # when a GATT application goes away under a streaming client;
            # scenario-peripheral.py checks it), which is no drop.  Nor is
            # a SIGKILL mid-session, which crashes that bluetoothd.
            sp.call(roller.props.Set, sp.ADAPTER, "Powered", dbus.Boolean(False))
            killed = time.monotonic()
            dev = host.device_of(roller.address)
            hp = dbus.Interface(host.bus.get_object(sp.BLUEZ, dev[0]), sp.PROPS)
            sp.wait_until(T_DROP_SEEN, "the host to see the roller go",
                          lambda: not bool(hp.Get(sp.DEVICE, "Connected")))
            state["sim"].stop()
            state["drop_before"] = before - base
            sp.note("roller switched off (hci1 powered off, roller-sim stopped with "
                    "SIGTERM) with %d passes of the session stored; the host saw the "
                    "link drop %.2f s later" % (before - base, time.monotonic() - killed))
            # Away for a moment, then back on the same flash.
            time.sleep(2)
            sp.call(roller.props.Set, sp.ADAPTER, "Powered", dbus.Boolean(True))
            state["sim"] = Sim("a2", "--state", STATE)
            sp.note("roller-sim back on the same flash after %.1f s"
                    % (time.monotonic() - killed))
            proc.wait(T_SESSION)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise sp.StepFailed("the session did not end within %d s" % T_SESSION)
        finally:
            log.close()
            with open(log_path) as f:
                out = f.read()
            show("session drop", out)
        if proc.returncode != 0:
            raise sp.StepFailed("dermaroll session exited with %d" % proc.returncode)
        m = re.search(r"^The link dropped (\d+) time", out, re.M)
        if not m:
            raise sp.StepFailed("the summary does not count the drop")
        passes, (acq, mtu, start, ind), (frames, gaps) = summary_figures(out)
        # roller-sim's flash keeps the log, the seqs, the session counter
        # and the head, not the running session: the roller comes back
        # idle, the engine starts a new roller session (SET_ZONE answers
        # INVALID_STATE), which the stored session also owns, and the
        # autopilot rolls the zone again from its start.  So the session
        # holds the passes of both roller sessions: every pass stored in
        # this step, at least a zone's worth, each once.
        stored_now = history()[0] - base
        if passes != stored_now or passes < PASSES_PER_ZONE:
            raise sp.StepFailed("%d passes in the session, %d stored in this step; want the "
                                "same, at least %d" % (passes, stored_now, PASSES_PER_ZONE))
        state["stored"] += passes
        state["sessions"] += 1
        state.setdefault("counts", []).append(("auto+drop", acq, start, ind, frames, gaps,
                                               time.monotonic() - t))
        return ("%s drop(s), %.1f s, %d passes in the session (%d before the drop); "
                "notifications: %d AcquireNotify, %d StartNotify; %d stream frames, %d gaps; %s"
                % (m.group(1), time.monotonic() - t, passes, state["drop_before"], acq, start,
                   frames, gaps, check_history(state["stored"], state["sessions"])))

    def wrong_roller():
        let_go()
        state["sim"].stop()
        state["sim"] = Sim("other", "--serial", "DR-SIM-0999", "--state", OTHER_STATE,
                           "--fresh", "--discard-unsynced")
        p, took = dermaroll("session other", [
            "session", "--roller", roller.address, "--adapter", "hci0",
            "--plan", routine_file("nose"), "--database", DB], T_SESSION, status=1)
        if "says it is DR-SIM-0999" not in p.stderr:
            raise sp.StepFailed("not the §9.5 sentence: %s" % p.stderr.strip())
        check_history(state["stored"], state["sessions"])
        return "refused in %.1f s, nothing stored" % took

    def unknown_and_unbonded():
        p, _ = dermaroll("session unknown", [
            "session", "--roller", "11:22:33:44:55:66", "--plan", routine_file("nose"),
            "--database", DB], 30, status=1)
        if "is not in the history" not in p.stderr:
            raise sp.StepFailed("unknown address: %s" % p.stderr.strip())
        # The refused connection must be gone before roller-sim goes (drop()).
        let_go()
        state["sim"].stop()
        for s, peer in ((host, roller), (roller, host)):
            found = s.device_of(peer.address)
            if found:
                sp.call(s.adapter.RemoveDevice, dbus.ObjectPath(found[0]))
        state["sim"] = Sim("b", "--state", OTHER_STATE)
        p, took = dermaroll("session unbonded", [
            "session", "--roller", roller.address, "--adapter", "hci0",
            "--plan", routine_file("nose"), "--database", DB], T_SESSION, status=1)
        if "is not paired with this computer" not in p.stderr:
            raise sp.StepFailed("unbonded: %s" % p.stderr.strip())
        check_history(state["stored"], state["sessions"])
        return "unknown address and unbonded roller refused (%.1f s)" % took

    def stored_history():
        p, _ = dermaroll("history", ["history", "--database", DB], 30)
        n, distinct, top, offline, sessions = history()
        return "%d sessions, %d passes (%d synced from the offline log), seqs 1..%d once" % (
            sessions, n, offline, top)

    def cleanup():
        let_go()
        if "sim" in state:
            state.pop("sim").stop()
        for s, peer in ((host, roller), (roller, host)):
            found = s.device_of(peer.address)
            if found:
                sp.call(s.adapter.RemoveDevice, dbus.ObjectPath(found[0]))
        return "roller-sim stopped, no devices left"

    steps = [
        ("roller-sim --ble on hci1 in pairing mode, with an offline log", setup),
        ("dermaroll pair pairs it and records its address", pair),
        ("a routine with AcquireNotify: streamed, stored, offline log synced once",
         routine_acquire),
        ("a routine with StartNotify: streamed and stored", routine_start),
        ("link drop: the roller switched off mid-session and back; nothing lost or doubled",
         drop),
        ("another roller at the recorded address is refused (serial differs)", wrong_roller),
        ("an unknown address and an unbonded roller are refused", unknown_and_unbonded),
        ("dermaroll history shows what was stored", stored_history),
        ("clean-up", cleanup),
    ]
    t0 = time.monotonic()
    try:
        for what, fn in steps:
            sp.step(what, fn)
    except (sp.StepFailed, dbus.DBusException, OSError, sqlite3.Error) as e:
        sp.note("failed: %s" % e)
        if "sim" in state:
            state["sim"].stop(kill=True)
        return 1
    finally:
        for notify, acq, start, ind, frames, gaps, took in state.get("counts", []):
            sp.note("counts %-9s: AcquireNotify %d, StartNotify %d, indications %d, "
                    "stream frames %d, gaps %d, %.1f s" % (notify, acq, start, ind, frames,
                                                           gaps, took))
        for tag in ["a", "a2", "other", "b"]:
            path = os.path.join(OUT, "roller-sim-routine-%s.log" % tag)
            if os.path.exists(path):
                with open(path) as f:
                    for line in f.read().splitlines()[-6:]:
                        sp.note("roller-sim %s: %s" % (tag, line))
    sp.note("after each dermaroll, the roller was disconnected within %s s"
            % ", ".join("%.1f" % x for x in state.get("let_go", [])))
    sp.note("scenario-routine: %.1f s in all" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
