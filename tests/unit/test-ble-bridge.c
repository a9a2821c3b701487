// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The bus-free half of roller-sim --ble (device-proto/sim/ble-bridge.h):
 * the GATT table against PROTOCOL.md §2, ATT statuses as the org.bluez
 * errors BlueZ 5.66 turns back into them (§2.3), the advertising payload
 * as manufacturer data (§9.1, §9.2), the Device Information string of
 * §10.2, the subscriptions kept across links and replayed as SUBSCRIBE
 * messages (§10.3, §10.4, §11.6), and the small parsers of BlueZ's paths
 * and options.
 */

#include <string.h>

#include <glib.h>

#include "ble-bridge.h"

/* ---- The GATT table (§2.1, §2.2) ---- */

struct want_char {
	const char *uuid;
	enum dp_char chr;
	const char *flags;           /* joined with "," */
	const char *dis_key;
	guint8 subscribe_mode;
};

struct want_service {
	const char *uuid;
	const struct want_char *chars;
	guint n_chars;
};

/* Written from PROTOCOL.md §2.1, §2.2 and §2.3, not from proto.h, so that
 * a changed constant shows up here. */
static const struct want_char want_custom[] = {
	{ "89c10261-9f8d-4ca4-9ef8-9a90149127bd", 1, "encrypt-read", NULL, 0 },
	{ "89c10262-9f8d-4ca4-9ef8-9a90149127bd", 2, "notify,encrypt-notify", NULL, 1 },
	{ "89c10263-9f8d-4ca4-9ef8-9a90149127bd", 3, "encrypt-write,indicate,encrypt-indicate",
	  NULL, 2 },
	{ "89c10264-9f8d-4ca4-9ef8-9a90149127bd", 4, "notify,encrypt-notify", NULL, 1 },
};

static const struct want_char want_dis[] = {
	{ "00002a29-0000-1000-8000-00805f9b34fb", 7, "read", "manufacturer", 0 },
	{ "00002a24-0000-1000-8000-00805f9b34fb", 7, "read", "model", 0 },
	{ "00002a25-0000-1000-8000-00805f9b34fb", 7, "read", "serial", 0 },
	{ "00002a26-0000-1000-8000-00805f9b34fb", 7, "read", "firmware", 0 },
};

static const struct want_char want_battery[] = {
	{ "00002a19-0000-1000-8000-00805f9b34fb", 5, "read,notify", NULL, 1 },
};

static const struct want_char want_time[] = {
	{ "00002a2b-0000-1000-8000-00805f9b34fb", 6, "read,encrypt-write,notify", NULL, 1 },
};

static const struct want_service want_services[] = {
	{ "89c10260-9f8d-4ca4-9ef8-9a90149127bd", want_custom, G_N_ELEMENTS(want_custom) },
	{ "0000180a-0000-1000-8000-00805f9b34fb", want_dis, G_N_ELEMENTS(want_dis) },
	{ "0000180f-0000-1000-8000-00805f9b34fb", want_battery, G_N_ELEMENTS(want_battery) },
	{ "00001805-0000-1000-8000-00805f9b34fb", want_time, G_N_ELEMENTS(want_time) },
};

static char *joined_flags(const char *const *flags)
{
	g_assert_nonnull(flags);
	return g_strjoinv(",", (char **)flags);
}

static void test_gatt_table(void)
{
	g_assert_cmpuint(ble_n_services, ==, G_N_ELEMENTS(want_services));
	for (guint s = 0; s < G_N_ELEMENTS(want_services); s++) {
		const struct ble_service_def *got = &ble_services[s];
		const struct want_service *want = &want_services[s];

		g_test_message("service %u %s", s, want->uuid);
		g_assert_cmpstr(got->uuid, ==, want->uuid);
		g_assert_cmpuint(got->n_chars, ==, want->n_chars);
		for (guint c = 0; c < want->n_chars; c++) {
			const struct ble_char_def *gc = &got->chars[c];
			const struct want_char *wc = &want->chars[c];
			g_autofree char *flags = joined_flags(gc->flags);

			g_test_message("  characteristic %s", wc->uuid);
			g_assert_cmpstr(gc->uuid, ==, wc->uuid);
			g_assert_cmpint(gc->chr, ==, wc->chr);
			g_assert_cmpstr(flags, ==, wc->flags);
			g_assert_cmpstr(gc->dis_key, ==, wc->dis_key);
			g_assert_cmpuint(gc->subscribe_mode, ==, wc->subscribe_mode);
		}
	}
}

