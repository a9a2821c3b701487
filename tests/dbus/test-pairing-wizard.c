/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pairing wizard's BlueZ implementation (tui/pairing-bluez.c) against
 * the stand-in bluetoothd (mock-bluez.py, as it is) on a private bus that
 * stands for the system bus: each problem sorted into the kind the wizard
 * has a screen for, power on by consent, the list of rollers as discovery
 * finds them, pairing with the agent's question, and INFO read over the
 * bond.
 */
#include <string.h>

#include <gio/gio.h>

#include "dp/codec.h"
#include "mock-client.h"
#include "pairing.h"

#define ADDRESS "AA:BB:CC:DD:EE:01"
#define WAIT_S 15

static GTestDBus *test_bus;

struct fixture {
	GSubprocess *mock;
	struct pairing *p;
	guint ticker;
	/* What came, by kind. */
	unsigned int events[PAIRING_EVENT_INFO + 1];
	enum pairing_problem problem;        /* of the last CHECKED/POWERED/PAIRED/INFO/SCAN_FAILED */
	char *message;
	struct pairing_roller rollers[4];    /* by the last digit of the address */
	bool lost[4];
	enum pairing_ask ask;
	uint32_t passkey;
	int answer;                          /* to a question: 1 yes, -1 no */
	struct dp_info info;
};

#define WAIT_UNTIL(cond) MOCK_WAIT_UNTIL(WAIT_S, cond)

static char *info_hex(void)
{
	return mock_info_hex("DR-WIZ-0001", 750, 4, "H-9");
}

static void start_mock(struct fixture *f, const char *const *args)
{
	f->mock = mock_bluez_start(args);
}

static void on_event(struct pairing *p, const struct pairing_event *ev, void *data)
{
	struct fixture *f = data;
	unsigned int slot;

	f->events[ev->kind]++;
	switch (ev->kind) {
	case PAIRING_EVENT_FOUND:
	case PAIRING_EVENT_CHANGED:
	case PAIRING_EVENT_LOST:
		slot = (unsigned int)(ev->roller->address[16] - '0');
		g_assert_cmpuint(slot, <, G_N_ELEMENTS(f->rollers));
		f->rollers[slot] = *ev->roller;
		f->lost[slot] = ev->kind == PAIRING_EVENT_LOST;
		return;
	case PAIRING_EVENT_ASK:
		f->ask = ev->ask;
		f->passkey = ev->passkey;
		if (f->answer && ev->ask != PAIRING_ASK_SHOW)
			pairing_reply(p, f->answer > 0, 0);
		return;
	case PAIRING_EVENT_INFO:
		if (ev->info)
			f->info = *ev->info;
		break;
	default:
		break;
	}
	f->problem = ev->problem;
	g_free(f->message);
	f->message = g_strdup(ev->message);
	/* A problem always comes with its sentence. */
	g_assert_true((ev->problem == PAIRING_OK) == (ev->message == NULL));
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	f->ticker = mock_ticker_start();
	f->p = pairing_bluez_new();
	pairing_set_func(f->p, on_event, f);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	pairing_free(f->p);
	for (int i = 0; i < 20; i++)
		while (g_main_context_iteration(NULL, FALSE))
			;
	mock_bluez_stop(&f->mock);
	g_source_remove(f->ticker);
	g_free(f->message);
}

#define MOCK(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void check(struct fixture *f)
{
	unsigned int before = f->events[PAIRING_EVENT_CHECKED];

	pairing_check(f->p);
	WAIT_UNTIL(f->events[PAIRING_EVENT_CHECKED] > before);
}

/* ---- Is Bluetooth usable? ---- */

static const struct check_case {
	const char *path;
	const char *const *mock;     /* NULL: no bluetoothd */
	const char *adapter;
	enum pairing_problem problem;
	const char *says;
} checks[] = {
	{ "/pairing-wizard/check/ok", MOCK("--adapter", "hci0"), NULL, PAIRING_OK, NULL },
	{ "/pairing-wizard/check/not-running", NULL, NULL, PAIRING_NOT_RUNNING, "bluetoothd" },
	{ "/pairing-wizard/check/no-adapter", MOCK("--device", ADDRESS), NULL,
	  PAIRING_NO_ADAPTER, "No Bluetooth adapter" },
	{ "/pairing-wizard/check/no-such-adapter", MOCK("--adapter", "hci0"), "hci3",
	  PAIRING_NO_ADAPTER, "hci3" },
	{ "/pairing-wizard/check/off", MOCK("--adapter", "hci0", "--power", "off"), NULL,
	  PAIRING_OFF, "Bluetooth is off" },
	{ "/pairing-wizard/check/rfkill", MOCK("--adapter", "hci0", "--power", "off-blocked"),
	  NULL, PAIRING_RFKILL, "rfkill" },
};

