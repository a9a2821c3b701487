/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * roller-sim --ble: adapter, application, advertisement, agent and pairing
 * mode (ble-advert.h).
 */
#include <string.h>

#include "ble-advert.h"
#include "ble-bridge.h"
#include "ble-peripheral.h"
#include "dp/link-msg.h"

#define BLUEZ "org.bluez"
#define ADAPTER_IFACE "org.bluez.Adapter1"
#define DEVICE_IFACE "org.bluez.Device1"
#define ADV_IFACE "org.bluez.LEAdvertisement1"
#define AGENT_IFACE "org.bluez.Agent1"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"
#define ROOT "/org/dermaroll/roller"
#define ADV_PATH ROOT "/advertisement"
#define AGENT_PATH ROOT "/agent"
#define CALL_MS 25000
#define POLL_MS 250
#define STOP_MS 3000
/* Stopping: how long to wait for the connected hosts to go (bluetoothd
 * disconnects 2 s after Device1.Disconnect). */
#define LET_GO_MS 3000

static const char introspection_xml[] =
	"<node>"
	" <interface name='" ADV_IFACE "'>"
	"  <method name='Release'/>"
	"  <property name='Type' type='s' access='read'/>"
	"  <property name='ServiceUUIDs' type='as' access='read'/>"
	"  <property name='ManufacturerData' type='a{qv}' access='read'/>"
	"  <property name='LocalName' type='s' access='read'/>"
	"  <property name='Discoverable' type='b' access='read'/>"
	" </interface>"
	" <interface name='" AGENT_IFACE "'>"
	"  <method name='Release'/>"
	"  <method name='RequestPinCode'><arg type='o'/><arg type='s' direction='out'/></method>"
	"  <method name='DisplayPinCode'><arg type='o'/><arg type='s'/></method>"
	"  <method name='RequestPasskey'><arg type='o'/><arg type='u' direction='out'/></method>"
	"  <method name='DisplayPasskey'><arg type='o'/><arg type='u'/><arg type='q'/></method>"
	"  <method name='RequestConfirmation'><arg type='o'/><arg type='u'/></method>"
	"  <method name='RequestAuthorization'><arg type='o'/></method>"
	"  <method name='AuthorizeService'><arg type='o'/><arg type='s'/></method>"
	"  <method name='Cancel'/>"
	" </interface>"
	"</node>";

struct ble_advert {
	GDBusConnection *bus;
	struct virtual_roller *vr;
	struct ble_advert_options opts;
	char *adapter_name;
	GDBusNodeInfo *node;
	GCancellable *cancel;
	ble_advert_ready_func ready;
	void *user_data;
	gboolean failed, is_ready, stopping;

	char *adapter;               /* object path */
	char *address;
	gboolean pairable_was;       /* restored at stop */
	guint adv_reg, agent_reg;
	guint sig_props, sig_added;
	guint poll;
	struct ble_peripheral *gatt;
	gboolean app_registered, agent_registered;

	/* Advertising: want it while no host is connected (§9.1). */
	gboolean adv_registered, adv_busy;
	char *connected;             /* device path of the host, or NULL */
	struct dp_adv adv;           /* as advertised now */
	char name[DP_NAME_MAX + 1];

	/* Stopping, first step: the hosts being disconnected (device
	 * paths), until they are gone or let_go_timer ends it. */
	GHashTable *leaving;
	guint let_go_timer;
	gboolean listing;            /* GetManagedObjects not answered yet */
	GCancellable *stop_cancel;   /* cut by ble_advert_free only */

	guint stop_calls, stop_timer;
	GSourceFunc stop_done;
	gpointer stop_data;
};