static gboolean has_flag(const char *const *flags, const char *flag)
{
	return g_strv_contains(flags, flag);
}

/* §2.1, §2.3: no custom characteristic may be reached without encryption
 * (an open "read" or "write" beside encrypt-* would let BlueZ serve it on
 * a plain link), and none has Write Without Response.  §2.2: the standard
 * services are readable without encryption; only the Current Time write
 * needs it. */
static void test_gatt_security(void)
{
	static const char *const open_access[] = {
		"read", "write", "write-without-response", "reliable-write",
		"authenticated-signed-writes",
	};
	const struct ble_service_def *custom = &ble_services[0];

	g_assert_cmpstr(custom->uuid, ==, DP_SERVICE_UUID);
	for (guint c = 0; c < custom->n_chars; c++) {
		const char *const *flags = custom->chars[c].flags;
		guint encrypted = 0;

		for (guint i = 0; flags[i]; i++) {
			if (g_str_has_prefix(flags[i], "encrypt-"))
				encrypted++;
		}
		g_assert_cmpuint(encrypted, >=, 1);
		for (guint i = 0; i < G_N_ELEMENTS(open_access); i++)
			g_assert_false(has_flag(flags, open_access[i]));
		/* A notify or indicate property needs its encrypted twin,
		 * or the CCCD would be writable on a plain link. */
		if (has_flag(flags, "notify"))
			g_assert_true(has_flag(flags, "encrypt-notify"));
		if (has_flag(flags, "indicate"))
			g_assert_true(has_flag(flags, "encrypt-indicate"));
	}
	for (guint s = 1; s < ble_n_services; s++) {
		for (guint c = 0; c < ble_services[s].n_chars; c++) {
			const char *const *flags = ble_services[s].chars[c].flags;

			g_assert_true(has_flag(flags, "read"));
			g_assert_false(has_flag(flags, "encrypt-read"));
			g_assert_false(has_flag(flags, "write"));
			g_assert_false(has_flag(flags, "write-without-response"));
		}
	}
}

/* The subscription mode follows the properties (§10.4: notify on STREAM,
 * HISTORY, BATTERY and CURRENT_TIME; indicate on CONTROL), and every
 * local-link id is one §10.2 knows. */
static void test_gatt_ids(void)
{
	guint seen = 0;

	for (guint s = 0; s < ble_n_services; s++) {
		for (guint c = 0; c < ble_services[s].n_chars; c++) {
			const struct ble_char_def *d = &ble_services[s].chars[c];
			guint8 mode = has_flag(d->flags, "indicate") ? 2 :
				      has_flag(d->flags, "notify") ? 1 : 0;

			g_assert_cmpuint(d->subscribe_mode, ==, mode);
			g_assert_cmpint(d->chr, >=, DP_CHAR_INFO);
			g_assert_cmpint(d->chr, <=, DP_CHAR_MAX_);
			g_assert_true((d->dis_key != NULL) == (d->chr == DP_CHAR_DEVICE_INFO));
			seen |= 1u << d->chr;
		}
	}
	/* Every id 1..7 is carried by some characteristic. */
	g_assert_cmphex(seen, ==, 0xfe);
}

/* ---- ATT status -> org.bluez error (§2.3) ---- */

static const struct {
	guint8 status;
	const char *name;
	gboolean exact;
} att_errors[] = {
	{ 0x00, NULL, TRUE },
	{ 0x02, "org.bluez.Error.NotPermitted", TRUE },
	{ 0x03, "org.bluez.Error.NotPermitted", TRUE },
	{ 0x06, "org.bluez.Error.NotSupported", TRUE },
	{ 0x0d, "org.bluez.Error.InvalidValueLength", TRUE },
	{ 0x80, "org.bluez.Error.Failed", TRUE },
	{ 0xfe, "org.bluez.Error.InProgress", TRUE },
	/* BlueZ itself answers these before a call reaches the roller, and
	 * has no D-Bus name that it turns into them. */
	{ 0x05, "org.bluez.Error.Failed", FALSE },
	{ 0x0f, "org.bluez.Error.Failed", FALSE },
	{ 0xfd, "org.bluez.Error.Failed", FALSE },
};

