/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BlueZ backend against a stand-in bluetoothd (mock-bluez.py:
 * python3-dbusmock's bluez5 template with the roller's GATT objects) on a
 * private bus (GTestDBus).  Each test starts its own mock; the test plays
 * the roller through org.dermaroll.Mock and checks what the link reports,
 * sentence for sentence.
 */
#include <string.h>

#include <gio/gio.h>

#include "bluez.h"
#include "dp/codec.h"
#include "mock-client.h"
#include "link.h"

#define ADDRESS "AA:BB:CC:DD:EE:01"
#define DEVICE_PATH "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01"
#define WAIT_S 10

static GTestDBus *test_bus;

struct fixture {
	GDBusConnection *bus;
	GSubprocess *mock;
	struct link *link;
	guint ticker, method_sub;

	bool connected;
	struct dp_info info;
	GError *error;               /* from disconnected() */
	unsigned passes, history_passes, log_ends, malformed;
	unsigned connect_calls;

	unsigned answers;
	struct dp_response rsp;
	GError *command_error;
};

/* ---- the link's handler ---- */

static void on_connected(struct link *link, const struct dp_info *info, void *data)
{
	struct fixture *f = data;

	f->connected = true;
	f->info = *info;
}

static void on_disconnected(struct link *link, const GError *error, void *data)
{
	struct fixture *f = data;

	g_assert_null(f->error);
	f->error = g_error_copy(error);
}

static void on_pass(struct link *link, const struct dp_pass *pass, bool from_history,
		    void *data)
{
	struct fixture *f = data;

	if (from_history)
		f->history_passes++;
	else
		f->passes++;
}

static void on_log_end(struct link *link, const struct dp_log_end *end, void *data)
{
	((struct fixture *)data)->log_ends++;
}

static void on_problem(struct link *link, enum link_problem problem, const char *detail,
		       void *data)
{
	if (problem == LINK_PROBLEM_MALFORMED)
		((struct fixture *)data)->malformed++;
}

static const struct link_handler handler = {
	.connected = on_connected,
	.disconnected = on_disconnected,
	.pass = on_pass,
	.log_end = on_log_end,
	.problem = on_problem,
};

static void on_answer(struct link *link, const struct dp_response *rsp, const GError *error,
		      void *data)
{
	struct fixture *f = data;

	f->answers++;
	if (rsp)
		f->rsp = *rsp;
	if (error)
		f->command_error = g_error_copy(error);
}

/* ---- the main loop ---- */

/* Runs the main loop until cond holds; the ticker wakes it up. */
#define WAIT_UNTIL(cond) MOCK_WAIT_UNTIL(WAIT_S, cond)

/* ---- the mock ---- */

