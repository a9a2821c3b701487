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
import dbus.lowlevel
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

import dbusmock
from dbusmock import mockobject

SERVICE_UUID = '89c10260-9f8d-4ca4-9ef8-9a90149127bd'
# DP_ADV_COMPANY_ID: the advertising payload (PROTOCOL.md §9.2) travels as
# manufacturer data under this company ID (§9.1).
COMPANY_ID = 0xFFFF
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
    p.add_argument('--adv-data', '--service-data', dest='adv_data', default='0001',
                   help="hex: the --device roller's advertising payload (§9.2), as "
                        "ManufacturerData under our company ID ('--service-data' is "
                        "its older name)")
    p.add_argument('--info', default='', help='hex INFO frame ReadValue returns')
    p.add_argument('--no-acquire', action='store_true', help='no AcquireNotify method')
    p.add_argument('--mtu', type=int, default=247, help="characteristics' MTU property")
    p.add_argument('--acquire-mtu', type=int, help="AcquireNotify's mtu (default: --mtu)")
    p.add_argument('--no-resolve', action='store_true',
                   help='Connect never gets to ServicesResolved')
    p.add_argument('--connect-error', help='D-Bus error name Connect raises')
    p.add_argument('--read-error', help='D-Bus error name ReadValue raises')
    p.add_argument('--write-error', help='NAME[:MESSAGE] WriteValue raises')
    p.add_argument('--rssi', type=int, default=-79, help="the device's RSSI")
    p.add_argument('--advertise', action='append', default=[],
                   metavar='ADDR,ADV_DATA,RSSI[,nouuid][,company=HEX]',
                   help='a roller that appears 50 ms after StartDiscovery, listing '
                        'our UUID (not with "nouuid"): its advertising payload hex '
                        '(empty: no manufacturer data), as ManufacturerData under '
                        'our company ID (or company=HEX), and its RSSI')
    p.add_argument('--later', action='append', default=[],
                   metavar='ADDR,ADV_DATA,RSSI',
                   help='an --advertise roller advertises this, 300 ms after '
                        'StartDiscovery (the next one 300 ms later, and so on)')
    p.add_argument('--stranger', help='a non-roller device appearing with the rollers')
    p.add_argument('--discovery-error', help='D-Bus error name StartDiscovery raises')
    p.add_argument('--pair-error', help='D-Bus error name Pair raises')
    p.add_argument('--pair-ask', help='what Pair asks the agent: authorize, '
                   'confirm:PASSKEY, passkey:EXPECTED or display:PASSKEY')
    return p.parse_args()


ARGS = parse_args()
state = {
    'device': None,          # device object path
    'sockets': {},           # char name -> our end of the AcquireNotify socket
    'notifying': set(),      # char names with StartNotify on
    'gatt': [],              # GATT object paths, in the order they were added
    'filter': None,          # the last SetDiscoveryFilter
    'discovering': False,
    'stops': 0,
    'agent_owner': None,     # bus name and path of the last RegisterAgent
    'agent_path': None,
    'agent_answer': '',      # 'ok', or the error name the agent answered with
    'device_pairing': None,
    'pair_calls': 0,
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


# ---- Discovery and pairing ----

def set_discovery_filter(adapter, filt):
    state['filter'] = dict(filt)


def start_discovery(adapter):
    if ARGS.discovery_error:
        fail(ARGS.discovery_error, 'mock discovery failure')
    state['discovering'] = True
    emit_props(adapter, ADAPTER, {'Discovering': dbus.Boolean(True)})
    GLib.timeout_add(50, appear)
    for i, spec in enumerate(ARGS.later):
        address, adv_hex, rssi = spec.split(',')
        GLib.timeout_add(300 * (i + 1), readvertise, address, adv_hex, int(rssi))


def readvertise(address, adv_hex, rssi):
    mock_advertise(None, address, adv_hex, rssi)
    return False


def stop_discovery(adapter):
    if not state['discovering']:
        fail('org.bluez.Error.Failed', 'No discovery started')
    state['discovering'] = False
    state['stops'] += 1
    emit_props(adapter, ADAPTER, {'Discovering': dbus.Boolean(False)})


def manufacturer_data(adv_hex, company=COMPANY_ID):
    '''Device1.ManufacturerData as BlueZ shows it: a{qv}, company -> ay.'''
    return dbus.Dictionary(
        {dbus.UInt16(company): dbus.Array(bytes.fromhex(adv_hex), signature='y')},
        signature='qv', variant_level=1)


def device_props(adv_hex, rssi, uuid, company=COMPANY_ID):
    props = {'RSSI': dbus.Int16(rssi, variant_level=1)}
    if adv_hex:
        props['ManufacturerData'] = manufacturer_data(adv_hex, company)
    if uuid:
        props['UUIDs'] = dbus.Array([SERVICE_UUID], signature='s', variant_level=1)
    return props


def advertised(obj, props):
    '''PropertiesChanged for advertised data (dbusmock's UpdateProperties
    cannot wrap a dictionary such as ManufacturerData).'''
    for name, value in props.items():
        obj.props[DEVICE][name] = value
    obj.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as',
                   [DEVICE, dbus.Dictionary(props, signature='sv'),
                    dbus.Array([], signature='s')])


def add_device(address, name):
    '''A device as BlueZ makes it on a first sighting: the object, then the
    advertised data as property changes.'''
    path = manager().AddDevice(ARGS.adapter, address, name)
    d = mockobject.objects[path]
    d.props[DEVICE]['Bonded'] = dbus.Boolean(False, variant_level=1)
    # Only the --device roller has GATT objects: these are out of reach.
    d.AddMethods(DEVICE, [('Connect', '', '', connect_unreachable), ('Pair', '', '', pair)])
    return d