static void test_att_error_names(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(att_errors); i++) {
		gboolean exact = !att_errors[i].exact;

		g_test_message("status 0x%02x", att_errors[i].status);
		g_assert_cmpstr(ble_att_error_name(att_errors[i].status, &exact), ==,
				att_errors[i].name);
		g_assert_cmpint(exact, ==, att_errors[i].exact);
	}
}

/* Any other byte: Failed, not exact; never NULL (NULL means success). */
static void test_att_error_robustness(void)
{
	guint n_exact = 0;

	for (guint status = 0; status <= 0xff; status++) {
		gboolean exact = FALSE;
		const char *name = ble_att_error_name((guint8)status, &exact);

		if (exact) {
			n_exact++;
			continue;
		}
		g_assert_cmpstr(name, ==, "org.bluez.Error.Failed");
	}
	/* Exactly the seven exact rows of the table above. */
	g_assert_cmpuint(n_exact, ==, 7);
}

/* ---- Manufacturer data (§9.1, §9.2, §13.6) ---- */

static void test_manufacturer_data(void)
{
	static const struct {
		struct dp_adv adv;
		guint8 bytes[2];
	} cases[] = {
		{ { 0, 1 }, { 0x00, 0x01 } },
		{ { DP_ADV_PAIRING, 1 }, { 0x01, 0x01 } },
		{ { DP_ADV_LOG_PENDING, 1 }, { 0x02, 0x01 } },
		{ { DP_ADV_PAIRING | DP_ADV_LOG_PENDING, 1 }, { 0x03, 0x01 } },
		{ { 0xff, 0xf0 }, { 0xff, 0xf0 } },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GVariant) md = ble_adv_manufacturer_data(&cases[i].adv);
		g_autoptr(GVariant) value = NULL;
		const guint8 *data;
		gsize n;
		guint16 company;

		g_assert_true(g_variant_is_floating(md));
		g_variant_ref_sink(md);
		g_assert_cmpstr(g_variant_get_type_string(md), ==, "a{qv}");
		g_assert_cmpuint(g_variant_n_children(md), ==, 1);
		g_variant_get_child(md, 0, "{qv}", &company, &value);
		g_assert_cmphex(company, ==, 0xffff);
		g_assert_cmpstr(g_variant_get_type_string(value), ==, "ay");
		data = g_variant_get_fixed_array(value, &n, 1);
		g_assert_cmpmem(data, n, cases[i].bytes, 2);
	}
}

/* ---- Device Information (§2.2.1, §10.2) ---- */

#define SPEC_DIS "manufacturer=dermaroll;model=DR-1;serial=DR-SIM-0001;firmware=1.0.0"

static const struct {
	const char *name;
	const char *value;
	const char *key;
	const char *want;
} dis_cases[] = {
	{ "manufacturer", SPEC_DIS, "manufacturer", "dermaroll" },
	{ "model", SPEC_DIS, "model", "DR-1" },
	{ "serial", SPEC_DIS, "serial", "DR-SIM-0001" },
	{ "firmware-last", SPEC_DIS, "firmware", "1.0.0" },
	{ "other-order", "firmware=2.1;serial=X;model=M;manufacturer=m", "serial", "X" },
	{ "unknown-keys", "colour=red;serial=S-1;x=;=y", "serial", "S-1" },
	{ "empty-value", "serial=;model=M", "serial", "" },
	{ "absent", "manufacturer=dermaroll;model=DR-1", "serial", NULL },
	/* A key is a whole name before '=', not a prefix of one. */
	{ "longer-key-first", "serialx=1;serial=2", "serial", "2" },
	{ "prefix-of-key", "serial=1", "seria", NULL },
	{ "suffix-of-key", "xserial=1", "serial", NULL },
	{ "first-wins", "serial=A;serial=B", "serial", "A" },
	{ "value-with-equals", "serial=a=b", "serial", "a=b" },
};

