#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ble suite, first scenario: the real BlueZ stack between two controllers.

Runs inside the guest (vm.py --run), against the bluetoothd that
guest-setup.sh started, and prints "ok - ..." / "not ok - ..." lines that
vm.py turns into TAP.  hci1 plays the roller, hci0 the host, each through a
D-Bus connection of its own:

  1. bluetoothd registers both adapters;
  2. both are powered on;
  3. each side registers a NoInputNoOutput agent (the roller's is the
     default agent, so it answers for hci1 as the responder);
  4. hci1 advertises through LEAdvertisingManager1, in one legacy
     advertisement (PROTOCOL.md §9.1, 27 bytes): the service UUID and the 2
     bytes of the payload (§9.2) as manufacturer data under the company ID
     0xFFFF (DP_ADV_COMPANY_ID); the name goes in the scan response;
  5. hci0 discovers it with SetDiscoveryFilter(Transport le, UUIDs [ours]);
  6. hci0 reads the pairing flag from ManufacturerData, with that UUID
     filter still on (the kernel drops reports without the UUID list while
     the filter is on: the payload must travel with the UUID);
  7. hci0 pairs with Pair(): LE Secure Connections, Just Works;
  8. both sides are Paired and Bonded, and both stored the long-term key in
     /var/lib/bluetooth as an unauthenticated P-256 key (Authenticated=2,
     the value bluetoothd writes for an LE Secure Connections Just Works
     key) of 16 bytes;
  9. clean-up: disconnect, unregister, remove both devices, so that a later
     scenario in the same guest starts from nothing.

