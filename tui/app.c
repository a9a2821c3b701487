/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll` (app.h): the settings, the safety policy, the history, the
 * engine behind the screens, the roller, and the main loop.
 *
 * With no option it is the real thing: the history in
 * $XDG_DATA_HOME/dermaroll/history.db and the paired roller (the one
 * recorded with a Bluetooth address, the last seen first) over BlueZ on
 * the system bus, kept connected by reconnect.h; the screens say what
 * the connection is doing, and why when the roller cannot be reached.
 * `--simulate` and `--socket PATH` use a virtual roller instead, and
 * their sessions go into the demo history, so that trying dermaroll never
 * mixes with the real history.
 */
#include <stdio.h>

#include "app.h"
#include "cmd-common.h"
#include "display.h"
#include "driver.h"
#include "pairing.h"
#include "reconnect.h"
#include "settings.h"
#include "sim.h"

/* After quitting, how long the last commits and ACKs may take. */
#define SETTLE_MS 2000

struct app {
	GMainLoop *loop;
	struct display *dp;
	struct tui *tui;
	struct store *store;
	struct settings settings;
	bool settle_timeout;
	/* The real roller. */
	GDBusConnection *bus;
	struct reconnect *rc;
	char *address;               /* of the roller reconnect.h keeps */
	char *label;                 /* its name for people */
	guint countdown;             /* redraws "trying again in N s" */
};

static void on_changed(void *data)
{
	struct app *app = data;

	if (app->dp)
		display_changed(app->dp);
}

static void on_quit(void *data)
{
	g_main_loop_quit(((struct app *)data)->loop);
}

static gboolean on_settle_timeout(gpointer data)
{
	((struct app *)data)->settle_timeout = true;
	return G_SOURCE_REMOVE;
}

/* What was rolled is stored; wait a moment for the roller's ACKs. */
static void settle(struct app *app, struct tui *tui)
{
	struct engine *e = tui_engine(tui);
	guint timer;

	tui_stop(tui);
	if (!engine_session_id(e))
		return;
	timer = g_timeout_add(SETTLE_MS, on_settle_timeout, app);
	while (!engine_sync_idle(e) && !app->settle_timeout && engine_is_connected(e))
		g_main_context_iteration(NULL, TRUE);
	if (!app->settle_timeout)
		g_source_remove(timer);
}

/* ---- Logging ---- */

/* Whether curses holds the terminal: log lines would land on the screen. */
static bool screen_up;

/* While the screens are up, g_log goes to the journal when there is one,
 * and nowhere otherwise: what the user must know reaches the screens
 * through the engine's events already. */
static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields,
				   gsize n_fields, gpointer user_data)
{
	if (!screen_up)
		return g_log_writer_default(level, fields, n_fields, user_data);
	g_log_writer_journald(level, fields, n_fields, user_data);
	return G_LOG_WRITER_HANDLED;
}

/* ---- The real roller, kept connected by reconnect.h ---- */

static void show_waiting(struct app *app)
{
	const GError *error = reconnect_error(app->rc);
	guint s = (reconnect_remaining_ms(app->rc) + 999) / 1000;
	g_autofree char *text = error ?
		g_strdup_printf("%s cannot be reached. %s Trying again in %u s.", app->label,
				error->message, s) :
		g_strdup_printf("%s cannot be reached. Trying again in %u s.", app->label, s);

	tui_set_roller_status(app->tui, true, text);
}

static gboolean on_countdown(gpointer data)
{
	struct app *app = data;

	if (reconnect_state(app->rc) != RECONNECT_WAITING) {
		app->countdown = 0;
		return G_SOURCE_REMOVE;
	}
	show_waiting(app);
	return G_SOURCE_CONTINUE;
}

static void stop_countdown(struct app *app)
{
	if (app->countdown)
		g_source_remove(app->countdown);
	app->countdown = 0;
}

static void rc_connecting(struct reconnect *rc, unsigned int attempt, void *data)
{
	struct app *app = data;
	g_autofree char *text = attempt > 1 ?
		g_strdup_printf("Connecting to %s (%s), attempt %u...", app->label, app->address,
				attempt) :
		g_strdup_printf("Connecting to %s (%s)...", app->label, app->address);

	stop_countdown(app);
	tui_set_roller_status(app->tui, false, text);
}

static void rc_connected(struct reconnect *rc, const struct dp_info *info, void *data)
{
	struct app *app = data;

	stop_countdown(app);
	tui_set_roller_info(app->tui, info);
	tui_set_roller_status(app->tui, false, NULL);
}

static void rc_waiting(struct reconnect *rc, guint delay_ms, const GError *error, void *data)
{
	struct app *app = data;

	show_waiting(app);
	if (!app->countdown)
		app->countdown = g_timeout_add_seconds(1, on_countdown, app);
}

static void rc_gave_up(struct reconnect *rc, const GError *error, void *data)
{
	struct app *app = data;
	g_autofree char *text = g_strdup_printf("%s cannot be reached. %s dermaroll stopped "
						"trying; start it again once this is fixed.",
						app->label, error->message);

	stop_countdown(app);
	tui_set_roller_status(app->tui, true, text);
}

static const struct reconnect_handler rc_handler = {
	.connecting = rc_connecting,
	.connected = rc_connected,
	.waiting = rc_waiting,
	.gave_up = rc_gave_up,
};

static struct link *make_link(void *data, GError **error)
{
	struct app *app = data;

	return link_bluez_connect(app->bus, app->settings.adapter, app->address, error);
}

static void forget_roller(struct app *app)
{
	stop_countdown(app);
	g_clear_pointer(&app->rc, reconnect_free);
	g_clear_pointer(&app->address, g_free);
	g_clear_pointer(&app->label, g_free);
}

/* Keeps the roller recorded with @r's address connected. */
static void follow_roller(struct app *app, const struct store_roller *r)
{
	forget_roller(app);
	app->address = g_strdup(r->address);
	app->label = cmd_roller_label(r);
	app->rc = reconnect_new(tui_engine(app->tui), make_link, app, NULL);
	reconnect_set_handler(app->rc, &rc_handler, app);
	reconnect_set_serial(app->rc, r->serial);
	reconnect_start(app->rc);
}

/* The paired roller: recorded with an address, the last seen first. */
static struct store_roller *paired_roller(struct store *store, GError **error)
{
	g_autoptr(GPtrArray) rollers = store_rollers(store, false, error);
	int best = -1;

	if (!rollers)
		return NULL;
	g_ptr_array_set_free_func(rollers, (GDestroyNotify)store_roller_free);
	for (guint i = 0; i < rollers->len; i++) {
		struct store_roller *r = rollers->pdata[i];

		if (r->address && (best < 0 || r->last_seen_ms >=
				   ((struct store_roller *)rollers->pdata[best])->last_seen_ms))
			best = (int)i;
	}
	return best >= 0 ? g_ptr_array_steal_index(rollers, (guint)best) : NULL;
}

static void start_bluetooth(struct app *app)
{
	g_autoptr(GError) error = NULL;
	struct store_roller *r;

	app->bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	if (!app->bus) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
				 "MESSAGE", "system bus: %s", error->message);
		tui_set_roller_status(app->tui, true,
				      "Bluetooth cannot be used: the system message bus, which it "
				      "needs, is not there. No roller can be reached; the history "
				      "is shown as it is.");
		return;
	}
	r = paired_roller(app->store, &error);
	if (!r) {
		if (error)
			tui_set_roller_status(app->tui, true, error->message);
		return;
	}
	follow_roller(app, r);
	store_roller_free(r);
}

/* The wizard paired a roller: follow it, unless one is connected. */
static void on_paired(const char *address, void *data)
{
	struct app *app = data;
	g_autoptr(GError) error = NULL;
	struct store_roller *r;

	if (!app->bus)
		return;
	if (app->rc && reconnect_state(app->rc) == RECONNECT_CONNECTED) {
		tui_set_message(app->tui, STYLE_WARN, "The roller connected now stays; the new "
				"one is used from the next start.");
		return;
	}
	r = store_roller_by_address(app->store, address, &error);
	if (!r)
		return;
	follow_roller(app, r);
	store_roller_free(r);
}

static void on_connection(bool connected, const char *message, void *data)
{
	struct app *app = data;

	if (app->rc)
		reconnect_connection(app->rc, connected, message);
}

static void on_settings_changed(void *data)
{
	struct app *app = data;

	if (app->dp)
		display_set_colours(app->dp, app->settings.colours != SETTINGS_COLOURS_OFF);
}

/* ---- The run ---- */

static struct link *open_link(const struct app_options *opts, struct store *store,
			      struct virtual_roller **roller, GError **error)
{
	struct virtual_roller_options vr;

	*roller = NULL;
	if (!opts->simulate)
		return link_socket_connect(opts->socket, error);
	virtual_roller_options_default(&vr);
	vr.autopilot = TRUE;
	vr.speed = opts->speed;
	return sim_start(store, &vr, roller, error);
}

int app_run(const struct app_options *opts)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) settings_error = NULL;
	g_autofree char *settings_path = settings_default_path();
	bool real = !opts->simulate && !opts->socket;
	struct app app = { 0 };
	struct policy *policy;
	struct virtual_roller *roller = NULL;
	struct pairing *pairing = NULL;
	struct link *link = NULL;
	struct tui_options to = { 0 };
	struct tui_hooks hooks = { 0 };
	int status = 1;

	settings_init(&app.settings);
	settings_load(&app.settings, settings_path, &settings_error);
	policy = policy_load_default(&error);
	if (!policy)
		goto fail;
	app.store = real ? cmd_open_store(NULL, true, &error) : sim_open_demo_history(&error);
	if (!app.store || !store_time_seen_bump(app.store, g_get_real_time() / 1000, NULL, &error))
		goto fail;
	if (!real) {
		link = open_link(opts, app.store, &roller, &error);
		if (!link)
			goto fail;
	}
	if (opts->simulate)
		pairing = pairing_sim_new();
	else if (real)
		pairing = pairing_bluez_new();

	app.loop = g_main_loop_new(NULL, FALSE);
	g_log_set_writer_func(log_writer, NULL, NULL);
	app.dp = display_new(on_quit, &app, &error);
	if (!app.dp)
		goto fail;
	screen_up = true;
	display_set_colours(app.dp, app.settings.colours != SETTINGS_COLOURS_OFF);
	to.policy = policy;
	to.store = app.store;
	to.clock = engine_clock_system();
	to.engine.zones = app.settings.zones;
	to.engine.auto_advance = app.settings.auto_advance;
	to.home = true;
	to.roller = roller;
	to.pairing = pairing;
	to.settings = &app.settings;
	to.settings_path = settings_path;
	hooks.changed = on_changed;
	hooks.quit = on_quit;
	hooks.connection = on_connection;
	hooks.paired = on_paired;
	hooks.settings_changed = on_settings_changed;
	hooks.user_data = &app;
	app.tui = tui_new(&to, &hooks, &error);
	if (!app.tui)
		goto fail;
	if (settings_error)
		tui_set_message(app.tui, STYLE_WARN, "%s", settings_error->message);
	if (link)
		tui_set_link(app.tui, link);
	else
		start_bluetooth(&app);
	display_attach(app.dp, app.tui);

	g_main_loop_run(app.loop);
	display_free(g_steal_pointer(&app.dp));
	screen_up = false;
	settle(&app, app.tui);
	status = 0;
	goto out;

fail:
	display_free(g_steal_pointer(&app.dp));
	screen_up = false;
	fprintf(stderr, "dermaroll: %s\n", error->message);
out:
	/* reconnect.h first: the engine keeps its link until it goes. */
	forget_roller(&app);
	tui_free(app.tui);
	pairing_free(pairing);
	if (link) {
		if (link_is_connected(link))
			link_close(link);
		link_unref(link);
	}
	if (roller)
		virtual_roller_unref(roller);
	if (app.bus) {
		g_dbus_connection_flush_sync(app.bus, NULL, NULL);
		g_object_unref(app.bus);
	}
	if (app.loop)
		g_main_loop_unref(app.loop);
	if (app.store)
		store_close(app.store);
	policy_free(policy);
	settings_clear(&app.settings);
	return status;
}