/* Starts mock-bluez.py with args (NULL-terminated) and waits for READY. */
static void start_mock(struct fixture *f, const char *const *args)
{
	g_autofree char *info = mock_info_hex("DR-TEST-0001", 500, 3, "H-7");
	g_autoptr(GPtrArray) argv = g_ptr_array_new();

	g_ptr_array_add(argv, "--info");
	g_ptr_array_add(argv, info);
	for (; args && *args; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	f->mock = mock_bluez_start((const char *const *)argv->pdata);
}

static void stop_mock(struct fixture *f)
{
	mock_bluez_stop(&f->mock);
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

/* Sends a value as the roller; returns the path it took. */
static char *mock_notify(struct fixture *f, const char *chr, const uint8_t *buf, size_t len)
{
	g_autoptr(GVariant) reply = mock_call(f, "Notify", g_variant_new("(s@ay)", chr,
		g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, buf, len, 1)));
	char *path;

	g_variant_get(reply, "(s)", &path);
	return path;
}

static bool mock_subscribed(struct fixture *f, const char *chr)
{
	g_autoptr(GVariant) reply = mock_call(f, "Subscribed", g_variant_new("(s)", chr));
	gboolean on;

	g_variant_get(reply, "(b)", &on);
	return on;
}

static bool device_connected(struct fixture *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_sync(f->bus, "org.bluez",
		DEVICE_PATH, "org.freedesktop.DBus.Properties", "Get",
		g_variant_new("(ss)", BLUEZ_DEVICE_IFACE, "Connected"), G_VARIANT_TYPE("(v)"),
		G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
	g_autoptr(GVariant) v = NULL;

	g_assert_no_error(error);
	g_variant_get(reply, "(v)", &v);
	return g_variant_get_boolean(v);
}

/* dbusmock says MethodCalled for every mock method it runs. */
static void on_method_called(GDBusConnection *bus, const char *sender, const char *path,
			     const char *iface, const char *signal, GVariant *params,
			     gpointer data)
{
	struct fixture *f = data;
	const char *name;

	g_variant_get_child(params, 0, "&s", &name);
	if (strcmp(name, "Connect") == 0)
		f->connect_calls++;
}

/* ---- frames ---- */

static size_t stream_frame(uint8_t *buf, uint32_t seq, uint32_t pass_seq)
{
	struct dp_stream_head head = { .seq = seq, .time_ms = 1000 * seq };
	struct dp_pass pass = {
		.seq = pass_seq, .start_ms = 900 * seq, .duration_ms = 800, .distance_mm = 40,
		.direction = DP_DIR_FORWARD, .angle_deg = 90, .mean_force_cn = 300,
		.peak_force_cn = 400, .session = 1, .zone = DP_ZONE_FOREHEAD,
		.flags = DP_PASS_END_LIFT,
	};
	struct dp_writer w;

	dp_stream_begin(&w, buf, DP_MAX_FRAME, &head);
	g_assert_cmpint(dp_put_pass(&w, &pass), ==, DP_OK);
	return dp_frame_finish(&w);
}

static size_t history_frame(uint8_t *buf)
{
	struct dp_pass pass = {
		.start_ms = 5000, .duration_ms = 700, .distance_mm = 30,
		.direction = DP_DIR_BACKWARD, .angle_deg = 10, .mean_force_cn = 250,
		.peak_force_cn = 300, .session = 2, .zone = DP_ZONE_NONE,
		.flags = DP_PASS_END_REVERSAL,
	};
	struct dp_log_end end = { .first_seq = 1, .next_seq = 3, .sent = 2 };
	struct dp_writer w;

	dp_history_begin(&w, buf, DP_MAX_FRAME);
	for (uint32_t seq = 1; seq <= 2; seq++) {
		pass.seq = seq;
		g_assert_cmpint(dp_put_pass(&w, &pass), ==, DP_OK);
	}
	g_assert_cmpint(dp_put_log_end(&w, &end), ==, DP_OK);
	return dp_frame_finish(&w);
}

/* ---- fixture ---- */

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->bus = g_dbus_connection_new_for_address_sync(g_test_dbus_get_bus_address(test_bus),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
	g_assert_no_error(error);
	f->ticker = mock_ticker_start();
	f->method_sub = g_dbus_connection_signal_subscribe(f->bus, NULL,
		"org.freedesktop.DBus.Mock", "MethodCalled", DEVICE_PATH, NULL,
		G_DBUS_SIGNAL_FLAGS_NONE, on_method_called, f, NULL);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	if (f->link) {
		link_set_handler(f->link, NULL, NULL);
		link_unref(f->link);
	}
	mock_spin();
	stop_mock(f);
	g_dbus_connection_signal_unsubscribe(f->bus, f->method_sub);
	g_source_remove(f->ticker);
	g_dbus_connection_close_sync(f->bus, NULL, NULL);
	g_clear_object(&f->bus);
	g_clear_error(&f->error);
	g_clear_error(&f->command_error);
	mock_spin();
}

static void connect_link(struct fixture *f, const char *adapter, const char *address)
{
	g_autoptr(GError) error = NULL;

	f->link = link_bluez_connect(f->bus, adapter, address, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->link);
	link_set_handler(f->link, &handler, f);
}

/* Connects to the default mock roller and waits for every subscription. */
static void connect_ok(struct fixture *f)
{
	connect_link(f, NULL, ADDRESS);
	WAIT_UNTIL(f->connected || f->error);
	g_assert_no_error(f->error);
	WAIT_UNTIL(f->error || (mock_subscribed(f, "stream") && mock_subscribed(f, "history") &&
				mock_subscribed(f, "control")));
	g_assert_no_error(f->error);
}

static void assert_lost_with(struct fixture *f, const GError *expected)
{
	WAIT_UNTIL(f->error);
	g_assert_error(f->error, LINK_ERROR, expected->code);
	g_assert_cmpstr(f->error->message, ==, expected->message);
	g_assert_false(link_is_connected(f->link));
}

static GError *dbus_error(const char *name, enum bluez_op op)
{
	g_autoptr(GError) remote = g_dbus_error_new_for_dbus_error(name, "mock failure");

	return bluez_error_from_dbus(remote, op);
}

/* ---- connect and stream ---- */

static void stream_five(struct fixture *f, const char *path)
{
	uint8_t buf[DP_MAX_FRAME];

	for (uint32_t seq = 1; seq <= 5; seq++) {
		size_t len = stream_frame(buf, seq, 10 + seq);
		g_autofree char *took = mock_notify(f, "stream", buf, len);

		g_assert_cmpstr(took, ==, path);
	}
	WAIT_UNTIL(link_counters(f->link)->stream_frames == 5);
	g_assert_cmpuint(link_counters(f->link)->passes_live, ==, 5);
	g_assert_cmpuint(link_counters(f->link)->gaps, ==, 0);
	g_assert_cmpuint(f->passes, ==, 5);
}

static void identify(struct fixture *f)
{
	struct dp_command cmd = { .opcode = DP_OP_IDENTIFY, .u.seconds = 3 };

	g_assert_cmpuint(link_command(f->link, &cmd, on_answer, f, NULL), >, 0);
	WAIT_UNTIL(f->answers == 1);
	g_assert_no_error(f->command_error);
	g_assert_cmpuint(f->rsp.opcode, ==, DP_OP_IDENTIFY);
	g_assert_cmpuint(f->rsp.result, ==, DP_RES_OK);
}

static void test_connect_acquire(struct fixture *f, gconstpointer data)
{
	static const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS,
					    "--service-data", "0201", NULL };
	const struct link_bluez_counters *bc;
	uint8_t buf[DP_MAX_FRAME];
	size_t len;
	g_autofree char *took = NULL;
	gint64 t0, t1;

	start_mock(f, args);
	t0 = g_get_monotonic_time();
	connect_ok(f);
	t1 = g_get_monotonic_time();
	g_test_message("connect to subscribed: %.1f ms", (t1 - t0) / 1000.0);
	g_assert_cmpuint(f->connect_calls, ==, 1);
	g_assert_cmpstr(f->info.serial, ==, "DR-TEST-0001");
	g_assert_cmpuint(f->info.needle_um, ==, 500);
	g_assert_cmpuint(f->info.clock_ms, ==, 123456);
	g_assert_cmpstr(link_name(f->link), ==, "DermaRoll DR-TEST-0001");
	g_assert_cmpuint(link_adv(f->link)->flags, ==, DP_ADV_LOG_PENDING);
	g_assert_cmpuint(link_adv(f->link)->proto_major, ==, 1);

	stream_five(f, "acquired");
	g_test_message("five notifications: %.1f ms", (g_get_monotonic_time() - t1) / 1000.0);
	len = history_frame(buf);
	took = mock_notify(f, "history", buf, len);
	g_assert_cmpstr(took, ==, "acquired");
	WAIT_UNTIL(f->log_ends == 1);
	g_assert_cmpuint(f->history_passes, ==, 2);
	g_assert_cmpuint(link_counters(f->link)->history_frames, ==, 1);
	identify(f);

	bc = link_bluez_counters(f->link);
	g_assert_nonnull(bc);
	g_assert_cmpuint(bc->acquired, ==, 6);
	g_assert_cmpuint(bc->properties, ==, 0);
	g_assert_cmpuint(bc->indications, ==, 1);
	g_assert_cmpuint(bc->acquired_mtu, ==, 247);

	/* Closing disconnects the roller, so it can advertise again (§9.1). */
	link_close(f->link);
	g_assert_error(f->error, LINK_ERROR, LINK_ERROR_CLOSED);
	WAIT_UNTIL(!device_connected(f));
}

static void test_connect_start_notify(struct fixture *f, gconstpointer data)
{
	static const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS,
					    "--no-acquire", NULL };
	const struct link_bluez_counters *bc;

	start_mock(f, args);
	connect_ok(f);
	g_assert_cmpuint(link_adv(f->link)->flags, ==, 0);
	stream_five(f, "property");
	identify(f);
	bc = link_bluez_counters(f->link);
	g_assert_cmpuint(bc->acquired, ==, 0);
	g_assert_cmpuint(bc->properties, ==, 5);
	g_assert_cmpuint(bc->indications, ==, 1);
	g_assert_cmpuint(bc->acquired_mtu, ==, 0);
}