static void say(struct ble_advert *ba, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void say(struct ble_advert *ba, const char *fmt, ...)
{
	g_autofree char *line = NULL;
	va_list ap;

	if (ba->opts.quiet)
		return;
	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_print("[ble] %s\n", line);
}

static void on_gatt_event(const char *line, void *data)
{
	say(data, "%s", line);
}

static void fail(struct ble_advert *ba, GError *error)
{
	if (ba->failed || ba->stopping) {
		g_error_free(error);
		return;
	}
	ba->failed = TRUE;
	ba->ready(ba, error, ba->user_data);
	g_error_free(error);
}

static GError *call_error(const GError *e, const char *what)
{
	g_autofree char *remote = g_dbus_error_get_remote_error(e);
	g_autoptr(GError) copy = g_error_copy(e);
	const char *msg;

	g_dbus_error_strip_remote_error(copy);
	msg = copy->message;
	if (remote && (strcmp(remote, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
		       strcmp(remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0))
		return g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				   "bluetoothd is not running: start it (for example "
				   "`systemctl start bluetooth`) and try again");
	return g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", what, msg);
}

static void set_pairable(struct ble_advert *ba, gboolean on)
{
	g_dbus_connection_call(ba->bus, BLUEZ, ba->adapter, PROPS_IFACE, "Set",
			       g_variant_new("(ssv)", ADAPTER_IFACE, "Pairable",
					     g_variant_new_boolean(on)),
			       NULL, G_DBUS_CALL_FLAGS_NONE, CALL_MS, NULL, NULL, NULL);
}

static gboolean pairing_mode(struct ble_advert *ba)
{
	return virtual_roller_firmware(ba->vr)->pairing;
}

/* ---- The advertisement ---- */

static GVariant *adv_property(struct ble_advert *ba, const char *prop)
{
	static const char *const uuids[] = { DP_SERVICE_UUID, NULL };

	if (strcmp(prop, "Type") == 0)
		return g_variant_new_string("peripheral");
	if (strcmp(prop, "ServiceUUIDs") == 0)
		return g_variant_new_strv(uuids, -1);
	if (strcmp(prop, "ManufacturerData") == 0)
		return ble_adv_manufacturer_data(&ba->adv);
	if (strcmp(prop, "LocalName") == 0)
		return g_variant_new_string(ba->name);
	if (strcmp(prop, "Discoverable") == 0)
		return g_variant_new_boolean(TRUE);
	return NULL;
}

static void reconcile_adv(struct ble_advert *ba);

static void on_adv_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct ble_advert *ba = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
							      &error);
	gboolean was_register = !ba->adv_registered;

	if (ba->stopping)
		return;
	ba->adv_busy = FALSE;
	if (r)
		ba->adv_registered = was_register;
	else if (was_register)
		g_printerr("roller-sim: cannot advertise on %s: %s\n", ba->adapter_name,
			   error->message);
	else
		ba->adv_registered = FALSE;  /* released by bluetoothd anyway */
	if (r && was_register)
		say(ba, "advertising on %s (pairing mode %s)", ba->adapter_name,
		    (ba->adv.flags & DP_ADV_PAIRING) ? "on" : "off");
	if (!ba->is_ready && !ba->failed) {
		if (!r) {
			fail(ba, g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED,
					     "%s refused the advertisement: %s",
					     ba->adapter_name, error->message));
			return;
		}
		ba->is_ready = TRUE;
		ba->ready(ba, NULL, ba->user_data);
	}
	if (r)
		reconcile_adv(ba);
}

static void reconcile_adv(struct ble_advert *ba)
{
	gboolean want = !ba->connected && !ba->stopping;

	if (ba->adv_busy || want == ba->adv_registered)
		return;
	ba->adv_busy = TRUE;
	g_dbus_connection_call(ba->bus, BLUEZ, ba->adapter, "org.bluez.LEAdvertisingManager1",
			       want ? "RegisterAdvertisement" : "UnregisterAdvertisement",
			       want ? g_variant_new("(oa{sv})", ADV_PATH, NULL)
				    : g_variant_new("(o)", ADV_PATH),
			       NULL, G_DBUS_CALL_FLAGS_NONE, CALL_MS, ba->cancel,
			       on_adv_reply, ba);
}

/* Pairing mode and the log flag as the firmware has them now: the
 * advertisement (BlueZ 5.66 re-reads a changed property) and Pairable. */
