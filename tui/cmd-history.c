/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll history`: the stored sessions, each with its zones, passes per
 * direction, pressure and overrides (flagged, SAFETY.md "Overrides"), then
 * the passes that belong to no session ("unassigned", issue 3 item 5).
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cmd-common.h"
#include "commands.h"
#include "summary.h"

#define NAME "history"

static char *format_seconds(uint32_t ms)
{
	return g_strdup_printf("%u.%u s", ms / 1000, ms % 1000 / 100);
}

static char *zone_label(uint8_t id)
{
	const struct zone_info *zone = zone_get(id);

	return g_strdup(zone ? zone->label : "none");
}

static bool show_session(struct store *store, const struct store_session *ss,
			 GTimeZone *tz, GError **error)
{
	g_autofree char *iso = cmd_format_iso(ss->started_ms, ss->utc_offset_s);
	g_autoptr(GTimeZone) own_tz = g_time_zone_new_offset(ss->utc_offset_s);
	g_autofree char *day = cmd_format_date(ss->started_ms, own_tz);
	g_autoptr(GPtrArray) overrides = NULL;
	struct store_roller roller = {
		.serial = ss->roller_serial, .name = ss->roller_name,
	};
	g_autofree char *label = cmd_roller_label(&roller);
	struct cmd_table *table;

	overrides = store_overrides(store, ss->id, error);
	if (!overrides)
		return false;

	printf("%s  %s  %s%s\n", iso, day, summary_session_state_word(ss->state),
	       overrides->len ? "  OVERRIDDEN" : "");
	printf("  Roller: %s, firmware %s\n", label,
	       ss->firmware && *ss->firmware ? ss->firmware : "not known");
	if (ss->head_id) {
		g_autofree char *mm = cmd_format_mm(ss->needle_um);

		printf("  Head: %s, %s mm, its session %u\n", ss->head_serial,
		       mm, ss->head_use);
	} else {
		printf("  Head: not known\n");
	}
	if (ss->plan_name)
		printf("  Plan: %s, %s\n", ss->plan_name,
		       ss->plan_date ? ss->plan_date : "no date");

	if (!ss->zones->len) {
		printf("  No passes on any zone.\n");
	} else {
		table = cmd_table_new(7, 0x7e);
		cmd_table_add(table, "Zone", "Horizontal", "Vertical", "Diagonal",
			      "Mean", "Peak", "Over warn");
		for (guint i = 0; i < ss->zones->len; i++) {
			const struct store_zone_result *z =
				&g_array_index(ss->zones, struct store_zone_result, i);
			g_autofree char *zone = zone_label(z->zone);
			g_autofree char *h = g_strdup_printf("%u", z->passes[ZONE_DIR_HORIZONTAL]);
			g_autofree char *v = g_strdup_printf("%u", z->passes[ZONE_DIR_VERTICAL]);
			g_autofree char *d = g_strdup_printf("%u", z->passes[ZONE_DIR_DIAGONAL]);
			g_autofree char *mean = cmd_format_newton(z->mean_force_cn);
			g_autofree char *peak = cmd_format_newton(z->peak_force_cn);
			g_autofree char *over = format_seconds(z->over_warn_ms);

			cmd_table_add(table, zone, h, v, d, mean, peak, over);
		}
		cmd_table_print(table, 2);
	}

	for (guint i = 0; i < overrides->len; i++) {
		const struct store_override *o = overrides->pdata[i];
		const struct zone_info *zone = zone_get(o->zone);
		g_autofree char *at = cmd_format_date_time(o->at_ms, own_tz);

		printf("  OVERRIDE of the %s limit %s%s, %s: \"%s\"\n",
		       summary_override_word(o->kind), zone ? "on the " : "for the whole session",
		       zone ? zone->phrase : "", at, o->reason);
	}
	return true;
}

static bool show_unassigned(struct store *store, GPtrArray *rollers,
			    const struct store_history_filter *f, GTimeZone *tz,
			    GError **error)
{
	struct cmd_table *table = cmd_table_new(8, 0xe2);
	unsigned int n = 0;

	cmd_table_add(table, "Roller", "Seq", "Time", "Zone", "Direction",
		      "Mean", "Peak", "Over warn");
	for (guint r = 0; r < rollers->len; r++) {
		const struct store_roller *roller = rollers->pdata[r];
		g_autoptr(GArray) passes = NULL;

		if (f->roller_id && f->roller_id != roller->id)
			continue;
		passes = store_unassigned_passes(store, roller->id, error);
		if (!passes) {
			cmd_table_free(table);
			return false;
		}
		for (guint i = 0; i < passes->len; i++) {
			const struct store_pass *p =
				&g_array_index(passes, struct store_pass, i);
			g_autofree char *seq = NULL, *time = NULL, *zone = NULL;
			g_autofree char *mean = NULL, *peak = NULL, *over = NULL;

			if ((f->from_ms && p->started_ms < f->from_ms) ||
			    (f->to_ms && p->started_ms >= f->to_ms) ||
			    (f->zone && p->dev.zone != f->zone))
				continue;
			seq = g_strdup_printf("%u", p->dev.seq);
			time = cmd_format_iso(p->started_ms,
					      cmd_utc_offset(tz, p->started_ms));
			zone = zone_label(p->dev.zone);
			mean = cmd_format_newton(p->dev.mean_force_cn);
			peak = cmd_format_newton(p->dev.peak_force_cn);
			over = format_seconds(p->dev.over_warn_ms);
			cmd_table_add(table, roller->serial, seq, time, zone,
				      zone_dir_name(p->dir_class),
				      mean, peak, over);
			n++;
		}
	}
	printf("Unassigned passes: %u (rolled outside any session: kept, counted for no zone)\n", n);
	if (n)
		cmd_table_print(table, 2);
	else
		cmd_table_free(table);
	return true;
}

int cmd_history(int argc, char **argv)
{
	g_autofree char *database = NULL;
	g_autofree char *from = NULL;
	g_autofree char *to = NULL;
	g_autofree char *zone_name = NULL;
	g_autofree char *roller_name = NULL;
	const GOptionEntry entries[] = {
		{ "from", 0, 0, G_OPTION_ARG_STRING, &from,
		  "Sessions that started on this day (local time) or later", "YYYY-MM-DD" },
		{ "to", 0, 0, G_OPTION_ARG_STRING, &to,
		  "Sessions that started on this day (local time) or earlier", "YYYY-MM-DD" },
		{ "zone", 0, 0, G_OPTION_ARG_STRING, &zone_name,
		  "Sessions that treated this zone", "ZONE" },
		{ "roller", 0, 0, G_OPTION_ARG_STRING, &roller_name,
		  "Sessions with this roller", "SERIAL-OR-NAME" },
		{ "database", 0, 0, G_OPTION_ARG_FILENAME, &database,
		  "The history file (default: $XDG_DATA_HOME/dermaroll/history.db)", "PATH" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("",
		"Lists the stored sessions: start time, roller and head, passes per "
		"direction and pressure on each zone, and overrides; then the passes "
		"rolled outside any session.");
	g_autoptr(GTimeZone) tz = cmd_local_tz();
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	g_autoptr(GPtrArray) rollers = NULL;
	g_autoptr(GPtrArray) sessions = NULL;
	struct store_history_filter filter = { 0 };

	g_option_context_add_main_entries(context, entries, NULL);
	if (!cmd_parse(NAME, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc > 1)
		return cmd_usage(NAME, "unexpected argument '%s'.", argv[1]);
	if (from && !cmd_parse_date(NAME, "--from", from, tz, false, &filter.from_ms))
		return CMD_EXIT_USAGE;
	if (to && !cmd_parse_date(NAME, "--to", to, tz, true, &filter.to_ms))
		return CMD_EXIT_USAGE;
	if (from && to && filter.from_ms >= filter.to_ms)
		return cmd_usage(NAME, "--from %s is after --to %s.", from, to);
	if (zone_name) {
		const struct zone_info *zone = cmd_parse_zone(NAME, zone_name);

		if (!zone)
			return CMD_EXIT_USAGE;
		filter.zone = zone->id;
	}

	store = cmd_open_store(database, false, &error);
	if (!store)
		return cmd_fail_error(NAME, error);
	rollers = store_rollers(store, true, &error);
	if (!rollers)
		return cmd_fail_error(NAME, error);
	if (roller_name) {
		struct store_roller *r = cmd_find_roller(rollers, roller_name);

		if (!r)
			return cmd_fail_no_roller(NAME, rollers, roller_name);
		filter.roller_id = r->id;
	}

	sessions = store_history(store, &filter, &error);
	if (!sessions)
		return cmd_fail_error(NAME, error);
	if (!sessions->len)
		printf("No sessions%s.\n\n", from || to || zone_name || roller_name ?
		       " match" : " yet");
	for (guint i = 0; i < sessions->len; i++) {
		if (!show_session(store, sessions->pdata[i], tz, &error))
			return cmd_fail_error(NAME, error);
		printf("\n");
	}
	if (!show_unassigned(store, rollers, &filter, tz, &error))
		return cmd_fail_error(NAME, error);
	return CMD_EXIT_OK;
}
