#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
'''A stand-in bluetoothd for the dbus suite.

python3-dbusmock's bluez5 template on the session bus given by
DBUS_SESSION_BUS_ADDRESS (a private one, made by the test), with one
adapter, one roller device and the roller's GATT objects (PROTOCOL.md
§2.1) added with dbusmock's AddObject/AddMethods.  The test drives it
through org.dermaroll.Mock on "/" (Notify, Vanish, DropLink, Subscribed)
and kills it to play a bluetoothd that stops.  Prints READY once the
objects are on the bus and the name is owned.
'''

import argparse
import ctypes
import os
import socket
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

import dbusmock
from dbusmock import mockobject

SERVICE_UUID = '89c10260-9f8d-4ca4-9ef8-9a90149127bd'
CHARS = {
    # name: (object suffix, UUID, flags)
    'info': ('char0011', '89c10261-9f8d-4ca4-9ef8-9a90149127bd', ['encrypt-read']),
    'stream': ('char0013', '89c10262-9f8d-4ca4-9ef8-9a90149127bd', ['notify']),
    'control': ('char0016', '89c10263-9f8d-4ca4-9ef8-9a90149127bd',
                ['encrypt-write', 'indicate']),
    'history': ('char0019', '89c10264-9f8d-4ca4-9ef8-9a90149127bd', ['notify']),
}
GATT_SERVICE = 'org.bluez.GattService1'
GATT_CHAR = 'org.bluez.GattCharacteristic1'
DEVICE = 'org.bluez.Device1'
ADAPTER = 'org.bluez.Adapter1'
CONTROL_IFACE = 'org.dermaroll.Mock'


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('--adapter', help='add this adapter (hci0, hci1, ...)')
    p.add_argument('--power', default='on', choices=['on', 'off', 'off-blocked'])
    p.add_argument('--device', help='add a roller with this address')
    p.add_argument('--unpaired', action='store_true')
    p.add_argument('--service-data', default='0001', help='hex, for our UUID')
    p.add_argument('--info', default='', help='hex INFO frame ReadValue returns')
    p.add_argument('--no-acquire', action='store_true', help='no AcquireNotify method')
    p.add_argument('--mtu', type=int, default=247, help="characteristics' MTU property")
    p.add_argument('--acquire-mtu', type=int, help="AcquireNotify's mtu (default: --mtu)")
    p.add_argument('--no-resolve', action='store_true',
                   help='Connect never gets to ServicesResolved')
    p.add_argument('--connect-error', help='D-Bus error name Connect raises')
    p.add_argument('--read-error', help='D-Bus error name ReadValue raises')
    p.add_argument('--write-error', help='NAME[:MESSAGE] WriteValue raises')
    return p.parse_args()


ARGS = parse_args()
state = {
    'device': None,          # device object path
    'sockets': {},           # char name -> our end of the AcquireNotify socket
    'notifying': set(),      # char names with StartNotify on
    'gatt': [],              # GATT object paths, in the order they were added
}


def manager():
    return mockobject.objects['/']


def emit_props(obj, iface, props):
    obj.UpdateProperties(iface, props)


def fail(name, message='mock failure'):
    raise dbus.exceptions.DBusException(message, name=name)


def char_name(obj):
    for name, (suffix, _, _) in CHARS.items():
        if obj.path.endswith('/' + suffix):
            return name
    return None


# ---- GATT methods (called with the characteristic's mock object) ----

def read_value(obj, options):
    name = char_name(obj)
    if name != 'info':
        fail('org.bluez.Error.NotPermitted', 'Read not permitted')
    if ARGS.read_error:
        fail(ARGS.read_error)
    return dbus.ByteArray(bytes.fromhex(ARGS.info))


def send_response(value):
    if 'control' not in state['notifying']:
        return False
    obj = mockobject.objects[state['device'] + '/service0010/' + CHARS['control'][0]]
    emit_props(obj, GATT_CHAR, {'Value': dbus.Array(value, signature='y')})
    return False