static gboolean on_poll(gpointer data)
{
	struct ble_advert *ba = data;
	struct dp_adv now;
	GVariantBuilder changed;

	dp_fw_adv(virtual_roller_firmware(ba->vr), &now);
	if (memcmp(&now, &ba->adv, sizeof(now)) == 0)
		return G_SOURCE_CONTINUE;
	if ((now.flags ^ ba->adv.flags) & DP_ADV_PAIRING) {
		say(ba, "pairing mode %s", (now.flags & DP_ADV_PAIRING) ? "on (60 s)" : "off");
		set_pairable(ba, (now.flags & DP_ADV_PAIRING) != 0);
	}
	ba->adv = now;
	g_variant_builder_init(&changed, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&changed, "{sv}", "ManufacturerData",
			      ble_adv_manufacturer_data(&ba->adv));
	g_dbus_connection_emit_signal(ba->bus, NULL, ADV_PATH, PROPS_IFACE, "PropertiesChanged",
				      g_variant_new("(sa{sv}as)", ADV_IFACE, &changed, NULL),
				      NULL);
	return G_SOURCE_CONTINUE;
}

/* ---- The agent (§9.3, §9.4) ---- */

static void on_method(GDBusConnection *bus, const char *sender, const char *path,
		      const char *iface, const char *method, GVariant *params,
		      GDBusMethodInvocation *inv, gpointer data)
{
	struct ble_advert *ba = data;

	if (strcmp(iface, ADV_IFACE) == 0) {
		/* Release: bluetoothd dropped it (adapter off, for example). */
		ba->adv_registered = FALSE;
		g_dbus_method_invocation_return_value(inv, NULL);
		return;
	}
	if (strcmp(method, "RequestAuthorization") == 0 ||
	    strcmp(method, "RequestConfirmation") == 0) {
		/* Just Works: yes in pairing mode, no otherwise. */
		if (pairing_mode(ba)) {
			g_dbus_method_invocation_return_value(inv, NULL);
			return;
		}
		say(ba, "refused a pairing: not in pairing mode (kill -USR1 for a long press)");
		g_dbus_method_invocation_return_dbus_error(inv, "org.bluez.Error.Rejected",
							   "not in pairing mode");
	} else if (strcmp(method, "RequestPinCode") == 0 ||
		   strcmp(method, "RequestPasskey") == 0) {
		g_dbus_method_invocation_return_dbus_error(inv, "org.bluez.Error.Rejected",
							   "the roller has no keypad");
	} else {
		/* AuthorizeService (a bonded host's services), displays,
		 * Cancel, Release. */
		g_dbus_method_invocation_return_value(inv, NULL);
	}
}

static GVariant *on_get_property(GDBusConnection *bus, const char *sender, const char *path,
				 const char *iface, const char *prop, GError **error,
				 gpointer data)
{
	GVariant *v = adv_property(data, prop);

	if (!v)
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
			    "no property %s", prop);
	return v;
}

static const GDBusInterfaceVTable vtable = {
	.method_call = on_method,
	.get_property = on_get_property,
};

/* ---- Hosts coming and going ---- */

static void leave(struct ble_advert *ba, const char *path);
static void host_left(struct ble_advert *ba, const char *path);

static void device_changed(struct ble_advert *ba, const char *path, GVariant *props)
{
	g_autofree char *addr = ble_address_from_path(path);
	gboolean flag;

	if (!addr || !g_str_has_prefix(path, ba->adapter) || path[strlen(ba->adapter)] != '/')
		return;
	if (g_variant_lookup(props, "Connected", "b", &flag) && ba->stopping) {
		/* Nothing is attached any more: hosts are only seen out. */
		if (flag && ba->let_go_timer)
			leave(ba, path);
		else if (!flag)
			host_left(ba, path);
	} else if (g_variant_lookup(props, "Connected", "b", &flag)) {
		if (flag && !ba->connected) {
			ba->connected = g_strdup(path);
			say(ba, "connected: %s", addr);
			if (ba->gatt)
				ble_peripheral_connected(ba->gatt, path);
		} else if (flag) {
			/* One host at a time (§9.1). */
			say(ba, "refused a second host: %s", addr);
			g_dbus_connection_call(ba->bus, BLUEZ, path, DEVICE_IFACE, "Disconnect",
					       NULL, NULL, G_DBUS_CALL_FLAGS_NONE, CALL_MS,
					       NULL, NULL, NULL);
		} else if (g_strcmp0(path, ba->connected) == 0) {
			if (ba->gatt)
				ble_peripheral_disconnected(ba->gatt, path);
			g_clear_pointer(&ba->connected, g_free);
			say(ba, "disconnected: %s", addr);
		}
		reconcile_adv(ba);
	}
	if (g_variant_lookup(props, "Paired", "b", &flag) && flag) {
		say(ba, "paired: %s (LE Secure Connections, Just Works)", addr);
		virtual_roller_pairing_complete(ba->vr);
		on_poll(ba);
	}
}

