#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ble suite: roller-sim --ble on hci1, seen from hci0 through the real stack.

Starts `roller-sim --ble --adapter hci1 --pairing` from the build folder in
the background, then from hci0 on a D-Bus connection of its own: discovery
with the UUID filter reads the pairing flag from ManufacturerData; the four
services resolve; INFO is refused before pairing (encryption); Pair() in
pairing mode; INFO read; STREAM notifications counted.  Then through the
real CLI: a long press (SIGUSR1) puts roller-sim back in pairing mode and
`dermaroll pair` pairs it and records it (`dermaroll rollers` lists it); a
second roller-sim without pairing mode makes `dermaroll pair` exit 1 with
its "not in pairing mode" sentence, and refuses a raw Pair().  Clean-up
removes the devices and stops roller-sim.  Helpers come from
scenario-pair.py.

Between the two, the bonded host comes back as a dermaroll process would,
three times and once more after roller-sim was restarted on the same
--state: a D-Bus connection of its own, Connect(), INFO, StartNotify on
CONTROL and STREAM, two IDENTIFY commands each answered by a RESPONSE
indication, STREAM notifications, then Disconnect() with the
subscriptions left on.  bluetoothd keeps a bonded client's CCCs across
connections and does not call StartNotify on roller-sim again when the
host writes the same value: roller-sim must keep them itself.