/* ---- connection failures: each with its sentence ---- */

struct connect_failure {
	const char *path;
	const char *const *mock_args;        /* NULL: no bluetoothd at all */
	const char *adapter;
	const char *address;
	enum bluez_problem problem;
	const char *detail;
	const char *dbus_name;               /* instead of problem, when set */
	enum bluez_op op;
};

#define MOCK(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct connect_failure connect_failures[] = {
	{ "/bluez/errors/bluetoothd-not-running", NULL, NULL, ADDRESS,
	  BLUEZ_NOT_RUNNING, NULL, NULL, 0 },
	{ "/bluez/errors/no-adapter", MOCK("--device", ADDRESS), NULL, ADDRESS,
	  BLUEZ_NO_ADAPTER, NULL, NULL, 0 },
	{ "/bluez/errors/no-such-adapter", MOCK("--adapter", "hci0"), "hci1", ADDRESS,
	  BLUEZ_NO_SUCH_ADAPTER, "hci1", NULL, 0 },
	{ "/bluez/errors/powered-off", MOCK("--adapter", "hci0", "--power", "off"), NULL,
	  ADDRESS, BLUEZ_POWERED_OFF, NULL, NULL, 0 },
	{ "/bluez/errors/rfkill", MOCK("--adapter", "hci0", "--power", "off-blocked"), NULL,
	  ADDRESS, BLUEZ_RFKILL, NULL, NULL, 0 },
	{ "/bluez/errors/unknown-device", MOCK("--adapter", "hci0", "--device", ADDRESS),
	  "hci0", "AA:BB:CC:DD:EE:02", BLUEZ_NOT_PAIRED, "AA:BB:CC:DD:EE:02", NULL, 0 },
	{ "/bluez/errors/not-bonded",
	  MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired"), NULL, ADDRESS,
	  BLUEZ_NOT_PAIRED, ADDRESS, NULL, 0 },
	{ "/bluez/errors/connect-failed",
	  MOCK("--adapter", "hci0", "--device", ADDRESS,
	       "--connect-error", "org.bluez.Error.Failed"), NULL, ADDRESS,
	  0, NULL, "org.bluez.Error.Failed", BLUEZ_OP_CONNECT },
	{ "/bluez/errors/read-not-authorized",
	  MOCK("--adapter", "hci0", "--device", ADDRESS,
	       "--read-error", "org.bluez.Error.NotAuthorized"), NULL, ADDRESS,
	  0, NULL, "org.bluez.Error.NotAuthorized", BLUEZ_OP_READ },
	{ "/bluez/errors/small-mtu",
	  MOCK("--adapter", "hci0", "--device", ADDRESS, "--mtu", "23"), NULL, ADDRESS,
	  BLUEZ_SMALL_MTU, "23", NULL, 0 },
};

