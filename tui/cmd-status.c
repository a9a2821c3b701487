/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll status`: per roller, the head's wear and the next date each
 * zone may be treated; then the reminders that are due (SAFETY.md
 * "Aftercare", "The roller head").  Reads only: it runs while a session
 * writes, and never moves the latest time seen.  What it prints comes
 * from summary.h, which the home screen draws too.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cmd-common.h"
#include "commands.h"
#include "plan.h"
#include "policy.h"
#include "summary.h"

#define NAME "status"

struct status {
	struct store *store;
	struct policy *policy;
	struct plan *plan;
	struct summary *summary;
	GTimeZone *tz;
	int64_t now_ms;
};

static void show_roller(struct status *st, const struct summary_roller *sr)
{
	g_autofree char *label = cmd_roller_label(sr->roller);
	const struct policy_head_wear *wear = &sr->wear;
	struct cmd_table *table;

	printf("Roller %s\n", label);
	if (sr->head.id == 0) {
		printf("  No head recorded: record the one fitted with 'dermaroll rollers new-head %s --needle-mm MM --head-serial SERIAL'.\n",
		       sr->roller->serial);
		return;
	}
	{
		g_autofree char *mm = cmd_format_mm(sr->head.needle_um);
		g_autofree char *date = sr->head.fitted_ms > 0 ?
			cmd_format_date(sr->head.fitted_ms, st->tz) : g_strdup("on a day not known");
		g_autofree char *days = wear->days >= 0 ?
			g_strdup_printf("%" G_GINT64_FORMAT " of %u days", wear->days,
					wear->refuse_after_days) :
			g_strdup("days not known");

		printf("  Head %s, %s mm, fitted %s: %u of %u sessions, %s: %s.\n",
		       sr->head.serial, mm, date, wear->uses, wear->refuse_at_uses,
		       days, summary_wear_word(wear->state));
	}

	table = cmd_table_new(4, 0);
	cmd_table_add(table, "Zone", "Next allowed", "Last treated", "Interval");
	for (unsigned int i = 0; i < ZONE_COUNT; i++) {
		const struct summary_zone *z = &sr->zones[i];
		g_autofree char *next = summary_next_text(z, st->tz);
		g_autofree char *last = z->last_ms ? cmd_format_date_time(z->last_ms, st->tz) :
			g_strdup("never");
		g_autofree char *rule = summary_rule_text(z);

		cmd_table_add(table, z->zone->label, next, last, rule);
	}
	cmd_table_print(table, 2);
}

static int run(struct status *st, const char *database, const char *plan_file)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *now = NULL;
	struct summary *sum;

	st->policy = policy_load_default(&error);
	if (!st->policy)
		return cmd_fail_error(NAME, error);
	if (plan_file) {
		st->plan = plan_load(st->policy, plan_file, &error);
		if (!st->plan)
			return cmd_fail_error(NAME, error);
	}
	st->store = cmd_open_store(database, false, &error);
	if (!st->store)
		return cmd_fail_error(NAME, error);
	st->summary = summary_load(st->store, st->policy, st->plan, st->now_ms, st->tz, &error);
	if (!st->summary)
		return cmd_fail_error(NAME, error);
	sum = st->summary;

	now = cmd_format_date_time(sum->effective_ms, st->tz);
	printf("Now: %s\n", now);
	if (sum->latest_ms > sum->now_ms) {
		g_autofree char *clock = cmd_format_date_time(sum->now_ms, st->tz);

		printf("The clock shows %s, earlier than a time dermaroll has already seen: dates count from %s.\n",
		       clock, now);
	}
	if (st->plan)
		printf("Plan: signed by %s on %s.\n", plan_dermatologist(st->plan),
		       plan_signed(st->plan));
	printf("\n");

	if (!sum->rollers->len)
		printf("No rollers yet: pair one, or try 'dermaroll session --simulate'.\n\n");
	for (guint i = 0; i < sum->rollers->len; i++) {
		show_roller(st, &g_array_index(sum->rollers, struct summary_roller, i));
		printf("\n");
	}

	if (!sum->reminders->len) {
		printf("No reminders are due.\n");
		return CMD_EXIT_OK;
	}
	printf("Reminders\n");
	for (guint i = 0; i < sum->reminders->len; i++)
		printf("  - %s\n", ((const struct summary_reminder *)sum->reminders->pdata[i])->text);
	return CMD_EXIT_OK;
}

int cmd_status(int argc, char **argv)
{
	g_autofree char *database = NULL;
	g_autofree char *plan_file = NULL;
	const GOptionEntry entries[] = {
		{ "database", 0, 0, G_OPTION_ARG_FILENAME, &database,
		  "The history file (default: $XDG_DATA_HOME/dermaroll/history.db)", "PATH" },
		{ "plan", 0, 0, G_OPTION_ARG_FILENAME, &plan_file,
		  "A dermatologist's plan file whose intervals apply", "FILE" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("",
		"Shows when each zone may be treated next with each roller's head, "
		"how worn each head is, and the reminders that are due.");
	struct status st = { 0 };
	int status;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!cmd_parse(NAME, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc > 1)
		return cmd_usage(NAME, "unexpected argument '%s'.", argv[1]);

	st.tz = cmd_local_tz();
	st.now_ms = cmd_now_ms();
	status = run(&st, database, plan_file);

	summary_free(st.summary);
	store_close(st.store);
	plan_free(st.plan);
	if (st.policy)
		policy_free(st.policy);
	g_time_zone_unref(st.tz);
	return status;
}