/* Bad or odd input: no crash, no read past len, an exact answer. */
static const struct {
	const char *name;
	const char *value;
	gsize len;                   /* G_MAXSIZE: strlen(value) */
	const char *key;
	const char *want;
} dis_robustness[] = {
	{ "empty", "", 0, "serial", NULL },
	{ "only-separators", ";;;", G_MAXSIZE, "serial", NULL },
	{ "key-no-equals", "serial", G_MAXSIZE, "serial", NULL },
	{ "key-then-separator", "serial;model=M", G_MAXSIZE, "serial", NULL },
	{ "bare-equals", "=", G_MAXSIZE, "serial", NULL },
	{ "trailing-separator", "serial=S;", G_MAXSIZE, "serial", "S" },
	{ "leading-separators", ";;serial=S", G_MAXSIZE, "serial", "S" },
	/* len ends inside the value: the rest of the buffer is not read. */
	{ "cut-in-value", "serial=ABCDEF", 9, "serial", "AB" },
	{ "cut-in-key", "serial=ABCDEF", 5, "serial", NULL },
	{ "cut-before-value", "serial=ABCDEF", 7, "serial", "" },
	/* A NUL on the wire ends the C string handed back. */
	{ "nul-in-value", "serial=A\0B", 10, "serial", "A" },
};

static void test_device_info(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(dis_cases); i++) {
		const char *v = dis_cases[i].value;
		g_autofree char *got = ble_device_info_field((const guint8 *)v, strlen(v),
							     dis_cases[i].key);

		g_test_message("%s", dis_cases[i].name);
		g_assert_cmpstr(got, ==, dis_cases[i].want);
	}
}

/* §2.2.1: each Device Information characteristic serves the value its
 * dis_key cuts from the §10.2 string. */
static void test_device_info_chars(void)
{
	static const char *const want[] = { "dermaroll", "DR-1", "DR-SIM-0001", "1.0.0" };
	const struct ble_service_def *dis = &ble_services[1];

	g_assert_cmpstr(dis->uuid, ==, DP_DIS_UUID);
	g_assert_cmpuint(dis->n_chars, ==, G_N_ELEMENTS(want));
	for (guint c = 0; c < dis->n_chars; c++) {
		g_autofree char *got = ble_device_info_field((const guint8 *)SPEC_DIS,
							     strlen(SPEC_DIS),
							     dis->chars[c].dis_key);

		g_assert_cmpstr(got, ==, want[c]);
	}
}

static void test_device_info_robustness(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(dis_robustness); i++) {
		const char *v = dis_robustness[i].value;
		gsize len = dis_robustness[i].len == G_MAXSIZE ? strlen(v) : dis_robustness[i].len;
		/* A heap copy of exactly len bytes, so that ASan and valgrind
		 * catch any read past it. */
		g_autofree guint8 *copy = g_memdup2(v, len ? len : 1);
		g_autofree char *got = ble_device_info_field(len ? copy : NULL, len,
							     dis_robustness[i].key);

		g_test_message("%s", dis_robustness[i].name);
		g_assert_cmpstr(got, ==, dis_robustness[i].want);
	}
}

/* ---- Object paths (org.bluez device objects) ---- */

static const struct {
	const char *path;
	const char *want;
} paths[] = {
	{ "/org/bluez/hci1/dev_00_AA_01_00_00_00", "00:AA:01:00:00:00" },
	{ "/org/bluez/hci0/dev_00_AA_01_01_00_01", "00:AA:01:01:00:01" },
	{ "/org/bluez/hci0/dev_c0_ff_ee_12_34_5f", "c0:ff:ee:12:34:5f" },
	{ "/dev_FF_FF_FF_FF_FF_FF", "FF:FF:FF:FF:FF:FF" },
};