static void test_connect_failure(struct fixture *f, gconstpointer data)
{
	const struct connect_failure *c = data;
	g_autoptr(GError) expected = c->dbus_name ? dbus_error(c->dbus_name, c->op)
						  : bluez_error_new(c->problem, c->detail);

	if (c->mock_args)
		start_mock(f, c->mock_args);
	connect_link(f, c->adapter, c->address);
	assert_lost_with(f, expected);
	g_assert_false(f->connected);
}

/* connected() comes before the subscriptions are answered; an AcquireNotify
 * MTU below §2.4's minimum still ends the link. */
static void test_small_acquire_mtu(struct fixture *f, gconstpointer data)
{
	static const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS,
					    "--acquire-mtu", "50", NULL };
	g_autoptr(GError) expected = bluez_error_new(BLUEZ_SMALL_MTU, "50");

	start_mock(f, args);
	connect_link(f, NULL, ADDRESS);
	assert_lost_with(f, expected);
	g_assert_cmpuint(link_bluez_counters(f->link)->acquired_mtu, ==, 50);
}

static void test_bad_address(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) expected = bluez_error_new(BLUEZ_BAD_ADDRESS, "AA:BB:CC:DD:EE");

	g_assert_null(link_bluez_connect(f->bus, NULL, "AA:BB:CC:DD:EE", &error));
	g_assert_error(error, LINK_ERROR, LINK_ERROR_CONNECT);
	g_assert_cmpstr(error->message, ==, expected->message);
}

