/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The data and small translations of roller-sim --ble (ble-bridge.h).
 */
#include <string.h>

#include "ble-bridge.h"

static const char *const flags_info[] = { "encrypt-read", NULL };
static const char *const flags_stream[] = { "notify", "encrypt-notify", NULL };
static const char *const flags_control[] = { "encrypt-write", "indicate", "encrypt-indicate",
					     NULL };
static const char *const flags_history[] = { "notify", "encrypt-notify", NULL };
static const char *const flags_read[] = { "read", NULL };
static const char *const flags_battery[] = { "read", "notify", NULL };
/* §2.2.3: read and notify open, write only on an encrypted link. */
static const char *const flags_time[] = { "read", "encrypt-write", "notify", NULL };

/* §2.1: every custom characteristic needs encryption; BlueZ enforces the
 * encrypt-* flags itself (Insufficient Encryption / Authentication) before
 * anything reaches the roller. */
static const struct ble_char_def custom_chars[] = {
	{ DP_CHAR_INFO_UUID, DP_CHAR_INFO, flags_info, NULL, 0 },
	{ DP_CHAR_STREAM_UUID, DP_CHAR_STREAM, flags_stream, NULL, 1 },
	{ DP_CHAR_CONTROL_UUID, DP_CHAR_CONTROL, flags_control, NULL, 2 },
	{ DP_CHAR_HISTORY_UUID, DP_CHAR_HISTORY, flags_history, NULL, 1 },
};

/* §2.2.1, cut from the one DEVICE_INFO string of §10.2. */
static const struct ble_char_def dis_chars[] = {
	{ "00002a29-0000-1000-8000-00805f9b34fb", DP_CHAR_DEVICE_INFO, flags_read,
	  "manufacturer", 0 },
	{ "00002a24-0000-1000-8000-00805f9b34fb", DP_CHAR_DEVICE_INFO, flags_read, "model", 0 },
	{ "00002a25-0000-1000-8000-00805f9b34fb", DP_CHAR_DEVICE_INFO, flags_read, "serial", 0 },
	{ "00002a26-0000-1000-8000-00805f9b34fb", DP_CHAR_DEVICE_INFO, flags_read,
	  "firmware", 0 },
};

static const struct ble_char_def battery_chars[] = {
	{ DP_BATTERY_LEVEL_UUID, DP_CHAR_BATTERY, flags_battery, NULL, 1 },
};

static const struct ble_char_def time_chars[] = {
	{ DP_CURRENT_TIME_UUID, DP_CHAR_CURRENT_TIME, flags_time, NULL, 1 },
};

const struct ble_service_def ble_services[] = {
	{ DP_SERVICE_UUID, custom_chars, G_N_ELEMENTS(custom_chars) },
	{ DP_DIS_UUID, dis_chars, G_N_ELEMENTS(dis_chars) },
	{ DP_BATTERY_UUID, battery_chars, G_N_ELEMENTS(battery_chars) },
	{ DP_CTS_UUID, time_chars, G_N_ELEMENTS(time_chars) },
};
const guint ble_n_services = G_N_ELEMENTS(ble_services);

gboolean ble_subscriptions_set(struct ble_subscriptions *s, const struct ble_char_def *def,
			       gboolean on)
{
	guint8 mode = on ? def->subscribe_mode : 0;

	if (!def->subscribe_mode || (guint)def->chr > DP_CHAR_MAX_ ||
	    s->mode[def->chr] == mode)
		return FALSE;
	s->mode[def->chr] = mode;
	return TRUE;
}

gboolean ble_subscriptions_notifying(const struct ble_subscriptions *s,
				     const struct ble_char_def *def)
{
	return def->subscribe_mode && (guint)def->chr <= DP_CHAR_MAX_ && s->mode[def->chr];
}

gboolean ble_subscriptions_any(const struct ble_subscriptions *s)
{
	for (guint chr = 0; chr <= DP_CHAR_MAX_; chr++) {
		if (s->mode[chr])
			return TRUE;
	}
	return FALSE;
}

gsize ble_subscriptions_replay(const struct ble_subscriptions *s, struct dp_msg *out,
			       gsize max)
{
	gsize n = 0;

	for (guint chr = 1; chr <= DP_CHAR_MAX_ && n < max; chr++) {
		if (!s->mode[chr])
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].op = DP_MSG_SUBSCRIBE;
		out[n].chr = (uint8_t)chr;
		out[n].status = s->mode[chr];
		n++;
	}
	return n;
}

const char *ble_att_error_name(guint8 status, gboolean *exact)
{
	*exact = TRUE;
	switch (status) {
	case DP_ATT_OK:
		return NULL;
	case DP_ATT_READ_NOT_PERMITTED:
	case DP_ATT_WRITE_NOT_PERMITTED:
		/* BlueZ picks 0x02 for a read, 0x03 for a write. */
		return "org.bluez.Error.NotPermitted";
	case DP_ATT_REQUEST_NOT_SUPPORTED:
		return "org.bluez.Error.NotSupported";
	case DP_ATT_INVALID_LENGTH:
		return "org.bluez.Error.InvalidValueLength";
	case DP_ATT_PROCEDURE_IN_PROGRESS:
		return "org.bluez.Error.InProgress";
	case DP_ATT_CTS_DATA_FIELD_IGNORED:
		/* The application error BlueZ sends for Failed. */
		return "org.bluez.Error.Failed";
	}
	*exact = FALSE;
	return "org.bluez.Error.Failed";
}

GVariant *ble_adv_manufacturer_data(const struct dp_adv *adv)
{
	guint8 payload[DP_ADV_SIZE] = { adv->flags, adv->proto_major };
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{qv}"));
	g_variant_builder_add(&b, "{qv}", (guint16)DP_ADV_COMPANY_ID,
			      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, payload,
							sizeof(payload), 1));
	return g_variant_builder_end(&b);
}

char *ble_device_info_field(const guint8 *value, gsize len, const char *key)
{
	gsize klen = strlen(key);
	gsize i = 0;

	while (i < len) {
		const guint8 *end = memchr(value + i, ';', len - i);
		gsize item = end ? (gsize)(end - value) - i : len - i;

		if (item > klen && memcmp(value + i, key, klen) == 0 &&
		    value[i + klen] == '=')
			return g_strndup((const char *)value + i + klen + 1, item - klen - 1);
		i += item + 1;
	}
	return NULL;
}

char *ble_address_from_path(const char *path)
{
	const char *dev = path ? strrchr(path, '/') : NULL;
	char *addr;

	if (!dev || !g_str_has_prefix(dev, "/dev_") || strlen(dev) != 5 + 17)
		return NULL;
	addr = g_strdup(dev + 5);
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (addr[i] != '_') {
				g_free(addr);
				return NULL;
			}
			addr[i] = ':';
		} else if (!g_ascii_isxdigit(addr[i])) {
			g_free(addr);
			return NULL;
		}
	}
	return addr;
}

guint16 ble_option_u16(GVariant *options, const char *key)
{
	guint16 v = 0;

	if (options && g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT))
		g_variant_lookup(options, key, "q", &v);
	return v;
}

const char *ble_option_device(GVariant *options)
{
	const char *path = NULL;

	if (options && g_variant_is_of_type(options, G_VARIANT_TYPE_VARDICT))
		g_variant_lookup(options, "device", "&o", &path);
	return path;
}
