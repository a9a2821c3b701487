/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pairing a roller (PROTOCOL.md §9.3 to §9.5): only one that advertises
 * pairing mode, with our agent registered and made the default for just as
 * long as the pairing takes, then Trusted so that bluetoothd lets it
 * reconnect.  Each step is an asynchronous call; the agent's questions go
 * to the caller.
 */
#include <string.h>

#include "anchor.h"
#include "bluez.h"
#include "dp/proto.h"

#define AGENT_MANAGER_PATH "/org/bluez"
#define AGENT_MANAGER_IFACE "org.bluez.AgentManager1"
#define CALL_TIMEOUT_MS 10000
/* Pair() lasts as long as the person takes to answer a question, and
 * bluetoothd has its own limits below this. */
#define PAIR_TIMEOUT_MS 90000

enum pair_step {
	STEP_REGISTER,
	STEP_PAIR,
	STEP_TRUST,
	STEP_DONE,
};

struct bluez_pair {
	struct bluez *bluez;
	GDBusConnection *bus;
	GDBusProxy *device;
	struct bluez_agent *agent;
	bool registered, was_bonded;
	enum pair_step step;
	GCancellable *cancellable;
	struct anchor *anchor;

	struct bluez_pair_handler handler;
	void *user_data;
	GDestroyNotify destroy;
};

static void step(struct bluez_pair *pair);

static void unregister_agent(struct bluez_pair *pair)
{
	if (pair->registered)
		g_dbus_connection_call(pair->bus, BLUEZ_SERVICE, AGENT_MANAGER_PATH,
				       AGENT_MANAGER_IFACE, "UnregisterAgent",
				       g_variant_new("(o)", bluez_agent_path(pair->agent)),
				       NULL, G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL,
				       NULL, NULL);
	pair->registered = false;
	g_clear_pointer(&pair->agent, bluez_agent_free);
}

/* Ends the pairing; error is taken.  Nothing touches pair after done(). */
static void finish(struct bluez_pair *pair, GError *error)
{
	pair->step = STEP_DONE;
	unregister_agent(pair);
	if (pair->handler.done)
		pair->handler.done(pair, error, pair->user_data);
	g_clear_error(&error);
}

static void on_reply(GObject *source, GAsyncResult *res, gpointer data)
{
	struct anchor *anchor = data;
	struct bluez_pair *pair = anchor->target;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source),
								  res, &error);
	g_autofree char *name = NULL;

	anchor_unref(anchor);
	if (!pair)
		return;
	if (!reply) {
		name = g_dbus_error_get_remote_error(error);
		/* Bonded meanwhile (by another program): as good as done. */
		if (pair->step != STEP_PAIR ||
		    g_strcmp0(name, "org.bluez.Error.AlreadyExists") != 0) {
			finish(pair, bluez_error_from_dbus(error, BLUEZ_OP_PAIR));
			return;
		}
	}
	if (pair->step == STEP_REGISTER)
		pair->registered = true;
	if (pair->step == STEP_TRUST) {
		finish(pair, NULL);
		return;
	}
	pair->step++;
	step(pair);
}

static void call(struct bluez_pair *pair, const char *path, const char *iface,
		 const char *method, GVariant *params, int timeout_ms)
{
	g_dbus_connection_call(pair->bus, BLUEZ_SERVICE, path, iface, method, params, NULL,
			       G_DBUS_CALL_FLAGS_NONE, timeout_ms, pair->cancellable,
			       on_reply, anchor_ref(pair->anchor));
}

static void step(struct bluez_pair *pair)
{
	const char *device = g_dbus_proxy_get_object_path(pair->device);

	switch (pair->step) {
	case STEP_REGISTER:
		call(pair, AGENT_MANAGER_PATH, AGENT_MANAGER_IFACE, "RegisterAgent",
		     g_variant_new("(os)", bluez_agent_path(pair->agent),
				   BLUEZ_AGENT_CAPABILITY), CALL_TIMEOUT_MS);
		break;
	case STEP_PAIR:
		if (pair->was_bonded) {
			pair->step++;
			step(pair);
			break;
		}
		call(pair, device, BLUEZ_DEVICE_IFACE, "Pair", NULL, PAIR_TIMEOUT_MS);
		break;
	case STEP_TRUST:
		call(pair, device, "org.freedesktop.DBus.Properties", "Set",
		     g_variant_new("(ssv)", BLUEZ_DEVICE_IFACE, "Trusted",
				   g_variant_new_boolean(TRUE)), CALL_TIMEOUT_MS);
		break;
	case STEP_DONE:
		break;
	}
}

