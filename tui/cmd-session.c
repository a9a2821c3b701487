/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll session --simulate --plan FILE`: a whole routine with no
 * screen, against a virtual roller in this process that rolls its demo
 * routine (autopilot).  The routine file states what a person would
 * answer and choose on the routine screen: the zones, every checklist
 * answer, the virtual head's needle, and overrides with their reasons.
 * The session goes through the engine and into the history like any
 * other; the summary says what was treated, warned about and stored.
 *
 * The routine file is read by routine.c (doc/dermaroll.1, ROUTINE FILE).
 */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>

#include "cmd-common.h"
#include "commands.h"
#include "engine.h"
#include "routine.h"
#include "sim.h"
#include "virtual-roller.h"

#define NAME "session"
/* With no pass, state change or link event for this long (wall clock),
 * the routine is given up rather than left hanging. */
#define STALL_SECONDS 60

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

	if (g_get_monotonic_time() - run->last_progress_us > STALL_SECONDS * G_USEC_PER_SEC)
		run->stalled = true;
	return G_SOURCE_CONTINUE;
}

/* Iterates until @done says so, or the routine stalls or loses its roller. */
static bool iterate(struct run *run, bool (*done)(struct run *run))
{
	while (!done(run)) {
		if (run->stalled || run->lost)
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
	g_autofree char *mm = cmd_format_mm(run->routine->needle_um);
	g_autofree char *when = cmd_format_date_time(started_ms, run->tz);

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
	link = start_roller(store, r, speed, &roller, &error);
	if (!link) {
		status = cmd_fail_error(NAME, error);
		goto out;
	}
	engine_set_link(run->engine, link);
	link_unref(link);

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

	print_summary_head(run, link_info(link), started_ms);
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
	printf("Aftercare\n");
	for (unsigned int i = 0; i < policy_aftercare_count(policy); i++)
		printf("  - %s\n", policy_aftercare_item(policy, i)->text);
	if (run->store_failed)
		status = cmd_fail(NAME, "Part of the session could not be written to the history; the warnings above say why.");
	goto out;

stopped:
	g_source_remove(watch);
	if (engine_state(run->engine) == ENGINE_STATE_FINISHED) {
		status = cmd_fail(NAME, "The session is stored, but the virtual roller stopped answering before it was told to free every stored pass.");
		goto out;
	}
	/* Close the stored session as stopped early; the passes committed
	 * so far stay. */
	if (engine_state(run->engine) != ENGINE_STATE_AFTERCARE)
		engine_finish(run->engine, NULL);
	if (engine_state(run->engine) == ENGINE_STATE_AFTERCARE)
		engine_finish(run->engine, NULL);
	status = cmd_fail(NAME, "%s%s",
			  run->lost ? (run->lost_message ? run->lost_message :
				       "The link to the virtual roller dropped.") :
			  "The virtual roller stopped rolling before the routine ended.",
			  " The session is stored as stopped early, with the passes stored so far.");
	goto out;
engine_failed:
	g_source_remove(watch);
	status = cmd_fail_error(NAME, error);
out:
	engine_set_link(run->engine, NULL);
	engine_free(run->engine);
	if (roller)
		virtual_roller_unref(roller);
	return status;
}

int cmd_session(int argc, char **argv)
{
	gboolean simulate = FALSE;
	g_autofree char *routine_path = NULL;
	g_autofree char *database = NULL;
	double speed = 20.0;
	const GOptionEntry entries[] = {
		{ "simulate", 0, 0, G_OPTION_ARG_NONE, &simulate,
		  "Roll with a virtual roller in this program (required in this version)", NULL },
		{ "plan", 0, 0, G_OPTION_ARG_FILENAME, &routine_path,
		  "The routine file: zones, checklist answers, head, overrides", "FILE" },
		{ "speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed,
		  "How much faster than real time the virtual roller moves (default 20)", "FACTOR" },
		{ "database", 0, 0, G_OPTION_ARG_FILENAME, &database,
		  "The history file (default: $XDG_DATA_HOME/dermaroll/history.db)", "PATH" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("",
		"Runs a whole routine with no screen against a virtual roller that rolls "
		"by itself, stores it in the history, and prints what was treated, "
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
	if (!simulate)
		return cmd_usage(NAME, "this version runs sessions only with the virtual roller: add --simulate.");
	if (!routine_path)
		return cmd_usage(NAME, "give the routine file with --plan FILE.");
	if (!(speed >= 0.1 && speed <= 1000))
		return cmd_usage(NAME, "--speed must be between 0.1 and 1000.");

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
	store = database ? cmd_open_store(database, true, &error)
			 : sim_open_demo_history(&error);
	if (!store || !store_time_seen_bump(store, run.base_ms, NULL, &error)) {
		status = cmd_fail_error(NAME, error);
		goto out;
	}

	run.tz = cmd_local_tz();
	run.base_us = g_get_monotonic_time();
	run.warnings = g_array_new(FALSE, FALSE, sizeof(struct warning_line));
	status = run_session(&run, policy, plan, store, speed);

	for (guint i = 0; i < run.warnings->len; i++)
		g_free(g_array_index(run.warnings, struct warning_line, i).message);
	g_array_unref(run.warnings);
	for (unsigned int z = 0; z <= ZONE_COUNT; z++)
		g_free(run.override_error[z]);
	g_free(run.lost_message);
	g_time_zone_unref(run.tz);
out:
	routine_free(run.routine);
	plan_free(plan);
	policy_free(policy);
	return status;
}