Every step prints its time.  A step that fails stops the scenario.
"""
import configparser
import contextlib
import ctypes
import glob
import os
import select
import struct
import sys
import threading
import time

import dbus
import dbus.bus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

SERVICE_UUID = "89c10260-9f8d-4ca4-9ef8-9a90149127bd"
ADV_PAYLOAD = bytes([0x01, 0x01])  # DP_ADV_PAIRING, proto_major 1
COMPANY_ID = 0xFFFF                 # DP_ADV_COMPANY_ID
BLUEZ = "org.bluez"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
PROPS = "org.freedesktop.DBus.Properties"
OM = "org.freedesktop.DBus.ObjectManager"
STORAGE = "/var/lib/bluetooth"
# LTK types as bluetoothd stores them ("Authenticated=" in [LongTermKey]).
LTK_P256_UNAUTH = 2

# Limits, about three times what a run here takes (README.md).
T_ADAPTERS = 30
T_POWER = 15
T_DISCOVER = 30
# The advertising interval the virtual controllers lack (advertising()).
ADV_REPEAT_S = 1.0
T_PAIR = 60
T_KEYS = 15
T_CALL = 30

T0 = time.monotonic()


class StepFailed(Exception):
    pass


def elapsed():
    return time.monotonic() - T0


def note(msg):
    print("  [%6.2f] %s" % (elapsed(), msg), flush=True)


def pump(seconds):
    """Runs the GLib main loop for a while (agents and adverts answer)."""
    ctx = GLib.MainContext.default()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        while ctx.pending():
            ctx.iteration(False)
        time.sleep(0.01)


def wait_until(limit, what, probe):
    """Polls probe() with the main loop running; returns its first true
    value, or fails with WHAT after LIMIT seconds."""
    end = time.monotonic() + limit
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            raise StepFailed("timed out after %d s waiting for %s"
                             % (limit, what))
        pump(0.05)


def call(method, *args, timeout=T_CALL):
    """A D-Bus call made asynchronously, so that our own agents and
    advertisement objects can answer bluetoothd while it is pending."""
    box = {}

    def ok(*ret):
        box["ret"] = ret[0] if len(ret) == 1 else ret

    def err(e):
        box["err"] = e

    method(*args, reply_handler=ok, error_handler=err, timeout=timeout)
    wait_until(timeout + 5, "the reply to %s" % method._method_name,
               lambda: "ret" in box or "err" in box)
    if "err" in box:
        raise StepFailed("%s failed: %s: %s" % (
            method._method_name, box["err"].get_dbus_name(),
            box["err"].get_dbus_message()))
    return box.get("ret")


class AdvertisingRepeater:
    """Stands in for the advertising interval of a real radio, while hci0
    looks for hci1.

    btvirt reports an advertiser once per scan enable or advertising
    enable, and now and then Linux 6.1 drops that report (traced with the
    HCI monitor channel: LE Advertising Reports reached hci0 in discovery
    windows after which bluetoothd got no Device Found), most likely
    because it follows the scan enable within a millisecond or two, before
    the discovery is in its "finding" state.  A
    discovery then only has the next window, 10.24 s later, and a 20 or
    30 s search can miss the roller altogether, as `dermaroll pair`
    did in 3 of 7 peripheral runs and this scenario's discovery once in CI.  A real roller advertises every interval, so a
    lost report costs it one interval.

    So every ADV_REPEAT_S this turns hci1's advertising off and at once on
    again with raw HCI commands (LE Set Advertising Enable), which makes
    btvirt report the advertisement to hci0 again; the kernel follows both
    command completions, so its state ends as it began.  It does so only
    when hci1 is advertising: when it is not (a host is connected, or
    roller-sim withdrew its advertisement), the first command is refused
    (Command Disallowed) and the second is not sent."""

    def __init__(self, index):
        self.index = index
        self.stop = threading.Event()
        self.repeats = 0
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def command(self, fd, enable):
        """LE Set Advertising Enable; returns its status."""
        os.write(fd, bytes([0x01, 0x0a, 0x20, 0x01, enable]))
        limit = time.monotonic() + 2
        while time.monotonic() < limit:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            ev = os.read(fd, 260)
            # Command Complete for opcode 0x200a: 04 0e 04 ncmd 0a 20 status
            if len(ev) >= 7 and ev[:2] == b"\x04\x0e" and ev[4:6] == b"\x0a\x20":
                return ev[6]
        raise OSError("no Command Complete for LE Set Advertising Enable")

    def run(self):
        libc = ctypes.CDLL(None, use_errno=True)
        # AF_BLUETOOTH, SOCK_RAW, BTPROTO_HCI: this Python has no
        # AF_BLUETOOTH of its own.
        fd = libc.socket(31, 3, 1)
        try:
            if fd < 0:
                raise OSError(ctypes.get_errno(), "HCI socket")
            addr = struct.pack("=HHH", 31, self.index, 0)  # HCI_CHANNEL_RAW
            if libc.bind(fd, ctypes.c_char_p(addr), len(addr)) < 0:
                raise OSError(ctypes.get_errno(), "bind hci%d" % self.index)
            # HCI_FILTER: events only, Command Complete (0x0e).
            filt = struct.pack("<IIIH2x", 1 << 4, 1 << 0x0e, 0, 0)
            if libc.setsockopt(fd, 0, 2, ctypes.c_char_p(filt), len(filt)) < 0:
                raise OSError(ctypes.get_errno(), "HCI_FILTER")
            while not self.stop.wait(ADV_REPEAT_S):
                if self.command(fd, 0x00) == 0:
                    self.command(fd, 0x01)
                    self.repeats += 1
        except OSError as e:
            self.error = e
        finally:
            if fd >= 0:
                os.close(fd)


@contextlib.contextmanager
def advertising(index=1):
    """Repeats hci1's advertisement (AdvertisingRepeater) for the body."""
    rep = AdvertisingRepeater(index)
    rep.thread.start()
    try:
        yield rep
    finally:
        rep.stop.set()
        rep.thread.join(5)
        note("hci%d's advertisement repeated %d times" % (index, rep.repeats))
    if rep.error:
        raise StepFailed("repeating hci%d's advertisement: %s" % (index, rep.error))


