/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * link-host: a headless dermaroll host for the fault test.  It runs one
 * routine with the engine and the store against a roller on a socket:
 * connects (and reconnects whenever the link drops), syncs, answers the
 * checklist, overrides every lock an override may pass, and exits 0 once
 * the session is stored and every pass is acked.  The fault test kills it
 * with SIGKILL at random points and starts it again.
 *
 * It prints one marker line per step on stdout (line-buffered), which is
 * how the test knows where it killed it:
 *   connect          the link is up: offline sync running
 *   synced US        the connect-time sync is done, US µs after connect
 *   state NAME       the engine's state changed
 *   done N NEW DUP   finished: N passes counted, NEW stored, DUP duplicates
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "engine.h"

#define OVERRIDE_REASON "Fault test: simulated roller, the head and interval are not real"
#define RETRY_MS 20

struct host {
	GMainLoop *loop;
	struct engine *engine;
	struct policy *policy;
	const char *socket_path;
	guint retry;
	gint64 connected_at;
	int status;
};

static void connect_roller(struct host *h);

static gboolean retry_connect(gpointer data)
{
	struct host *h = data;

	h->retry = 0;
	connect_roller(h);
	return G_SOURCE_REMOVE;
}

static void connect_roller(struct host *h)
{
	g_autoptr(GError) error = NULL;
	struct link *link = link_socket_connect(h->socket_path, &error);

	if (!link) {
		h->retry = g_timeout_add(RETRY_MS, retry_connect, h);
		return;
	}
	h->connected_at = g_get_monotonic_time();
	printf("connect\n");
	engine_set_link(h->engine, link);
	link_unref(link);
}

static gboolean check_done(gpointer data)
{
	struct host *h = data;
	const struct dp_status *st = engine_roller_status(h->engine);
	const struct sync_stats *ss = engine_sync_stats(h->engine);
	unsigned int counted = 0;

	if (engine_state(h->engine) != ENGINE_STATE_FINISHED ||
	    !engine_sync_idle(h->engine) || !st || st->state != DP_STATE_IDLE ||
	    st->log_count != 0)
		return G_SOURCE_CONTINUE;
	for (int z = 1; z <= ZONE_COUNT; z++)
		counted += engine_zone_counts(h->engine, z)->total;
	printf("done %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n", counted,
	       ss->passes_new, ss->passes_duplicate);
	g_main_loop_quit(h->loop);
	return G_SOURCE_REMOVE;
}

static void on_state(struct engine *e, enum engine_state state, void *data)
{
	struct host *h = data;
	g_autoptr(GError) error = NULL;

	printf("state %s\n", engine_state_name(state));
	switch (state) {
	case ENGINE_STATE_ZONE_LOCKED:
		/* Head wear and intervals lock zones after the first lives:
		 * pass them the way a user would, with a reason. */
		if (!engine_override(e, OVERRIDE_REASON, &error)) {
			g_clear_error(&error);
			if (!engine_skip_zone(e, &error)) {
				g_printerr("link-host: %s\n", error->message);
				h->status = 1;
				g_main_loop_quit(h->loop);
			}
		}
		break;
	case ENGINE_STATE_AFTERCARE:
		if (!engine_finish(e, &error)) {
			g_printerr("link-host: %s\n", error->message);
			h->status = 1;
			g_main_loop_quit(h->loop);
		}
		break;
	default:
		break;
	}
}

static void on_connection(struct engine *e, bool connected, const char *message, void *data)
{
	struct host *h = data;

	if (connected) {
		printf("synced %" G_GINT64_FORMAT "\n", g_get_monotonic_time() - h->connected_at);
		return;
	}
	printf("disconnected\n");
	if (!h->retry)
		h->retry = g_timeout_add(RETRY_MS, retry_connect, h);
}

static void on_warning(struct engine *e, const struct engine_warning *w, void *data)
{
	if (w->kind == ENGINE_WARNING_STORE)
		g_printerr("link-host: %s\n", w->message);
}

static const struct engine_handler handler = {
	.state_changed = on_state,
	.connection = on_connection,
	.warning = on_warning,
};

int main(int argc, char **argv)
{
	g_autofree char *db = NULL, *sock = NULL;
	g_autoptr(GOptionContext) ctx = NULL;
	g_autoptr(GError) error = NULL;
	struct engine_options opts = { .auto_advance = true };
	struct host h = { 0 };
	struct store *store;
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "History database", "PATH" },
		{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &sock, "Roller socket", "PATH" },
		G_OPTION_ENTRY_NULL,
	};

	setlocale(LC_ALL, "");
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctx = g_option_context_new("- a headless host for the fault test");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || !db || !sock) {
		g_printerr("link-host: %s\n", error ? error->message : "--db and --socket are needed");
		return 2;
	}
	store = store_open(db, STORE_OPEN_CREATE, &error);
	if (!store) {
		g_printerr("link-host: %s\n", error->message);
		return 1;
	}
	h.policy = policy_load_default(&error);
	if (!h.policy) {
		g_printerr("link-host: %s\n", error->message);
		store_close(store);
		return 1;
	}
	h.socket_path = sock;
	h.loop = g_main_loop_new(NULL, FALSE);
	h.engine = engine_new(h.policy, store, engine_clock_system(), &handler, &h);

	engine_start(h.engine, &opts, &error);
	g_assert_no_error(error);
	for (unsigned int i = 0; i < policy_checklist_count(h.policy); i++)
		engine_answer_checklist(h.engine, i,
					!policy_checklist_item(h.policy, i)->refuse_if_yes,
					0, NULL);
	engine_checklist_done(h.engine, &error);
	g_assert_no_error(error);
	connect_roller(&h);
	g_timeout_add(10, check_done, &h);
	g_main_loop_run(h.loop);

	g_clear_handle_id(&h.retry, g_source_remove);
	engine_free(h.engine);
	policy_free(h.policy);
	store_close(store);
	g_main_loop_unref(h.loop);
	return h.status;
}