static const struct {
	const char *name;
	const char *path;
} bad_paths[] = {
	{ "null", NULL },
	{ "empty", "" },
	{ "root", "/" },
	{ "adapter", "/org/bluez/hci1" },
	{ "no-slash", "dev_00_AA_01_00_00_00" },
	{ "characteristic", "/org/bluez/hci1/dev_00_AA_01_00_00_00/service0001/char0002" },
	{ "short", "/org/bluez/hci1/dev_00_AA_01_00_00_0" },
	{ "long", "/org/bluez/hci1/dev_00_AA_01_00_00_000" },
	{ "colons", "/org/bluez/hci1/dev_00:AA:01:00:00:00" },
	{ "not-hex", "/org/bluez/hci1/dev_00_AG_01_00_00_00" },
	{ "separator-in-digits", "/org/bluez/hci1/dev_00_A__01_00_00_00" },
	{ "digit-for-separator", "/org/bluez/hci1/dev_00_AA001_00_00_00" },
	{ "other-prefix", "/org/bluez/hci1/xev_00_AA_01_00_00_00" },
	{ "prefix-only", "/org/bluez/hci1/dev_" },
};

static void test_address_from_path(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
		g_autofree char *got = ble_address_from_path(paths[i].path);

		g_assert_cmpstr(got, ==, paths[i].want);
	}
}

static void test_address_robustness(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(bad_paths); i++) {
		g_autofree char *got = ble_address_from_path(bad_paths[i].path);

		g_test_message("%s", bad_paths[i].name);
		g_assert_null(got);
	}
}

/* ---- ReadValue / WriteValue options ---- */

static GVariant *options_new(const char *text)
{
	g_autoptr(GError) error = NULL;
	GVariant *v = g_variant_parse(NULL, text, NULL, NULL, &error);

	/* g_variant_parse() hands back a reference of our own, not floating. */
	g_assert_no_error(error);
	return v;
}

static void test_options(void)
{
	g_autoptr(GVariant) o = options_new(
		"{'device': <objectpath '/org/bluez/hci1/dev_00_AA_01_00_00_00'>,"
		" 'mtu': <uint16 247>, 'offset': <uint16 5>, 'link': <'LE'>}");
	g_autoptr(GVariant) empty = options_new("@a{sv} {}");

	g_assert_cmpuint(ble_option_u16(o, "mtu"), ==, 247);
	g_assert_cmpuint(ble_option_u16(o, "offset"), ==, 5);
	g_assert_cmpstr(ble_option_device(o), ==, "/org/bluez/hci1/dev_00_AA_01_00_00_00");
	g_assert_cmpuint(ble_option_u16(o, "absent"), ==, 0);
	g_assert_cmpuint(ble_option_u16(empty, "mtu"), ==, 0);
	g_assert_null(ble_option_device(empty));
}

static void test_options_robustness(void)
{
	/* The right key with another type, dicts that are not a{sv} (one
	 * with keys that are not strings), a value that is not a dict at
	 * all, and no options. */
	g_autoptr(GVariant) typed = options_new(
		"{'device': <'/org/bluez/hci1/dev_00_AA_01_00_00_00'>,"
		" 'mtu': <uint32 247>, 'offset': <int16 5>}");
	g_autoptr(GVariant) strings = options_new("{'mtu': '247', 'device': '/x'}");
	g_autoptr(GVariant) int_keys = options_new("{1: <uint16 247>}");
	g_autoptr(GVariant) scalar = options_new("uint16 247");
	g_autoptr(GVariant) max = options_new("{'mtu': <uint16 65535>}");

	g_assert_cmpuint(ble_option_u16(typed, "mtu"), ==, 0);
	g_assert_cmpuint(ble_option_u16(typed, "offset"), ==, 0);
	g_assert_null(ble_option_device(typed));
	g_assert_cmpuint(ble_option_u16(strings, "mtu"), ==, 0);
	g_assert_null(ble_option_device(strings));
	g_assert_cmpuint(ble_option_u16(int_keys, "mtu"), ==, 0);
	g_assert_null(ble_option_device(int_keys));
	g_assert_cmpuint(ble_option_u16(scalar, "mtu"), ==, 0);
	g_assert_null(ble_option_device(scalar));
	g_assert_cmpuint(ble_option_u16(NULL, "mtu"), ==, 0);
	g_assert_null(ble_option_device(NULL));
	g_assert_cmpuint(ble_option_u16(max, "mtu"), ==, 65535);
}