static void on_signal(GDBusConnection *bus, const char *sender, const char *path,
		      const char *iface, const char *signal, GVariant *params, gpointer data)
{
	struct ble_advert *ba = data;

	if (strcmp(signal, "PropertiesChanged") == 0) {
		const char *which;
		g_autoptr(GVariant) changed = NULL;
		gboolean flag;

		g_variant_get(params, "(&s@a{sv}@as)", &which, &changed, NULL);
		if (strcmp(which, DEVICE_IFACE) == 0)
			device_changed(ba, path, changed);
		else if (strcmp(which, ADAPTER_IFACE) == 0 && strcmp(path, ba->adapter) == 0 &&
			 g_variant_lookup(changed, "Pairable", "b", &flag) &&
			 flag != pairing_mode(ba) && !ba->stopping)
			/* bluetoothd makes an adapter pairable when any client
			 * registers a default agent: pairing mode rules here. */
			set_pairable(ba, pairing_mode(ba));
	} else if (strcmp(signal, "InterfacesAdded") == 0) {
		const char *obj;
		g_autoptr(GVariant) ifaces = NULL;
		g_autoptr(GVariant) dev = NULL;

		g_variant_get(params, "(&o@a{sa{sv}})", &obj, &ifaces);
		dev = g_variant_lookup_value(ifaces, DEVICE_IFACE, G_VARIANT_TYPE_VARDICT);
		if (dev)
			device_changed(ba, obj, dev);
	}
}

/* ---- Start-up: adapter, agent, application, advertisement ---- */

static void on_app_registered(GObject *src, GAsyncResult *res, gpointer data)
{
	struct ble_advert *ba = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
							      &error);

	if (!r) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			fail(ba, g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED,
					     "bluetoothd refused the roller's GATT services: %s",
					     error->message));
		return;
	}
	ba->app_registered = TRUE;
	dp_fw_adv(virtual_roller_firmware(ba->vr), &ba->adv);
	reconcile_adv(ba);
	ba->poll = g_timeout_add(POLL_MS, on_poll, ba);
}

static void on_default_agent(GObject *src, GAsyncResult *res, gpointer data)
{
	struct ble_advert *ba = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
							      &error);

	if (!r) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			fail(ba, call_error(error, "RequestDefaultAgent"));
		return;
	}
	/* After the agent: registering a default agent makes bluetoothd set
	 * the adapter pairable. */
	set_pairable(ba, pairing_mode(ba));
	ba->gatt = ble_peripheral_new(ba->bus, ROOT, ba->vr, on_gatt_event, ba, &error);
	if (!ba->gatt) {
		fail(ba, g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED,
				     "cannot export the GATT services: %s", error->message));
		return;
	}
	g_dbus_connection_call(ba->bus, BLUEZ, ba->adapter, "org.bluez.GattManager1",
			       "RegisterApplication", g_variant_new("(oa{sv})", ROOT, NULL),
			       NULL, G_DBUS_CALL_FLAGS_NONE, CALL_MS, ba->cancel,
			       on_app_registered, ba);
}

static void on_agent(GObject *src, GAsyncResult *res, gpointer data)
{
	struct ble_advert *ba = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
							      &error);

	if (!r) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			fail(ba, call_error(error, "RegisterAgent"));
		return;
	}
	ba->agent_registered = TRUE;
	g_dbus_connection_call(ba->bus, BLUEZ, "/org/bluez", "org.bluez.AgentManager1",
			       "RequestDefaultAgent", g_variant_new("(o)", AGENT_PATH), NULL,
			       G_DBUS_CALL_FLAGS_NONE, CALL_MS, ba->cancel, on_default_agent, ba);
}

