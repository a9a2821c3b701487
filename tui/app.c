/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll --simulate` and `dermaroll --socket PATH` (app.h): the safety
 * policy, the history, the engine behind the screens, the roller, and the
 * main loop.  A virtual roller's sessions go into the demo history, so
 * that trying dermaroll never mixes with the real history.
 */
#include <stdio.h>

#include "app.h"
#include "display.h"
#include "driver.h"
#include "sim.h"

/* After quitting, how long the last commits and ACKs may take. */
#define SETTLE_MS 2000

struct app {
	GMainLoop *loop;
	struct display *dp;
	bool settle_timeout;
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
	struct app app = { 0 };
	struct policy *policy;
	struct store *store = NULL;
	struct virtual_roller *roller = NULL;
	struct tui *tui = NULL;
	struct link *link = NULL;
	struct tui_options to = { 0 };
	struct tui_hooks hooks = { 0 };
	int status = 1;

	policy = policy_load_default(&error);
	if (!policy)
		goto fail;
	store = sim_open_demo_history(&error);
	if (!store || !store_time_seen_bump(store, g_get_real_time() / 1000, NULL, &error))
		goto fail;
	link = open_link(opts, store, &roller, &error);
	if (!link)
		goto fail;

	app.loop = g_main_loop_new(NULL, FALSE);
	app.dp = display_new(on_quit, &app, &error);
	if (!app.dp)
		goto fail;
	to.policy = policy;
	to.store = store;
	to.clock = engine_clock_system();
	to.engine.auto_advance = true;
	to.home = true;
	to.roller = roller;
	hooks.changed = on_changed;
	hooks.quit = on_quit;
	hooks.user_data = &app;
	tui = tui_new(&to, &hooks, &error);
	if (!tui)
		goto fail;
	tui_set_link(tui, link);
	display_attach(app.dp, tui);

	g_main_loop_run(app.loop);
	display_free(g_steal_pointer(&app.dp));
	settle(&app, tui);
	status = 0;
	goto out;

fail:
	display_free(g_steal_pointer(&app.dp));
	fprintf(stderr, "dermaroll: %s\n", error->message);
out:
	tui_free(tui);
	if (link) {
		if (link_is_connected(link))
			link_close(link);
		link_unref(link);
	}
	if (roller)
		virtual_roller_unref(roller);
	if (app.loop)
		g_main_loop_unref(app.loop);
	if (store)
		store_close(store);
	policy_free(policy);
	return status;
}
