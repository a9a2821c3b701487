/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll session --plan FILE` and one of:
 *   --simulate           a virtual roller in this process that rolls its
 *                        demo routine (autopilot);
 *   --roller ADDRESS     a bonded roller through BlueZ (--adapter hciN);
 *   --socket PATH        roller-sim on its local socket.
 * A whole routine with no screen.  The routine file states what a person
 * would answer and choose on the routine screen: the zones, every
 * checklist answer, the virtual head's needle, and overrides with their
 * reasons.  The session goes through the engine and into the history like
 * any other; the summary says what was treated, warned about and stored.
 *
 * With a real roller, a dropped link pauses the routine and reconnect.c
 * brings it back with backoff; the summary counts the drops.  A roller
 * whose address the history does not know, whose INFO serial is not the
 * recorded one (PROTOCOL.md §9.5), or that is not bonded, is refused.
 *
 * The routine file is read by routine.c (doc/dermaroll.1, ROUTINE FILE).
 */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "bluez.h"
#include "cmd-bluez.h"
#include "cmd-common.h"
#include "commands.h"
#include "engine.h"
#include "reconnect.h"
#include "routine.h"
#include "sim.h"
#include "virtual-roller.h"

#define NAME "session"
/* With no pass, state change or link event for this long (wall clock),
 * the routine is given up rather than left hanging.  A real roller may be
 * reconnecting meanwhile (the backoff reaches 30 s between attempts). */
#define STALL_SECONDS 60
#define STALL_SECONDS_REAL 180

enum roller_kind {
	ROLLER_SIMULATED,            /* --simulate */
	ROLLER_BLUEZ,                /* --roller ADDRESS */
	ROLLER_SOCKET,               /* --socket PATH */
};

struct warning_line {
	char *message;
	unsigned int count;
};

struct run {
	struct engine *engine;
	struct routine *routine;
	GArray *warnings;			/* struct warning_line */
	bool overridden[ZONE_COUNT + 1];
	/* An override was accepted for this zone: the engine leaves
	 * ZONE_LOCKED once the roller has started the session. */
	int override_pending;
	char *override_error[ZONE_COUNT + 1];
	gint64 last_progress_us;
	bool stalled;
	bool lost;
	bool store_failed;			/* a write to the history failed */
	char *lost_message;
	/* For the pinned clock of the test suite. */
	int64_t base_ms;
	gint64 base_us;
	GTimeZone *tz;

	/* A real roller (--roller, --socket) */
	enum roller_kind kind;
	const char *address;         /* upper case */
	const char *adapter;
	const char *socket_path;
	GDBusConnection *bus;
	struct reconnect *rc;
	GPtrArray *links;            /* every link made, for the counters */
	char *expected_serial;       /* recorded with the address */
	bool have_info;
	struct dp_info info;         /* of the last connection */
	bool gave_up;
	char *gave_up_message;
};

/* ---- Running it ---- */

static int64_t pinned_now(void *user_data)
{
	struct run *run = user_data;

	return run->base_ms + (g_get_monotonic_time() - run->base_us) / 1000;
}

static int32_t local_offset(int64_t at_ms, void *user_data)
{
	struct run *run = user_data;

	return cmd_utc_offset(run->tz, at_ms);
}

static void progress(struct run *run)
{
	run->last_progress_us = g_get_monotonic_time();
}

static void on_state(struct engine *e, enum engine_state state, void *user_data)
{
	struct run *run = user_data;

	progress(run);
	if (state != ENGINE_STATE_ZONE_LOCKED)
		run->override_pending = 0;
}

static void on_counts(struct engine *e, const struct engine_zone_counts *c,
		      void *user_data)
{
	progress(user_data);
}

static void on_warning(struct engine *e, const struct engine_warning *w,
		       void *user_data)
{
	struct run *run = user_data;
	struct warning_line line;

	if (w->kind == ENGINE_WARNING_STORE)
		run->store_failed = true;
	for (guint i = 0; i < run->warnings->len; i++) {
		struct warning_line *l = &g_array_index(run->warnings, struct warning_line, i);

		if (strcmp(l->message, w->message) == 0) {
			l->count++;
			return;
		}
	}
	line.message = g_strdup(w->message);
	line.count = 1;
	g_array_append_val(run->warnings, line);
}

static void on_connection(struct engine *e, bool connected, const char *message,
			  void *user_data)
{
	struct run *run = user_data;

	progress(run);
	if (run->rc) {
		/* The routine pauses; reconnect.c brings the roller back. */
		if (!connected)
			printf("The link to the roller dropped: %s The routine is paused.\n",
			       message ? message : "");
		else if (reconnect_drops(run->rc))
			printf("The roller is back and its log is synced: the routine "
			       "goes on.\n");
		fflush(stdout);
		reconnect_connection(run->rc, connected, message);
		return;
	}
	if (!connected && !run->lost) {
		run->lost = true;
		run->lost_message = g_strdup(message);
	}
}

static const struct engine_handler handler = {
	.state_changed = on_state,
	.counts_changed = on_counts,
	.warning = on_warning,
	.connection = on_connection,
};

/* A zone the policy refuses: its override from the routine file if there
 * is one, else skip it, as a person at the routine screen would. */
static void handle_locked(struct run *run)
{
	int zone = engine_current_zone(run->engine);
	const char *reason = zone > 0 && zone <= ZONE_COUNT ?
		run->routine->overrides[zone] : NULL;
	g_autoptr(GError) error = NULL;

	if (run->override_pending == zone)
		return;
	if (reason && !run->overridden[zone] && !run->override_error[zone]) {
		if (engine_override(run->engine, reason, &error)) {
			run->overridden[zone] = true;
			if (engine_state(run->engine) == ENGINE_STATE_ZONE_LOCKED)
				run->override_pending = zone;
			return;
		}
		run->override_error[zone] = g_strdup(error->message);
		g_clear_error(&error);
	}
	if (!engine_skip_zone(run->engine, &error))
		g_info("session: could not skip the zone: %s", error->message);
}

static gboolean watchdog(gpointer user_data)
{
	struct run *run = user_data;

	gint64 limit = run->kind == ROLLER_SIMULATED ? STALL_SECONDS : STALL_SECONDS_REAL;

	if (g_get_monotonic_time() - run->last_progress_us > limit * G_USEC_PER_SEC)
		run->stalled = true;
	return G_SOURCE_CONTINUE;
}

/* Iterates until @done says so, or the routine stalls or loses its roller. */
static bool iterate(struct run *run, bool (*done)(struct run *run))
{
	while (!done(run)) {
		if (run->stalled || run->lost || run->gave_up)
			return false;
		if (engine_state(run->engine) == ENGINE_STATE_ZONE_LOCKED) {
			handle_locked(run);
			if (engine_state(run->engine) != ENGINE_STATE_ZONE_LOCKED)
				continue;
		}
		g_main_context_iteration(NULL, TRUE);
	}
	return true;
}

static bool routine_over(struct run *run)
{
	return engine_state(run->engine) == ENGINE_STATE_AFTERCARE;
}

static bool synced(struct run *run)
{
	return engine_sync_idle(run->engine);
}

/* ---- A real roller: links with backoff (reconnect.c) ---- */

static const char *roller_place(const struct run *run)
{
	return run->kind == ROLLER_BLUEZ ? run->address : run->socket_path;
}

static struct link *make_link(void *user_data, GError **error)
{
	struct run *run = user_data;
	struct link *link;

	if (run->kind == ROLLER_BLUEZ)
		link = link_bluez_connect(run->bus, run->adapter, run->address, error);
	else
		link = link_socket_connect(run->socket_path, error);
	if (link)
		g_ptr_array_add(run->links, link_ref(link));
	return link;
}

static void rc_connecting(struct reconnect *rc, unsigned int attempt, void *user_data)
{
	struct run *run = user_data;

	if (attempt == 1 && !reconnect_connections(rc))
		printf("Connecting to the roller %s...\n", roller_place(run));
	else
		printf("Connecting to the roller %s again (attempt %u)...\n",
		       roller_place(run), attempt);
	fflush(stdout);
}

static void rc_connected(struct reconnect *rc, const struct dp_info *info, void *user_data)
{
	struct run *run = user_data;

	run->info = *info;
	run->have_info = true;
	progress(run);
	printf("Connected to the roller %s (serial %s, firmware %s).\n", roller_place(run),
	       info->serial, info->firmware);
	fflush(stdout);
}

static void rc_waiting(struct reconnect *rc, guint delay_ms, const GError *error,
		       void *user_data)
{
	/* A drop was told already (on_connection); a failed attempt says why. */
	bool drop = reconnect_attempt(rc) == 1 && reconnect_connections(rc);

	printf("%s%sTrying again in %u s (attempt %u).\n", drop ? "" : error->message,
	       drop ? "" : " ", (delay_ms + 999) / 1000, reconnect_attempt(rc));
	fflush(stdout);
}

static void rc_gave_up(struct reconnect *rc, const GError *error, void *user_data)
{
	struct run *run = user_data;

	run->gave_up = true;
	g_free(run->gave_up_message);
	run->gave_up_message = g_strdup(error->message);
}

static const struct reconnect_handler rc_handler = {
	.connecting = rc_connecting,
	.connected = rc_connected,
	.waiting = rc_waiting,
	.gave_up = rc_gave_up,
};

/* How the link went: drops, what was lost (nothing, when the roller's log
 * is empty after the last ack), and how notifications came in. */
static void print_link(struct run *run)
{
	const struct sync_stats *stats = engine_sync_stats(run->engine);
	struct link_counters sum = { 0 };
	struct link_bluez_counters bz = { 0 };
	unsigned int drops = reconnect_drops(run->rc);
	unsigned int links = reconnect_connections(run->rc);

	for (guint i = 0; i < run->links->len; i++) {
		struct link *link = run->links->pdata[i];
		const struct link_counters *c = link_counters(link);
		const struct link_bluez_counters *b = link_bluez_counters(link);

		sum.stream_frames += c->stream_frames;
		sum.history_frames += c->history_frames;
		sum.malformed += c->malformed;
		sum.gaps += c->gaps;
		sum.missing_frames += c->missing_frames;
		sum.passes_live += c->passes_live;
		sum.passes_history += c->passes_history;
		if (b) {
			bz.acquired += b->acquired;
			bz.properties += b->properties;
			bz.indications += b->indications;
			bz.acquired_mtu = MAX(bz.acquired_mtu, b->acquired_mtu);
		}
	}
	if (drops)
		printf("The link dropped %u time%s; the routine paused and resumed each time "
		       "(%u connections).\n", drops, drops == 1 ? "" : "s", links);
	else
		printf("The link never dropped (%u connection%s).\n", links,
		       links == 1 ? "" : "s");
	if (stats->acked_seq && stats->log_count == 0)
		printf("Nothing lost: the roller's log is empty after the last ack (record %u), "
		       "and each pass is stored once.\n", stats->acked_seq);
	else if (stats->log_count)
		printf("%u records are still in the roller's log; they are stored the next "
		       "time it connects.\n", stats->log_count);
	printf("Stream: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " gaps (%"
	       G_GUINT64_FORMAT " frames missing, their passes synced from the log), %"
	       G_GUINT64_FORMAT " malformed; passes: %" G_GUINT64_FORMAT " live, %"
	       G_GUINT64_FORMAT " from the log.\n", sum.stream_frames, sum.gaps,
	       sum.missing_frames, sum.malformed, sum.passes_live, sum.passes_history);
	if (run->kind == ROLLER_BLUEZ)
		printf("Notifications: %" G_GUINT64_FORMAT " through AcquireNotify (ATT MTU %u), %"
		       G_GUINT64_FORMAT " through StartNotify, %" G_GUINT64_FORMAT
		       " indications.\n", bz.acquired, bz.acquired_mtu, bz.properties,
		       bz.indications);
}

/* ---- The summary ---- */

static const char *status_word(enum engine_zone_status status)
{
	switch (status) {
	case ENGINE_ZONE_NOT_SELECTED:
		return "not selected";
	case ENGINE_ZONE_PENDING:
		return "not reached";
	case ENGINE_ZONE_LOCKED:
		return "locked";
	case ENGINE_ZONE_ACTIVE:
		return "stopped";
	case ENGINE_ZONE_DONE:
		return "done";
	case ENGINE_ZONE_SKIPPED:
		return "skipped";
	}
	return "unknown";
}

static char *over_seconds(uint32_t ms)
{
	return g_strdup_printf("%u.%u s", ms / 1000, ms % 1000 / 100);
}

static void print_zones(struct run *run)
{
	struct cmd_table *table = cmd_table_new(8, 0xfc);

	cmd_table_add(table, "Zone", "Status", "Horizontal", "Vertical", "Diagonal",
		      "Mean", "Peak", "Over warn");
	for (unsigned int i = 0; i < ZONE_COUNT; i++) {
		const struct zone_info *zone = zone_by_order(i);
		const struct engine_zone_counts *c = engine_zone_counts(run->engine, zone->id);
		g_autofree char *status = NULL, *h = NULL, *v = NULL, *d = NULL;
		g_autofree char *mean = NULL, *peak = NULL, *over = NULL;

		if (!(run->routine->zones & POLICY_ZONE_BIT(zone->id)) || !c)
			continue;
		status = g_strdup_printf("%s%s", status_word(c->status),
					 c->overridden ? ", OVERRIDDEN" : "");
		h = g_strdup_printf("%u", c->passes[ZONE_DIR_HORIZONTAL]);
		v = g_strdup_printf("%u", c->passes[ZONE_DIR_VERTICAL]);
		d = g_strdup_printf("%u", c->passes[ZONE_DIR_DIAGONAL]);
		mean = c->total ? cmd_format_newton(c->mean_force_cn) : g_strdup("-");
		peak = c->total ? cmd_format_newton(c->peak_force_cn) : g_strdup("-");
		over = c->total ? over_seconds(c->over_warn_ms) : g_strdup("-");
		cmd_table_add(table, zone->label, status, h, v, d, mean, peak, over);
	}
	cmd_table_print(table, 2);
}

static bool print_stored(struct run *run, struct store *store, GError **error)
{
	int64_t id = engine_session_id(run->engine);
	const struct sync_stats *stats = engine_sync_stats(run->engine);
	g_autoptr(GArray) passes = NULL;
	g_autoptr(GPtrArray) overrides = NULL;
	g_autoptr(GPtrArray) answers = NULL;

	if (!id) {
		printf("Stored in %s: no session (the roller never started one).\n",
		       store_path(store));
		return true;
	}
	passes = store_session_passes(store, id, error);
	if (!passes)
		return false;
	overrides = store_overrides(store, id, error);
	if (!overrides)
		return false;
	answers = store_checklist(store, id, error);
	if (!answers)
		return false;
	printf("Stored in %s: 1 session, %u passes, %u checklist answers, %u override%s.\n",
	       store_path(store), passes->len, answers->len, overrides->len,
	       overrides->len == 1 ? "" : "s");
	if (stats->acked_seq)
		printf("The roller was acked up to record %u after each commit (%" G_GUINT64_FORMAT
		       " new passes, %" G_GUINT64_FORMAT " duplicates).\n",
		       stats->acked_seq, stats->passes_new, stats->passes_duplicate);
	for (guint i = 0; i < overrides->len; i++) {
		const struct store_override *o = overrides->pdata[i];
		const struct zone_info *zone = zone_get(o->zone);

		printf("  OVERRIDE on the %s: \"%s\"\n", zone ? zone->phrase : "session",
		       o->reason);
	}
	return true;
}

static void print_summary_head(struct run *run, const struct dp_info *info,
			       int64_t started_ms)
{
	g_autofree char *mm = NULL;
	g_autofree char *when = cmd_format_date_time(started_ms, run->tz);

	if (run->kind != ROLLER_SIMULATED) {
		mm = cmd_format_mm(run->info.needle_um);
		printf("Routine of %s with the roller %s (%s), head %s (%s mm)\n", when,
		       run->info.serial, roller_place(run), run->info.head_serial, mm);
		return;
	}
	mm = cmd_format_mm(run->routine->needle_um);
	printf("Routine of %s with the virtual roller %s, head %s (%s mm)\n", when,
	       info ? info->serial : "?", info ? info->head_serial : "?", mm);
}

/* ---- The command ---- */

static struct link *start_roller(struct store *store, const struct routine *r,
				 double speed, struct virtual_roller **roller,
				 GError **error)
{
	struct virtual_roller_options opts;

	virtual_roller_options_default(&opts);
	opts.autopilot = TRUE;
	opts.speed = speed;
	opts.needle_um = (uint16_t)r->needle_um;
	opts.head_uses = (uint16_t)r->head_uses;
	return sim_start(store, &opts, roller, error);
}

static int run_session(struct run *run, struct policy *policy, struct plan *plan,
		       struct store *store, double speed)
{
	struct routine *r = run->routine;
	struct engine_clock clock = {
		.now_ms = pinned_now, .utc_offset_s = local_offset, .user_data = run,
	};
	struct engine_options opts = {
		.zones = r->zones, .plan = plan, .tz = run->tz, .auto_advance = true,
	};
	g_autoptr(GError) error = NULL;
	struct virtual_roller *roller = NULL;
	struct link *link;
	bool pinned = g_getenv(CMD_TEST_NOW_ENV) != NULL;
	const struct engine_clock *used = pinned ? &clock : engine_clock_system();
	int64_t started_ms = engine_clock_now(used);
	guint watch;
	int status = CMD_EXIT_OK;

	run->engine = engine_new(policy, store, used, &handler, run);
	if (run->kind == ROLLER_SIMULATED) {
		link = start_roller(store, r, speed, &roller, &error);
		if (!link) {
			status = cmd_fail_error(NAME, error);
			goto out;
		}
		engine_set_link(run->engine, link);
		link_unref(link);
	} else {
		/* The link is handed to the engine once it is up and its serial
		 * checked; the routine waits for it. */
		link = NULL;
		run->links = g_ptr_array_new_with_free_func((GDestroyNotify)link_unref);
		run->rc = reconnect_new(run->engine, make_link, run, NULL);
		reconnect_set_handler(run->rc, &rc_handler, run);
		reconnect_set_serial(run->rc, run->expected_serial);
		reconnect_start(run->rc);
	}

	progress(run);
	watch = g_timeout_add_seconds(1, watchdog, run);
	if (!engine_start(run->engine, &opts, &error))
		goto engine_failed;
	for (unsigned int i = 0; i < policy_checklist_count(policy); i++)
		if (!engine_answer_checklist(run->engine, i,
					     r->checklist.answer[i] == POLICY_ANSWER_YES, 0,
					     &error))
			goto engine_failed;
	if (!engine_checklist_done(run->engine, &error))
		goto engine_failed;
	if (!iterate(run, routine_over))
		goto stopped;
	if (!engine_finish(run->engine, &error))
		goto engine_failed;
	if (!iterate(run, synced))
		goto stopped;
	g_source_remove(watch);

	print_summary_head(run, link ? link_info(link) : NULL, started_ms);
	print_zones(run);
	for (unsigned int z = 1; z <= ZONE_COUNT; z++)
		if (run->override_error[z])
			printf("  The override for the %s was refused: %s\n",
			       zone_get((int)z)->phrase, run->override_error[z]);
	if (run->warnings->len) {
		printf("Warnings\n");
		for (guint i = 0; i < run->warnings->len; i++) {
			const struct warning_line *l =
				&g_array_index(run->warnings, struct warning_line, i);

			if (l->count > 1)
				printf("  - %s (%u times)\n", l->message, l->count);
			else
				printf("  - %s\n", l->message);
		}
	} else {
		printf("No warnings.\n");
	}
	if (!print_stored(run, store, &error)) {
		status = cmd_fail_error(NAME, error);
		goto out;
	}
	if (run->rc)
		print_link(run);
	printf("Aftercare\n");
	for (unsigned int i = 0; i < policy_aftercare_count(policy); i++)
		printf("  - %s\n", policy_aftercare_item(policy, i)->text);
	if (run->store_failed)
		status = cmd_fail(NAME, "Part of the session could not be written to the history; the warnings above say why.");
	goto out;

stopped:
	g_source_remove(watch);
	/* Nothing more from the roller: no attempt while stopping. */
	g_clear_pointer(&run->rc, reconnect_free);
	if (run->gave_up && !engine_session_id(run->engine)) {
		/* Refused before anything was stored. */
		status = cmd_fail(NAME, "%s", run->gave_up_message);
		goto out;
	}
	if (engine_state(run->engine) == ENGINE_STATE_FINISHED) {
		status = cmd_fail(NAME, "The session is stored, but the %s stopped answering before it was told to free every stored pass.",
				  run->kind == ROLLER_SIMULATED ? "virtual roller" : "roller");
		goto out;
	}
	/* Close the stored session as stopped early; the passes committed
	 * so far stay. */
	if (engine_state(run->engine) != ENGINE_STATE_AFTERCARE)
		engine_finish(run->engine, NULL);
	if (engine_state(run->engine) == ENGINE_STATE_AFTERCARE)
		engine_finish(run->engine, NULL);
	status = cmd_fail(NAME, "%s%s",
			  run->gave_up ? run->gave_up_message :
			  run->lost ? (run->lost_message ? run->lost_message :
				       "The link to the virtual roller dropped.") :
			  run->kind != ROLLER_SIMULATED ?
			  "Nothing came from the roller for 3 minutes, so the routine was stopped." :
			  "The virtual roller stopped rolling before the routine ended.",
			  " The session is stored as stopped early, with the passes stored so far.");
	goto out;
engine_failed:
	g_source_remove(watch);
	status = cmd_fail_error(NAME, error);
out:
	/* Before the engine lets its link go: that is no drop to retry. */
	g_clear_pointer(&run->rc, reconnect_free);
	engine_set_link(run->engine, NULL);
	engine_free(run->engine);
	/* The links are closed (link_close asked BlueZ to disconnect): the
	 * roller advertises again, and bluetoothd has seen the notification
	 * sockets close, before this program's bus name goes (cmd-bluez.h). */
	if (run->kind == ROLLER_BLUEZ)
		cmd_bluez_let_go((struct link *const *)run->links->pdata, run->links->len,
				 CMD_BLUEZ_LET_GO_MS);
	g_clear_pointer(&run->links, g_ptr_array_unref);
	if (roller)
		virtual_roller_unref(roller);
	return status;
}

/* --roller: the roller recorded with the address when it was paired
 * (PROTOCOL.md §9.5), whose serial the roller must report. */
static int find_recorded(struct run *run, struct store *store)
{
	g_autoptr(GError) error = NULL;
	struct store_roller *r = store_roller_by_address(store, run->address, &error);

	if (error)
		return cmd_fail_error(NAME, error);
	if (!r)
		return cmd_fail(NAME, "The roller %s is not in the history, and dermaroll runs "
				"sessions only with rollers it has paired. Pair it first: hold its "
				"button until the light blinks, then run 'dermaroll pair %s'.",
				run->address, run->address);
	run->expected_serial = g_strdup(r->serial);
	store_roller_free(r);
	return CMD_EXIT_OK;
}

int cmd_session(int argc, char **argv)
{
	gboolean simulate = FALSE;
	g_autofree char *routine_path = NULL;
	g_autofree char *database = NULL;
	g_autofree char *address = NULL;
	g_autofree char *adapter = NULL;
	g_autofree char *socket_path = NULL;
	double speed = 0;
	const GOptionEntry entries[] = {
		{ "simulate", 0, 0, G_OPTION_ARG_NONE, &simulate,
		  "Roll with a virtual roller in this program", NULL },
		{ "roller", 0, 0, G_OPTION_ARG_STRING, &address,
		  "Roll with the paired roller at this Bluetooth address", "ADDRESS" },
		{ "adapter", 0, 0, G_OPTION_ARG_STRING, &adapter,
		  "With --roller: the Bluetooth adapter to use (default: the first one)", "hciN" },
		{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path,
		  "Roll with roller-sim listening on this local socket", "PATH" },
		{ "plan", 0, 0, G_OPTION_ARG_FILENAME, &routine_path,
		  "The routine file: zones, checklist answers, head, overrides", "FILE" },
		{ "speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed,
		  "With --simulate: how much faster than real time the virtual roller moves "
		  "(default 20)", "FACTOR" },
		{ "database", 0, 0, G_OPTION_ARG_FILENAME, &database,
		  "The history file (default: $XDG_DATA_HOME/dermaroll/history.db)", "PATH" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("",
		"Runs a whole routine with no screen, with a virtual roller that rolls "
		"by itself (--simulate), a paired roller (--roller) or roller-sim "
		"(--socket), stores it in the history, and prints what was treated, "
		"warned about and stored.");
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	struct policy *policy = NULL;
	struct plan *plan = NULL;
	struct run run = { 0 };
	int status;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!cmd_parse(NAME, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc > 1)
		return cmd_usage(NAME, "unexpected argument '%s'.", argv[1]);
	if ((simulate ? 1 : 0) + (address ? 1 : 0) + (socket_path ? 1 : 0) != 1)
		return cmd_usage(NAME, "give the roller: --simulate, --roller ADDRESS or "
				 "--socket PATH (one of them).");
	if (!routine_path)
		return cmd_usage(NAME, "give the routine file with --plan FILE.");
	if (speed != 0 && !simulate)
		return cmd_usage(NAME, "--speed is for the virtual roller of --simulate only.");
	if (simulate && speed == 0)
		speed = 20.0;
	if (simulate && !(speed >= 0.1 && speed <= 1000))
		return cmd_usage(NAME, "--speed must be between 0.1 and 1000.");
	if (adapter && !address)
		return cmd_usage(NAME, "--adapter goes with --roller.");
	if (address) {
		char *up = g_ascii_strup(address, -1);

		g_free(address);
		address = up;
		if (!g_regex_match_simple("^([0-9A-F]{2}:){5}[0-9A-F]{2}$", address, 0, 0))
			return cmd_usage(NAME, "'%s' is not a Bluetooth address (it looks like "
					 "AA:BB:CC:DD:EE:FF).", address);
		run.kind = ROLLER_BLUEZ;
		run.address = address;
		run.adapter = adapter;
	} else if (socket_path) {
		run.kind = ROLLER_SOCKET;
		run.socket_path = socket_path;
	}

	policy = policy_load_default(&error);
	if (!policy)
		return cmd_fail_error(NAME, error);
	run.routine = routine_load(routine_path, policy, &error);
	if (!run.routine) {
		policy_free(policy);
		return cmd_usage(NAME, "%s", error->message);
	}
	if (run.routine->plan_path) {
		plan = plan_load(policy, run.routine->plan_path, &error);
		if (!plan) {
			routine_free(run.routine);
			policy_free(policy);
			return cmd_usage(NAME, "%s", error->message);
		}
	}

	/* Recording the time seen is the session's first write: a history
	 * another dermaroll is writing fails here, before the roller rolls. */
	run.base_ms = cmd_now_ms();
	store = database || run.kind != ROLLER_SIMULATED ? cmd_open_store(database, true, &error)
							 : sim_open_demo_history(&error);
	if (!store || !store_time_seen_bump(store, run.base_ms, NULL, &error)) {
		status = cmd_fail_error(NAME, error);
		goto out;
	}
	if (run.kind == ROLLER_BLUEZ) {
		status = find_recorded(&run, store);
		if (status != CMD_EXIT_OK)
			goto out;
		run.bus = cmd_bluez_bus(NAME);
		if (!run.bus) {
			status = CMD_EXIT_FAILED;
			goto out;
		}
	}

	run.tz = cmd_local_tz();
	run.base_us = g_get_monotonic_time();
	run.warnings = g_array_new(FALSE, FALSE, sizeof(struct warning_line));
	status = run_session(&run, policy, plan, store, speed);
	if (run.bus)
		g_dbus_connection_flush_sync(run.bus, NULL, NULL);

	for (guint i = 0; i < run.warnings->len; i++)
		g_free(g_array_index(run.warnings, struct warning_line, i).message);
	g_array_unref(run.warnings);
	for (unsigned int z = 0; z <= ZONE_COUNT; z++)
		g_free(run.override_error[z]);
	g_free(run.lost_message);
	g_time_zone_unref(run.tz);
out:
	g_clear_object(&run.bus);
	g_free(run.expected_serial);
	g_free(run.gave_up_message);
	routine_free(run.routine);
	plan_free(plan);
	policy_free(policy);
	return status;
}