static void test_check(struct fixture *f, gconstpointer data)
{
	const struct check_case *c = data;

	if (c->mock)
		start_mock(f, c->mock);
	pairing_set_adapter(f->p, c->adapter);
	check(f);
	g_assert_cmpint(f->problem, ==, c->problem);
	if (c->says)
		g_assert_nonnull(strstr(f->message, c->says));
	/* Asked again, the same answer, from the model already loaded. */
	check(f);
	g_assert_cmpint(f->problem, ==, c->problem);
	g_assert_cmpuint(f->events[PAIRING_EVENT_CHECKED], ==, 2);
}

/* Off: turned on only when asked to, and usable afterwards. */
static void test_power_on(struct fixture *f, gconstpointer data)
{
	start_mock(f, MOCK("--adapter", "hci0", "--power", "off"));
	check(f);
	g_assert_cmpint(f->problem, ==, PAIRING_OFF);
	pairing_power_on(f->p);
	WAIT_UNTIL(f->events[PAIRING_EVENT_POWERED] == 1);
	g_assert_cmpint(f->problem, ==, PAIRING_OK);
	check(f);
	g_assert_cmpint(f->problem, ==, PAIRING_OK);
}

/* ---- The list ---- */

static void test_scan(struct fixture *f, gconstpointer data)
{
	start_mock(f, MOCK("--adapter", "hci0",
			   "--advertise", "AA:BB:CC:DD:EE:02,0101,-52",
			   "--advertise", "AA:BB:CC:DD:EE:03,0001,-70",
			   "--advertise", "AA:BB:CC:DD:EE:01,0102,-60",
			   "--later", "AA:BB:CC:DD:EE:03,0101,-58"));
	check(f);
	g_assert_cmpint(f->problem, ==, PAIRING_OK);
	pairing_scan_start(f->p);
	WAIT_UNTIL(f->events[PAIRING_EVENT_FOUND] == 3);
	g_assert_true(f->rollers[2].pairing);
	g_assert_false(f->rollers[2].newer);
	g_assert_cmpint(f->rollers[2].rssi, ==, -52);
	g_assert_cmpstr(f->rollers[2].address, ==, "AA:BB:CC:DD:EE:02");
	g_assert_true(f->rollers[1].newer);
	/* The roller not in pairing mode enters it: the list follows. */
	WAIT_UNTIL(f->rollers[3].pairing);
	g_assert_cmpint(f->rollers[3].rssi, ==, -58);
	g_assert_cmpuint(f->events[PAIRING_EVENT_CHANGED], >=, 1);
	g_assert_cmpuint(f->events[PAIRING_EVENT_SCAN_FAILED], ==, 0);
	pairing_scan_stop(f->p);
}

static void test_scan_off(struct fixture *f, gconstpointer data)
{
	start_mock(f, MOCK("--adapter", "hci0", "--power", "off"));
	check(f);
	pairing_scan_start(f->p);
	WAIT_UNTIL(f->events[PAIRING_EVENT_SCAN_FAILED] == 1);
	g_assert_cmpint(f->problem, ==, PAIRING_OFF);
}

/* ---- Pairing ---- */

/* Paired, then its INFO read over the bond. */
static void test_pair_and_info(struct fixture *f, gconstpointer data)
{
	g_autofree char *info = info_hex();

	start_mock(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
			   "--adv-data", "0101", "--info", info));
	check(f);
	pairing_pair(f->p, ADDRESS);
	WAIT_UNTIL(f->events[PAIRING_EVENT_PAIRED] == 1);
	g_assert_cmpint(f->problem, ==, PAIRING_OK);
	pairing_read_info(f->p, ADDRESS);
	WAIT_UNTIL(f->events[PAIRING_EVENT_INFO] == 1);
	g_assert_cmpint(f->problem, ==, PAIRING_OK);
	g_assert_cmpstr(f->info.serial, ==, "DR-WIZ-0001");
	g_assert_cmpstr(f->info.head_serial, ==, "H-9");
	g_assert_cmpuint(f->info.needle_um, ==, 750);
}