static void on_ask(struct bluez_agent *agent, enum bluez_agent_ask ask, const char *device,
		   uint32_t passkey, void *data)
{
	struct bluez_pair *pair = data;

	/* Only questions about the roller being paired reach the user. */
	if (ask != BLUEZ_ASK_CANCELLED &&
	    g_strcmp0(device, g_dbus_proxy_get_object_path(pair->device)) != 0) {
		if (ask != BLUEZ_ASK_SHOW)
			bluez_agent_reply(agent, false, 0);
		return;
	}
	if (pair->handler.ask)
		pair->handler.ask(pair, ask, passkey, pair->user_data);
	else if (ask != BLUEZ_ASK_SHOW && ask != BLUEZ_ASK_CANCELLED)
		bluez_agent_reply(agent, false, 0);
}

static bool valid_address(const char *address)
{
	if (!address || strlen(address) != 17)
		return false;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? address[i] != ':' : !g_ascii_isxdigit(address[i]))
			return false;
	return true;
}

struct bluez_pair *bluez_pair_start(struct bluez *bluez, const char *adapter,
				    const char *address,
				    const struct bluez_pair_handler *handler, void *user_data,
				    GDestroyNotify destroy, GError **error)
{
	g_autoptr(GDBusProxy) a = NULL;
	g_autoptr(GDBusProxy) device = NULL;
	struct bluez_roller roller;
	struct bluez_pair *pair;
	GDBusConnection *bus;

	if (!valid_address(address)) {
		g_propagate_error(error, bluez_error_new(BLUEZ_BAD_ADDRESS, address));
		return NULL;
	}
	a = bluez_find_adapter(bluez, adapter, error);
	if (!a)
		return NULL;
	device = bluez_find_device(bluez, a, address);
	if (!device) {
		g_propagate_error(error, bluez_error_new(BLUEZ_NOT_FOUND, address));
		return NULL;
	}
	if (!bluez_roller_lookup(bluez, adapter, address, &roller)) {
		g_propagate_error(error, bluez_error_new(BLUEZ_NO_SERVICE, NULL));
		return NULL;
	}
	if (roller.adv.proto_major > DP_PROTO_MAJOR) {
		g_autofree char *major = g_strdup_printf("%u", roller.adv.proto_major);

		g_propagate_error(error, bluez_error_new(BLUEZ_NEWER_ROLLER, major));
		return NULL;
	}
	/* §9.5: pair only a roller in pairing mode; it would refuse anyway. */
	if (!roller.bonded && !roller.pairing) {
		g_propagate_error(error, bluez_error_new(BLUEZ_NOT_PAIRING, address));
		return NULL;
	}

	bus = g_dbus_object_manager_client_get_connection(
		G_DBUS_OBJECT_MANAGER_CLIENT(bluez_manager(bluez)));
	pair = g_new0(struct bluez_pair, 1);
	pair->agent = bluez_agent_new(bus, on_ask, pair, NULL, error);
	if (!pair->agent) {
		g_free(pair);
		return NULL;
	}
	pair->bluez = bluez_ref(bluez);
	pair->bus = g_object_ref(bus);
	pair->device = g_steal_pointer(&device);
	pair->was_bonded = roller.bonded;
	pair->cancellable = g_cancellable_new();
	pair->anchor = anchor_new(pair);
	if (handler)
		pair->handler = *handler;
	pair->user_data = user_data;
	pair->destroy = destroy;
	pair->step = STEP_REGISTER;
	step(pair);
	return pair;
}

bool bluez_pair_was_bonded(const struct bluez_pair *pair)
{
	return pair->was_bonded;
}

void bluez_pair_reply(struct bluez_pair *pair, bool accept, uint32_t passkey)
{
	if (pair->agent)
		bluez_agent_reply(pair->agent, accept, passkey);
}

void bluez_pair_free(struct bluez_pair *pair)
{
	if (!pair)
		return;
	if (pair->step == STEP_PAIR && bluez_running(pair->bluez))
		g_dbus_connection_call(pair->bus, BLUEZ_SERVICE,
				       g_dbus_proxy_get_object_path(pair->device),
				       BLUEZ_DEVICE_IFACE, "CancelPairing", NULL, NULL,
				       G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, NULL, NULL);
	g_cancellable_cancel(pair->cancellable);
	anchor_cut(pair->anchor);
	unregister_agent(pair);
	if (pair->destroy)
		pair->destroy(pair->user_data);
	g_object_unref(pair->cancellable);
	g_object_unref(pair->device);
	g_object_unref(pair->bus);
	bluez_unref(pair->bluez);
	g_free(pair);
}
