/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll rollers`: the rollers the history knows, and the few things a
 * person changes about them: a name, forgetting one (its history stays),
 * and a new head fitted (SAFETY.md "The roller head": replacing the head
 * resets the wear).
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cmd-common.h"
#include "commands.h"
#include "policy.h"

#define NAME "rollers"
/* The limits of the store (names) and of PROTOCOL.md (head serials are
 * INFO strings: 1..16 printable ASCII bytes; needles 1..3000 µm). */
#define ROLLER_NAME_MAX_BYTES 64
#define HEAD_SERIAL_MAX 16
#define NEEDLE_UM_MAX 3000

static char *database;

static const GOptionEntry database_entry[] = {
	{ "database", 0, 0, G_OPTION_ARG_FILENAME, &database,
	  "The history file (default: $XDG_DATA_HOME/dermaroll/history.db)", "PATH" },
	G_OPTION_ENTRY_NULL
};

static int list(int argc, char **argv)
{
	gboolean all = FALSE;
	const GOptionEntry entries[] = {
		{ "all", 0, 0, G_OPTION_ARG_NONE, &all,
		  "Also list the rollers that were forgotten", NULL },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("[list]",
		"Lists the rollers: serial, name, firmware, the head fitted, and when "
		"each was last seen.");
	g_autoptr(GTimeZone) tz = cmd_local_tz();
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	g_autoptr(GPtrArray) rollers = NULL;
	struct cmd_table *table;

	g_option_context_set_description(context,
		"Other actions:\n"
		"  rename SERIAL NAME     Give a roller a name\n"
		"  forget SERIAL          Hide a roller from lists; its history stays\n"
		"  new-head SERIAL --needle-mm MM --head-serial SERIAL\n"
		"                         Record that a new head was fitted\n"
		"\n"
		"Run 'dermaroll rollers ACTION --help' to see an action's options.");
	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_add_main_entries(context, database_entry, NULL);
	if (!cmd_parse(NAME, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc > 1 && strcmp(argv[1], "list") == 0) {
		argc--;
		argv++;
	}
	if (argc > 1)
		return cmd_usage(NAME, "'%s' is not an action; the actions are list, rename, forget and new-head.",
				 argv[1]);

	store = cmd_open_store(database, false, &error);
	if (!store)
		return cmd_fail_error(NAME, error);
	rollers = store_rollers(store, all, &error);
	if (!rollers)
		return cmd_fail_error(NAME, error);
	if (!rollers->len) {
		printf("No rollers yet.\n");
		return CMD_EXIT_OK;
	}

	table = cmd_table_new(8, 1u << 5);
	cmd_table_add(table, "Serial", "Name", "Firmware", "Head", "Needle",
		      "Uses", "Fitted", "Last seen");
	for (guint i = 0; i < rollers->len; i++) {
		const struct store_roller *r = rollers->pdata[i];
		g_autofree char *name = NULL, *needle = NULL, *uses = NULL;
		g_autofree char *fitted = NULL, *seen = NULL;
		struct store_head head;

		if (!store_head_current(store, r->id, &head, &error)) {
			cmd_table_free(table);
			return cmd_fail_error(NAME, error);
		}
		name = g_strdup_printf("%s%s", r->name ? r->name : "",
				       r->forgotten ? " (forgotten)" : "");
		if (head.id) {
			g_autofree char *mm = cmd_format_mm(head.needle_um);

			needle = g_strdup_printf("%s mm", mm);
			uses = g_strdup_printf("%u", MAX(head.uses_reported,
							 head.sessions));
			fitted = head.fitted_ms > 0 ?
				cmd_format_date(head.fitted_ms, tz) : g_strdup("?");
		}
		seen = cmd_format_date(r->last_seen_ms, tz);
		cmd_table_add(table, r->serial, name,
			      r->firmware && *r->firmware ? r->firmware : "?",
			      head.id ? head.serial : "none", needle, uses,
			      fitted, seen);
		store_head_clear(&head);
	}
	cmd_table_print(table, 0);
	return CMD_EXIT_OK;
}

/* Opens the history for a change to the roller named by @text. */
static struct store *open_for_roller(const char *action, const char *text,
				     struct store_roller **roller,
				     GPtrArray **rollers, int *status)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;

	store = cmd_open_store(database, false, &error);
	if (!store) {
		*status = cmd_fail_error(action, error);
		return NULL;
	}
	*rollers = store_rollers(store, true, &error);
	if (!*rollers) {
		*status = cmd_fail_error(action, error);
		return NULL;
	}
	*roller = cmd_find_roller(*rollers, text);
	if (!*roller) {
		*status = cmd_fail_no_roller(action, *rollers, text);
		return NULL;
	}
	return g_steal_pointer(&store);
}

static bool valid_name(const char *name)
{
	g_autofree char *trimmed = NULL;

	if (!g_utf8_validate(name, -1, NULL))
		return false;
	trimmed = g_strstrip(g_strdup(name));
	if (!*trimmed || strlen(trimmed) > ROLLER_NAME_MAX_BYTES)
		return false;
	for (const char *c = trimmed; *c; c = g_utf8_next_char(c))
		if (g_unichar_iscntrl(g_utf8_get_char(c)))
			return false;
	return true;
}

static int rename_roller(int argc, char **argv)
{
	const char *action = "rollers rename";
	g_autoptr(GOptionContext) context = cmd_context("SERIAL NAME",
		"Gives the roller SERIAL (or the one now called so) the name NAME, "
		"used in every list and export beside its serial.");
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	g_autoptr(GPtrArray) rollers = NULL;
	g_autofree char *name = NULL;
	g_autofree char *old = NULL;
	struct store_roller *roller = NULL, *other;
	int status = CMD_EXIT_FAILED;

	g_option_context_add_main_entries(context, database_entry, NULL);
	if (!cmd_parse(action, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc != 3)
		return cmd_usage(action, "give the roller's serial and its new name, as in: dermaroll rollers rename DR-SIM-0001 \"Bathroom roller\".");
	if (!valid_name(argv[2]))
		return cmd_usage(action, "a roller's name needs 1 to %d bytes of text on one line.",
				 ROLLER_NAME_MAX_BYTES);
	name = g_strstrip(g_strdup(argv[2]));

	store = open_for_roller(action, argv[1], &roller, &rollers, &status);
	if (!store)
		return status;
	other = cmd_find_roller(rollers, name);
	if (other && other != roller)
		return cmd_fail(action, "Another roller, %s, is already called '%s'; choose another name.",
				other->serial, name);
	old = cmd_roller_label(roller);
	if (!store_roller_rename(store, roller->id, name, &error))
		return cmd_fail_error(action, error);
	printf("Renamed %s to '%s'.\n", old, name);
	return CMD_EXIT_OK;
}

static int forget_roller(int argc, char **argv)
{
	const char *action = "rollers forget";
	g_autoptr(GOptionContext) context = cmd_context("SERIAL",
		"Hides the roller SERIAL from lists and from status.  Its sessions and "
		"passes stay in the history, and it comes back when it connects again.");
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	g_autoptr(GPtrArray) rollers = NULL;
	g_autofree char *label = NULL;
	struct store_roller *roller = NULL;
	int status = CMD_EXIT_FAILED;

	g_option_context_add_main_entries(context, database_entry, NULL);
	if (!cmd_parse(action, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc != 2)
		return cmd_usage(action, "give the serial of one roller, as in: dermaroll rollers forget DR-SIM-0001.");

	store = open_for_roller(action, argv[1], &roller, &rollers, &status);
	if (!store)
		return status;
	label = cmd_roller_label(roller);
	if (roller->forgotten) {
		printf("Roller %s was already forgotten; its history is kept.\n", label);
		return CMD_EXIT_OK;
	}
	if (!store_roller_forget(store, roller->id, &error))
		return cmd_fail_error(action, error);
	printf("Forgot roller %s. Its history is kept, and it comes back if it connects again.\n",
	       label);
	return CMD_EXIT_OK;
}

/* "0.5", "0.25", "1": millimetres with at most 3 decimals, to µm. */
static bool parse_mm(const char *text, unsigned int *um)
{
	unsigned int whole = 0, frac = 0, scale = 1000;
	const char *p = text;

	if (!g_ascii_isdigit(*p))
		return false;
	for (; g_ascii_isdigit(*p); p++) {
		whole = whole * 10 + (unsigned int)(*p - '0');
		if (whole > NEEDLE_UM_MAX)
			return false;
	}
	if (*p == '.') {
		p++;
		if (!g_ascii_isdigit(*p))
			return false;
		for (; g_ascii_isdigit(*p); p++) {
			if (scale == 1)
				return false;
			scale /= 10;
			frac += (unsigned int)(*p - '0') * scale;
		}
	}
	if (*p)
		return false;
	*um = whole * 1000 + frac;
	return *um >= 1 && *um <= NEEDLE_UM_MAX;
}

static bool valid_head_serial(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > HEAD_SERIAL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static int new_head(int argc, char **argv)
{
	const char *action = "rollers new-head";
	g_autofree char *needle = NULL;
	g_autofree char *head_serial = NULL;
	const GOptionEntry entries[] = {
		{ "needle-mm", 0, 0, G_OPTION_ARG_STRING, &needle,
		  "The new head's needle length in millimetres, e.g. 0.5", "MM" },
		{ "head-serial", 0, 0, G_OPTION_ARG_STRING, &head_serial,
		  "The serial number printed on the new head", "SERIAL" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("SERIAL",
		"Records that a new head was fitted on the roller SERIAL now: its wear "
		"(sessions used, days since fitting) starts again from zero.");
	g_autoptr(GTimeZone) tz = cmd_local_tz();
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	g_autoptr(GPtrArray) rollers = NULL;
	g_autofree char *label = NULL;
	g_autofree char *mm = NULL;
	g_autofree char *when = NULL;
	struct store_roller *roller = NULL;
	struct store_head head;
	struct policy *policy;
	unsigned int um = 0, refuse_um;
	int64_t now = cmd_now_ms();
	int status = CMD_EXIT_FAILED;

	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_add_main_entries(context, database_entry, NULL);
	if (!cmd_parse(action, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc != 2)
		return cmd_usage(action, "give the serial of one roller, as in: dermaroll rollers new-head DR-SIM-0001 --needle-mm 0.5 --head-serial H-1234.");
	if (!needle || !head_serial)
		return cmd_usage(action, "give both --needle-mm and --head-serial of the new head.");
	if (!parse_mm(needle, &um))
		return cmd_usage(action, "--needle-mm '%s' is not a needle length; write millimetres from 0.001 to 3, for example 0.5.",
				 needle);
	if (!valid_head_serial(head_serial))
		return cmd_usage(action, "--head-serial needs 1 to %d printable ASCII characters.",
				 HEAD_SERIAL_MAX);

	policy = policy_load_default(&error);
	if (!policy)
		return cmd_fail_error(action, error);
	refuse_um = policy_refuse_from_um(policy);
	policy_free(policy);

	store = open_for_roller(action, argv[1], &roller, &rollers, &status);
	if (!store)
		return status;
	label = cmd_roller_label(roller);
	if (!store_head_current(store, roller->id, &head, &error))
		return cmd_fail_error(action, error);
	if (head.id && g_strcmp0(head.serial, head_serial) == 0) {
		store_head_clear(&head);
		return cmd_fail(action, "Head %s is already the head fitted on %s; give the serial of the new head.",
				head_serial, label);
	}
	store_head_clear(&head);

	if (!store_head_fit(store, roller->id, head_serial, (uint16_t)um, now, 0,
			    NULL, &error) ||
	    !store_head_current(store, roller->id, &head, &error))
		return cmd_fail_error(action, error);

	mm = cmd_format_mm(head.needle_um);
	when = cmd_format_date(head.fitted_ms, tz);
	if (head.sessions == 0)
		printf("Head %s (%s mm) is now fitted on %s: its wear starts from 0 sessions today.\n",
		       head.serial, mm, label);
	else
		printf("Head %s (%s mm) is fitted on %s again: it was first fitted on %s and has been used for %u sessions, which still count.\n",
		       head.serial, mm, label, when, head.sessions);
	if (um >= refuse_um) {
		g_autofree char *limit = cmd_format_mm(refuse_um);

		printf("Note: needles of %s mm or longer are for clinics only; dermaroll refuses every session with this head.\n",
		       limit);
	}
	store_head_clear(&head);
	return CMD_EXIT_OK;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} actions[] = {
	{ "rename", rename_roller },
	{ "forget", forget_roller },
	{ "new-head", new_head },
};

int cmd_rollers(int argc, char **argv)
{
	int status;

	if (argc > 1) {
		for (size_t i = 0; i < G_N_ELEMENTS(actions); i++) {
			g_autofree char *prgname = NULL;

			if (strcmp(argv[1], actions[i].name) != 0)
				continue;
			prgname = g_strdup_printf("dermaroll rollers %s", actions[i].name);
			g_set_prgname(prgname);
			status = actions[i].run(argc - 1, argv + 1);
			g_clear_pointer(&database, g_free);
			return status;
		}
	}
	status = list(argc, argv);
	g_clear_pointer(&database, g_free);
	return status;
}
