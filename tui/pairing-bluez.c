/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pairing interface on BlueZ (pairing.h): the model of org.bluez,
 * discovery, Pair() with the agent, and INFO read over link-bluez.c, all
 * from host/bluez.h.  Problems are sorted from what the model says of
 * bluetoothd and the adapter; every sentence is bluez-error.c's.
 */
#include <string.h>

#include "bluez.h"
#include "pair-steps.h"
#include "pairing.h"

struct pairing_bluez;

/* A call that cannot be cancelled holds one of these: the pairing may be
 * gone by the time it answers. */
struct token {
	struct pairing_bluez *pb;
};

struct pairing_bluez {
	struct pairing base;
	struct token *bus_wait;
	GCancellable *cancellable;
	GDBusConnection *bus;
	struct bluez *bluez;         /* loading until ready */
	bool ready;
	bool check_wanted;           /* a check waits for the model */
	struct bluez_scan *scan;
	struct bluez_pair *pair;
	struct token *power;
	struct pair_info_read *info;
};

static struct token *token_new(struct pairing_bluez *pb)
{
	struct token *t = g_new0(struct token, 1);

	t->pb = pb;
	return t;
}

static void token_free(gpointer data)
{
	g_free(data);
}

/* ---- What is wrong with Bluetooth ---- */

/* The kind of problem the adapter has now; PAIRING_OK if none.  @error
 * gets the sentence.  The kind is read from which of bluez-error.c's
 * sentences bluez_find_adapter() chose, so that nothing here reads
 * org.bluez itself. */
static enum pairing_problem diagnose(struct pairing_bluez *pb, GError **error)
{
	static const struct {
		enum bluez_problem problem;
		enum pairing_problem kind;
	} kinds[] = {
		{ BLUEZ_NOT_RUNNING, PAIRING_NOT_RUNNING },
		{ BLUEZ_NO_ADAPTER, PAIRING_NO_ADAPTER },
		{ BLUEZ_NO_SUCH_ADAPTER, PAIRING_NO_ADAPTER },
		{ BLUEZ_POWERED_OFF, PAIRING_OFF },
		{ BLUEZ_RFKILL, PAIRING_RFKILL },
	};
	const char *adapter = pb->base.adapter;
	g_autoptr(GDBusProxy) proxy = NULL;

	if (!bluez_running(pb->bluez)) {
		*error = bluez_error_new(BLUEZ_NOT_RUNNING, NULL);
		return PAIRING_NOT_RUNNING;
	}
	/* Off, and not blocked: the one case the user may switch it on. */
	if (bluez_adapter_is_off(pb->bluez, adapter)) {
		*error = bluez_error_new(BLUEZ_POWERED_OFF, NULL);
		return PAIRING_OFF;
	}
	proxy = bluez_find_adapter(pb->bluez, adapter, error);
	if (proxy)
		return PAIRING_OK;
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		g_autoptr(GError) e = bluez_error_new(kinds[i].problem, adapter);

		if (strcmp(e->message, (*error)->message) == 0)
			return kinds[i].kind;
	}
	return PAIRING_FAILED;
}

static void emit_diagnosis(struct pairing_bluez *pb, enum pairing_event_kind kind)
{
	g_autoptr(GError) error = NULL;
	enum pairing_problem problem = diagnose(pb, &error);

	pairing_emit_problem(&pb->base, kind, problem, error ? error->message : NULL);
}

/* ---- The bus and the model ---- */

static void on_model(struct bluez *bluez, const GError *error, void *data)
{
	struct pairing_bluez *pb = data;

	pb->ready = !error;
	if (error) {
		g_clear_pointer(&pb->bluez, bluez_unref);
		if (pb->check_wanted) {
			pb->check_wanted = false;
			pairing_emit_problem(&pb->base, PAIRING_EVENT_CHECKED, PAIRING_FAILED,
					     error->message);
		}
		return;
	}
	if (pb->check_wanted) {
		pb->check_wanted = false;
		emit_diagnosis(pb, PAIRING_EVENT_CHECKED);
	}
}

