/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The roller's GATT application for BlueZ (org.bluez.GattManager1), bridged
 * to a virtual roller over a socketpair of the local link (PROTOCOL.md §10).
 *
 * Each connection gets a fresh socketpair, attached when the host first
 * uses ATT (HELLO stands for the connection and the MTU exchange, §10.4):
 * ReadValue/WriteValue become READ/WRITE and their results the replies;
 * StartNotify/StopNotify become SUBSCRIBE, and the subscriptions still on
 * are replayed to each new link (BlueZ keeps a bonded host's CCCs across
 * connections and calls neither again); NOTIFY/INDICATE become
 * PropertiesChanged(Value), which BlueZ sends to the subscribed host.  An
 * indication is confirmed to the roller as soon as it is handed to BlueZ,
 * which queues and confirms indications itself.  The objects live under
 * root; the caller registers root with GattManager1.RegisterApplication.
 */
#pragma once

#include <gio/gio.h>

#include "virtual-roller.h"

struct ble_peripheral;

struct ble_peripheral_counters {
	guint64 notifications;       /* NOTIFY messages handed to BlueZ */
	guint64 indications;         /* INDICATE messages handed to BlueZ */
	guint64 reads, writes;       /* ReadValue, WriteValue answered */
	guint64 refused;             /* ATT errors answered */
	guint connections;           /* socketpairs attached */
};

/* A line for the user: "subscribed STREAM", "link up (ATT MTU 517)". */
typedef void (*ble_peripheral_event_func)(const char *line, void *user_data);

/* Exports the application's objects on bus under root.  NULL with error
 * when they cannot be exported. */
struct ble_peripheral *ble_peripheral_new(GDBusConnection *bus, const char *root,
					  struct virtual_roller *vr,
					  ble_peripheral_event_func event, void *user_data,
					  GError **error);
/* Unexports everything and drops any link (the roller sees a disconnection). */
void ble_peripheral_free(struct ble_peripheral *p);

/* The device (object path) connected: while any characteristic is
 * notifying (bluetoothd keeps a bonded host's CCCs across connections),
 * the roller is attached to it at once, with those subscriptions. */
void ble_peripheral_connected(struct ble_peripheral *p, const char *device);
/* The device (object path; NULL: whichever) left: the roller sees the
 * link drop, pending calls fail.  Other devices: nothing happens. */
void ble_peripheral_disconnected(struct ble_peripheral *p, const char *device);
/* The device the roller is attached to, or NULL. */
const char *ble_peripheral_device(struct ble_peripheral *p);
const struct ble_peripheral_counters *ble_peripheral_counters(struct ble_peripheral *p);
