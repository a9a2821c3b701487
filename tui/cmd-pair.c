/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll pair ADDRESS`: pairs a roller in pairing mode after the user
 * confirms, trusts it, reads its INFO over the new bond and records it in
 * the history (PROTOCOL.md §9.5), then checks its head against the safety
 * limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd-bluez.h"
#include "cmd-common.h"
#include "commands.h"
#include "link.h"
#include "pair-steps.h"
#include "policy.h"

#define NAME "pair"
#define SECONDS_DEFAULT 10
#define SECONDS_MAX 120

static char *database;

/* ---- Finding the roller in pairing mode ---- */

struct find_run {
	const char *address;
	bool done, seen;
	struct bluez_roller roller;
	GError *error;
};

static void on_scan(struct bluez_scan *scan, enum bluez_scan_event event,
		    const struct bluez_roller *roller, const GError *error, void *data)
{
	struct find_run *run = data;

	if (event == BLUEZ_SCAN_FAILED) {
		run->error = g_error_copy(error);
		run->done = true;
		return;
	}
	if (!roller || g_ascii_strcasecmp(roller->address, run->address) != 0 ||
	    event == BLUEZ_SCAN_LOST)
		return;
	run->seen = true;
	run->roller = *roller;
	if (roller->pairing || roller->bonded)
		run->done = true;
}

/* Looks for the roller until it shows pairing mode, at most seconds. */
static int find_roller(struct bluez *bluez, const char *adapter, const char *address,
		       int seconds)
{
	struct find_run run = { .address = address };
	g_autoptr(GError) error = NULL;
	struct bluez_scan *scan;
	struct bluez_roller known;

	if (bluez_roller_lookup(bluez, adapter, address, &known) &&
	    (known.pairing || known.bonded))
		return CMD_EXIT_OK;
	scan = bluez_scan_start(bluez, adapter, 0, on_scan, &run, NULL, &error);
	if (!scan)
		return cmd_fail_error(NAME, error);
	printf("Looking for the roller %s...\n", address);
	fflush(stdout);
	cmd_bluez_wait(&run.done, (guint)seconds * 1000);
	bluez_scan_stop(scan);
	if (run.error) {
		int status = cmd_fail_error(NAME, run.error);

		g_error_free(run.error);
		return status;
	}
	if (!run.seen) {
		error = bluez_error_new(BLUEZ_NOT_FOUND, address);
		return cmd_fail_error(NAME, error);
	}
	/* Seen but not in pairing mode: bluez_pair_start says so. */
	return CMD_EXIT_OK;
}

/* ---- Pairing ---- */

struct pair_run {
	bool done;
	GError *error;
};

static bool read_passkey(uint32_t *passkey)
{
	char line[32], *end;
	unsigned long v;

	if (!fgets(line, sizeof(line), stdin))
		return false;
	g_strstrip(line);
	v = strtoul(line, &end, 10);
	if (end == line || *end || v > 999999)
		return false;
	*passkey = (uint32_t)v;
	return true;
}

static void on_ask(struct bluez_pair *pair, enum bluez_agent_ask ask, uint32_t passkey,
		   void *data)
{
	g_autofree char *question = NULL;
	uint32_t typed = 0;

	switch (ask) {
	case BLUEZ_ASK_AUTHORIZE:
		/* Just Works: the user has just said yes to pairing this roller. */
		bluez_pair_reply(pair, true, 0);
		break;
	case BLUEZ_ASK_CONFIRM:
		question = g_strdup_printf("Does the roller show the number %06u?", passkey);
		bluez_pair_reply(pair, cmd_ask_yes(question), 0);
		break;
	case BLUEZ_ASK_PASSKEY:
		if (!isatty(0)) {
			bluez_pair_reply(pair, false, 0);
			break;
		}
		printf("Type the 6-digit number the roller shows: ");
		fflush(stdout);
		if (read_passkey(&typed))
			bluez_pair_reply(pair, true, typed);
		else
			bluez_pair_reply(pair, false, 0);
		break;
	case BLUEZ_ASK_SHOW:
		printf("Type %06u on the roller.\n", passkey);
		fflush(stdout);
		break;
	case BLUEZ_ASK_CANCELLED:
		printf("The roller cancelled the question.\n");
		break;
	}
}

static void on_paired(struct bluez_pair *pair, const GError *error, void *data)
{
	struct pair_run *run = data;

	if (error)
		run->error = g_error_copy(error);
	run->done = true;
}

/* ---- Reading INFO over the bond, recording (pair-steps.h) ---- */

struct info_run {
	bool done;
	struct dp_info info;
	GError *error;
};

static void on_info(const struct dp_info *info, const char *name, const GError *error,
		    void *data)
{
	struct info_run *run = data;

	if (info)
		run->info = *info;
	else
		run->error = g_error_copy(error);
	run->done = true;
}

static int read_info(GDBusConnection *bus, const char *adapter, const char *address,
		     struct info_run *run)
{
	g_autoptr(GError) error = NULL;
	struct link *link = link_bluez_connect(bus, adapter, address, &error);

	if (!link)
		return cmd_fail_error(NAME, error);
	pair_info_read_start(link, PAIR_INFO_TIMEOUT_MS, on_info, run);
	cmd_bluez_wait(&run->done, 0);
	/* The link is closed: this program leaves right after, and must not
	 * leave the bus before bluetoothd has dropped the link (cmd-bluez.h). */
	cmd_bluez_let_go(&link, 1, CMD_BLUEZ_LET_GO_MS);
	link_unref(link);
	/* Paired and trusted already: say so, so nobody pairs it again. */
	if (run->error)
		return cmd_fail(NAME, "The roller is paired, but its details could not be "
				"read, so it is not in the history yet. %s", run->error->message);
	return CMD_EXIT_OK;
}

static int record(const struct dp_info *info, const char *name, const char *address)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) store = NULL;
	g_autofree char *head = NULL;
	struct pair_record rec;
	struct policy *policy;
	gboolean ok;

	policy = policy_load_default(&error);
	if (!policy)
		return cmd_fail_error(NAME, error);
	store = cmd_open_store(database, true, &error);
	ok = store && pair_record(store, policy, info, name, address, cmd_now_ms(), &rec,
				  &error);
	policy_free(policy);
	if (!ok)
		return cmd_fail_error(NAME, error);

	if (name)
		printf("Paired with the roller %s (%s), serial %s, firmware %s.\n",
		       name, address, info->serial, info->firmware);
	else
		printf("Paired with the roller %s (%s), firmware %s.\n",
		       info->serial, address, info->firmware);
	head = pair_head_text(info, &rec);
	printf("%s\n", head);
	return CMD_EXIT_OK;
}

static int pair_roller(const char *address, const char *adapter, const char *name,
		       bool yes, bool power_on, int seconds)
{
	g_autoptr(GDBusConnection) bus = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *question = NULL;
	struct pair_run run = { 0 };
	struct info_run info = { 0 };
	struct bluez_roller roller;
	struct bluez_pair *pair;
	struct bluez *bluez;
	int status;

	bus = cmd_bluez_bus(NAME);
	if (!bus)
		return CMD_EXIT_FAILED;
	bluez = cmd_bluez_model(NAME, bus);
	if (!bluez)
		return CMD_EXIT_FAILED;
	status = cmd_bluez_adapter_ready(NAME, bluez, adapter, power_on);
	if (status == CMD_EXIT_OK)
		status = find_roller(bluez, adapter, address, seconds);
	if (status != CMD_EXIT_OK)
		goto out;

	if (bluez_roller_lookup(bluez, adapter, address, &roller) && !roller.bonded &&
	    roller.pairing && !yes) {
		question = g_strdup_printf("Pair with the roller '%s' (%s)?",
					   *roller.name ? roller.name : "?", address);
		if (!cmd_ask_yes(question)) {
			status = isatty(0) ? cmd_fail(NAME, "Not paired: you did not confirm.")
					   : cmd_usage(NAME, "standard input is not a terminal, so "
						       "nobody can confirm: give --yes to pair "
						       "without being asked.");
			goto out;
		}
	}
	pair = bluez_pair_start(bluez, adapter, address,
				&(struct bluez_pair_handler){ .ask = on_ask, .done = on_paired },
				&run, NULL, &error);
	if (!pair) {
		status = cmd_fail_error(NAME, error);
		goto out;
	}
	cmd_bluez_wait(&run.done, 0);
	if (!run.error && bluez_pair_was_bonded(pair))
		printf("The roller %s was already paired; it is now trusted too.\n", address);
	bluez_pair_free(pair);
	if (run.error) {
		status = cmd_fail_error(NAME, run.error);
		g_error_free(run.error);
		goto out;
	}
	status = read_info(bus, adapter, address, &info);
	if (status == CMD_EXIT_OK)
		status = record(&info.info, name, address);
	g_clear_error(&info.error);
out:
	g_dbus_connection_flush_sync(bus, NULL, NULL);
	bluez_unref(bluez);
	return status;
}

int cmd_pair(int argc, char **argv)
{
	g_autofree char *adapter = NULL;
	g_autofree char *name = NULL;
	g_autofree char *address = NULL;
	gboolean yes = FALSE, power_on = FALSE;
	gint seconds = SECONDS_DEFAULT;
	const GOptionEntry entries[] = {
		{ "adapter", 0, 0, G_OPTION_ARG_STRING, &adapter,
		  "The Bluetooth adapter to use (default: the first one)", "hciN" },
		{ "name", 0, 0, G_OPTION_ARG_STRING, &name,
		  "A name for the roller, used in lists beside its serial", "NAME" },
		{ "yes", 'y', 0, G_OPTION_ARG_NONE, &yes,
		  "Pair without asking first", NULL },
		{ "power-on", 0, 0, G_OPTION_ARG_NONE, &power_on,
		  "Turn Bluetooth on if it is off, without asking", NULL },
		{ "seconds", 0, 0, G_OPTION_ARG_INT, &seconds,
		  "How long to look for the roller, 1 to 120 (default: 10)", "N" },
		{ "database", 0, 0, G_OPTION_ARG_FILENAME, &database,
		  "The history file (default: $XDG_DATA_HOME/dermaroll/history.db)", "PATH" },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context("ADDRESS",
		"Pairs the roller at ADDRESS (as 'dermaroll scan' lists it), trusts it, "
		"and records it and its head in the history.");
	int status;

	g_option_context_set_description(context,
		"First put the roller in pairing mode: hold its button until the light "
		"blinks.\nPairing mode lasts 60 seconds.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!cmd_parse(NAME, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc != 2) {
		status = cmd_usage(NAME, "give the roller's address, as in: dermaroll pair "
				   "AA:BB:CC:DD:EE:FF.");
		goto out;
	}
	address = g_ascii_strup(argv[1], -1);
	if (strlen(address) != 17 || !g_regex_match_simple(
		    "^([0-9A-F]{2}:){5}[0-9A-F]{2}$", address, 0, 0)) {
		status = cmd_usage(NAME, "'%s' is not a Bluetooth address (it looks like "
				   "AA:BB:CC:DD:EE:FF).", argv[1]);
		goto out;
	}
	if (name && !pair_name_valid(name)) {
		status = cmd_usage(NAME, "a roller's name needs 1 to %d bytes of text on one line.",
				   PAIR_NAME_MAX_BYTES);
		goto out;
	}
	if (seconds < 1 || seconds > SECONDS_MAX) {
		status = cmd_usage(NAME, "--seconds must be between 1 and %d.", SECONDS_MAX);
		goto out;
	}
	status = pair_roller(address, adapter, name, yes, power_on, seconds);
out:
	g_clear_pointer(&database, g_free);
	return status;
}
