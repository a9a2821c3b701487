/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pairing agent: an org.bluez.Agent1 object that bluetoothd asks while
 * pairing.  The roller has no display (PROTOCOL.md §9.4: Just Works), so
 * it registers as NoInputNoOutput; a roller with a display could still make
 * bluetoothd ask for a confirmation or a passkey, and each such question
 * goes to the caller's function, so that a person answers it.  Nothing is
 * accepted that nobody was asked: with no function, every question is
 * refused (org.bluez.Error.Rejected).  One question at a time, as
 * bluetoothd asks them.
 */
#include <string.h>
#include <unistd.h>

#include "bluez.h"

#define AGENT_IFACE "org.bluez.Agent1"
#define REJECTED "org.bluez.Error.Rejected"
#define CANCELED "org.bluez.Error.Canceled"
#define PASSKEY_MAX 999999

static const char agent_xml[] =
	"<node>"
	"  <interface name='org.bluez.Agent1'>"
	"    <method name='Release'/>"
	"    <method name='RequestPinCode'>"
	"      <arg name='device' type='o' direction='in'/>"
	"      <arg name='pincode' type='s' direction='out'/>"
	"    </method>"
	"    <method name='DisplayPinCode'>"
	"      <arg name='device' type='o' direction='in'/>"
	"      <arg name='pincode' type='s' direction='in'/>"
	"    </method>"
	"    <method name='RequestPasskey'>"
	"      <arg name='device' type='o' direction='in'/>"
	"      <arg name='passkey' type='u' direction='out'/>"
	"    </method>"
	"    <method name='DisplayPasskey'>"
	"      <arg name='device' type='o' direction='in'/>"
	"      <arg name='passkey' type='u' direction='in'/>"
	"      <arg name='entered' type='q' direction='in'/>"
	"    </method>"
	"    <method name='RequestConfirmation'>"
	"      <arg name='device' type='o' direction='in'/>"
	"      <arg name='passkey' type='u' direction='in'/>"
	"    </method>"
	"    <method name='RequestAuthorization'>"
	"      <arg name='device' type='o' direction='in'/>"
	"    </method>"
	"    <method name='AuthorizeService'>"
	"      <arg name='device' type='o' direction='in'/>"
	"      <arg name='uuid' type='s' direction='in'/>"
	"    </method>"
	"    <method name='Cancel'/>"
	"  </interface>"
	"</node>";

struct bluez_agent {
	GDBusConnection *bus;
	char *path;
	guint registration;
	GDBusMethodInvocation *pending;      /* the open question */
	enum bluez_agent_ask pending_ask;

	bluez_agent_func func;
	void *user_data;
	GDestroyNotify destroy;
};

static void refuse(GDBusMethodInvocation *invocation, const char *why)
{
	g_dbus_method_invocation_return_dbus_error(invocation, REJECTED, why);
}

static void ask(struct bluez_agent *agent, GDBusMethodInvocation *invocation,
		enum bluez_agent_ask what, const char *device, uint32_t passkey)
{
	if (!agent->func) {
		refuse(invocation, "Nobody to ask");
		return;
	}
	if (agent->pending) {
		/* bluetoothd asks one thing at a time; a second is refused. */
		refuse(invocation, "Another question is open");
		return;
	}
	agent->pending = invocation;
	agent->pending_ask = what;
	agent->func(agent, what, device, passkey, agent->user_data);
}

