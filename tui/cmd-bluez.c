/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BlueZ side of `dermaroll scan`, `pair` and `session`.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd-bluez.h"
#include "cmd-common.h"

GDBusConnection *cmd_bluez_bus(const char *name)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);

	if (!bus) {
		g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
				 "MESSAGE", "system bus: %s", error->message);
		cmd_fail(name, "Could not reach the system message bus, which Bluetooth needs. "
			 "Check that D-Bus is running (it normally always is).");
	}
	return bus;
}

struct model_wait {
	bool done;
	GError *error;
};

static void on_model(struct bluez *bluez, const GError *error, void *data)
{
	struct model_wait *w = data;

	if (error)
		w->error = g_error_copy(error);
	w->done = true;
}

struct bluez *cmd_bluez_model(const char *name, GDBusConnection *bus)
{
	struct model_wait w = { 0 };
	struct bluez *bluez = bluez_new(bus, on_model, &w, NULL);

	cmd_bluez_wait(&w.done, 0);
	if (w.error) {
		cmd_fail_error(name, w.error);
		g_error_free(w.error);
		bluez_unref(bluez);
		return NULL;
	}
	return bluez;
}

bool cmd_ask_yes(const char *question)
{
	char line[64];

	if (!isatty(STDIN_FILENO))
		return false;
	printf("%s [y/N] ", question);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	g_strstrip(line);
	return g_ascii_strcasecmp(line, "y") == 0 || g_ascii_strcasecmp(line, "yes") == 0;
}

struct power_wait {
	bool done;
	GError *error;
};

static void on_power(const GError *error, void *data)
{
	struct power_wait *w = data;

	if (error)
		w->error = g_error_copy(error);
	w->done = true;
}

int cmd_bluez_adapter_ready(const char *name, struct bluez *bluez, const char *adapter,
			    bool power_on)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusProxy) proxy = NULL;
	struct power_wait w = { 0 };

	if (bluez_adapter_is_off(bluez, adapter)) {
		/* Never silently: the user turned it off for a reason. */
		if (!power_on && !cmd_ask_yes("Bluetooth is off. Turn it on?"))
			return cmd_fail(name, "Bluetooth is off. Turn it on, or run this again "
					"with --power-on to let dermaroll turn it on.");
		if (!bluez_power_on(bluez, adapter, on_power, &w, NULL))
			return cmd_fail(name, "The Bluetooth adapter went away.");
		cmd_bluez_wait(&w.done, 0);
		if (w.error) {
			int status = cmd_fail_error(name, w.error);

			g_error_free(w.error);
			return status;
		}
		printf("Bluetooth is now on.\n");
	}
	proxy = bluez_find_adapter(bluez, adapter, &error);
	if (!proxy)
		return cmd_fail_error(name, error);
	return CMD_EXIT_OK;
}

static gboolean on_timeout(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

bool cmd_bluez_wait(const bool *done, guint timeout_ms)
{
	bool expired = false;
	guint timer = timeout_ms ? g_timeout_add(timeout_ms, on_timeout, &expired) : 0;

	while (!*done && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (timer && !expired)
		g_source_remove(timer);
	return *done;
}

static bool any_connected(struct link *const *links, guint n_links)
{
	for (guint i = 0; i < n_links; i++)
		if (link_bluez_device_connected(links[i]))
			return true;
	return false;
}

bool cmd_bluez_let_go(struct link *const *links, guint n_links, guint timeout_ms)
{
	bool expired = false;
	guint timer;

	if (!any_connected(links, n_links))
		return true;
	timer = g_timeout_add(timeout_ms, on_timeout, &expired);
	/* Every answer and signal from bluetoothd wakes the loop. */
	while (any_connected(links, n_links) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (expired) {
		g_info("BlueZ still says the roller is connected after %u ms", timeout_ms);
		return false;
	}
	g_source_remove(timer);
	return true;
}