static void on_bus(GObject *source, GAsyncResult *result, gpointer data)
{
	struct token *t = data;
	struct pairing_bluez *pb = t->pb;
	g_autoptr(GError) error = NULL;
	GDBusConnection *bus = g_bus_get_finish(result, &error);

	g_free(t);
	if (!pb) {
		g_clear_object(&bus);
		return;
	}
	pb->bus_wait = NULL;
	if (!bus) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
				 "MESSAGE", "system bus: %s", error->message);
		pb->check_wanted = false;
		pairing_emit_problem(&pb->base, PAIRING_EVENT_CHECKED, PAIRING_NO_BUS,
				     "The system message bus, which Bluetooth needs, cannot be "
				     "reached. Check that D-Bus is running (it normally always is).");
		return;
	}
	pb->bus = bus;
	pb->bluez = bluez_new(bus, on_model, pb, NULL);
}

static void check(struct pairing *p)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;

	if (pb->ready) {
		emit_diagnosis(pb, PAIRING_EVENT_CHECKED);
		return;
	}
	pb->check_wanted = true;
	if (pb->bus_wait)
		return;
	if (pb->bus) {
		if (!pb->bluez)
			pb->bluez = bluez_new(pb->bus, on_model, pb, NULL);
		return;
	}
	pb->bus_wait = token_new(pb);
	g_bus_get(G_BUS_TYPE_SYSTEM, pb->cancellable, on_bus, pb->bus_wait);
}

static bool need_model(struct pairing_bluez *pb, enum pairing_event_kind kind)
{
	if (pb->ready)
		return true;
	pairing_emit_problem(&pb->base, kind, PAIRING_FAILED,
			     "Bluetooth is not ready yet. Try again in a moment.");
	return false;
}

/* ---- Power ---- */

static void on_power(const GError *error, void *data)
{
	struct token *t = data;
	struct pairing_bluez *pb = t->pb;

	if (!pb)
		return;
	pb->power = NULL;
	t->pb = NULL;
	if (error)
		pairing_emit_problem(&pb->base, PAIRING_EVENT_POWERED, PAIRING_FAILED,
				     error->message);
	else
		pairing_emit_problem(&pb->base, PAIRING_EVENT_POWERED, PAIRING_OK, NULL);
}

static void power_on(struct pairing *p)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;
	struct token *t;

	if (!need_model(pb, PAIRING_EVENT_POWERED) || pb->power)
		return;
	t = token_new(pb);
	if (!bluez_power_on(pb->bluez, p->adapter, on_power, t, token_free)) {
		g_free(t);
		emit_diagnosis(pb, PAIRING_EVENT_POWERED);
		return;
	}
	pb->power = t;
}

/* ---- Scanning ---- */

static void to_roller(const struct bluez_roller *b, struct pairing_roller *r)
{
	memset(r, 0, sizeof(*r));
	g_strlcpy(r->address, b->address, sizeof(r->address));
	g_strlcpy(r->name, b->name, sizeof(r->name));
	r->rssi = b->rssi == BLUEZ_RSSI_UNKNOWN ? PAIRING_RSSI_UNKNOWN : b->rssi;
	r->pairing = b->pairing;
	r->bonded = b->bonded;
	r->newer = b->adv.proto_major > DP_PROTO_MAJOR;
}