/* ---- Subscriptions kept across links (§10.4, §11.6) ---- */

static const struct ble_char_def *def_of(enum dp_char chr)
{
	for (guint s = 0; s < ble_n_services; s++) {
		for (guint c = 0; c < ble_services[s].n_chars; c++) {
			if (ble_services[s].chars[c].chr == chr)
				return &ble_services[s].chars[c];
		}
	}
	g_assert_not_reached();
	return NULL;
}

/* The SUBSCRIBE messages of s, encoded, joined with " ". */
static char *replayed(const struct ble_subscriptions *s)
{
	struct dp_msg msgs[DP_CHAR_MAX_];
	gsize n = ble_subscriptions_replay(s, msgs, G_N_ELEMENTS(msgs));
	GString *out = g_string_new(NULL);

	for (gsize i = 0; i < n; i++) {
		uint8_t buf[DP_MSG_MAX];
		size_t len = 0;

		g_assert_cmpint(dp_msg_encode(&msgs[i], buf, sizeof(buf), &len), ==, DP_OK);
		g_string_append_printf(out, "%s", i ? " " : "");
		for (size_t j = 0; j < len; j++)
			g_string_append_printf(out, "%02x", buf[j]);
	}
	return g_string_free(out, FALSE);
}

/* StartNotify and StopNotify on each characteristic: Notifying changes
 * once, to the mode of §2.1/§2.2 (indications on CONTROL only); the ones
 * with no CCCD never notify. */
static void test_subscriptions_set(void)
{
	static const struct {
		enum dp_char chr;
		guint8 mode;         /* the SUBSCRIBE mode StartNotify keeps */
	} cases[] = {
		{ DP_CHAR_INFO, 0 }, { DP_CHAR_STREAM, 1 }, { DP_CHAR_CONTROL, 2 },
		{ DP_CHAR_HISTORY, 1 }, { DP_CHAR_BATTERY, 1 }, { DP_CHAR_CURRENT_TIME, 1 },
		{ DP_CHAR_DEVICE_INFO, 0 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct ble_subscriptions s = { { 0 } };
		const struct ble_char_def *def = def_of(cases[i].chr);
		gboolean cccd = cases[i].mode != 0;

		g_test_message("characteristic %u", cases[i].chr);
		g_assert_cmpint(ble_subscriptions_set(&s, def, TRUE), ==, cccd);
		g_assert_cmpint(ble_subscriptions_notifying(&s, def), ==, cccd);
		g_assert_cmpuint(s.mode[cases[i].chr], ==, cases[i].mode);
		/* A second client's StartNotify: no change. */
		g_assert_false(ble_subscriptions_set(&s, def, TRUE));
		g_assert_cmpuint(s.mode[cases[i].chr], ==, cases[i].mode);
		g_assert_cmpint(ble_subscriptions_set(&s, def, FALSE), ==, cccd);
		g_assert_false(ble_subscriptions_notifying(&s, def));
		g_assert_false(ble_subscriptions_set(&s, def, FALSE));
		for (guint chr = 0; chr <= DP_CHAR_MAX_; chr++)
			g_assert_cmpuint(s.mode[chr], ==, 0);
		g_assert_false(ble_subscriptions_any(&s));
	}
}

/* What a new link is told: every subscription still on, in id order,
 * as the bytes of §10.3 (op 0x06, chr, mode); nothing when none is on.
 * Replaying changes nothing, so every later link is told the same. */
static void test_subscriptions_replay(void)
{
	struct ble_subscriptions s = { { 0 } };
	g_autofree char *none = replayed(&s);
	g_autofree char *first = NULL, *again = NULL, *fewer = NULL, *all = NULL;

	g_assert_cmpstr(none, ==, "");
	g_assert_false(ble_subscriptions_any(&s));
	/* A host's visit, in its order: CONTROL, STREAM, HISTORY; HISTORY
	 * off again at the end of its sync. */
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_CONTROL), TRUE));
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_STREAM), TRUE));
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_HISTORY), TRUE));
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_HISTORY), FALSE));
	first = replayed(&s);
	g_assert_cmpstr(first, ==, "060201 060302");
	g_assert_true(ble_subscriptions_any(&s));
	again = replayed(&s);
	g_assert_cmpstr(again, ==, "060201 060302");
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_STREAM), FALSE));
	fewer = replayed(&s);
	g_assert_cmpstr(fewer, ==, "060302");
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_CONTROL), FALSE));
	g_assert_false(ble_subscriptions_any(&s));
	for (enum dp_char chr = DP_CHAR_INFO; chr <= DP_CHAR_DEVICE_INFO; chr++)
		ble_subscriptions_set(&s, def_of(chr), TRUE);
	all = replayed(&s);
	g_assert_cmpstr(all, ==, "060201 060302 060401 060501 060601");
}