class Agent(dbus.service.Object):
    """A NoInputNoOutput org.bluez.Agent1 that accepts and logs every call."""

    def __init__(self, bus, path, side):
        super().__init__(bus, path)
        self.side = side
        self.calls = []

    def _log(self, what):
        self.calls.append(what)
        note("%s agent: %s" % (self.side, what))

    @dbus.service.method("org.bluez.Agent1")
    def Release(self):
        self._log("Release")

    @dbus.service.method("org.bluez.Agent1", in_signature="os")
    def AuthorizeService(self, device, uuid):
        self._log("AuthorizeService %s" % uuid)

    @dbus.service.method("org.bluez.Agent1", in_signature="ou")
    def RequestConfirmation(self, device, passkey):
        self._log("RequestConfirmation %06d" % passkey)

    @dbus.service.method("org.bluez.Agent1", in_signature="o")
    def RequestAuthorization(self, device):
        self._log("RequestAuthorization")

    @dbus.service.method("org.bluez.Agent1")
    def Cancel(self):
        self._log("Cancel")


class Advertisement(dbus.service.Object):
    """An org.bluez.LEAdvertisement1 with fixed properties."""

    def __init__(self, bus, path, props):
        super().__init__(bus, path)
        self.props = props

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return self.props

    @dbus.service.method("org.bluez.LEAdvertisement1")
    def Release(self):
        note("advertisement %s released" % self._object_path)


class Side:
    """One adapter, seen through a D-Bus connection of its own."""

    def __init__(self, name, hci):
        self.name = name
        self.bus = dbus.bus.BusConnection(dbus.bus.BUS_SYSTEM)
        self.path = "/org/bluez/" + hci
        self.obj = self.bus.get_object(BLUEZ, self.path)
        self.adapter = dbus.Interface(self.obj, ADAPTER)
        self.props = dbus.Interface(self.obj, PROPS)
        self.om = dbus.Interface(self.bus.get_object(BLUEZ, "/"), OM)
        self.address = None

    def objects(self):
        return self.om.GetManagedObjects()

    def prop(self, name):
        return self.props.Get(ADAPTER, name)

    def device_of(self, address):
        """(path, Device1 properties) of ADDRESS under this adapter."""
        for path, ifaces in self.objects().items():
            dev = ifaces.get(DEVICE)
            if dev and path.startswith(self.path + "/") and \
                    str(dev["Address"]) == address:
                return path, dev
        return None

    def device(self, address):
        found = self.device_of(address)
        if not found:
            raise StepFailed("%s has no device %s" % (self.name, address))
        path = found[0]
        obj = self.bus.get_object(BLUEZ, path)
        return path, dbus.Interface(obj, DEVICE), dbus.Interface(obj, PROPS)


def step(what, fn):
    t = time.monotonic()
    try:
        detail = fn()
    except (StepFailed, dbus.DBusException) as e:
        print("not ok - %s (%.2f s)" % (what, time.monotonic() - t), flush=True)
        print("  %s" % e, flush=True)
        raise
    print("ok - %s (%.2f s)%s" % (what, time.monotonic() - t,
                                   ": " + detail if detail else ""),
          flush=True)


