/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `dermaroll scan`: lists the rollers nearby as Bluetooth finds them, with
 * their signal and whether they are ready to pair (PROTOCOL.md §9).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "cmd-bluez.h"
#include "cmd-common.h"
#include "commands.h"
#include "dp/proto.h"

#define NAME "scan"
#define SECONDS_DEFAULT 10
#define SECONDS_MAX 600
/* BlueZ reports the RSSI of nearly every advertisement: a line for a
 * change of this much or more, or of state, is enough for a person. */
#define RSSI_STEP 5

struct scan_run {
	bool done;
	GError *error;
	unsigned found;
	GHashTable *shown;           /* address -> struct bluez_roller last printed */
};

/* "ready to pair", "paired", ... for one roller. */
static const char *roller_state(const struct bluez_roller *r)
{
	if (r->adv.proto_major > DP_PROTO_MAJOR)
		return "needs a newer dermaroll";
	if (r->bonded)
		return "paired";
	if (r->pairing)
		return "ready to pair";
	return "not in pairing mode";
}

static void print_roller(const char *what, const struct bluez_roller *r)
{
	g_autofree char *signal = r->rssi == BLUEZ_RSSI_UNKNOWN
				  ? g_strdup("signal ?") : g_strdup_printf("%d dBm", r->rssi);

	printf("%-7s %s  %-16s  %-9s  %s\n", what, r->address,
	       *r->name ? r->name : "(no name)", signal, roller_state(r));
	fflush(stdout);
}

static void on_scan(struct bluez_scan *scan, enum bluez_scan_event event,
		    const struct bluez_roller *roller, const GError *error, void *data)
{
	struct scan_run *run = data;
	const struct bluez_roller *shown;

	switch (event) {
	case BLUEZ_SCAN_STARTED:
		break;
	case BLUEZ_SCAN_FOUND:
		run->found++;
		print_roller("Found", roller);
		g_hash_table_replace(run->shown, g_strdup(roller->address),
				     g_memdup2(roller, sizeof(*roller)));
		break;
	case BLUEZ_SCAN_CHANGED:
		shown = g_hash_table_lookup(run->shown, roller->address);
		if (shown && strcmp(roller_state(shown), roller_state(roller)) == 0 &&
		    strcmp(shown->name, roller->name) == 0 &&
		    (shown->rssi == BLUEZ_RSSI_UNKNOWN) == (roller->rssi == BLUEZ_RSSI_UNKNOWN) &&
		    ABS(shown->rssi - roller->rssi) < RSSI_STEP)
			break;
		print_roller("Changed", roller);
		g_hash_table_replace(run->shown, g_strdup(roller->address),
				     g_memdup2(roller, sizeof(*roller)));
		break;
	case BLUEZ_SCAN_LOST:
		print_roller("Gone", roller);
		g_hash_table_remove(run->shown, roller->address);
		break;
	case BLUEZ_SCAN_FAILED:
		run->error = g_error_copy(error);
		run->done = true;
		break;
	}
}

static gboolean on_interrupt(gpointer data)
{
	((struct scan_run *)data)->done = true;
	return G_SOURCE_CONTINUE;
}

int cmd_scan(int argc, char **argv)
{
	g_autofree char *adapter = NULL;
	gint seconds = SECONDS_DEFAULT;
	gboolean power_on = FALSE;
	const GOptionEntry entries[] = {
		{ "adapter", 0, 0, G_OPTION_ARG_STRING, &adapter,
		  "The Bluetooth adapter to use (default: the first one)", "hciN" },
		{ "seconds", 0, 0, G_OPTION_ARG_INT, &seconds,
		  "How long to look, 1 to 600 (default: 10)", "N" },
		{ "power-on", 0, 0, G_OPTION_ARG_NONE, &power_on,
		  "Turn Bluetooth on if it is off, without asking", NULL },
		G_OPTION_ENTRY_NULL
	};
	g_autoptr(GOptionContext) context = cmd_context(NULL,
		"Looks for rollers nearby and lists each as it is found: address, name, "
		"signal strength, and whether it is ready to pair or already paired.");
	g_autoptr(GDBusConnection) bus = NULL;
	g_autoptr(GHashTable) shown = g_hash_table_new_full(g_str_hash, g_str_equal,
							     g_free, g_free);
	struct scan_run run = { .shown = shown };
	struct bluez *bluez;
	struct bluez_scan *scan;
	g_autoptr(GError) error = NULL;
	guint sigint, sigterm;
	int status;

	g_option_context_set_description(context,
		"A roller is ready to pair for 60 seconds after its button is held until "
		"the light blinks.\nPair it with 'dermaroll pair ADDRESS'.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!cmd_parse(NAME, context, &argc, &argv))
		return CMD_EXIT_USAGE;
	if (argc > 1)
		return cmd_usage(NAME, "unexpected argument '%s'.", argv[1]);
	if (seconds < 1 || seconds > SECONDS_MAX)
		return cmd_usage(NAME, "--seconds must be between 1 and %d.", SECONDS_MAX);

	bus = cmd_bluez_bus(NAME);
	if (!bus)
		return CMD_EXIT_FAILED;
	bluez = cmd_bluez_model(NAME, bus);
	if (!bluez)
		return CMD_EXIT_FAILED;
	status = cmd_bluez_adapter_ready(NAME, bluez, adapter, power_on);
	if (status != CMD_EXIT_OK) {
		bluez_unref(bluez);
		return status;
	}
	scan = bluez_scan_start(bluez, adapter, 0, on_scan, &run, NULL, &error);
	if (!scan) {
		bluez_unref(bluez);
		return cmd_fail_error(NAME, error);
	}
	printf("Looking for rollers for %d seconds...\n", seconds);
	fflush(stdout);
	sigint = g_unix_signal_add(SIGINT, on_interrupt, &run);
	sigterm = g_unix_signal_add(SIGTERM, on_interrupt, &run);
	cmd_bluez_wait(&run.done, (guint)seconds * 1000);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	bluez_scan_stop(scan);
	/* Let StopDiscovery leave before the connection closes. */
	g_dbus_connection_flush_sync(bus, NULL, NULL);
	bluez_unref(bluez);

	if (run.error) {
		status = cmd_fail_error(NAME, run.error);
		g_error_free(run.error);
		return status;
	}
	if (!run.found)
		printf("No rollers found. Check that the roller is switched on and close by.\n");
	else
		printf("%u roller%s found.\n", run.found, run.found == 1 ? "" : "s");
	return CMD_EXIT_OK;
}