/* ---- losses and robustness ---- */

static void test_vanish_mid_connect(struct fixture *f, gconstpointer data)
{
	static const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS,
					    "--no-resolve", NULL };
	g_autoptr(GError) expected = bluez_error_new(BLUEZ_VANISHED, NULL);

	start_mock(f, args);
	connect_link(f, NULL, ADDRESS);
	WAIT_UNTIL(f->connect_calls == 1);
	g_variant_unref(mock_call(f, "Vanish", NULL));
	assert_lost_with(f, expected);
	g_assert_false(f->connected);
}

static void test_link_drop(struct fixture *f, gconstpointer data)
{
	static const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS, NULL };
	g_autoptr(GError) expected = bluez_error_new(BLUEZ_DISCONNECTED, NULL);

	start_mock(f, args);
	connect_ok(f);
	g_variant_unref(mock_call(f, "DropLink", NULL));
	assert_lost_with(f, expected);
}

static void test_adapter_powered_off(struct fixture *f, gconstpointer data)
{
	static const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS, NULL };
	g_autoptr(GError) expected = bluez_error_new(BLUEZ_POWERED_OFF, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	start_mock(f, args);
	connect_ok(f);
	reply = g_dbus_connection_call_sync(f->bus, "org.bluez", "/org/bluez/hci0",
		"org.freedesktop.DBus.Mock", "UpdateProperties",
		g_variant_new_parsed("(%s, {'Powered': <false>})", BLUEZ_ADAPTER_IFACE),
		NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
	g_assert_no_error(error);
	assert_lost_with(f, expected);
}

static void test_bluetoothd_restart(struct fixture *f, gconstpointer data)
{
	static const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS, NULL };
	g_autoptr(GError) expected = bluez_error_new(BLUEZ_STOPPED, NULL);

	start_mock(f, args);
	connect_ok(f);
	stop_mock(f);
	assert_lost_with(f, expected);

	/* bluetoothd is back: a new link gets through. */
	link_set_handler(f->link, NULL, NULL);
	g_clear_pointer(&f->link, link_unref);
	g_clear_error(&f->error);
	f->connected = false;
	start_mock(f, args);
	connect_ok(f);
	stream_five(f, "acquired");
}

static void test_malformed_notification(struct fixture *f, gconstpointer data)
{
	static const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS, NULL };
	static const uint8_t garbage[] = { 0x10, 0x05, 0x00 };
	uint8_t buf[DP_MAX_FRAME];
	size_t len;
	g_autofree char *a = NULL, *b = NULL;

	start_mock(f, args);
	connect_ok(f);
	a = mock_notify(f, "stream", garbage, sizeof(garbage));
	len = stream_frame(buf, 1, 1);
	b = mock_notify(f, "stream", buf, len);
	WAIT_UNTIL(link_counters(f->link)->stream_frames == 1);
	g_assert_cmpuint(link_counters(f->link)->malformed, ==, 1);
	g_assert_cmpuint(f->malformed, ==, 1);
	g_assert_cmpuint(f->passes, ==, 1);
	g_assert_true(link_is_connected(f->link));
	g_assert_null(f->error);
}

struct write_failure {
	const char *path;
	const char *mock_error;
	const char *dbus_name;               /* NULL: refused by ATT, link stays */
	const char *att_sentence;
};