static void adapter_ready(struct ble_advert *ba)
{
	ba->sig_props = g_dbus_connection_signal_subscribe(ba->bus, BLUEZ, PROPS_IFACE,
		"PropertiesChanged", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal, ba, NULL);
	ba->sig_added = g_dbus_connection_signal_subscribe(ba->bus, BLUEZ,
		"org.freedesktop.DBus.ObjectManager", "InterfacesAdded", "/", NULL,
		G_DBUS_SIGNAL_FLAGS_NONE, on_signal, ba, NULL);
	g_dbus_connection_call(ba->bus, BLUEZ, "/org/bluez", "org.bluez.AgentManager1",
			       "RegisterAgent", g_variant_new("(os)", AGENT_PATH, "NoInputNoOutput"),
			       NULL, G_DBUS_CALL_FLAGS_NONE, CALL_MS, ba->cancel, on_agent, ba);
}

static void on_powered(GObject *src, GAsyncResult *res, gpointer data)
{
	struct ble_advert *ba = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
							      &error);

	if (!r) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			fail(ba, g_error_new(G_IO_ERROR, G_IO_ERROR_FAILED,
					     "could not switch %s on: %s", ba->adapter_name,
					     error->message));
		return;
	}
	say(ba, "switched %s on (--power-on)", ba->adapter_name);
	adapter_ready(ba);
}

/* The adapter asked for, or the first by path; checked for what a
 * peripheral needs. */
static void on_objects(GObject *src, GAsyncResult *res, gpointer data)
{
	struct ble_advert *ba = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
							      &error);
	g_autoptr(GVariant) objects = NULL;
	g_autoptr(GVariant) best = NULL;
	const char *best_path = NULL, *path;
	GVariantIter iter;
	GVariant *ifaces;
	g_autoptr(GVariant) adapter = NULL;
	g_autoptr(GVariant) adv_mgr = NULL;
	g_autoptr(GVariant) gatt_mgr = NULL;
	const char *state = NULL;
	gboolean powered = FALSE;

	if (!r) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			fail(ba, call_error(error, "Reading bluetoothd's objects"));
		return;
	}
	objects = g_variant_get_child_value(r, 0);
	g_variant_iter_init(&iter, objects);
	while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
		const char *base = strrchr(path, '/') + 1;
		g_autoptr(GVariant) a = g_variant_lookup_value(ifaces, ADAPTER_IFACE,
							       G_VARIANT_TYPE_VARDICT);

		if (a && (ba->opts.adapter ? strcmp(base, ba->opts.adapter) == 0
					   : (!best_path || strcmp(path, best_path) < 0))) {
			g_clear_pointer(&best, g_variant_unref);
			best = g_variant_ref(ifaces);
			best_path = path;
		}
		g_variant_unref(ifaces);
	}
	if (!best) {
		fail(ba, ba->opts.adapter
		     ? g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				   "there is no Bluetooth adapter %s: `bluetoothctl list` shows "
				   "the ones there are", ba->opts.adapter)
		     : g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
				   "there is no Bluetooth adapter: plug one in, or check "
				   "`rfkill list` and the kernel log"));
		return;
	}
	ba->adapter = g_strdup(best_path);
	ba->adapter_name = g_path_get_basename(best_path);
	adapter = g_variant_lookup_value(best, ADAPTER_IFACE, G_VARIANT_TYPE_VARDICT);
	g_variant_lookup(adapter, "Address", "&s", &path);
	ba->address = g_strdup(path);
	g_variant_lookup(adapter, "Powered", "b", &powered);
	g_variant_lookup(adapter, "Pairable", "b", &ba->pairable_was);
	g_variant_lookup(adapter, "PowerState", "&s", &state);
	adv_mgr = g_variant_lookup_value(best, "org.bluez.LEAdvertisingManager1", NULL);
	gatt_mgr = g_variant_lookup_value(best, "org.bluez.GattManager1", NULL);
	if (!adv_mgr || !gatt_mgr) {
		fail(ba, g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
				     "%s cannot be a Bluetooth LE peripheral here (bluetoothd "
				     "offers no LE advertising or GATT server on it)%s",
				     ba->adapter_name,
				     powered ? "" : "; it is also switched off"));
		return;
	}
	if (g_strcmp0(state, "off-blocked") == 0) {
		fail(ba, g_error_new(G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
				     "%s is blocked by rfkill: unblock it (`rfkill unblock "
				     "bluetooth`) and try again", ba->adapter_name));
		return;
	}
	if (powered) {
		adapter_ready(ba);
		return;
	}
	if (!ba->opts.power_on) {
		fail(ba, g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
				     "%s is switched off: switch it on (`bluetoothctl power "
				     "on`), or let roller-sim do it with --power-on",
				     ba->adapter_name));
		return;
	}
	g_dbus_connection_call(ba->bus, BLUEZ, ba->adapter, PROPS_IFACE, "Set",
			       g_variant_new("(ssv)", ADAPTER_IFACE, "Powered",
					     g_variant_new_boolean(TRUE)),
			       NULL, G_DBUS_CALL_FLAGS_NONE, CALL_MS, ba->cancel, on_powered, ba);
}

