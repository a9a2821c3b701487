/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll journal`: the reactions the user logs after a session
 * (SAFETY.md "Aftercare": redness and swelling each from 0 to 3, and free
 * text), which go into every export.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cmd-common.h"
#include "commands.h"

#define NAME "journal"
#define SCORE_MAX 3
#define NOTE_MAX_BYTES 4096	/* the store's limit for free text */

static char *database;

static const GOptionEntry database_entry[] = {
	{ "database", 0, 0, G_OPTION_ARG_FILENAME, &database,
	  "The history file (default: $XDG_DATA_HOME/dermaroll/history.db)", "PATH" },
	G_OPTION_ENTRY_NULL
};

static bool valid_note(const char *note)
{
	if (strlen(note) > NOTE_MAX_BYTES || !g_utf8_validate(note, -1, NULL))
		return false;
	for (const char *c = note; *c; c = g_utf8_next_char(c))
		if (g_unichar_iscntrl(g_utf8_get_char(c)))
			return false;
	return true;
}

static int add(int argc, char **argv)
{
	g_autofree char *zone_name = NULL;
	g_autofree char *note = NULL;
	int redness = -1, swelling = -1;
	const GOptionEntry entries[] = {
		{ "zone", 0, 0, G_OPTION_ARG_STRING, &zone_name,
		  "The zone that reacted (default: none in particular)", "ZONE" },
		{ "redness", 0, 0, G_OPTION_ARG_INT, &redness,
		  "Redness from 0 (none) to 3 (strong)", "0..3" },
		{ "swelling", 0, 0, G_OPTION_ARG_INT, &swelling,
		  "Swelling from 0 (none) to 3 (strong)", "0..3" },
		{ "note", 0, 0, G_OPTION_ARG_STRING, &note,
		  "Anything else to remember, in your words", "TEXT" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("[add]",
		"Logs a skin reaction now: redness and swelling from 0 to 3, and a "
		"note.  The journal goes into every export.");
	g_autoptr(GTimeZone) tz = cmd_local_tz();
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	g_autofree char *when = NULL;
	const struct zone_info *zone = NULL;
	struct store_journal_entry e = { 0 };

	g_option_context_set_description(context,
		"Other actions:\n"
		"  list                   Show the reactions logged\n"
		"\n"
		"Run 'dermaroll journal list --help' to see its options.");
	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_add_main_entries(context, database_entry, NULL);
	if (!cmd_parse(NAME, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc > 1 && strcmp(argv[1], "add") == 0) {
		argc--;
		argv++;
	}
	if (argc > 1)
		return cmd_usage(NAME, "'%s' is not an action; the actions are add and list.",
				 argv[1]);
	if (redness < 0 || swelling < 0)
		return cmd_usage(NAME, "give both --redness and --swelling, each from 0 to %d.",
				 SCORE_MAX);
	if (redness > SCORE_MAX || swelling > SCORE_MAX)
		return cmd_usage(NAME, "--redness and --swelling go from 0 (none) to %d (strong).",
				 SCORE_MAX);
	if (zone_name) {
		zone = cmd_parse_zone(NAME, zone_name);
		if (!zone)
			return CMD_EXIT_USAGE;
	}
	if (note && !valid_note(note))
		return cmd_usage(NAME, "--note must be text on one line, at most %d bytes.",
				 NOTE_MAX_BYTES);

	e.at_ms = cmd_now_ms();
	e.utc_offset_s = cmd_utc_offset(tz, e.at_ms);
	e.zone = zone ? (uint8_t)zone->id : 0;
	e.redness = (uint8_t)redness;
	e.swelling = (uint8_t)swelling;
	e.note = note;

	store = cmd_open_store(database, true, &error);
	if (!store)
		return cmd_fail_error(NAME, error);
	if (!store_journal_add(store, &e, NULL, &error))
		return cmd_fail_error(NAME, error);

	when = cmd_format_date_time(e.at_ms, tz);
	printf("Logged on %s: %s, redness %d, swelling %d%s%s%s.\n", when,
	       zone ? zone->phrase : "no zone in particular", redness, swelling,
	       note && *note ? ", \"" : "", note && *note ? note : "",
	       note && *note ? "\"" : "");
	if (redness == SCORE_MAX || swelling == SCORE_MAX)
		printf("Strong redness or swelling, or any sign of infection: please see a doctor.\n");
	return CMD_EXIT_OK;
}

static int list(int argc, char **argv)
{
	const char *action = "journal list";
	g_autofree char *from = NULL;
	g_autofree char *to = NULL;
	const GOptionEntry entries[] = {
		{ "from", 0, 0, G_OPTION_ARG_STRING, &from,
		  "Reactions logged on this day (local time) or later", "YYYY-MM-DD" },
		{ "to", 0, 0, G_OPTION_ARG_STRING, &to,
		  "Reactions logged on this day (local time) or earlier", "YYYY-MM-DD" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("",
		"Lists the reactions logged, oldest first.");
	g_autoptr(GTimeZone) tz = cmd_local_tz();
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	g_autoptr(GPtrArray) entries_found = NULL;
	int64_t from_ms = 0, to_ms = 0;
	struct cmd_table *table;

	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_add_main_entries(context, database_entry, NULL);
	if (!cmd_parse(action, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc > 1)
		return cmd_usage(action, "unexpected argument '%s'.", argv[1]);
	if (from && !cmd_parse_date(action, "--from", from, tz, false, &from_ms))
		return CMD_EXIT_USAGE;
	if (to && !cmd_parse_date(action, "--to", to, tz, true, &to_ms))
		return CMD_EXIT_USAGE;
	if (from && to && from_ms >= to_ms)
		return cmd_usage(action, "--from %s is after --to %s.", from, to);

	store = cmd_open_store(database, false, &error);
	if (!store)
		return cmd_fail_error(action, error);
	entries_found = store_journal(store, from_ms, to_ms, &error);
	if (!entries_found)
		return cmd_fail_error(action, error);
	if (!entries_found->len) {
		printf("No reactions logged%s.\n", from || to ? " then" : " yet");
		return CMD_EXIT_OK;
	}

	table = cmd_table_new(5, (1u << 2) | (1u << 3));
	cmd_table_add(table, "When", "Zone", "Redness", "Swelling", "Note");
	for (guint i = 0; i < entries_found->len; i++) {
		const struct store_journal_entry *e = entries_found->pdata[i];
		g_autoptr(GTimeZone) own_tz = g_time_zone_new_offset(e->utc_offset_s);
		g_autofree char *when = cmd_format_date_time(e->at_ms, own_tz);
		g_autofree char *red = g_strdup_printf("%u", e->redness);
		g_autofree char *swell = g_strdup_printf("%u", e->swelling);
		const struct zone_info *zone = zone_get(e->zone);

		cmd_table_add(table, when, zone ? zone->label : "-", red, swell,
			      e->note);
	}
	cmd_table_print(table, 0);
	return CMD_EXIT_OK;
}

int cmd_journal(int argc, char **argv)
{
	int status;

	if (argc > 1 && strcmp(argv[1], "list") == 0) {
		g_set_prgname("dermaroll journal list");
		status = list(argc - 1, argv + 1);
	} else {
		status = add(argc, argv);
	}
	g_clear_pointer(&database, g_free);
	return status;
}