def connect_unreachable(obj):
    fail('org.bluez.Error.ConnectionAttemptFailed', 'le-connection-abort-by-local')


def appear():
    if not state['discovering']:
        return False
    for spec in ARGS.advertise:
        fields = spec.split(',')
        address, adv_hex, rssi = fields[0], fields[1], int(fields[2])
        extra = fields[3:]
        company = COMPANY_ID
        for e in extra:
            if e.startswith('company='):
                company = int(e[len('company='):], 16)
        d = add_device(address, 'DermaRoll')
        advertised(d, device_props(adv_hex, rssi, 'nouuid' not in extra, company))
    if ARGS.stranger:
        d = add_device(ARGS.stranger, 'Headphones')
        advertised(d, {'RSSI': dbus.Int16(-40, variant_level=1), 'UUIDs': dbus.Array(
            ['0000110b-0000-1000-8000-00805f9b34fb'], signature='s', variant_level=1)})
    return False


def on_message(_bus, message):
    '''Notes who registers an agent: Pair must call it on that connection.'''
    if message.get_type() == 1 and message.get_member() == 'RegisterAgent':
        state['agent_owner'] = message.get_sender()
        state['agent_path'] = message.get_args_list()[0]
    return dbus.lowlevel.HANDLER_RESULT_NOT_YET_HANDLED


def ask_agent():
    kind, _, number = ARGS.pair_ask.partition(':')
    methods = {
        'authorize': ('RequestAuthorization', 'o', []),
        'confirm': ('RequestConfirmation', 'ou', [dbus.UInt32(int(number or 0))]),
        'passkey': ('RequestPasskey', 'o', []),
        'display': ('DisplayPasskey', 'ouq', [dbus.UInt32(int(number or 0)), dbus.UInt16(0)]),
    }
    method, sig, extra = methods[kind]
    bus = dbus.SessionBus()
    manager_obj = mockobject.objects['/org/bluez']
    if state['agent_path'] != manager_obj.default_agent:
        fail('org.bluez.Error.AuthenticationFailed', 'no default agent')
    try:
        reply = bus.call_blocking(state['agent_owner'], state['agent_path'],
                                  'org.bluez.Agent1', method, sig,
                                  [dbus.ObjectPath(state['device_pairing'])] + extra,
                                  timeout=20)
    except dbus.exceptions.DBusException as e:
        state['agent_answer'] = e.get_dbus_name()
        fail('org.bluez.Error.AuthenticationRejected', 'agent refused')
    state['agent_answer'] = 'ok'
    if kind == 'passkey' and int(reply) != int(number):
        fail('org.bluez.Error.AuthenticationFailed', 'wrong passkey')


def pair(obj):
    state['pair_calls'] += 1
    if obj.props[DEVICE]['Paired']:
        fail('org.bluez.Error.AlreadyExists', 'Already Exists')
    if ARGS.pair_error:
        fail(ARGS.pair_error, 'mock pairing failure')
    state['device_pairing'] = obj.path
    if ARGS.pair_ask:
        ask_agent()
    emit_props(obj, DEVICE, {'Paired': dbus.Boolean(True), 'Bonded': dbus.Boolean(True)})


def mock_advertise(_obj, address, adv_hex, rssi):
    '''The roller advertises again: a new payload and RSSI.'''
    path = '/org/bluez/%s/dev_%s' % (ARGS.adapter, address.replace(':', '_').upper())
    advertised(mockobject.objects[path], device_props(adv_hex, rssi, False))


def mock_discovery(_obj):
    '''(discovering, StopDiscovery calls, the filter last set)'''
    filt = state['filter']
    if filt is None:
        filt = dbus.Dictionary({}, signature='sv')
    else:
        filt = dbus.Dictionary(filt, signature='sv')
    return (dbus.Boolean(state['discovering']), dbus.UInt32(state['stops']), filt)


def mock_pairing(_obj):
    '''(Pair calls, agents registered now, what the agent answered)'''
    manager_obj = mockobject.objects['/org/bluez']
    return (dbus.UInt32(state['pair_calls']), dbus.UInt32(len(manager_obj.agent_paths)),
            state['agent_answer'])


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
        ('Advertise', 'ssn', '', mock_advertise),
        ('Discovery', '', 'bua{sv}', mock_discovery),
        ('Pairing', '', 'uus', mock_pairing),
    ])
    if not ARGS.adapter:
        return
    adapter = main.AddAdapter(ARGS.adapter, 'dermaroll-test')
    a = mockobject.objects[adapter]
    a.AddMethods(ADAPTER, [
        ('SetDiscoveryFilter', 'a{sv}', '', set_discovery_filter),
        ('StartDiscovery', '', '', start_discovery),
        ('StopDiscovery', '', '', stop_discovery),
    ])
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
    d.props[DEVICE]['ManufacturerData'] = manufacturer_data(ARGS.adv_data)
    d.props[DEVICE]['UUIDs'] = dbus.Array([SERVICE_UUID], signature='s', variant_level=1)
    d.props[DEVICE]['RSSI'] = dbus.Int16(ARGS.rssi, variant_level=1)
    d.AddMethods(DEVICE, [('Connect', '', '', connect), ('Disconnect', '', '', disconnect),
                          ('Pair', '', '', pair)])


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
    bus.add_message_filter(on_message)
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
