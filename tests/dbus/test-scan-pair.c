/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Discovery, power and pairing (host/bluez-scan.c, bluez-pair.c,
 * bluez-agent.c) against the stand-in bluetoothd (mock-bluez.py) on a
 * private bus.  The mock records the discovery filter, plays rollers that
 * appear once discovery starts, and calls our agent from Pair() when told
 * to, the way bluetoothd does.
 */
#include <string.h>

#include <gio/gio.h>

#include "mock-client.h"

#include "bluez.h"
#include "dp/proto.h"
#include "link.h"

#define ADDRESS "AA:BB:CC:DD:EE:01"
#define DEVICE_PATH "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01"
#define WAIT_S 10

static GTestDBus *test_bus;

struct fixture {
	GDBusConnection *bus;
	GSubprocess *mock;
	struct bluez *bluez;
	bool ready;
	guint ticker;

	struct bluez_scan *scan;
	unsigned started, found, changed, lost;
	struct bluez_roller rollers[4];  /* by the last digit of the address */
	GError *scan_error;

	struct bluez_pair *pair;
	bool paired;
	GError *pair_error;
	unsigned asks;
	enum bluez_agent_ask ask;
	uint32_t passkey;
	int answer;                      /* -1 refuse, 1 accept, 0 leave open */
	uint32_t answer_passkey;

	bool powered;
	GError *power_error;
};

#define WAIT_UNTIL(cond) MOCK_WAIT_UNTIL(WAIT_S, cond)

/* ---- the mock ---- */

static void start_mock(struct fixture *f, const char *const *args)
{
	f->mock = mock_bluez_start(args);
}

static GVariant *mock_call(struct fixture *f, const char *method, GVariant *params)
{
	g_autoptr(GError) error = NULL;
	GVariant *reply = g_dbus_connection_call_sync(f->bus, "org.bluez", "/",
		"org.dermaroll.Mock", method, params, NULL, G_DBUS_CALL_FLAGS_NONE,
		5000, NULL, &error);

	g_assert_no_error(error);
	return reply;
}

static bool get_bool(struct fixture *f, const char *path, const char *iface,
		     const char *property)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(f->bus, "org.bluez", path,
		"org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)", iface, property),
		G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
	g_autoptr(GVariant) v = NULL;

	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &v);
	return g_variant_get_boolean(v);
}

/* Mock.Discovery: (discovering, StopDiscovery calls, last filter). */
static GVariant *discovery(struct fixture *f, bool *discovering, guint32 *stops)
{
	g_autoptr(GVariant) reply = mock_call(f, "Discovery", NULL);
	GVariant *filter;
	gboolean on;

	g_variant_get(reply, "(bu@a{sv})", &on, stops, &filter);
	*discovering = on;
	return filter;
}

/* Mock.Pairing: (Pair calls, agents registered now, the agent's answer). */
static void pairing(struct fixture *f, guint32 *calls, guint32 *agents, char **answer)
{
	g_autoptr(GVariant) reply = mock_call(f, "Pairing", NULL);

	g_variant_get(reply, "(uus)", calls, agents, answer);
}

/* ---- fixture ---- */