Then roller-sim is stopped with SIGTERM while that host is connected and
streaming: it must disconnect the host (Device1.Disconnect) before it
unregisters its GATT application, under which bluetoothd 5.66 crashes,
exit 0, and leave bluetoothd running (the same bus name still answers,
with both adapters and the host's bond).

While hci0 looks for hci1, hci1's advertisement is repeated every second
(AdvertisingRepeater): the virtual controllers report it once per scan
enable, and Linux 6.1 can drop that one report (tests/ble/README.md).

Arguments: none; DERMAROLL_BUILD names the build folder, the source folder
is the one this file is in.
"""
import os
import signal
import subprocess
import sys
import time

import dbus
import dbus.mainloop.glib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sp = __import__("scenario-pair")

BUILD = os.environ.get("DERMAROLL_BUILD", "")
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DERMAROLL = os.path.join(BUILD, "tui/dermaroll")
HOME = "/tmp/peripheral-home"
DB = os.path.join(HOME, "history.db")
SERIAL = "DR-SIM-0001"
GATT_SERVICE = "org.bluez.GattService1"
GATT_CHAR = "org.bluez.GattCharacteristic1"
UUIDS = {
    "custom": sp.SERVICE_UUID,
    "DIS": "0000180a-0000-1000-8000-00805f9b34fb",
    "Battery": "0000180f-0000-1000-8000-00805f9b34fb",
    "CTS": "00001805-0000-1000-8000-00805f9b34fb",
}
INFO_UUID = "89c10261-9f8d-4ca4-9ef8-9a90149127bd"
STREAM_UUID = "89c10262-9f8d-4ca4-9ef8-9a90149127bd"
CONTROL_UUID = "89c10263-9f8d-4ca4-9ef8-9a90149127bd"
# PROTOCOL.md §8: COMMAND IDENTIFY 1 s, and its RESPONSE IDENTIFY OK.
IDENTIFY = bytes([0x10, 0x06, 0x00, 0x04, 0x07, 0x01])
IDENTIFY_OK = bytes([0x10, 0x06, 0x00, 0x05, 0x07, 0x00])
T_READY = 60
T_CONNECT = 90
T_STREAM = 5
T_CLI = 120          # one dermaroll run; its own search is --seconds 30
T_MODE = 10          # roller-sim polls its pairing mode every second or so
T_RESPONSE = 10      # a RESPONSE indication after its COMMAND write
T_VISIT = 2          # STREAM notifications counted on each visit
RECONNECTS = 3
# SIGTERM under a streaming host: roller-sim waits at most 3 s for the
# host to go (bluetoothd disconnects 2 s after Disconnect()), then up to
# 3 s for its unregistrations.
T_SIGTERM_GONE = 10
T_SIGTERM_EXIT = 10


def start_sim(tag, *extra, state_tag=None, fresh=True):
    """roller-sim on hci1, its output in roller-sim-TAG.log; its flash is
    /tmp/roller-STATE_TAG.state (STATE_TAG defaults to TAG), emptied
    unless FRESH is false."""
    out = os.path.join(os.environ.get("BLE_OUT", "/tmp"), "roller-sim-%s.log" % tag)
    log = open(out, "w")
    proc = subprocess.Popen(
        [os.path.join(BUILD, "device-proto/sim/roller-sim"), "--ble", "--adapter",
         "hci1", "--state", "/tmp/roller-%s.state" % (state_tag or tag)] +
        (["--fresh", "--discard-unsynced"] if fresh else []) + list(extra),
        stdout=log, stderr=subprocess.STDOUT)
    sp.wait_until(T_READY, "roller-sim to say ready",
                  lambda: proc.poll() is not None or "ready on hci1" in open(out).read())
    if proc.poll() is not None:
        raise sp.StepFailed("roller-sim exited: %s" % open(out).read()[-400:])
    return proc, out


def sim_log(tag):
    with open(os.path.join(os.environ.get("BLE_OUT", "/tmp"),
                           "roller-sim-%s.log" % tag)) as f:
        return f.read()


def env():
    e = dict(os.environ)
    e.update({
        "DERMAROLL_DATA_DIR": os.path.join(SOURCE, "data"),
        "HOME": HOME,
        "XDG_DATA_HOME": os.path.join(HOME, "data"),
        "XDG_CONFIG_HOME": os.path.join(HOME, "config"),
        "XDG_STATE_HOME": os.path.join(HOME, "state"),
    })
    return e


def dermaroll(args, want_status):
    """Runs the built dermaroll with ARGS, no terminal on stdin; prints
    its output and fails unless it exits with WANT_STATUS."""
    try:
        p = subprocess.run([DERMAROLL] + args, env=env(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=T_CLI)
    except subprocess.TimeoutExpired:
        raise sp.StepFailed("dermaroll %s did not end within %d s" % (args[0], T_CLI))
    for tag, text in (("stdout", p.stdout), ("stderr", p.stderr)):
        for line in text.splitlines():
            sp.note("dermaroll %s (%s): %s" % (args[0], tag, line))
    if p.returncode != want_status:
        raise sp.StepFailed("dermaroll %s exited with %d, want %d"
                            % (args[0], p.returncode, want_status))
    return p


def forget_both(host, roller):
    """Removes the pairing on both sides, so the next step starts unpaired."""
    for s, peer in ((host, roller), (roller, host)):
        found = s.device_of(peer.address)
        if found:
            sp.call(s.adapter.RemoveDevice, dbus.ObjectPath(found[0]))


def stop_sim(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise sp.StepFailed("roller-sim did not stop on SIGTERM within 10 s")


def visit(host, roller, leave=None):
    """One visit of the bonded host, as one dermaroll process makes it: a
    D-Bus connection of its own; Connect(); INFO read (the link encrypts
    with the bond's key); StartNotify on CONTROL and STREAM, which makes
    the host's BlueZ write both CCCs with the values roller-sim's
    bluetoothd already holds for this bonded client; two IDENTIFY
    commands, each answered by a RESPONSE indication (the second is
    refused with 0xFE unless the first was confirmed); STREAM
    notifications; Disconnect() with both subscriptions left on (or
    LEAVE(props, frames) in its place, still streaming: its summary joins
    the visit's), then the connection closes.  Returns a summary."""
    bus = dbus.bus.BusConnection(dbus.bus.BUS_SYSTEM)
    try:
        path = host.device(roller.address)[0]
        dev = dbus.Interface(bus.get_object(sp.BLUEZ, path), sp.DEVICE)
        props = dbus.Interface(bus.get_object(sp.BLUEZ, path), sp.PROPS)
        t = time.monotonic()
        sp.call(dev.Connect, timeout=T_CONNECT)
        sp.wait_until(T_CONNECT, "ServicesResolved",
                      lambda: bool(props.Get(sp.DEVICE, "ServicesResolved")))
        took_connect = time.monotonic() - t
        chars = {}
        for p, v in bus.get_object(sp.BLUEZ, "/").GetManagedObjects(
                dbus_interface=sp.OM).items():
            if p.startswith(path + "/") and GATT_CHAR in v:
                chars[str(v[GATT_CHAR]["UUID"])] = p
        for uuid in (INFO_UUID, STREAM_UUID, CONTROL_UUID):
            if uuid not in chars:
                raise sp.StepFailed("characteristic %s missing after reconnecting" % uuid)

        def char(uuid):
            return dbus.Interface(bus.get_object(sp.BLUEZ, chars[uuid]), GATT_CHAR)
        info = bytes(sp.call(char(INFO_UUID).ReadValue, {}))
        if info[0] != 0x10:
            raise sp.StepFailed("INFO starts %s" % info[:4].hex())
        responses, frames = [], []
        for uuid, box in ((CONTROL_UUID, responses), (STREAM_UUID, frames)):
            bus.add_signal_receiver(
                lambda iface, changed, inv, box=box: box.append(bytes(changed["Value"]))
                if "Value" in changed else None,
                "PropertiesChanged", sp.PROPS, sp.BLUEZ, chars[uuid])
        control, stream = char(CONTROL_UUID), char(STREAM_UUID)
        sp.call(control.StartNotify)
        sp.call(stream.StartNotify)
        waits = []
        for i in range(2):
            before = len(responses)
            t = time.monotonic()
            sp.call(control.WriteValue, dbus.Array(IDENTIFY, signature="y"),
                    {"type": dbus.String("request")})
            sp.wait_until(T_RESPONSE, "RESPONSE indication %d" % (i + 1),
                          lambda: len(responses) > before)
            waits.append(time.monotonic() - t)
            if responses[before] != IDENTIFY_OK:
                raise sp.StepFailed("RESPONSE %s, want %s" % (
                    responses[before].hex(), IDENTIFY_OK.hex()))
        counted = len(frames)
        sp.pump(T_VISIT)
        counted = len(frames) - counted
        if counted < 10:
            raise sp.StepFailed("%d STREAM notifications in %d s" % (counted, T_VISIT))
        if any(f[3] != 0x02 for f in frames):  # DP_FRAME_STREAM
            raise sp.StepFailed("a STREAM notification that is not a STREAM frame")
        summary = "connect %.2f s, RESPONSE after %s s, %d STREAM in %d s" % (
            took_connect, " and ".join("%.2f" % w for w in waits), counted, T_VISIT)
        if leave:
            return summary + "; " + leave(props, frames)
        sp.call(dev.Disconnect)
        sp.wait_until(T_CONNECT, "the disconnection",
                      lambda: not bool(props.Get(sp.DEVICE, "Connected")))
        return summary
    finally:
        bus.close()


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    host = sp.Side("host (hci0)", "hci0")
    roller = sp.Side("roller (hci1)", "hci1")
    state = {}

    def setup():
        for s in (host, roller):
            sp.call(s.props.Set, sp.ADAPTER, "Powered", dbus.Boolean(True))
            s.address = str(s.prop("Address"))
        state["agent"] = sp.Agent(host.bus, "/dermaroll/test/agent", "host")
        mgr = dbus.Interface(host.bus.get_object(sp.BLUEZ, "/org/bluez"),
                             "org.bluez.AgentManager1")
        sp.call(mgr.RegisterAgent, dbus.ObjectPath("/dermaroll/test/agent"),
                "NoInputNoOutput")
        t = time.monotonic()
        state["sim"], state["log"] = start_sim("a", "--pairing")
        return "roller-sim ready in %.2f s" % (time.monotonic() - t)

    def discover():
        sp.call(host.adapter.SetDiscoveryFilter, {
            "Transport": "le", "UUIDs": dbus.Array([sp.SERVICE_UUID], signature="s")})
        sp.call(host.adapter.StartDiscovery)

        def found():
            dev = host.device_of(roller.address)
            if not dev:
                return None
            md = dev[1].get("ManufacturerData", {}).get(dbus.UInt16(sp.COMPANY_ID))
            return md is not None and bytes(md)
        with sp.advertising():
            value = sp.wait_until(sp.T_DISCOVER, "ManufacturerData from roller-sim", found)
        sp.call(host.adapter.StopDiscovery)
        if not value[0] & 0x01 or value[1] != 1:
            raise sp.StepFailed("payload %s: want the pairing flag, major 1" % value.hex())
        return "flags 0x%02x, proto_major %d" % (value[0], value[1])

    def services():
        path, dev, props = host.device(roller.address)
        state["dev"] = (path, dev, props)
        sp.call(dev.Connect, timeout=T_CONNECT)
        sp.wait_until(T_CONNECT, "ServicesResolved",
                      lambda: bool(props.Get(sp.DEVICE, "ServicesResolved")))
        objs = host.objects()
        got = {str(v[GATT_SERVICE]["UUID"]) for p, v in objs.items()
               if p.startswith(path + "/") and GATT_SERVICE in v}
        missing = [n for n, u in UUIDS.items() if u not in got]
        if missing:
            raise sp.StepFailed("services missing: %s" % ", ".join(missing))
        for p, v in objs.items():
            if p.startswith(path + "/") and GATT_CHAR in v:
                state[str(v[GATT_CHAR]["UUID"])] = p
        return "custom, DIS, Battery, CTS resolved"

    def info_pairs():
        # §2.3: INFO needs encryption; the host's BlueZ answers the ATT
        # error by pairing on its own, which works in pairing mode.
        path, dev, props = state["dev"]
        ch = dbus.Interface(host.bus.get_object(sp.BLUEZ, state[INFO_UUID]), GATT_CHAR)
        t = time.monotonic()
        value = bytes(sp.call(ch.ReadValue, {}, timeout=sp.T_PAIR))
        if not bool(props.Get(sp.DEVICE, "Paired")):
            raise sp.StepFailed("INFO was readable without pairing")
        return "%d bytes after BlueZ paired by itself, in %.2f s" % (
            len(value), time.monotonic() - t)

    def info_read():
        ch = dbus.Interface(host.bus.get_object(sp.BLUEZ, state[INFO_UUID]), GATT_CHAR)
        value = bytes(sp.call(ch.ReadValue, {}))
        if value[0] != 0x10:
            raise sp.StepFailed("INFO starts %s" % value[:4].hex())
        return "%d bytes, version 0x%02x" % (len(value), value[0])

    def stream():
        path = state[STREAM_UUID]
        ch = dbus.Interface(host.bus.get_object(sp.BLUEZ, path), GATT_CHAR)
        got = []
        host.bus.add_signal_receiver(
            lambda iface, changed, inv: got.append(time.monotonic())
            if "Value" in changed else None,
            "PropertiesChanged", sp.PROPS, sp.BLUEZ, path)
        sp.call(ch.StartNotify)
        t = time.monotonic()
        sp.pump(T_STREAM)
        sp.call(ch.StopNotify)
        if len(got) < 10:
            raise sp.StepFailed("%d notifications in %d s" % (len(got), T_STREAM))
        return "%d notifications in %.1f s, first after %.2f s" % (
            len(got), time.monotonic() - t, got[0] - t)

    def long_press():
        # §9.3: pairing mode ended when INFO's pairing completed; a long
        # press (SIGUSR1) starts it again for 60 s.
        path, dev, props = state["dev"]
        sp.call(dev.Disconnect)
        forget_both(host, roller)
        sp.wait_until(T_MODE, "roller-sim to leave pairing mode after the pairing",
                      lambda: "[ble] pairing mode off" in sim_log("a"))
        before = sim_log("a").count("[ble] pairing mode on")
        state["sim"].send_signal(signal.SIGUSR1)
        sp.wait_until(T_MODE, "roller-sim to say pairing mode on",
                      lambda: sim_log("a").count("[ble] pairing mode on") > before)
        return "pairing mode off after the pairing, on again after kill -USR1 %d" % (
            state["sim"].pid)

    def cli_pair():
        os.makedirs(HOME, exist_ok=True)
        for f in (DB, DB + "-wal", DB + "-shm"):
            if os.path.exists(f):
                os.unlink(f)
        t = time.monotonic()
        with sp.advertising():
            p = dermaroll(["pair", roller.address, "--adapter", "hci0", "--yes",
                           "--seconds", "30", "--database", DB], 0)
        took = time.monotonic() - t
        if "Paired with the roller" not in p.stdout:
            raise sp.StepFailed("no 'Paired with the roller' line")
        found = host.device_of(roller.address)
        if not found or not bool(found[1].get("Paired")) or not bool(found[1].get("Bonded")):
            raise sp.StepFailed("hci0 does not hold %s as Paired and Bonded" % roller.address)
        lst = dermaroll(["rollers", "--database", DB], 0)
        rows = [line for line in lst.stdout.splitlines() if SERIAL in line]
        if len(rows) != 1:
            raise sp.StepFailed("dermaroll rollers lists %s %d times, want once"
                                % (SERIAL, len(rows)))
        return "paired and bonded in %.1f s; dermaroll rollers: %s" % (took, rows[0].strip())

    def reconnects():
        # §2.1, §11.6: CCCs of a bonded client persist across connections.
        path, dev, props = host.device(roller.address)
        if bool(props.Get(sp.DEVICE, "Connected")):
            sp.call(dev.Disconnect)
        return "; ".join("visit %d: %s" % (i + 1, visit(host, roller))
                         for i in range(RECONNECTS))

    def restarted():
        # A roller-sim stopped and started again on the same flash file:
        # bluetoothd dropped the CCCs of its services when they went away
        # (Service Changed), so the host's CCC writes reach it again.
        stop_sim(state.pop("sim"))
        t = time.monotonic()
        state["sim"], state["log"] = start_sim("a-restarted", state_tag="a", fresh=False)
        took = time.monotonic() - t
        if SERIAL not in sim_log("a-restarted"):
            raise sp.StepFailed("the restarted roller-sim is not %s" % SERIAL)
        return "ready in %.2f s; %s" % (took, visit(host, roller))

    def sigterm_streaming():
        # bluetoothd 5.66 aborts when a GATT application goes away under a
        # connected client that is streaming, even on SIGTERM: roller-sim
        # disconnects its host first, then unregisters.
        owner = host.bus.get_name_owner(sp.BLUEZ)
        log = "a-restarted"

        def leave(props, frames):
            proc = state.pop("sim")
            before = len(frames)
            t = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            sp.wait_until(T_SIGTERM_GONE, "the host to see roller-sim disconnect it",
                          lambda: not bool(props.Get(sp.DEVICE, "Connected")))
            gone = time.monotonic() - t
            streamed = len(frames) - before
            try:
                status = proc.wait(T_SIGTERM_EXIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise sp.StepFailed("roller-sim did not stop on SIGTERM within %d s"
                                    % T_SIGTERM_EXIT)
            ended = time.monotonic() - t
            if status != 0:
                raise sp.StepFailed("roller-sim exited with %d on SIGTERM" % status)
            text = sim_log(log)
            order = ["[ble] stopping: disconnecting %s" % host.address,
                     "[ble] disconnected: %s" % host.address,
                     "[ble] stopping: no host connected, unregistering",
                     "roller-sim: stopping:"]
            at = [text.rfind(line) for line in order]
            if min(at) < 0 or at != sorted(at):
                raise sp.StepFailed("roller-sim's log does not show %s in that order"
                                    % " / ".join(order))
            return ("SIGTERM: the host saw the disconnection after %.2f s (%d STREAM "
                    "frames meanwhile), roller-sim exited 0 after %.2f s"
                    % (gone, streamed, ended))
        summary = visit(host, roller, leave)
        # A crash shows a moment after the application went away: give
        # it one, then bluetoothd must still answer under its old name.
        sp.pump(1)
        if host.bus.get_name_owner(sp.BLUEZ) != owner:
            raise sp.StepFailed("org.bluez changed hands: bluetoothd restarted")
        names = {str(p).rsplit("/", 1)[-1] for p, v in host.objects().items()
                 if sp.ADAPTER in v}
        if not {"hci0", "hci1"} <= names:
            raise sp.StepFailed("bluetoothd lists the adapters %s" % sorted(names))
        found = host.device_of(roller.address)
        if not found or not bool(found[1].get("Bonded")) or bool(found[1].get("Connected")):
            raise sp.StepFailed("hci0 does not hold the roller bonded and disconnected")
        return "%s; bluetoothd still answers as %s with hci0, hci1 and the bond" % (
            summary, owner)

    def cli_refuse():
        if "sim" in state:
            stop_sim(state.pop("sim"))
        forget_both(host, roller)
        state["sim"], state["log"] = start_sim("b")
        # dermaroll looks for the pairing flag for all of --seconds before
        # it gives up; with the advertisement repeated every second, a
        # report the kernel drops costs a second, not a 10.24 s window.
        with sp.advertising():
            p = dermaroll(["pair", roller.address, "--adapter", "hci0", "--yes",
                           "--seconds", "20", "--database", DB], 1)
        lines = [line for line in p.stderr.splitlines() if "not in pairing mode" in line]
        if not lines:
            raise sp.StepFailed("no sentence saying the roller is not in pairing mode")
        found = host.device_of(roller.address)
        if found and bool(found[1].get("Paired")):
            raise sp.StepFailed("hci0 paired with a roller outside pairing mode")
        lst = dermaroll(["rollers", "--database", DB], 0)
        if len([line for line in lst.stdout.splitlines() if SERIAL in line]) != 1:
            raise sp.StepFailed("the refused pairing changed the rollers recorded")
        return "exit 1: %s" % lines[0].strip()

    def refuse():
        # The raw check under the CLI's: bluetoothd's Pair() to the
        # roller-sim without pairing mode fails (its agent refuses).
        sp.call(host.adapter.SetDiscoveryFilter, {
            "Transport": "le", "UUIDs": dbus.Array([sp.SERVICE_UUID], signature="s")})
        sp.call(host.adapter.StartDiscovery)
        try:
            with sp.advertising():
                sp.wait_until(sp.T_DISCOVER, "roller-sim without pairing mode",
                              lambda: host.device_of(roller.address))
        finally:
            sp.call(host.adapter.StopDiscovery)
        path, dev, props = host.device(roller.address)
        state["dev"] = (path, dev, props)
        try:
            sp.call(dev.Pair, timeout=sp.T_PAIR)
        except sp.StepFailed as e:
            if bool(props.Get(sp.DEVICE, "Paired")):
                raise
            return "refused: %s" % e
        raise sp.StepFailed("a roller outside pairing mode paired")

    def cleanup():
        if "sim" in state:
            stop_sim(state.pop("sim"))
        forget_both(host, roller)
        mgr = dbus.Interface(host.bus.get_object(sp.BLUEZ, "/org/bluez"),
                             "org.bluez.AgentManager1")
        sp.call(mgr.UnregisterAgent, dbus.ObjectPath("/dermaroll/test/agent"))
        return "roller-sim stopped, no devices left"

    steps = [
        ("roller-sim --ble --adapter hci1 --pairing is ready", setup),
        ("hci0 finds it with the UUID filter and reads the pairing flag", discover),
        ("connect: DIS, Battery, CTS and the roller service resolve", services),
        ("INFO read in pairing mode: BlueZ pairs (encryption needed)", info_pairs),
        ("INFO reads after pairing", info_read),
        ("STREAM notifications arrive", stream),
        ("kill -USR1 (long press) puts roller-sim back in pairing mode", long_press),
        ("dermaroll pair pairs it and dermaroll rollers lists it", cli_pair),
        ("the bonded host reconnects %d times: RESPONSE indications and STREAM "
         "notifications without roller-sim seeing StartNotify again" % RECONNECTS,
         reconnects),
        ("roller-sim restarted on the same --state: the bonded host reconnects",
         restarted),
        ("SIGTERM under a streaming host: roller-sim disconnects it, then unregisters; "
         "bluetoothd survives", sigterm_streaming),
        ("dermaroll pair exits 1 for a roller-sim outside pairing mode", cli_refuse),
        ("roller-sim without pairing mode refuses a raw Pair()", refuse),
        ("clean-up", cleanup),
    ]
    try:
        for what, fn in steps:
            sp.step(what, fn)
    except (sp.StepFailed, dbus.DBusException):
        if "sim" in state:
            state["sim"].kill()
        return 1
    finally:
        for tag in ("a", "a-restarted", "b"):
            log = os.path.join(os.environ.get("BLE_OUT", "/tmp"), "roller-sim-%s.log" % tag)
            if os.path.exists(log):
                for line in open(log).read().splitlines()[-25:]:
                    sp.note("roller-sim %s: %s" % (tag, line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