/* A number to confirm, answered by the user. */
static void test_pair_confirm(struct fixture *f, gconstpointer data)
{
	const int answer = GPOINTER_TO_INT(data);

	start_mock(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
			   "--adv-data", "0101", "--pair-ask", "confirm:123456"));
	f->answer = answer;
	check(f);
	pairing_pair(f->p, ADDRESS);
	WAIT_UNTIL(f->events[PAIRING_EVENT_PAIRED] == 1);
	g_assert_cmpuint(f->events[PAIRING_EVENT_ASK], ==, 1);
	g_assert_cmpint(f->ask, ==, PAIRING_ASK_CONFIRM);
	g_assert_cmpuint(f->passkey, ==, 123456);
	g_assert_cmpint(f->problem, ==, answer > 0 ? PAIRING_OK : PAIRING_REFUSED);
}

static const struct refusal {
	const char *path;
	const char *const *mock;
	enum pairing_problem problem;
	const char *says;
} refusals[] = {
	{ "/pairing-wizard/pair/not-pairing",
	  MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired", "--adv-data", "0001"),
	  PAIRING_NOT_PAIRING, "not in pairing mode" },
	{ "/pairing-wizard/pair/newer",
	  MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired", "--adv-data", "0102"),
	  PAIRING_NEWER, "newer protocol (version 2)" },
	{ "/pairing-wizard/pair/rejected",
	  MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired", "--adv-data", "0101",
	       "--pair-error", "org.bluez.Error.AuthenticationRejected"),
	  PAIRING_REFUSED, "rejected" },
	{ "/pairing-wizard/pair/unknown", MOCK("--adapter", "hci0"), PAIRING_FAILED,
	  "No roller " ADDRESS },
};

static void test_pair_refused(struct fixture *f, gconstpointer data)
{
	const struct refusal *r = data;

	start_mock(f, r->mock);
	check(f);
	pairing_pair(f->p, ADDRESS);
	WAIT_UNTIL(f->events[PAIRING_EVENT_PAIRED] == 1);
	g_assert_cmpint(f->problem, ==, r->problem);
	g_assert_nonnull(strstr(f->message, r->says));
}

/* INFO of a roller that is not bonded cannot be read. */
static void test_info_unbonded(struct fixture *f, gconstpointer data)
{
	start_mock(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired"));
	check(f);
	pairing_read_info(f->p, ADDRESS);
	WAIT_UNTIL(f->events[PAIRING_EVENT_INFO] == 1);
	g_assert_cmpint(f->problem, ==, PAIRING_INFO_FAILED);
	g_assert_nonnull(strstr(f->message, "The roller is paired, but its details"));
}

/* Freed while pairing waits for an answer: nothing comes afterwards. */
static void test_cancel(struct fixture *f, gconstpointer data)
{
	start_mock(f, MOCK("--adapter", "hci0", "--device", ADDRESS, "--unpaired",
			   "--adv-data", "0101", "--pair-ask", "confirm:000042"));
	check(f);
	pairing_pair(f->p, ADDRESS);
	WAIT_UNTIL(f->events[PAIRING_EVENT_ASK] == 1);
	pairing_cancel(f->p);
	pairing_scan_stop(f->p);
	g_assert_cmpuint(f->events[PAIRING_EVENT_PAIRED], ==, 0);
}

int main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	test_bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(test_bus);
	/* The wizard reaches bluetoothd on the system bus: this one. */
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address(test_bus), TRUE);
#define ADD(path, fn, data) \
	g_test_add(path, struct fixture, data, fixture_setup, fn, fixture_teardown)
	for (size_t i = 0; i < G_N_ELEMENTS(checks); i++)
		ADD(checks[i].path, test_check, &checks[i]);
	ADD("/pairing-wizard/power-on", test_power_on, NULL);
	ADD("/pairing-wizard/scan/list", test_scan, NULL);
	ADD("/pairing-wizard/scan/off", test_scan_off, NULL);
	ADD("/pairing-wizard/pair/and-info", test_pair_and_info, NULL);
	ADD("/pairing-wizard/pair/confirm-yes", test_pair_confirm, GINT_TO_POINTER(1));
	ADD("/pairing-wizard/pair/confirm-no", test_pair_confirm, GINT_TO_POINTER(-1));
	for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++)
		ADD(refusals[i].path, test_pair_refused, &refusals[i]);
	ADD("/pairing-wizard/info/unbonded", test_info_unbonded, NULL);
	ADD("/pairing-wizard/cancel", test_cancel, NULL);
#undef ADD
	status = g_test_run();
	g_test_dbus_down(test_bus);
	return status;
}