static const struct write_failure write_failures[] = {
	{ "/bluez/errors/write-not-permitted", "org.bluez.Error.NotPermitted",
	  "org.bluez.Error.NotPermitted", NULL },
	{ "/bluez/errors/write-not-authorized", "org.bluez.Error.NotAuthorized",
	  "org.bluez.Error.NotAuthorized", NULL },
	{ "/bluez/errors/write-att-refused",
	  "org.bluez.Error.Failed:Operation failed with ATT error: 0xfe", NULL,
	  "The roller refused the request (Bluetooth error 0xfe). "
	  "Try pairing the roller again." },
};

static void test_write_failure(struct fixture *f, gconstpointer data)
{
	const struct write_failure *w = data;
	const char *const args[] = { "--adapter", "hci0", "--device", ADDRESS,
				     "--write-error", w->mock_error, NULL };
	struct dp_command cmd = { .opcode = DP_OP_IDENTIFY, .u.seconds = 3 };

	start_mock(f, args);
	connect_ok(f);
	g_assert_cmpuint(link_command(f->link, &cmd, on_answer, f, NULL), >, 0);
	WAIT_UNTIL(f->answers == 1);
	g_assert_nonnull(f->command_error);
	if (w->dbus_name) {
		g_autoptr(GError) expected = dbus_error(w->dbus_name, BLUEZ_OP_WRITE);

		g_assert_error(f->command_error, LINK_ERROR, LINK_ERROR_REFUSED);
		g_assert_cmpstr(f->command_error->message, ==, expected->message);
		g_assert_true(strstr(expected->message, "dermaroll pair") != NULL);
		assert_lost_with(f, expected);
	} else {
		g_assert_error(f->command_error, LINK_ERROR, LINK_ERROR_REFUSED);
		g_assert_cmpstr(f->command_error->message, ==, w->att_sentence);
		g_assert_true(link_is_connected(f->link));
		g_assert_null(f->error);
	}
}

/* ---- the error map, without a bus ---- */

struct map_case {
	const char *name;
	enum bluez_op op;
	enum link_error code;
};

static const struct map_case map_cases[] = {
	{ "org.bluez.Error.NotReady", BLUEZ_OP_CONNECT, LINK_ERROR_CONNECT },
	{ "org.bluez.Error.Failed", BLUEZ_OP_CONNECT, LINK_ERROR_CONNECT },
	{ "org.bluez.Error.Failed", BLUEZ_OP_WRITE, LINK_ERROR_REFUSED },
	{ "org.bluez.Error.InProgress", BLUEZ_OP_READ, LINK_ERROR_CONNECT },
	{ "org.bluez.Error.NotConnected", BLUEZ_OP_WRITE, LINK_ERROR_LOST },
	{ "org.bluez.Error.DoesNotExist", BLUEZ_OP_CONNECT, LINK_ERROR_CONNECT },
	{ "org.bluez.Error.NotPermitted", BLUEZ_OP_READ, LINK_ERROR_REFUSED },
	{ "org.bluez.Error.NotAuthorized", BLUEZ_OP_WRITE, LINK_ERROR_REFUSED },
	{ "org.bluez.Error.AuthenticationTimeout", BLUEZ_OP_CONNECT, LINK_ERROR_TIMEOUT },
	{ "org.bluez.Error.AuthenticationRejected", BLUEZ_OP_CONNECT, LINK_ERROR_REFUSED },
	{ "org.freedesktop.DBus.Error.ServiceUnknown", BLUEZ_OP_LOAD, LINK_ERROR_CONNECT },
	{ "org.freedesktop.DBus.Error.NoReply", BLUEZ_OP_READ, LINK_ERROR_TIMEOUT },
	{ "org.freedesktop.DBus.Error.UnknownObject", BLUEZ_OP_WRITE, LINK_ERROR_LOST },
	{ "org.freedesktop.DBus.Error.AccessDenied", BLUEZ_OP_CONNECT, LINK_ERROR_CONNECT },
	{ "org.freedesktop.DBus.Error.Disconnected", BLUEZ_OP_NOTIFY, LINK_ERROR_LOST },
	{ "com.example.Unheard.Of", BLUEZ_OP_NOTIFY, LINK_ERROR_REFUSED },
};