struct ble_advert *ble_advert_start(GDBusConnection *bus, struct virtual_roller *vr,
				    const struct ble_advert_options *opts,
				    ble_advert_ready_func ready, void *user_data)
{
	struct ble_advert *ba = g_new0(struct ble_advert, 1);
	g_autoptr(GError) error = NULL;

	ba->bus = g_object_ref(bus);
	ba->vr = virtual_roller_ref(vr);
	ba->opts = *opts;
	ba->opts.adapter = NULL;
	ba->adapter_name = g_strdup(opts->adapter);
	ba->opts.adapter = ba->adapter_name;
	ba->ready = ready;
	ba->user_data = user_data;
	ba->cancel = g_cancellable_new();
	ba->stop_cancel = g_cancellable_new();
	ba->leaving = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_snprintf(ba->name, sizeof(ba->name), "DermaRoll %s", virtual_roller_serial(vr));
	ba->node = g_dbus_node_info_new_for_xml(introspection_xml, NULL);
	ba->adv_reg = g_dbus_connection_register_object(bus, ADV_PATH,
		g_dbus_node_info_lookup_interface(ba->node, ADV_IFACE), &vtable, ba, NULL, &error);
	if (ba->adv_reg)
		ba->agent_reg = g_dbus_connection_register_object(bus, AGENT_PATH,
			g_dbus_node_info_lookup_interface(ba->node, AGENT_IFACE), &vtable, ba,
			NULL, &error);
	if (!ba->agent_reg) {
		g_prefix_error(&error, "cannot export the advertisement and agent: ");
		fail(ba, g_steal_pointer(&error));
		return ba;
	}
	g_dbus_connection_call(bus, BLUEZ, "/", "org.freedesktop.DBus.ObjectManager",
			       "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
			       G_DBUS_CALL_FLAGS_NONE, CALL_MS, ba->cancel, on_objects, ba);
	return ba;
}

/* ---- Stopping ---- */

static void on_stop_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct ble_advert *ba = data;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, NULL);

	(void)r;
	if (ba->stop_calls && --ba->stop_calls == 0) {
		g_clear_handle_id(&ba->stop_timer, g_source_remove);
		if (ba->stop_done)
			ba->stop_done(ba->stop_data);
	}
}

static gboolean on_stop_timeout(gpointer data)
{
	struct ble_advert *ba = data;

	ba->stop_timer = 0;
	ba->stop_calls = 0;
	if (ba->stop_done)
		ba->stop_done(ba->stop_data);
	return G_SOURCE_REMOVE;
}

static void stop_call(struct ble_advert *ba, const char *path, const char *iface,
		      const char *method, GVariant *args)
{
	ba->stop_calls++;
	g_dbus_connection_call(ba->bus, BLUEZ, path, iface, method, args, NULL,
			       G_DBUS_CALL_FLAGS_NONE, STOP_MS, NULL, on_stop_reply, ba);
}

