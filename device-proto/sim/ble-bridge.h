/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What roller-sim --ble needs to turn BlueZ's GATT server calls into local
 * link messages (PROTOCOL.md §10) and back, with no bus: the GATT database
 * of §2 as data, ATT results as org.bluez errors, the advertising payload
 * of §9 as ManufacturerData, and the small parsers of BlueZ's options.
 * ble-peripheral.c and ble-advert.c use it; tests/unit/test-ble-bridge.c
 * tests it.
 */
#pragma once

#include <glib.h>

#include "dp/proto.h"

/* One characteristic of the roller's GATT application (§2.1, §2.2). */
struct ble_char_def {
	const char *uuid;
	enum dp_char chr;            /* the local-link id it is carried on */
	const char *const *flags;    /* GattCharacteristic1.Flags */
	/* Device Information: the key of the §10.2 string it is cut from;
	 * NULL for every other characteristic. */
	const char *dis_key;
	/* SUBSCRIBE mode for StartNotify: 1 notify, 2 indicate; 0 none. */
	guint8 subscribe_mode;
};

struct ble_service_def {
	const char *uuid;
	const struct ble_char_def *chars;
	guint n_chars;
};

/* The four services, custom first: the order of the object paths. */
extern const struct ble_service_def ble_services[];
extern const guint ble_n_services;

/* The org.bluez.Error name whose ATT error BlueZ 5.66 sends for this
 * status (0 has none: NULL).  Statuses BlueZ has no name for become
 * org.bluez.Error.Failed, which it sends as 0x80; *exact is FALSE then. */
const char *ble_att_error_name(guint8 status, gboolean *exact);

/* Device1.ManufacturerData-style {DP_ADV_COMPANY_ID: payload} (a{qv}, a
 * floating reference) for LEAdvertisement1 (§9.1, §9.2). */
GVariant *ble_adv_manufacturer_data(const struct dp_adv *adv);

/* The value of key in a DP_CHAR_DEVICE_INFO string (§10.2: keys in any
 * order, unknown ones ignored), newly allocated; NULL when absent. */
char *ble_device_info_field(const guint8 *value, gsize len, const char *key);

/* "/org/bluez/hci1/dev_00_AA_01_00_00_00" -> "00:AA:01:00:00:00" (newly
 * allocated), or NULL when the path does not name a device. */
char *ble_address_from_path(const char *path);

/* The "mtu" (q) and "offset" (q) of a ReadValue/WriteValue options dict;
 * 0 when absent or of another type. */
guint16 ble_option_u16(GVariant *options, const char *key);
/* Its "device" (o), or NULL. */
const char *ble_option_device(GVariant *options);