static void on_scan(struct bluez_scan *scan, enum bluez_scan_event event,
		    const struct bluez_roller *roller, const GError *error, void *data)
{
	struct pairing_bluez *pb = data;
	struct pairing_event ev = { 0 };
	struct pairing_roller r;
	g_autoptr(GError) why = NULL;

	switch (event) {
	case BLUEZ_SCAN_STARTED:
		return;
	case BLUEZ_SCAN_FOUND:
		ev.kind = PAIRING_EVENT_FOUND;
		break;
	case BLUEZ_SCAN_CHANGED:
		ev.kind = PAIRING_EVENT_CHANGED;
		break;
	case BLUEZ_SCAN_LOST:
		ev.kind = PAIRING_EVENT_LOST;
		break;
	case BLUEZ_SCAN_FAILED:
		pb->scan = NULL;
		bluez_scan_stop(scan);
		ev.kind = PAIRING_EVENT_SCAN_FAILED;
		ev.problem = diagnose(pb, &why);
		if (ev.problem == PAIRING_OK)
			ev.problem = PAIRING_FAILED;
		ev.message = ev.problem == PAIRING_FAILED || !why ? error->message : why->message;
		pairing_emit(&pb->base, &ev);
		return;
	}
	to_roller(roller, &r);
	ev.roller = &r;
	pairing_emit(&pb->base, &ev);
}

static void scan_stop(struct pairing *p)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;

	if (pb->scan)
		bluez_scan_stop(g_steal_pointer(&pb->scan));
}

static void scan_start(struct pairing *p)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;
	g_autoptr(GError) error = NULL;

	scan_stop(p);
	if (!need_model(pb, PAIRING_EVENT_SCAN_FAILED))
		return;
	pb->scan = bluez_scan_start(pb->bluez, p->adapter, 0, on_scan, pb, NULL, &error);
	if (!pb->scan) {
		struct pairing_event ev = { .kind = PAIRING_EVENT_SCAN_FAILED };
		g_autoptr(GError) why = NULL;

		ev.problem = diagnose(pb, &why);
		if (ev.problem == PAIRING_OK)
			ev.problem = PAIRING_FAILED;
		ev.message = ev.problem == PAIRING_FAILED || !why ? error->message : why->message;
		pairing_emit(&pb->base, &ev);
	}
}

/* ---- Pairing ---- */

static void on_ask(struct bluez_pair *pair, enum bluez_agent_ask ask, uint32_t passkey,
		   void *data)
{
	struct pairing_bluez *pb = data;
	struct pairing_event ev = { .kind = PAIRING_EVENT_ASK, .passkey = passkey };

	/* Just Works: the user confirmed this roller before Pair() began. */
	if (ask == BLUEZ_ASK_AUTHORIZE) {
		bluez_pair_reply(pair, true, 0);
		return;
	}
	switch (ask) {
	case BLUEZ_ASK_CONFIRM:
		ev.ask = PAIRING_ASK_CONFIRM;
		break;
	case BLUEZ_ASK_PASSKEY:
		ev.ask = PAIRING_ASK_PASSKEY;
		break;
	case BLUEZ_ASK_SHOW:
		ev.ask = PAIRING_ASK_SHOW;
		break;
	default:
		ev.ask = PAIRING_ASK_CANCELLED;
		break;
	}
	pairing_emit(&pb->base, &ev);
}

static void on_paired(struct bluez_pair *pair, const GError *error, void *data)
{
	struct pairing_bluez *pb = data;
	struct pairing_event ev = { .kind = PAIRING_EVENT_PAIRED };

	ev.was_bonded = bluez_pair_was_bonded(pair);
	pb->pair = NULL;
	bluez_pair_free(pair);
	if (error) {
		ev.problem = PAIRING_REFUSED;
		ev.message = error->message;
	}
	pairing_emit(&pb->base, &ev);
}