/* A short out array gets the first ones only, and max 0 touches nothing;
 * a definition with an id outside §10.2 is never kept. */
static void test_subscriptions_robustness(void)
{
	static const char *const flags[] = { "notify", NULL };
	const struct ble_char_def bad = { "00000000-0000-1000-8000-00805f9b34fb",
					  (enum dp_char)(DP_CHAR_MAX_ + 1), flags, NULL, 1 };
	struct ble_subscriptions s = { { 0 } };
	struct dp_msg out[3];

	memset(out, 0xa5, sizeof(out));
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_STREAM), TRUE));
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_CONTROL), TRUE));
	g_assert_true(ble_subscriptions_set(&s, def_of(DP_CHAR_BATTERY), TRUE));
	g_assert_cmpuint(ble_subscriptions_replay(&s, out, 0), ==, 0);
	g_assert_cmpuint(out[0].op, ==, 0xa5);
	g_assert_cmpuint(ble_subscriptions_replay(&s, out, 2), ==, 2);
	g_assert_cmpuint(out[0].op, ==, DP_MSG_SUBSCRIBE);
	g_assert_cmpuint(out[0].chr, ==, DP_CHAR_STREAM);
	g_assert_cmpuint(out[0].status, ==, 1);
	g_assert_cmpuint(out[1].chr, ==, DP_CHAR_CONTROL);
	g_assert_cmpuint(out[1].status, ==, 2);
	g_assert_null(out[1].value);
	g_assert_cmpuint(out[1].value_len, ==, 0);
	g_assert_cmpuint(out[2].op, ==, 0xa5);
	g_assert_false(ble_subscriptions_set(&s, &bad, TRUE));
	g_assert_false(ble_subscriptions_notifying(&s, &bad));
	g_assert_cmpuint(ble_subscriptions_replay(&s, out, G_N_ELEMENTS(out)), ==, 3);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/ble-bridge/gatt/table", test_gatt_table);
	g_test_add_func("/ble-bridge/gatt/security", test_gatt_security);
	g_test_add_func("/ble-bridge/gatt/ids", test_gatt_ids);
	g_test_add_func("/ble-bridge/att-error/names", test_att_error_names);
	g_test_add_func("/ble-bridge/att-error/robustness/every-status",
			test_att_error_robustness);
	g_test_add_func("/ble-bridge/adv/manufacturer-data", test_manufacturer_data);
	g_test_add_func("/ble-bridge/device-info/fields", test_device_info);
	g_test_add_func("/ble-bridge/device-info/characteristics", test_device_info_chars);
	g_test_add_func("/ble-bridge/device-info/robustness/bad-strings",
			test_device_info_robustness);
	g_test_add_func("/ble-bridge/address/from-path", test_address_from_path);
	g_test_add_func("/ble-bridge/address/robustness/bad-paths", test_address_robustness);
	g_test_add_func("/ble-bridge/options/values", test_options);
	g_test_add_func("/ble-bridge/options/robustness/wrong-types", test_options_robustness);
	g_test_add_func("/ble-bridge/subscriptions/set", test_subscriptions_set);
	g_test_add_func("/ble-bridge/subscriptions/replay", test_subscriptions_replay);
	g_test_add_func("/ble-bridge/subscriptions/robustness/short-and-bad",
			test_subscriptions_robustness);

	return g_test_run();
}