def stored_ltk(adapter_addr, device_addr):
    """The long-term key bluetoothd stored for a device, as (group, fields),
    or None.  Linux 6.1 hands an LE Secure Connections key to bluetoothd
    as not a central's key, so BlueZ 5.66 stores it under
    [PeripheralLongTermKey] on both sides; a legacy central's key would be
    under [LongTermKey]."""
    info = os.path.join(STORAGE, adapter_addr, device_addr, "info")
    cp = configparser.ConfigParser(interpolation=None)
    try:
        if not cp.read(info):
            return None
    except configparser.Error:
        return None     # caught while bluetoothd rewrites it
    for group in ("LongTermKey", "PeripheralLongTermKey"):
        if cp.has_section(group) and cp.has_option(group, "Key"):
            return group, dict(cp[group])
    return None


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    host = Side("host (hci0)", "hci0")
    roller = Side("roller (hci1)", "hci1")
    state = {}

    def adapters():
        def both():
            objs = host.objects()
            return all(ADAPTER in objs.get(dbus.ObjectPath(s.path), {})
                       for s in (host, roller))
        wait_until(T_ADAPTERS, "org.bluez to list hci0 and hci1", both)
        for s in (host, roller):
            s.address = str(s.prop("Address"))
        return "hci0 %s, hci1 %s" % (host.address, roller.address)

    def power():
        for s in (host, roller):
            call(s.props.Set, ADAPTER, "Powered", dbus.Boolean(True))
        wait_until(T_POWER, "both adapters to report Powered",
                   lambda: all(s.prop("Powered") for s in (host, roller)))
        return None

    def agents():
        state["host_agent"] = Agent(host.bus, "/dermaroll/test/agent", "host")
        state["roller_agent"] = Agent(roller.bus, "/dermaroll/test/agent",
                                      "roller")
        for s in (host, roller):
            mgr = dbus.Interface(s.bus.get_object(BLUEZ, "/org/bluez"),
                                 "org.bluez.AgentManager1")
            call(mgr.RegisterAgent, dbus.ObjectPath("/dermaroll/test/agent"),
                 "NoInputNoOutput")
        # The default agent answers for incoming pairings, and sets the
        # IO capability the kernel uses as the responder on hci1.
        mgr = dbus.Interface(roller.bus.get_object(BLUEZ, "/org/bluez"),
                             "org.bluez.AgentManager1")
        call(mgr.RequestDefaultAgent, dbus.ObjectPath("/dermaroll/test/agent"))
        return "NoInputNoOutput on both sides, the roller's is the default"

    def advertise():
        mgr = dbus.Interface(roller.obj, "org.bluez.LEAdvertisingManager1")
        path = "/dermaroll/test/adv"
        props = {
            "Type": "peripheral", "Discoverable": True,
            "ServiceUUIDs": dbus.Array([SERVICE_UUID], signature="s"),
            "ManufacturerData": dbus.Dictionary(
                {dbus.UInt16(COMPANY_ID): dbus.Array(ADV_PAYLOAD, signature="y")},
                signature="qv"),
            "LocalName": "DermaRoll DR-TEST-0001"}
        state["adverts"] = [Advertisement(roller.bus, path, props)]
        call(mgr.RegisterAdvertisement, dbus.ObjectPath(path), {})
        active = int(dbus.Interface(roller.obj, PROPS).Get(
            "org.bluez.LEAdvertisingManager1", "ActiveInstances"))
        if active != 1:
            raise StepFailed("ActiveInstances is %d, want 1" % active)
        return "1 instance: service UUID, manufacturer data 0x%04x %s, name" % (
            COMPANY_ID, ADV_PAYLOAD.hex())

    def discover():
        call(host.adapter.SetDiscoveryFilter, {
            "Transport": "le",
            "UUIDs": dbus.Array([SERVICE_UUID], signature="s")})
        call(host.adapter.StartDiscovery)
        state["discovering"] = True

        def found():
            dev = host.device_of(roller.address)
            return dev and SERVICE_UUID in [str(u) for u in
                                            dev[1].get("UUIDs", [])] and dev
        with advertising():
            path, dev = wait_until(T_DISCOVER, "hci1 with the service UUID",
                                   found)
        rssi = dev.get("RSSI")
        return "%s, RSSI %s" % (path, "none" if rssi is None else int(rssi))

    def adv_payload():
        # The UUID filter set by discover() stays on: the payload travels
        # in the same report as the UUID list.
        def found():
            dev = host.device_of(roller.address)
            if not dev:
                return None
            md = dev[1].get("ManufacturerData", {})
            value = md.get(dbus.UInt16(COMPANY_ID))
            return value is not None and bytes(value)
        value = wait_until(T_DISCOVER, "the manufacturer data of hci1", found)
        if value != ADV_PAYLOAD:
            raise StepFailed("payload %s, want %s"
                             % (value.hex(), ADV_PAYLOAD.hex()))
        name = host.device_of(roller.address)[1].get("Name")
        call(host.adapter.StopDiscovery)
        state["discovering"] = False
        return "pairing flag set (flags 0x%02x, proto_major %d), name %s" % (
            value[0], value[1], name)

    def pair():
        path, dev, props = host.device(roller.address)
        state["host_dev"] = path
        t = time.monotonic()
        call(dev.Pair, timeout=T_PAIR)
        took = time.monotonic() - t
        wait_until(T_PAIR, "Paired on the host side",
                   lambda: bool(props.Get(DEVICE, "Paired")))
        call(props.Set, DEVICE, "Trusted", dbus.Boolean(True))
        return "Pair() returned in %.2f s" % took

    def bonded():
        def side_ok(s, peer):
            found = s.device_of(peer.address)
            return found and bool(found[1].get("Paired")) and \
                bool(found[1].get("Bonded")) and found
        wait_until(T_KEYS, "Paired and Bonded on hci0",
                       lambda: side_ok(host, roller))
        r = wait_until(T_KEYS, "Paired and Bonded on hci1",
                       lambda: side_ok(roller, host))
        state["roller_dev"] = r[0]
        keys = []
        for s, peer in ((host, roller), (roller, host)):
            group, ltk = wait_until(T_KEYS, "%s to store a long-term key for %s"
                             % (s.name, peer.address),
                             lambda s=s, peer=peer: stored_ltk(s.address,
                                                               peer.address))
            kind = int(ltk.get("authenticated", "-1"))
            if kind != LTK_P256_UNAUTH:
                raise StepFailed("%s stored LTK type %d, want %d (LE Secure "
                                 "Connections, Just Works)"
                                 % (s.name, kind, LTK_P256_UNAUTH))
            if int(ltk.get("encsize", "0")) != 16:
                raise StepFailed("%s stored key size %s, want 16"
                                 % (s.name, ltk.get("encsize")))
            keys.append("%s/%s [%s]" % (s.address, peer.address, group))
        return "LE SC Just Works keys in %s: %s" % (STORAGE, ", ".join(keys))

    def cleanup():
        path, dev, _ = host.device(roller.address)
        call(dev.Disconnect)
        mgr = dbus.Interface(roller.obj, "org.bluez.LEAdvertisingManager1")
        for adv in state.pop("adverts"):
            call(mgr.UnregisterAdvertisement, dbus.ObjectPath(adv._object_path))
        for s, peer in ((host, roller), (roller, host)):
            found = s.device_of(peer.address)
            if found:
                call(s.adapter.RemoveDevice, dbus.ObjectPath(found[0]))
        wait_until(T_KEYS, "the devices and their keys to go", lambda: not (
            host.device_of(roller.address) or roller.device_of(host.address)
            or glob.glob(os.path.join(STORAGE, "*", "??:*"))))
        return "no devices and no keys left"

    steps = [
        ("bluetoothd registers the adapters hci0 and hci1", adapters),
        ("both adapters power on", power),
        ("a NoInputNoOutput agent on each side", agents),
        ("hci1 advertises the roller service", advertise),
        ("hci0 finds hci1 with SetDiscoveryFilter(le, [service UUID])",
         discover),
        ("hci0 reads the pairing flag with the UUID filter on", adv_payload),
        ("hci0 pairs with hci1 (LE Secure Connections, Just Works)", pair),
        ("both sides Paired and Bonded, with stored long-term keys", bonded),
        ("clean-up: disconnect, unadvertise, remove both devices", cleanup),
    ]
    try:
        for what, fn in steps:
            step(what, fn)
    except (StepFailed, dbus.DBusException):
        if state.get("discovering"):
            try:
                host.adapter.StopDiscovery()
            except dbus.DBusException:
                pass
        return 1
    for agent in ("host_agent", "roller_agent"):
        calls = state[agent].calls
        note("%s calls: %s" % (agent, ", ".join(calls) if calls else "none"))
    note("scenario done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