static void test_error_map(void)
{
	g_autoptr(GError) cancelled = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "x");
	g_autoptr(GError) timed_out = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "x");
	g_autoptr(GError) closed = NULL, timeout = NULL;
	g_autoptr(GError) not_paired = dbus_error("org.bluez.Error.NotPermitted", BLUEZ_OP_WRITE);
	g_autoptr(GError) unknown = dbus_error("com.example.Unheard.Of", BLUEZ_OP_CONNECT);

	for (size_t i = 0; i < G_N_ELEMENTS(map_cases); i++) {
		g_autoptr(GError) e = dbus_error(map_cases[i].name, map_cases[i].op);

		g_test_message("%s", map_cases[i].name);
		g_assert_error(e, LINK_ERROR, (int)map_cases[i].code);
		/* No raw D-Bus name reaches the user. */
		g_assert_null(strstr(e->message, "org."));
		g_assert_null(strstr(e->message, "mock failure"));
		g_assert_cmpuint(strlen(e->message), >, 20);
	}
	g_assert_cmpstr(not_paired->message, ==,
		"The roller refused: it no longer accepts this computer's pairing. Pair it "
		"again: hold its button until the light blinks, then run 'dermaroll pair'.");
	g_assert_cmpstr(unknown->message, ==,
		"Could not connect to the roller. Check that it is switched on and within "
		"a few metres, then try again.");
	closed = bluez_error_from_dbus(cancelled, BLUEZ_OP_READ);
	g_assert_error(closed, LINK_ERROR, LINK_ERROR_CLOSED);
	timeout = bluez_error_from_dbus(timed_out, BLUEZ_OP_READ);
	g_assert_error(timeout, LINK_ERROR, LINK_ERROR_TIMEOUT);
}

static void test_att_status(void)
{
	static const struct {
		const char *name, *message;
		uint8_t att;
	} cases[] = {
		{ "org.bluez.Error.Failed", "Operation failed with ATT error: 0x0e", 0x0e },
		{ "org.bluez.Error.Failed", "Operation failed with ATT error: 0xfd", 0xfd },
		{ "org.bluez.Error.Failed", "Operation failed", 0 },
		{ "org.bluez.Error.Failed", "Operation failed with ATT error: 0x", 0 },
		{ "org.bluez.Error.Failed", "Operation failed with ATT error: 0x1ff", 0 },
		{ "org.bluez.Error.NotPermitted", "Operation failed with ATT error: 0x03", 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) e = g_dbus_error_new_for_dbus_error(cases[i].name,
								      cases[i].message);

		g_assert_cmpuint(bluez_error_att_status(e), ==, cases[i].att);
	}
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
	g_test_add_func("/bluez/error-map", test_error_map);
	g_test_add_func("/bluez/error-map/att-status", test_att_status);
	ADD("/bluez/connect/acquire-notify", test_connect_acquire, NULL);
	ADD("/bluez/connect/start-notify-fallback", test_connect_start_notify, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(connect_failures); i++)
		ADD(connect_failures[i].path, test_connect_failure, &connect_failures[i]);
	ADD("/bluez/errors/bad-address", test_bad_address, NULL);
	ADD("/bluez/errors/small-acquire-mtu", test_small_acquire_mtu, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(write_failures); i++)
		ADD(write_failures[i].path, test_write_failure, &write_failures[i]);
	ADD("/bluez/robustness/device-vanishes-mid-connect", test_vanish_mid_connect, NULL);
	ADD("/bluez/robustness/link-drop", test_link_drop, NULL);
	ADD("/bluez/robustness/adapter-powered-off", test_adapter_powered_off, NULL);
	ADD("/bluez/robustness/bluetoothd-restart", test_bluetoothd_restart, NULL);
	ADD("/bluez/robustness/malformed-notification", test_malformed_notification, NULL);

	test_bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(test_bus);
	ret = g_test_run();
	g_test_dbus_down(test_bus);
	g_object_unref(test_bus);
	return ret;
}