def write_value(obj, value, options):
    if char_name(obj) != 'control':
        fail('org.bluez.Error.NotPermitted', 'Write not permitted')
    if options.get('type', 'request') != 'request':
        fail('org.bluez.Error.InvalidArguments', 'CONTROL takes Write Request only')
    if ARGS.write_error:
        name, _, message = ARGS.write_error.partition(':')
        fail(name, message or 'Not paired')
    value = bytes(value)
    # A RESPONSE frame with no params (§8.2): OK for IDENTIFY and SET_ZONE,
    # INVALID_STATE for the rest; enough to close the command loop.
    opcode = value[4] if len(value) > 4 else 0
    result = 0 if opcode in (7, 8) else 3
    GLib.idle_add(send_response, bytes([0x10, 6, 0, 5, opcode, result]))


def start_notify(obj):
    name = char_name(obj)
    if name == 'info':
        fail('org.bluez.Error.NotSupported', 'Operation is not supported')
    state['notifying'].add(name)
    emit_props(obj, GATT_CHAR, {'Notifying': dbus.Boolean(True)})


def stop_notify(obj):
    state['notifying'].discard(char_name(obj))
    emit_props(obj, GATT_CHAR, {'Notifying': dbus.Boolean(False)})


def acquire_notify(obj, options):
    name = char_name(obj)
    if name not in ('stream', 'history'):
        fail('org.bluez.Error.NotSupported', 'Operation is not supported')
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    state['sockets'][name] = ours
    fd = dbus.types.UnixFd(theirs)
    theirs.close()
    emit_props(obj, GATT_CHAR, {'NotifyAcquired': dbus.Boolean(True)})
    mtu = ARGS.mtu if ARGS.acquire_mtu is None else ARGS.acquire_mtu
    return (fd, dbus.UInt16(mtu))


def add_gatt():
    dev = state['device']
    svc = dev + '/service0010'
    manager().AddObject(svc, GATT_SERVICE, {
        'UUID': dbus.String(SERVICE_UUID),
        'Primary': dbus.Boolean(True),
        'Device': dbus.ObjectPath(dev),
    }, [])
    state['gatt'].append((svc, [GATT_SERVICE]))
    for name, (suffix, uuid, flags) in CHARS.items():
        path = svc + '/' + suffix
        manager().AddObject(path, GATT_CHAR, {
            'UUID': dbus.String(uuid),
            'Service': dbus.ObjectPath(svc),
            'Flags': dbus.Array(flags, signature='s'),
            'Value': dbus.Array([], signature='y'),
            'Notifying': dbus.Boolean(False),
            'NotifyAcquired': dbus.Boolean(False),
            'MTU': dbus.UInt16(ARGS.mtu),
        }, [])
        methods = [
            ('ReadValue', 'a{sv}', 'ay', read_value),
            ('WriteValue', 'aya{sv}', '', write_value),
            ('StartNotify', '', '', start_notify),
            ('StopNotify', '', '', stop_notify),
        ]
        if not ARGS.no_acquire:
            methods.append(('AcquireNotify', 'a{sv}', 'hq', acquire_notify))
        mockobject.objects[path].AddMethods(GATT_CHAR, methods)
        state['gatt'].append((path, [GATT_CHAR]))
    # A standard service too, so the backend must pick ours by UUID.
    bas = dev + '/service0030'
    manager().AddObject(bas, GATT_SERVICE, {
        'UUID': dbus.String('0000180f-0000-1000-8000-00805f9b34fb'),
        'Primary': dbus.Boolean(True),
        'Device': dbus.ObjectPath(dev),
    }, [])
    state['gatt'].append((bas, [GATT_SERVICE]))
    for path, ifaces in state['gatt']:
        manager().EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesAdded',
                             'oa{sa{sv}}',
                             [dbus.ObjectPath(path), mockobject.objects[path].props])


def remove_gatt():
    for path, ifaces in reversed(state['gatt']):
        manager().RemoveObject(path)
        manager().EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesRemoved',
                             'oas', [dbus.ObjectPath(path), dbus.Array(ifaces, signature='s')])
    state['gatt'] = []
    for sock in state['sockets'].values():
        sock.close()
    state['sockets'] = {}
    state['notifying'] = set()


def resolve():
    add_gatt()
    emit_props(mockobject.objects[state['device']], DEVICE,
               {'ServicesResolved': dbus.Boolean(True)})
    return False


def connect(obj):
    if ARGS.connect_error:
        fail(ARGS.connect_error, 'le-connection-abort-by-local')
    if obj.props[DEVICE]['Connected']:
        fail('org.bluez.Error.AlreadyConnected', 'Already Connected')
    emit_props(obj, DEVICE, {'Connected': dbus.Boolean(True)})
    if not ARGS.no_resolve:
        GLib.timeout_add(20, resolve)