/* The second step: unregister everything and restore Pairable. */
static void unregister_all(struct ble_advert *ba)
{
	if (ba->gatt)
		ble_peripheral_disconnected(ba->gatt, NULL);
	/* Held while the calls go out, so that done runs once, from here
	 * only if no call was made. */
	ba->stop_calls++;
	if (ba->adv_registered || ba->adv_busy)
		stop_call(ba, ba->adapter, "org.bluez.LEAdvertisingManager1",
			  "UnregisterAdvertisement", g_variant_new("(o)", ADV_PATH));
	if (ba->app_registered)
		stop_call(ba, ba->adapter, "org.bluez.GattManager1", "UnregisterApplication",
			  g_variant_new("(o)", ROOT));
	if (ba->agent_registered)
		stop_call(ba, "/org/bluez", "org.bluez.AgentManager1", "UnregisterAgent",
			  g_variant_new("(o)", AGENT_PATH));
	if (ba->adapter && ba->is_ready)
		stop_call(ba, ba->adapter, PROPS_IFACE, "Set",
			  g_variant_new("(ssv)", ADAPTER_IFACE, "Pairable",
					g_variant_new_boolean(ba->pairable_was)));
	ba->stop_timer = g_timeout_add(STOP_MS, on_stop_timeout, ba);
	if (--ba->stop_calls == 0) {
		g_clear_handle_id(&ba->stop_timer, g_source_remove);
		if (ba->stop_done)
			ba->stop_done(ba->stop_data);
	}
}

/* The first step is over: every host left, or LET_GO_MS passed. */
static void let_go_end(struct ble_advert *ba)
{
	guint n = g_hash_table_size(ba->leaving);

	g_clear_handle_id(&ba->let_go_timer, g_source_remove);
	if (n)
		say(ba, "stopping: %u host%s still connected after %u ms, unregistering anyway",
		    n, n == 1 ? "" : "s", LET_GO_MS);
	else
		say(ba, "stopping: no host connected, unregistering");
	g_hash_table_remove_all(ba->leaving);
	unregister_all(ba);
}

static void let_go_check(struct ble_advert *ba)
{
	if (ba->let_go_timer && !ba->listing && g_hash_table_size(ba->leaving) == 0)
		let_go_end(ba);
}

static gboolean on_let_go_timeout(gpointer data)
{
	struct ble_advert *ba = data;

	ba->let_go_timer = 0;
	let_go_end(ba);
	return G_SOURCE_REMOVE;
}

static void host_left(struct ble_advert *ba, const char *path)
{
	g_autofree char *addr = ble_address_from_path(path);
	gboolean attached = g_strcmp0(path, ba->connected) == 0;

	if (attached) {
		if (ba->gatt)
			ble_peripheral_disconnected(ba->gatt, path);
		g_clear_pointer(&ba->connected, g_free);
	}
	if (g_hash_table_remove(ba->leaving, path) || attached)
		say(ba, "disconnected: %s", addr ? addr : path);
	let_go_check(ba);
}

struct leave_call {
	struct ble_advert *ba;
	char *path;
};

/* bluetoothd answers Disconnect() once the link is down, or NotConnected:
 * either way the host is gone.  On any other error the Connected signal
 * or the let-go timer decides.  The call is cancelled by ble_advert_free,
 * and a cancelled call reports CANCELLED whatever came back, so ba is
 * alive past that check. */
static void on_leave_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct leave_call *lc = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
							      &error);
	g_autofree char *remote = error ? g_dbus_error_get_remote_error(error) : NULL;

	if (r || g_strcmp0(remote, "org.bluez.Error.NotConnected") == 0)
		host_left(lc->ba, lc->path);
	else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		g_printerr("roller-sim: could not disconnect %s: %s\n", lc->path,
			   error->message);
	g_free(lc->path);
	g_free(lc);
}

static void leave(struct ble_advert *ba, const char *path)
{
	g_autofree char *addr = ble_address_from_path(path);
	struct leave_call *lc;

	if (g_hash_table_contains(ba->leaving, path))
		return;
	g_hash_table_add(ba->leaving, g_strdup(path));
	say(ba, "stopping: disconnecting %s", addr ? addr : path);
	lc = g_new0(struct leave_call, 1);
	lc->ba = ba;
	lc->path = g_strdup(path);
	g_dbus_connection_call(ba->bus, BLUEZ, path, DEVICE_IFACE, "Disconnect", NULL, NULL,
			       G_DBUS_CALL_FLAGS_NONE, CALL_MS, ba->stop_cancel,
			       on_leave_reply, lc);
}

