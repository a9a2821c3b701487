/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What roller-sim --ble needs to turn BlueZ's GATT server calls into local
 * link messages (PROTOCOL.md §10) and back, with no bus: the GATT database
 * of §2 as data, ATT results as org.bluez errors, the advertising payload
 * of §9 as ManufacturerData, the subscriptions the application keeps
 * across connections, and the small parsers of BlueZ's options.
 * ble-peripheral.c and ble-advert.c use it; tests/unit/test-ble-bridge.c
 * tests it.
 */
#pragma once

#include <glib.h>

#include "dp/link-msg.h"
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

/* The application's notifying state (GattCharacteristic1.Notifying), per
 * local-link characteristic: the SUBSCRIBE mode (§10.3) of the last
 * StartNotify, 0 after StopNotify.  It belongs to the application, not to
 * a connection: bluetoothd calls StartNotify when the first client enables
 * a CCC and StopNotify when the last one disables it, and keeps a bonded
 * client's CCC across connections without calling either again (see
 * ble-peripheral.c), so each new local link must be told it afresh. */
struct ble_subscriptions {
	guint8 mode[DP_CHAR_MAX_ + 1];
};

/* StartNotify (on) or StopNotify on def's characteristic.  TRUE when its
 * Notifying changed.  One with no CCCD (subscribe_mode 0) never notifies:
 * FALSE, nothing kept. */
gboolean ble_subscriptions_set(struct ble_subscriptions *s, const struct ble_char_def *def,
			       gboolean on);
gboolean ble_subscriptions_notifying(const struct ble_subscriptions *s,
				     const struct ble_char_def *def);
/* TRUE when any characteristic is notifying. */
gboolean ble_subscriptions_any(const struct ble_subscriptions *s);
/* The SUBSCRIBE messages that bring a newly attached roller (every CCCD
 * off, §11.6) to s, in characteristic id order, at most max of them;
 * returns how many were written to out. */
gsize ble_subscriptions_replay(const struct ble_subscriptions *s, struct dp_msg *out,
			       gsize max);

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
