/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * roller-sim --ble on the BlueZ side of things other than GATT: the
 * adapter (found, checked, powered on only when asked), the roller's
 * GATT application registered, the LE advertisement of PROTOCOL.md §9.1
 * (withdrawn while a host is connected), a NoInputNoOutput default agent,
 * and pairing mode (§9.3) as Adapter1.Pairable: true only in pairing mode,
 * so that the kernel answers every other pairing request "Pairing Not
 * Supported".  Everything is asynchronous.
 */
#pragma once

#include <gio/gio.h>

#include "ble-peripheral.h"
#include "virtual-roller.h"

struct ble_advert;

struct ble_advert_options {
	const char *adapter;         /* "hci1", or NULL: the first */
	gboolean power_on;           /* may switch the adapter on */
	gboolean quiet;              /* no event lines */
};

/* Called once: ready (error NULL), or why not (a sentence with what to
 * do).  After an error the object only waits to be freed. */
typedef void (*ble_advert_ready_func)(struct ble_advert *ba, const GError *error,
				      void *user_data);

struct ble_advert *ble_advert_start(GDBusConnection *bus, struct virtual_roller *vr,
				    const struct ble_advert_options *opts,
				    ble_advert_ready_func ready, void *user_data);
/* Unregisters everything, restores Pairable, then calls done (at most
 * 3 s later whatever bluetoothd says). */
void ble_advert_stop(struct ble_advert *ba, GSourceFunc done, gpointer user_data);
void ble_advert_free(struct ble_advert *ba);
/* What the GATT application counted, or NULL before it exists. */
const struct ble_peripheral_counters *ble_advert_counters(struct ble_advert *ba);
/* The adapter's name and address, once ready. */
const char *ble_advert_adapter(struct ble_advert *ba);
const char *ble_advert_address(struct ble_advert *ba);