/* Every device of our adapter that bluetoothd says is connected. */
static void on_stop_objects(GObject *src, GAsyncResult *res, gpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
							      &error);
	g_autoptr(GVariant) objects = NULL;
	struct ble_advert *ba = data;
	GVariantIter iter;
	const char *path;
	GVariant *ifaces;

	/* Cancelled only by ble_advert_free: ba is gone. */
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	ba->listing = FALSE;
	if (!r) {
		g_printerr("roller-sim: cannot list the connected hosts: %s\n", error->message);
		let_go_check(ba);
		return;
	}
	objects = g_variant_get_child_value(r, 0);
	g_variant_iter_init(&iter, objects);
	while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
		g_autoptr(GVariant) dev = g_variant_lookup_value(ifaces, DEVICE_IFACE,
								 G_VARIANT_TYPE_VARDICT);
		gboolean connected = FALSE;

		if (dev && g_str_has_prefix(path, ba->adapter) &&
		    path[strlen(ba->adapter)] == '/' &&
		    g_variant_lookup(dev, "Connected", "b", &connected) && connected)
			leave(ba, path);
		g_variant_unref(ifaces);
	}
	let_go_check(ba);
}

/* bluetoothd 5.66 can crash when a GATT application goes away
 * (unregistered, or its process ends) under a connected client that is
 * streaming (tests/ble/README.md).  So the hosts connected to our adapter
 * go first, each with Device1.Disconnect: only our own connections end,
 * as when a roller switches off, while powering the adapter off and on
 * would also cut whatever else uses it and undo its state (advertising,
 * Pairable) under other programs.  The roller keeps streaming until its
 * host is gone, as a real one would until its radio stops. */
void ble_advert_stop(struct ble_advert *ba, GSourceFunc done, gpointer user_data)
{
	if (ba->stopping)
		return;
	ba->stopping = TRUE;
	ba->stop_done = done;
	ba->stop_data = user_data;
	g_cancellable_cancel(ba->cancel);
	g_clear_handle_id(&ba->poll, g_source_remove);
	if (!ba->adapter || !ba->app_registered) {
		unregister_all(ba);
		return;
	}
	ba->listing = TRUE;
	ba->let_go_timer = g_timeout_add(LET_GO_MS, on_let_go_timeout, ba);
	g_dbus_connection_call(ba->bus, BLUEZ, "/", "org.freedesktop.DBus.ObjectManager",
			       "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
			       G_DBUS_CALL_FLAGS_NONE, LET_GO_MS, ba->stop_cancel,
			       on_stop_objects, ba);
}

void ble_advert_free(struct ble_advert *ba)
{
	if (!ba)
		return;
	g_cancellable_cancel(ba->cancel);
	g_cancellable_cancel(ba->stop_cancel);
	g_clear_handle_id(&ba->poll, g_source_remove);
	g_clear_handle_id(&ba->stop_timer, g_source_remove);
	g_clear_handle_id(&ba->let_go_timer, g_source_remove);
	if (ba->sig_props)
		g_dbus_connection_signal_unsubscribe(ba->bus, ba->sig_props);
	if (ba->sig_added)
		g_dbus_connection_signal_unsubscribe(ba->bus, ba->sig_added);
	ble_peripheral_free(ba->gatt);
	if (ba->adv_reg)
		g_dbus_connection_unregister_object(ba->bus, ba->adv_reg);
	if (ba->agent_reg)
		g_dbus_connection_unregister_object(ba->bus, ba->agent_reg);
	g_dbus_node_info_unref(ba->node);
	g_object_unref(ba->cancel);
	g_object_unref(ba->stop_cancel);
	g_hash_table_unref(ba->leaving);
	virtual_roller_unref(ba->vr);
	g_object_unref(ba->bus);
	g_free(ba->adapter);
	g_free(ba->adapter_name);
	g_free(ba->address);
	g_free(ba->connected);
	g_free(ba);
}

const char *ble_advert_adapter(struct ble_advert *ba)
{
	return ba->adapter_name;
}

const char *ble_advert_address(struct ble_advert *ba)
{
	return ba->address;
}

const struct ble_peripheral_counters *ble_advert_counters(struct ble_advert *ba)
{
	return ba->gatt ? ble_peripheral_counters(ba->gatt) : NULL;
}
