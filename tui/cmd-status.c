/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll status`: per roller, the head's wear and the next date each
 * zone may be treated; then the reminders that are due (SAFETY.md
 * "Aftercare", "The roller head").  Reads only: it runs while a session
 * writes, and never moves the latest time seen.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cmd-common.h"
#include "commands.h"
#include "plan.h"
#include "policy.h"

#define NAME "status"

struct status {
	struct store *store;
	struct policy *policy;
	struct plan *plan;
	GTimeZone *tz;
	int64_t now_ms;
	int64_t latest_ms;	/* latest time seen, 0: none */
	int64_t effective_ms;	/* the later of the two */
	GPtrArray *reminders;	/* char * */
	bool any_head;
};

static gint64 to_s(int64_t ms)
{
	return ms / 1000;
}

/* A stored end time in seconds, rounded up: never opens a lock early. */
static gint64 to_s_up(int64_t ms)
{
	return ms / 1000 + (ms % 1000 ? 1 : 0);
}

static char *format_interval(gint64 s)
{
	if (s % 86400 == 0 && s >= 7 * 86400)
		return g_strdup_printf("%" G_GINT64_FORMAT " days", s / 86400);
	if (s % 3600 == 0)
		return g_strdup_printf("%" G_GINT64_FORMAT " hours", s / 3600);
	return g_strdup_printf("%" G_GINT64_FORMAT " minutes", s / 60);
}

/* The rule that sets the zone's interval, or why none does. */
static char *rule_text(const struct zone_info *zone,
		       const struct policy_verdict *v)
{
	g_autofree char *iv = format_interval(v->interval_s);
	g_autofree char *mm = NULL;

	if (v->locks & POLICY_LOCK(POLICY_REASON_NEEDLE_CLINIC_ONLY))
		return g_strdup("refused: this head is for clinics only");
	if (v->locks & POLICY_LOCK(POLICY_REASON_NEEDLE_NOT_FOR_HOME))
		return g_strdup("refused: too long for home use without a plan");
	if (v->locks & POLICY_LOCK(POLICY_REASON_NEEDLE_ZONE_CLASS))
		return g_strdup_printf("refused: too long for the %s without a plan",
				       zone_class_name(zone->zclass));

	switch (v->interval_source) {
	case POLICY_INTERVAL_ROW:
		mm = cmd_format_mm(v->row_um);
		return g_strdup_printf("%s (heads up to %s mm)", iv, mm);
	case POLICY_INTERVAL_CLASS:
		return g_strdup_printf("%s (%s)", iv, zone_class_name(zone->zclass));
	case POLICY_INTERVAL_PLAN:
		return g_strdup_printf("%s (dermatologist's plan)", iv);
	case POLICY_INTERVAL_NONE:
		break;
	}
	return g_strdup("");
}

static char *next_text(struct status *st, const struct policy_verdict *v)
{
	g_autofree char *when = NULL;
	bool interval = v->locks & POLICY_LOCK(POLICY_REASON_INTERVAL);

	if (v->locks & (POLICY_LOCK(POLICY_REASON_NEEDLE_CLINIC_ONLY) |
			POLICY_LOCK(POLICY_REASON_NEEDLE_NOT_FOR_HOME) |
			POLICY_LOCK(POLICY_REASON_NEEDLE_ZONE_CLASS) |
			POLICY_LOCK(POLICY_REASON_INVALID_INPUT)))
		return g_strdup("never");
	if (interval)
		when = cmd_format_date_time(v->interval_ends * 1000, st->tz);
	if (v->locks & POLICY_LOCK(POLICY_REASON_HEAD_WORN))
		return interval ? g_strdup_printf("new head, and %s", when)
				: g_strdup("new head first");
	if (interval)
		return g_steal_pointer(&when);
	return g_strdup("now");
}

static const char *wear_word(enum policy_head_state state)
{
	switch (state) {
	case POLICY_HEAD_OK:
		return "fine";
	case POLICY_HEAD_REMIND:
		return "replace it soon";
	case POLICY_HEAD_REFUSE:
		break;
	}
	return "worn out, fit a new head";
}

static void head_reminder(struct status *st, const char *label,
			  const struct policy_head_wear *w)
{
	char *text = NULL;

	if (w->state == POLICY_HEAD_REMIND)
		text = g_strdup_printf("%s: the head has been used for %u sessions; replace it after %u more.",
				       label, w->uses, w->uses_left);
	else if (w->state == POLICY_HEAD_REFUSE && w->worn_by_uses)
		text = g_strdup_printf("%s: the head has been used for %u sessions, the most allowed is %u; fit a new head before the next session.",
				       label, w->uses, w->refuse_at_uses);
	else if (w->state == POLICY_HEAD_REFUSE)
		text = g_strdup_printf("%s: the head was fitted %" G_GINT64_FORMAT " days ago, the most allowed is %u; fit a new head before the next session.",
				       label, w->days, w->refuse_after_days);
	if (text)
		g_ptr_array_add(st->reminders, text);
}

static bool show_roller(struct status *st, const struct store_roller *r,
			GError **error)
{
	g_autofree char *label = cmd_roller_label(r);
	struct store_head head;
	struct policy_head_wear wear;
	struct cmd_table *table;
	gint64 fitted;

	if (!store_head_current(st->store, r->id, &head, error))
		return false;
	printf("Roller %s\n", label);
	if (head.id == 0) {
		printf("  No head recorded: record the one fitted with 'dermaroll rollers new-head %s --needle-mm MM --head-serial SERIAL'.\n",
		       r->serial);
		store_head_clear(&head);
		return true;
	}
	st->any_head = true;

	fitted = head.fitted_ms > 0 ? to_s(head.fitted_ms) : POLICY_TIME_NONE;
	policy_head_wear(st->policy, MAX(head.uses_reported, head.sessions),
			 fitted, to_s(st->now_ms),
			 st->latest_ms ? to_s(st->latest_ms) : POLICY_TIME_NONE,
			 &wear);
	{
		g_autofree char *mm = cmd_format_mm(head.needle_um);
		g_autofree char *date = fitted != POLICY_TIME_NONE ?
			cmd_format_date(head.fitted_ms, st->tz) : g_strdup("on a day not known");
		g_autofree char *days = wear.days >= 0 ?
			g_strdup_printf("%" G_GINT64_FORMAT " of %u days", wear.days,
					wear.refuse_after_days) :
			g_strdup("days not known");

		printf("  Head %s, %s mm, fitted %s: %u of %u sessions, %s: %s.\n",
		       head.serial, mm, date, wear.uses, wear.refuse_at_uses,
		       days, wear_word(wear.state));
	}
	head_reminder(st, label, &wear);

	table = cmd_table_new(4, 0);
	cmd_table_add(table, "Zone", "Next allowed", "Last treated", "Interval");
	for (unsigned int i = 0; i < ZONE_COUNT; i++) {
		const struct zone_info *zone = zone_by_order(i);
		struct policy_verdict v;
		struct store_zone_last last_treated;
		int64_t last_ms;
		struct policy_query q = {
			.zone = zone->id,
			.needle_um = head.needle_um,
			.head_uses = wear.uses,
			.head_fitted = fitted,
			.now = to_s(st->now_ms),
			.latest_seen = st->latest_ms ? to_s(st->latest_ms) : POLICY_TIME_NONE,
			.plan = st->plan,
			.tz = st->tz,
		};
		g_autofree char *next = NULL;
		g_autofree char *last = NULL;
		g_autofree char *rule = NULL;

		if (!store_zone_last_treated(st->store, zone->id, 0,
					     &last_treated, error)) {
			cmd_table_free(table);
			store_head_clear(&head);
			return false;
		}
		/* The end of the last pass, not the session's start: the
		 * stricter of the two. */
		last_ms = last_treated.treated_ms;
		q.last_session = last_ms ? to_s_up(last_ms) : POLICY_TIME_NONE;
		policy_check_zone(st->policy, &q, &v);
		next = next_text(st, &v);
		last = last_ms ? cmd_format_date_time(last_ms, st->tz) : g_strdup("never");
		rule = rule_text(zone, &v);
		cmd_table_add(table, zone->label, next, last, rule);
	}
	cmd_table_print(table, 2);
	store_head_clear(&head);
	return true;
}

/* SAFETY.md "Aftercare": each reminder with hours stays that long after
 * the last pass on any zone. */
static bool aftercare_reminders(struct status *st, GError **error)
{
	int64_t last_ms = 0;

	for (unsigned int z = 1; z <= ZONE_COUNT; z++) {
		struct store_zone_last at;

		if (!store_zone_last_treated(st->store, z, 0, &at, error))
			return false;
		last_ms = MAX(last_ms, at.treated_ms);
	}
	if (!last_ms)
		return true;

	for (unsigned int i = 0; i < policy_aftercare_count(st->policy); i++) {
		const struct policy_aftercare_item *it =
			policy_aftercare_item(st->policy, i);
		int64_t until = last_ms + (int64_t)it->hours * 3600 * 1000;
		g_autofree char *text = NULL;
		g_autofree char *when = NULL;
		size_t n;

		if (!it->hours || st->effective_ms >= until)
			continue;
		text = g_strdup(it->text);
		n = strlen(text);
		if (n && text[n - 1] == '.')
			text[n - 1] = '\0';
		when = cmd_format_date_time(until, st->tz);
		g_ptr_array_add(st->reminders,
				g_strdup_printf("%s (until %s).", text, when));
	}
	return true;
}

static void sanitise_reminder(struct status *st)
{
	int i = policy_checklist_find(st->policy, "sanitised");

	if (i < 0 || !st->any_head)
		return;
	g_ptr_array_add(st->reminders,
			g_strdup_printf("Sanitise the head before the next session: %s.",
					policy_checklist_item(st->policy, i)->advice));
}

static int run(struct status *st, const char *database, const char *plan_file)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rollers = NULL;
	g_autofree char *now = NULL;

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
	if (!store_time_seen(st->store, &st->latest_ms, &error))
		return cmd_fail_error(NAME, error);
	rollers = store_rollers(st->store, false, &error);
	if (!rollers)
		return cmd_fail_error(NAME, error);

	st->effective_ms = MAX(st->now_ms, st->latest_ms);
	now = cmd_format_date_time(st->effective_ms, st->tz);
	printf("Now: %s\n", now);
	if (st->latest_ms > st->now_ms) {
		g_autofree char *clock = cmd_format_date_time(st->now_ms, st->tz);

		printf("The clock shows %s, earlier than a time dermaroll has already seen: dates count from %s.\n",
		       clock, now);
	}
	if (st->plan)
		printf("Plan: signed by %s on %s.\n", plan_dermatologist(st->plan),
		       plan_signed(st->plan));
	printf("\n");

	if (!rollers->len)
		printf("No rollers yet: pair one, or try 'dermaroll session --simulate'.\n\n");
	for (guint i = 0; i < rollers->len; i++) {
		if (!show_roller(st, rollers->pdata[i], &error))
			return cmd_fail_error(NAME, error);
		printf("\n");
	}

	if (!aftercare_reminders(st, &error))
		return cmd_fail_error(NAME, error);
	sanitise_reminder(st);
	if (!st->reminders->len) {
		printf("No reminders are due.\n");
		return CMD_EXIT_OK;
	}
	printf("Reminders\n");
	for (guint i = 0; i < st->reminders->len; i++)
		printf("  - %s\n", (const char *)st->reminders->pdata[i]);
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
	st.reminders = g_ptr_array_new_with_free_func(g_free);
	status = run(&st, database, plan_file);

	g_ptr_array_unref(st.reminders);
	store_close(st.store);
	plan_free(st.plan);
	if (st.policy)
		policy_free(st.policy);
	g_time_zone_unref(st.tz);
	return status;
}