static void on_method(GDBusConnection *bus, const char *sender, const char *path,
		      const char *iface, const char *method, GVariant *params,
		      GDBusMethodInvocation *invocation, gpointer data)
{
	struct bluez_agent *agent = data;
	const char *device = NULL;
	guint32 passkey = 0;
	guint16 entered;

	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
			 "MESSAGE", "bluez agent: %s from %s", method, sender);
	if (strcmp(method, "RequestAuthorization") == 0) {
		g_variant_get(params, "(&o)", &device);
		ask(agent, invocation, BLUEZ_ASK_AUTHORIZE, device, 0);
	} else if (strcmp(method, "RequestConfirmation") == 0) {
		g_variant_get(params, "(&ou)", &device, &passkey);
		ask(agent, invocation, BLUEZ_ASK_CONFIRM, device, passkey);
	} else if (strcmp(method, "RequestPasskey") == 0) {
		g_variant_get(params, "(&o)", &device);
		ask(agent, invocation, BLUEZ_ASK_PASSKEY, device, 0);
	} else if (strcmp(method, "DisplayPasskey") == 0) {
		g_variant_get(params, "(&ouq)", &device, &passkey, &entered);
		if (agent->func)
			agent->func(agent, BLUEZ_ASK_SHOW, device, passkey, agent->user_data);
		g_dbus_method_invocation_return_value(invocation, NULL);
	} else if (strcmp(method, "Cancel") == 0) {
		if (agent->pending) {
			g_dbus_method_invocation_return_dbus_error(agent->pending, CANCELED,
								   "Cancelled");
			agent->pending = NULL;
		}
		if (agent->func)
			agent->func(agent, BLUEZ_ASK_CANCELLED, NULL, 0, agent->user_data);
		g_dbus_method_invocation_return_value(invocation, NULL);
	} else if (strcmp(method, "Release") == 0) {
		g_dbus_method_invocation_return_value(invocation, NULL);
	} else {
		/* PIN codes are BR/EDR only, and the roller offers no profile to
		 * authorize (AuthorizeService): never asked for a roller. */
		refuse(invocation, "Not for a roller");
	}
}

static const GDBusInterfaceVTable vtable = { .method_call = on_method };

struct bluez_agent *bluez_agent_new(GDBusConnection *bus, bluez_agent_func func,
				    void *user_data, GDestroyNotify destroy, GError **error)
{
	static unsigned serial;
	g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(agent_xml, NULL);
	struct bluez_agent *agent = g_new0(struct bluez_agent, 1);
	g_autoptr(GError) err = NULL;

	agent->bus = g_object_ref(bus);
	agent->path = g_strdup_printf("/org/dermaroll/agent%u_%u", (unsigned)getpid(), ++serial);
	agent->registration = g_dbus_connection_register_object(bus, agent->path,
								node->interfaces[0], &vtable,
								agent, NULL, &err);
	if (!agent->registration) {
		g_set_error(error, LINK_ERROR, LINK_ERROR_CONNECT,
			    "dermaroll could not offer Bluetooth its pairing agent (%s).",
			    err->message);
		g_object_unref(agent->bus);
		g_free(agent->path);
		g_free(agent);
		return NULL;
	}
	agent->func = func;
	agent->user_data = user_data;
	agent->destroy = destroy;
	return agent;
}

const char *bluez_agent_path(const struct bluez_agent *agent)
{
	return agent->path;
}

void bluez_agent_reply(struct bluez_agent *agent, bool accept, uint32_t passkey)
{
	GDBusMethodInvocation *invocation = agent->pending;

	if (!invocation)
		return;
	agent->pending = NULL;
	if (!accept) {
		refuse(invocation, "Refused by the user");
		return;
	}
	if (agent->pending_ask == BLUEZ_ASK_PASSKEY) {
		if (passkey > PASSKEY_MAX) {
			refuse(invocation, "Not a passkey");
			return;
		}
		g_dbus_method_invocation_return_value(invocation, g_variant_new("(u)", passkey));
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

void bluez_agent_free(struct bluez_agent *agent)
{
	if (!agent)
		return;
	if (agent->pending)
		refuse(agent->pending, "The agent went away");
	agent->pending = NULL;
	g_dbus_connection_unregister_object(agent->bus, agent->registration);
	if (agent->destroy)
		agent->destroy(agent->user_data);
	g_object_unref(agent->bus);
	g_free(agent->path);
	g_free(agent);
}