static void on_ready(struct bluez *bluez, const GError *error, void *data)
{
	struct fixture *f = data;

	g_assert_no_error(error);
	f->ready = true;
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->bus = g_dbus_connection_new_for_address_sync(g_test_dbus_get_bus_address(test_bus),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
	g_assert_no_error(error);
	f->ticker = mock_ticker_start();
}

/* Starts the mock (args NULL: no bluetoothd) and loads the model. */
static void model(struct fixture *f, const char *const *args)
{
	if (args)
		start_mock(f, args);
	f->bluez = bluez_new(f->bus, on_ready, f, NULL);
	WAIT_UNTIL(f->ready);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	bluez_scan_stop(f->scan);
	bluez_pair_free(f->pair);
	mock_spin();
	bluez_unref(f->bluez);
	mock_bluez_stop(&f->mock);
	g_source_remove(f->ticker);
	g_dbus_connection_close_sync(f->bus, NULL, NULL);
	g_clear_object(&f->bus);
	g_clear_error(&f->scan_error);
	g_clear_error(&f->pair_error);
	g_clear_error(&f->power_error);
	mock_spin();
}

#define MOCK(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- scanning ---- */

static void on_scan(struct bluez_scan *scan, enum bluez_scan_event event,
		    const struct bluez_roller *roller, const GError *error, void *data)
{
	struct fixture *f = data;
	unsigned slot;

	g_assert_true(scan == f->scan);
	if (event == BLUEZ_SCAN_STARTED) {
		g_assert_null(roller);
		f->started++;
		return;
	}
	if (event == BLUEZ_SCAN_FAILED) {
		g_assert_null(roller);
		g_assert_null(f->scan_error);
		f->scan_error = g_error_copy(error);
		return;
	}
	g_assert_nonnull(roller);
	g_assert_null(error);
	slot = (unsigned)(roller->address[16] - '0');
	g_assert_cmpuint(slot, <, G_N_ELEMENTS(f->rollers));
	f->rollers[slot] = *roller;
	if (event == BLUEZ_SCAN_FOUND)
		f->found++;
	else if (event == BLUEZ_SCAN_CHANGED)
		f->changed++;
	else
		f->lost++;
}

static void start_scan(struct fixture *f, int16_t rssi_min)
{
	g_autoptr(GError) error = NULL;

	f->scan = bluez_scan_start(f->bluez, NULL, rssi_min, on_scan, f, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->scan);
	WAIT_UNTIL(f->started == 1 || f->scan_error);
	g_assert_no_error(f->scan_error);
}

static void assert_filter(struct fixture *f, int16_t rssi_min)
{
	g_autoptr(GVariant) filter = NULL;
	g_autoptr(GVariant) uuids = NULL;
	const char *transport = NULL;
	gint16 rssi = 0;
	bool discovering;
	guint32 stops;

	filter = discovery(f, &discovering, &stops);
	g_assert_true(discovering);
	g_assert_cmpuint(stops, ==, 0);
	g_assert_true(g_variant_lookup(filter, "Transport", "&s", &transport));
	g_assert_cmpstr(transport, ==, "le");
	uuids = g_variant_lookup_value(filter, "UUIDs", G_VARIANT_TYPE_STRING_ARRAY);
	g_assert_nonnull(uuids);
	g_assert_cmpuint(g_variant_n_children(uuids), ==, 1);
	{
		g_autofree const char **list = g_variant_get_strv(uuids, NULL);

		g_assert_cmpstr(list[0], ==, DP_SERVICE_UUID);
	}
	if (rssi_min) {
		g_assert_true(g_variant_lookup(filter, "RSSI", "n", &rssi));
		g_assert_cmpint(rssi, ==, rssi_min);
	} else {
		g_assert_false(g_variant_lookup(filter, "RSSI", "n", &rssi));
	}
	g_assert_cmpuint(g_variant_n_children(filter), ==, rssi_min ? 3 : 2);
}

static void test_scan_found(struct fixture *f, gconstpointer data)
{
	const struct bluez_roller *r2 = &f->rollers[2], *r3 = &f->rollers[3];
	bool discovering;
	guint32 stops;

	model(f, MOCK("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,0101,-52",
		      "--advertise", "AA:BB:CC:DD:EE:03,,-60",
		      "--advertise", "AA:BB:CC:DD:EE:01,0101,-40,nouuid",
		      "--stranger", "AA:BB:CC:DD:EE:09"));
	start_scan(f, 0);
	assert_filter(f, 0);
	WAIT_UNTIL(f->found == 2);
	mock_spin();
	/* Not the stranger, and not a device with our payload under the
	 * test company ID but without our UUID (§9.1: the UUID says roller). */
	g_assert_cmpuint(f->found, ==, 2);
	g_assert_cmpstr(f->rollers[1].address, ==, "");
	g_assert_no_error(f->scan_error);

	/* In pairing mode: our UUID, and the payload as manufacturer data. */
	g_assert_cmpstr(r2->address, ==, "AA:BB:CC:DD:EE:02");
	g_assert_cmpstr(r2->name, ==, "DermaRoll");
	g_assert_cmpint(r2->rssi, ==, -52);
	g_assert_cmpuint(r2->adv.flags, ==, DP_ADV_PAIRING);
	g_assert_cmpuint(r2->adv.proto_major, ==, 1);
	g_assert_true(r2->pairing);
	g_assert_false(r2->bonded);
	/* By its UUID list alone: no payload, so not ready to pair. */
	g_assert_cmpstr(r3->address, ==, "AA:BB:CC:DD:EE:03");
	g_assert_cmpint(r3->rssi, ==, -60);
	g_assert_cmpuint(r3->adv.proto_major, ==, 0);
	g_assert_false(r3->pairing);
	g_assert_false(r3->bonded);

	bluez_scan_stop(g_steal_pointer(&f->scan));
	do {
		g_autoptr(GVariant) filter = NULL;

		mock_spin();
		filter = discovery(f, &discovering, &stops);
	} while (discovering);
	g_assert_cmpuint(stops, ==, 1);
}

static void test_scan_rssi_update(struct fixture *f, gconstpointer data)
{
	const struct bluez_roller *r2 = &f->rollers[2];

	model(f, MOCK("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,0101,-52"));
	start_scan(f, 0);
	WAIT_UNTIL(f->found == 1);
	g_variant_unref(mock_call(f, "Advertise",
				  g_variant_new("(ssn)", "AA:BB:CC:DD:EE:02", "0101", -41)));
	WAIT_UNTIL(f->changed == 1);
	g_assert_cmpint(r2->rssi, ==, -41);
	g_assert_true(r2->pairing);
	/* Pairing mode ends (§9.3: 60 s): the flag goes. */
	g_variant_unref(mock_call(f, "Advertise",
				  g_variant_new("(ssn)", "AA:BB:CC:DD:EE:02", "0001", -41)));
	WAIT_UNTIL(f->changed == 2);
	g_assert_false(r2->pairing);
	g_assert_cmpuint(r2->adv.flags, ==, 0);
	/* Nothing new: no event. */
	g_variant_unref(mock_call(f, "Advertise",
				  g_variant_new("(ssn)", "AA:BB:CC:DD:EE:02", "0001", -41)));
	mock_spin();
	g_assert_cmpuint(f->changed, ==, 2);
	g_assert_cmpuint(f->found, ==, 1);
}

static void test_scan_rssi_filter(struct fixture *f, gconstpointer data)
{
	model(f, MOCK("--adapter", "hci0"));
	start_scan(f, -70);
	assert_filter(f, -70);
}

/* A bonded roller BlueZ heard recently (it has an RSSI) is listed at once. */
static void test_scan_bonded(struct fixture *f, gconstpointer data)
{
	const struct bluez_roller *r1 = &f->rollers[1];

	model(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--rssi", "-66"));
	start_scan(f, 0);
	WAIT_UNTIL(f->found == 1);
	g_assert_cmpstr(r1->address, ==, ADDRESS);
	g_assert_cmpstr(r1->name, ==, "DermaRoll DR-TEST-0001");
	g_assert_cmpint(r1->rssi, ==, -66);
	g_assert_true(r1->bonded);
	g_assert_false(r1->pairing);
	g_assert_cmpuint(r1->adv.flags, ==, 0);
	g_assert_cmpuint(r1->adv.proto_major, ==, 1);
}

/* btvirt says 127 (tests/ble/README.md): kept as unknown. */
static void test_scan_rssi_unknown(struct fixture *f, gconstpointer data)
{
	model(f, MOCK("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,0101,127"));
	start_scan(f, 0);
	WAIT_UNTIL(f->found == 1);
	g_assert_cmpint(f->rollers[2].rssi, ==, BLUEZ_RSSI_UNKNOWN);
}

static void test_scan_bad_adv_data(struct fixture *f, gconstpointer data)
{
	model(f, MOCK("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,01,-50",
		      "--advertise", "AA:BB:CC:DD:EE:03,0100,-50",
		      "--advertise", "AA:BB:CC:DD:EE:01,0101,-50,company=0059"));
	start_scan(f, 0);
	WAIT_UNTIL(f->found == 3);
	/* Truncated, and proto_major 0: both say nothing about pairing (§9.2). */
	g_assert_false(f->rollers[2].pairing);
	g_assert_cmpuint(f->rollers[2].adv.proto_major, ==, 0);
	g_assert_false(f->rollers[3].pairing);
	g_assert_cmpuint(f->rollers[3].adv.proto_major, ==, 0);
	/* A pairing flag under another company's ID is not ours (§9.1). */
	g_assert_false(f->rollers[1].pairing);
	g_assert_cmpuint(f->rollers[1].adv.flags, ==, 0);
	g_assert_cmpuint(f->rollers[1].adv.proto_major, ==, 0);
}

static void test_scan_discovery_error(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) remote = g_dbus_error_new_for_dbus_error("org.bluez.Error.NotReady",
								   "x");
	g_autoptr(GError) expected = bluez_error_from_dbus(remote, BLUEZ_OP_DISCOVER);
	g_autoptr(GError) error = NULL;

	model(f, MOCK("--adapter", "hci0", "--discovery-error", "org.bluez.Error.NotReady"));
	f->scan = bluez_scan_start(f->bluez, NULL, 0, on_scan, f, NULL, &error);
	g_assert_no_error(error);
	WAIT_UNTIL(f->scan_error);
	g_assert_error(f->scan_error, LINK_ERROR, expected->code);
	g_assert_cmpstr(f->scan_error->message, ==, expected->message);
	g_assert_cmpuint(f->started, ==, 0);
}

static void test_scan_adapter_off_meanwhile(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) expected = bluez_error_new(BLUEZ_POWERED_OFF, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	model(f, MOCK("--adapter", "hci0"));
	start_scan(f, 0);
	reply = g_dbus_connection_call_sync(f->bus, "org.bluez", "/org/bluez/hci0",
		"org.freedesktop.DBus.Properties", "Set",
		g_variant_new("(ssv)", BLUEZ_ADAPTER_IFACE, "Powered", g_variant_new_boolean(FALSE)),
		NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
	g_assert_no_error(error);
	WAIT_UNTIL(f->scan_error);
	g_assert_cmpstr(f->scan_error->message, ==, expected->message);
}

struct scan_failure {
	const char *path;
	const char *const *mock_args;        /* NULL: no bluetoothd */
	const char *adapter;
	enum bluez_problem problem;
	const char *detail;
	bool is_off;                         /* bluez_adapter_is_off() */
};

static const struct scan_failure scan_failures[] = {
	{ "/scan/errors/bluetoothd-not-running", NULL, NULL, BLUEZ_NOT_RUNNING, NULL, false },
	{ "/scan/errors/no-adapter", MOCK("--device", ADDRESS), NULL, BLUEZ_NO_ADAPTER, NULL,
	  false },
	{ "/scan/errors/no-such-adapter", MOCK("--adapter", "hci0"), "hci1",
	  BLUEZ_NO_SUCH_ADAPTER, "hci1", false },
	{ "/scan/errors/powered-off", MOCK("--adapter", "hci0", "--power", "off"), NULL,
	  BLUEZ_POWERED_OFF, NULL, true },
	{ "/scan/errors/rfkill", MOCK("--adapter", "hci0", "--power", "off-blocked"), NULL,
	  BLUEZ_RFKILL, NULL, false },
};

static void test_scan_failure(struct fixture *f, gconstpointer data)
{
	const struct scan_failure *c = data;
	g_autoptr(GError) expected = bluez_error_new(c->problem, c->detail);
	g_autoptr(GError) error = NULL;

	model(f, c->mock_args);
	g_assert_cmpint(bluez_adapter_is_off(f->bluez, c->adapter), ==, c->is_off);
	g_assert_null(bluez_scan_start(f->bluez, c->adapter, 0, on_scan, f, NULL, &error));
	g_assert_error(error, LINK_ERROR, expected->code);
	g_assert_cmpstr(error->message, ==, expected->message);
	if (c->mock_args && c->is_off) {
		mock_spin();
		/* Not switched on behind the user's back. */
		g_assert_false(get_bool(f, "/org/bluez/hci0", BLUEZ_ADAPTER_IFACE, "Powered"));
	}
}

/* ---- power ---- */

static void on_power(const GError *error, void *data)
{
	struct fixture *f = data;

	if (error)
		f->power_error = g_error_copy(error);
	f->powered = true;
}

static void test_power_on(struct fixture *f, gconstpointer data)
{
	model(f, MOCK("--adapter", "hci0", "--power", "off"));
	g_assert_true(bluez_adapter_is_off(f->bluez, NULL));
	g_assert_cmpuint(bluez_power_on(f->bluez, "hci1", on_power, f, NULL), ==, 0);
	g_assert_cmpuint(bluez_power_on(f->bluez, NULL, on_power, f, NULL), >, 0);
	WAIT_UNTIL(f->powered);
	g_assert_no_error(f->power_error);
	g_assert_true(get_bool(f, "/org/bluez/hci0", BLUEZ_ADAPTER_IFACE, "Powered"));
	g_assert_false(bluez_adapter_is_off(f->bluez, NULL));
	start_scan(f, 0);
}

/* ---- pairing ---- */

static void on_ask(struct bluez_pair *pair, enum bluez_agent_ask ask, uint32_t passkey,
		   void *data)
{
	struct fixture *f = data;

	g_assert_true(pair == f->pair);
	f->asks++;
	f->ask = ask;
	f->passkey = passkey;
	if (f->answer)
		bluez_pair_reply(pair, f->answer > 0, f->answer_passkey);
}

static void on_done(struct bluez_pair *pair, const GError *error, void *data)
{
	struct fixture *f = data;

	g_assert_true(pair == f->pair);
	g_assert_false(f->paired);
	if (error)
		f->pair_error = g_error_copy(error);
	f->paired = true;
}

static const struct bluez_pair_handler pair_handler = { .ask = on_ask, .done = on_done };
static const struct bluez_pair_handler silent_handler = { .done = on_done };

static void pair_and_wait(struct fixture *f, const struct bluez_pair_handler *handler)
{
	g_autoptr(GError) error = NULL;

	f->pair = bluez_pair_start(f->bluez, NULL, ADDRESS, handler, f, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->pair);
	WAIT_UNTIL(f->paired);
}

/* Waits until the agent is gone from bluetoothd; returns what the mock saw. */
static void assert_agent_gone(struct fixture *f, guint32 want_calls, const char *want_answer)
{
	guint32 calls, agents;
	g_autofree char *answer = NULL;

	for (;;) {
		g_clear_pointer(&answer, g_free);
		pairing(f, &calls, &agents, &answer);
		if (agents == 0)
			break;
		g_main_context_iteration(NULL, TRUE);
	}
	g_assert_cmpuint(calls, ==, want_calls);
	g_assert_cmpstr(answer, ==, want_answer);
}

static void test_pair_success(struct fixture *f, gconstpointer data)
{
	model(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
		      "--adv-data", "0101"));
	g_assert_false(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Trusted"));
	pair_and_wait(f, &pair_handler);
	g_assert_no_error(f->pair_error);
	g_assert_false(bluez_pair_was_bonded(f->pair));
	g_assert_cmpuint(f->asks, ==, 0);       /* Just Works as initiator: no question */
	g_assert_true(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Paired"));
	g_assert_true(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Bonded"));
	g_assert_true(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Trusted"));
	assert_agent_gone(f, 1, "");
}

static void test_pair_already_bonded(struct fixture *f, gconstpointer data)
{
	model(f, MOCK("--adapter", "hci0", "--device", ADDRESS));
	pair_and_wait(f, &pair_handler);
	g_assert_no_error(f->pair_error);
	g_assert_true(bluez_pair_was_bonded(f->pair));
	g_assert_true(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Trusted"));
	assert_agent_gone(f, 0, "");
}

struct pair_failure {
	const char *path;
	const char *error_name;
	enum link_error code;
};

static const struct pair_failure pair_failures[] = {
	{ "/pair/errors/rejected", "org.bluez.Error.AuthenticationRejected", LINK_ERROR_REFUSED },
	{ "/pair/errors/timeout", "org.bluez.Error.AuthenticationTimeout", LINK_ERROR_TIMEOUT },
	{ "/pair/errors/failed", "org.bluez.Error.AuthenticationFailed", LINK_ERROR_REFUSED },
	{ "/pair/errors/connection-failed", "org.bluez.Error.ConnectionAttemptFailed",
	  LINK_ERROR_CONNECT },
};

static void test_pair_failure(struct fixture *f, gconstpointer data)
{
	const struct pair_failure *c = data;
	g_autoptr(GError) remote = g_dbus_error_new_for_dbus_error(c->error_name, "x");
	g_autoptr(GError) expected = bluez_error_from_dbus(remote, BLUEZ_OP_PAIR);

	model(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
		      "--adv-data", "0101", "--pair-error", c->error_name));
	pair_and_wait(f, &pair_handler);
	g_assert_error(f->pair_error, LINK_ERROR, (gint)c->code);
	g_assert_cmpstr(f->pair_error->message, ==, expected->message);
	g_assert_null(strstr(f->pair_error->message, "org."));
	g_assert_false(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Paired"));
	g_assert_false(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Trusted"));
	assert_agent_gone(f, 1, "");
}

struct refusal {
	const char *path;
	const char *const *mock_args;
	const char *address;
	enum bluez_problem problem;
	const char *detail;
};

static const struct refusal refusals[] = {
	{ "/pair/refused/not-in-pairing-mode",
	  MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired", "--adv-data", "0001"),
	  ADDRESS, BLUEZ_NOT_PAIRING, ADDRESS },
	{ "/pair/refused/never-seen",
	  MOCK("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,,-50"),
	  "AA:BB:CC:DD:EE:02", BLUEZ_NOT_FOUND, "AA:BB:CC:DD:EE:02" },
	{ "/pair/refused/newer-roller",
	  MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired", "--adv-data", "0102"),
	  ADDRESS, BLUEZ_NEWER_ROLLER, "2" },
	{ "/pair/refused/unknown-device", MOCK("--adapter", "hci0"), ADDRESS,
	  BLUEZ_NOT_FOUND, ADDRESS },
	{ "/pair/refused/bad-address", MOCK("--adapter", "hci0"), "AA:BB:CC",
	  BLUEZ_BAD_ADDRESS, "AA:BB:CC" },
	{ "/pair/refused/powered-off",
	  MOCK("--adapter", "hci0", "--power", "off", "--device", ADDRESS, "--unpaired",
	       "--adv-data", "0101"), ADDRESS, BLUEZ_POWERED_OFF, NULL },
	{ "/pair/refused/bluetoothd-not-running", NULL, ADDRESS, BLUEZ_NOT_RUNNING, NULL },
};

static void test_pair_refused(struct fixture *f, gconstpointer data)
{
	const struct refusal *c = data;
	g_autoptr(GError) expected = bluez_error_new(c->problem, c->detail);
	g_autoptr(GError) error = NULL;

	model(f, c->mock_args);
	g_assert_null(bluez_pair_start(f->bluez, NULL, c->address, &pair_handler, f, NULL,
				       &error));
	g_assert_error(error, LINK_ERROR, expected->code);
	g_assert_cmpstr(error->message, ==, expected->message);
	if (c->problem == BLUEZ_NOT_PAIRING)
		g_assert_nonnull(strstr(error->message, "Hold its button until the light blinks"));
	if (c->mock_args && c->problem != BLUEZ_NOT_FOUND && c->problem != BLUEZ_BAD_ADDRESS) {
		guint32 calls, agents;
		g_autofree char *answer = NULL;

		pairing(f, &calls, &agents, &answer);
		g_assert_cmpuint(calls, ==, 0);
		g_assert_cmpuint(agents, ==, 0);
	}
}

/* The device list changes only with a scan: an address seen with our UUID
 * but no advertising payload is a roller but gives no pairing flag. */
static void test_pair_uuid_only(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) expected = bluez_error_new(BLUEZ_NOT_PAIRING, "AA:BB:CC:DD:EE:02");
	g_autoptr(GError) error = NULL;

	model(f, MOCK("--adapter", "hci0", "--advertise", "AA:BB:CC:DD:EE:02,,-50"));
	start_scan(f, 0);
	WAIT_UNTIL(f->found == 1);
	g_assert_null(bluez_pair_start(f->bluez, NULL, "AA:BB:CC:DD:EE:02", &pair_handler, f,
				       NULL, &error));
	g_assert_cmpstr(error->message, ==, expected->message);
}

/* bluetoothd asks our agent; the answer is the user's, through ask(). */
struct agent_case {
	const char *path;
	const char *pair_ask;
	const struct bluez_pair_handler *handler;
	int answer;
	uint32_t answer_passkey;
	enum bluez_agent_ask want_ask;
	uint32_t want_passkey;
	bool paired;
	const char *agent_answer;            /* what the mock got back */
};

static const struct agent_case agent_cases[] = {
	{ "/pair/agent/confirm-accepted", "confirm:123456", &pair_handler, 1, 0,
	  BLUEZ_ASK_CONFIRM, 123456, true, "ok" },
	{ "/pair/agent/confirm-refused", "confirm:123456", &pair_handler, -1, 0,
	  BLUEZ_ASK_CONFIRM, 123456, false, "org.bluez.Error.Rejected" },
	{ "/pair/agent/authorize-accepted", "authorize", &pair_handler, 1, 0,
	  BLUEZ_ASK_AUTHORIZE, 0, true, "ok" },
	{ "/pair/agent/passkey-typed", "passkey:654321", &pair_handler, 1, 654321,
	  BLUEZ_ASK_PASSKEY, 0, true, "ok" },
	{ "/pair/agent/passkey-wrong", "passkey:654321", &pair_handler, 1, 111111,
	  BLUEZ_ASK_PASSKEY, 0, false, "ok" },
	{ "/pair/agent/display", "display:42", &pair_handler, 0, 0,
	  BLUEZ_ASK_SHOW, 42, true, "ok" },
	/* Nobody to ask: refused, never accepted by default. */
	{ "/pair/agent/no-handler-refuses", "confirm:123456", &silent_handler, 0, 0,
	  BLUEZ_ASK_CONFIRM, 0, false, "org.bluez.Error.Rejected" },
};

static void test_pair_agent(struct fixture *f, gconstpointer data)
{
	const struct agent_case *c = data;

	f->answer = c->answer;
	f->answer_passkey = c->answer_passkey;
	model(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
		      "--adv-data", "0101", "--pair-ask", c->pair_ask));
	pair_and_wait(f, c->handler);
	if (c->handler == &pair_handler) {
		g_assert_cmpuint(f->asks, ==, 1);
		g_assert_cmpint(f->ask, ==, c->want_ask);
		g_assert_cmpuint(f->passkey, ==, c->want_passkey);
	} else {
		g_assert_cmpuint(f->asks, ==, 0);
	}
	if (c->paired) {
		g_assert_no_error(f->pair_error);
		g_assert_true(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Trusted"));
	} else {
		g_assert_error(f->pair_error, LINK_ERROR, LINK_ERROR_REFUSED);
		g_assert_false(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Paired"));
	}
	assert_agent_gone(f, 1, c->agent_answer);
}

/* The question is left open and the pairing dropped: the agent refuses
 * it on the way out, and goes. */
static void test_pair_cancelled_by_caller(struct fixture *f, gconstpointer data)
{
	model(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
		      "--adv-data", "0101", "--pair-ask", "confirm:7"));
	{
		g_autoptr(GError) error = NULL;

		f->pair = bluez_pair_start(f->bluez, NULL, ADDRESS, &pair_handler, f, NULL, &error);
		g_assert_no_error(error);
	}
	WAIT_UNTIL(f->asks == 1);
	g_clear_pointer(&f->pair, bluez_pair_free);
	assert_agent_gone(f, 1, "org.bluez.Error.Rejected");
	g_assert_false(f->paired);
	g_assert_false(get_bool(f, DEVICE_PATH, BLUEZ_DEVICE_IFACE, "Paired"));
}

/* ---- the new sentences ---- */

static void test_sentences(void)
{
	g_autoptr(GError) not_pairing = bluez_error_new(BLUEZ_NOT_PAIRING, ADDRESS);
	g_autoptr(GError) not_found = bluez_error_new(BLUEZ_NOT_FOUND, ADDRESS);
	g_autoptr(GError) newer = bluez_error_new(BLUEZ_NEWER_ROLLER, "2");
	g_autoptr(GError) failed = g_dbus_error_new_for_dbus_error("org.bluez.Error.Failed", "x");
	g_autoptr(GError) power = bluez_error_from_dbus(failed, BLUEZ_OP_POWER);
	g_autoptr(GError) discover = bluez_error_from_dbus(failed, BLUEZ_OP_DISCOVER);
	g_autoptr(GError) pair = bluez_error_from_dbus(failed, BLUEZ_OP_PAIR);

	g_assert_cmpstr(not_pairing->message, ==,
		"The roller " ADDRESS " is not in pairing mode, so it would refuse. Hold its "
		"button until the light blinks (pairing mode lasts 60 seconds), then try again.");
	g_assert_error(not_pairing, LINK_ERROR, LINK_ERROR_REFUSED);
	g_assert_error(not_found, LINK_ERROR, LINK_ERROR_CONNECT);
	g_assert_error(newer, LINK_ERROR, LINK_ERROR_VERSION);
	g_assert_error(power, LINK_ERROR, LINK_ERROR_CONNECT);
	g_assert_nonnull(strstr(power->message, "rfkill"));
	g_assert_error(discover, LINK_ERROR, LINK_ERROR_CONNECT);
	g_assert_error(pair, LINK_ERROR, LINK_ERROR_REFUSED);
	g_assert_cmpstr(pair->message, ==,
		"Pairing with the roller failed. Pair it again: hold its button until the "
		"light blinks, then run 'dermaroll pair'.");
}

#define ADD(path, func, data) \
	g_test_add(path, struct fixture, data, fixture_setup, func, fixture_teardown)

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	if (!g_getenv("MOCK_BLUEZ")) {
		g_printerr("MOCK_BLUEZ must name mock-bluez.py\n");
		return 1;
	}
	g_test_add_func("/scan-pair/sentences", test_sentences);
	ADD("/scan/found-with-filter", test_scan_found, NULL);
	ADD("/scan/rssi-update", test_scan_rssi_update, NULL);
	ADD("/scan/rssi-filter", test_scan_rssi_filter, NULL);
	ADD("/scan/bonded-heard-recently", test_scan_bonded, NULL);
	ADD("/scan/rssi-unknown", test_scan_rssi_unknown, NULL);
	ADD("/scan/robustness/bad-adv-data", test_scan_bad_adv_data, NULL);
	ADD("/scan/errors/discovery-refused", test_scan_discovery_error, NULL);
	ADD("/scan/errors/powered-off-meanwhile", test_scan_adapter_off_meanwhile, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(scan_failures); i++)
		ADD(scan_failures[i].path, test_scan_failure, &scan_failures[i]);
	ADD("/power/on-when-asked", test_power_on, NULL);
	ADD("/pair/success", test_pair_success, NULL);
	ADD("/pair/already-bonded", test_pair_already_bonded, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(pair_failures); i++)
		ADD(pair_failures[i].path, test_pair_failure, &pair_failures[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++)
		ADD(refusals[i].path, test_pair_refused, &refusals[i]);
	ADD("/pair/refused/uuid-only", test_pair_uuid_only, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(agent_cases); i++)
		ADD(agent_cases[i].path, test_pair_agent, &agent_cases[i]);
	ADD("/pair/agent/dropped-while-asking", test_pair_cancelled_by_caller, NULL);

	test_bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(test_bus);
	ret = g_test_run();
	g_test_dbus_down(test_bus);
	g_object_unref(test_bus);
	return ret;
}