static void pair(struct pairing *p, const char *address)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;
	static const struct bluez_pair_handler handler = { .ask = on_ask, .done = on_paired };
	g_autoptr(GError) error = NULL;
	g_autofree char *major = NULL;
	struct bluez_roller roller;

	if (!need_model(pb, PAIRING_EVENT_PAIRED) || pb->pair)
		return;
	if (!bluez_roller_lookup(pb->bluez, p->adapter, address, &roller)) {
		error = bluez_error_new(BLUEZ_NOT_FOUND, address);
		pairing_emit_problem(p, PAIRING_EVENT_PAIRED, PAIRING_FAILED, error->message);
		return;
	}
	if (roller.adv.proto_major > DP_PROTO_MAJOR) {
		major = g_strdup_printf("%u", roller.adv.proto_major);
		error = bluez_error_new(BLUEZ_NEWER_ROLLER, major);
		pairing_emit_problem(p, PAIRING_EVENT_PAIRED, PAIRING_NEWER, error->message);
		return;
	}
	if (!roller.pairing && !roller.bonded) {
		error = bluez_error_new(BLUEZ_NOT_PAIRING, address);
		pairing_emit_problem(p, PAIRING_EVENT_PAIRED, PAIRING_NOT_PAIRING, error->message);
		return;
	}
	pb->pair = bluez_pair_start(pb->bluez, p->adapter, address, &handler, pb, NULL, &error);
	if (!pb->pair)
		pairing_emit_problem(p, PAIRING_EVENT_PAIRED, PAIRING_REFUSED, error->message);
}

static void reply(struct pairing *p, bool accept, uint32_t passkey)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;

	if (pb->pair)
		bluez_pair_reply(pb->pair, accept, passkey);
}

/* ---- INFO over the bond ---- */

static void on_info(const struct dp_info *info, const char *name, const GError *error,
		    void *data)
{
	struct pairing_bluez *pb = data;
	struct pairing_event ev = { .kind = PAIRING_EVENT_INFO, .info = info };
	g_autofree char *message = NULL;

	pb->info = NULL;
	if (!info) {
		message = g_strdup_printf("The roller is paired, but its details could not be "
					  "read, so it is not in the history yet. %s",
					  error->message);
		ev.problem = PAIRING_INFO_FAILED;
		ev.message = message;
	}
	pairing_emit(&pb->base, &ev);
}

static void read_info(struct pairing *p, const char *address)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;
	g_autoptr(GError) error = NULL;
	struct link *link;

	if (!need_model(pb, PAIRING_EVENT_INFO) || pb->info)
		return;
	link = link_bluez_connect(pb->bus, p->adapter, address, &error);
	if (!link) {
		pairing_emit_problem(p, PAIRING_EVENT_INFO, PAIRING_INFO_FAILED, error->message);
		return;
	}
	pb->info = pair_info_read_start(link, PAIR_INFO_TIMEOUT_MS, on_info, pb);
	link_unref(link);
}

static void cancel(struct pairing *p)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;

	g_clear_pointer(&pb->pair, bluez_pair_free);
	g_clear_pointer(&pb->info, pair_info_read_cancel);
}

static void pairing_bluez_free(struct pairing *p)
{
	struct pairing_bluez *pb = (struct pairing_bluez *)p;

	cancel(p);
	scan_stop(p);
	if (pb->power)
		pb->power->pb = NULL;
	if (pb->bus_wait)
		pb->bus_wait->pb = NULL;
	g_cancellable_cancel(pb->cancellable);
	g_object_unref(pb->cancellable);
	if (pb->bluez)
		bluez_unref(pb->bluez);
	if (pb->bus) {
		g_dbus_connection_flush_sync(pb->bus, NULL, NULL);
		g_object_unref(pb->bus);
	}
	g_free(pb);
}

static const struct pairing_ops bluez_ops = {
	.check = check,
	.power_on = power_on,
	.scan_start = scan_start,
	.scan_stop = scan_stop,
	.pair = pair,
	.reply = reply,
	.read_info = read_info,
	.cancel = cancel,
	.free = pairing_bluez_free,
};

struct pairing *pairing_bluez_new(void)
{
	struct pairing_bluez *pb = g_new0(struct pairing_bluez, 1);

	pairing_init(&pb->base, &bluez_ops);
	pb->cancellable = g_cancellable_new();
	return &pb->base;
}