def disconnect(obj):
    if not obj.props[DEVICE]['Connected']:
        fail('org.bluez.Error.NotConnected', 'Not Connected')
    remove_gatt()
    emit_props(obj, DEVICE, {'Connected': dbus.Boolean(False),
                             'ServicesResolved': dbus.Boolean(False)})


# ---- org.dermaroll.Mock: what the test asks for ----

def mock_notify(_obj, name, value):
    '''A notification (STREAM, HISTORY) or indication (CONTROL) from the roller.'''
    value = bytes(value)
    if name in state['sockets']:
        state['sockets'][name].send(value)
        return 'acquired'
    if name in state['notifying']:
        path = state['device'] + '/service0010/' + CHARS[name][0]
        emit_props(mockobject.objects[path], GATT_CHAR,
                   {'Value': dbus.Array(value, signature='y')})
        return 'property'
    fail('org.dermaroll.Mock.NotSubscribed', name + ' has no subscriber')


def mock_subscribed(_obj, name):
    return name in state['sockets'] or name in state['notifying']


def mock_vanish(_obj):
    '''The device is removed (RemoveDevice, or unpaired elsewhere).'''
    dev = state['device']
    remove_gatt()
    manager().RemoveObject(dev)
    manager().EmitSignal('org.freedesktop.DBus.ObjectManager', 'InterfacesRemoved',
                         'oas', [dbus.ObjectPath(dev), dbus.Array([DEVICE], signature='s')])


def mock_drop_link(_obj):
    '''The roller goes out of range: BlueZ closes the sockets, then says so.'''
    disconnect(mockobject.objects[state['device']])


def setup(main):
    main.AddMethods(CONTROL_IFACE, [
        ('Notify', 'say', 's', mock_notify),
        ('Subscribed', 's', 'b', mock_subscribed),
        ('Vanish', '', '', mock_vanish),
        ('DropLink', '', '', mock_drop_link),
    ])
    if not ARGS.adapter:
        return
    adapter = main.AddAdapter(ARGS.adapter, 'dermaroll-test')
    a = mockobject.objects[adapter]
    a.props[ADAPTER]['Powered'] = dbus.Boolean(ARGS.power == 'on', variant_level=1)
    a.props[ADAPTER]['PowerState'] = dbus.String(ARGS.power, variant_level=1)
    if not ARGS.device:
        return
    dev = main.AddDevice(ARGS.adapter, ARGS.device, 'DermaRoll DR-TEST-0001')
    state['device'] = dev
    d = mockobject.objects[dev]
    paired = not ARGS.unpaired
    d.props[DEVICE]['Paired'] = dbus.Boolean(paired, variant_level=1)
    d.props[DEVICE]['Bonded'] = dbus.Boolean(paired, variant_level=1)
    d.props[DEVICE]['ServiceData'] = dbus.Dictionary(
        {SERVICE_UUID: dbus.Array(bytes.fromhex(ARGS.service_data), signature='y')},
        signature='sv', variant_level=1)
    d.AddMethods(DEVICE, [('Connect', '', '', connect), ('Disconnect', '', '', disconnect)])


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    # dbusmock logs every call to stdout: send that to stderr, which the
    # test's log keeps, and keep stdout for READY.
    ready = os.fdopen(os.dup(1), 'w')
    os.dup2(2, 1)
    # Objects go on the connection now, the name comes after them.
    main_object = mockobject.DBusMockObject(bus, '/', dbusmock.OBJECT_MANAGER_IFACE, {},
                                            None, True)
    main_object.AddTemplate('bluez5', None)
    mockobject.objects['/'] = main_object
    setup(main_object)
    # Own the name last: once org.bluez appears, everything is in place.
    name = dbus.service.BusName('org.bluez', bus, do_not_queue=True)
    ready.write('READY\n')
    ready.close()
    libglib = ctypes.cdll.LoadLibrary('libglib-2.0.so.0')
    running = {True}
    bus.add_signal_receiver(running.pop, signal_name='Disconnected',
                            path='/org/freedesktop/DBus/Local',
                            dbus_interface='org.freedesktop.DBus.Local')
    while running:
        libglib.g_main_context_iteration(None, True)
    del name


if __name__ == '__main__':
    sys.exit(main())
