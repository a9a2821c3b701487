/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding rollers (PROTOCOL.md §9): discovery filtered to LE and our
 * service, each roller reported as it appears and changes, read from the
 * model's Device1 proxies; and the adapter's power, switched on only when
 * the caller says the user agreed.  Every call is asynchronous.
 */
#include <string.h>

#include "anchor.h"
#include "bluez.h"
#include "dp/codec.h"
#include "dp/proto.h"

#define CALL_TIMEOUT_MS 10000
#define POWER_TIMEOUT_MS 10000

/* The Adapter1 proxy called name ("hci0"), or the first by path, whatever
 * its power; NULL if none. */
static GDBusProxy *adapter_proxy(struct bluez *bluez, const char *name)
{
	GDBusObjectManager *manager = bluez_manager(bluez);
	GDBusProxy *found = NULL;
	const char *best = NULL;
	GList *objects;

	if (!manager || !bluez_running(bluez))
		return NULL;
	objects = g_dbus_object_manager_get_objects(manager);
	for (GList *l = objects; l; l = l->next) {
		GDBusInterface *i = g_dbus_object_get_interface(l->data, BLUEZ_ADAPTER_IFACE);
		const char *path, *base;

		if (!i)
			continue;
		path = g_dbus_object_get_object_path(l->data);
		base = strrchr(path, '/');
		if ((name && (!base || strcmp(base + 1, name) != 0)) ||
		    (best && strcmp(path, best) >= 0)) {
			g_object_unref(i);
			continue;
		}
		g_clear_object(&found);
		found = G_DBUS_PROXY(i);
		best = g_dbus_proxy_get_object_path(found);
	}
	g_list_free_full(objects, g_object_unref);
	return found;
}

static bool adapter_blocked(GDBusProxy *adapter)
{
	g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(adapter, "PowerState");

	return v && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) &&
	       strcmp(g_variant_get_string(v, NULL), "off-blocked") == 0;
}

bool bluez_adapter_is_off(struct bluez *bluez, const char *name)
{
	g_autoptr(GDBusProxy) adapter = adapter_proxy(bluez, name);

	return adapter && !adapter_blocked(adapter) && !bluez_proxy_bool(adapter, "Powered");
}

/* ---- Power ---- */

struct power_call {
	GDBusProxy *adapter;
	GDBusObjectManager *manager;
	gulong sig_props;
	guint timeout;
	bool replied;
	bluez_done_func func;
	void *user_data;
	GDestroyNotify destroy;
};

static void power_finish(struct power_call *pc, GError *error)
{
	g_clear_signal_handler(&pc->sig_props, pc->manager);
	g_clear_handle_id(&pc->timeout, g_source_remove);
	pc->func(error, pc->user_data);
	if (pc->destroy)
		pc->destroy(pc->user_data);
	g_clear_error(&error);
	g_object_unref(pc->adapter);
	g_object_unref(pc->manager);
	g_free(pc);
}

static void on_power_props(GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
			   GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
			   gpointer data)
{
	struct power_call *pc = data;
	gboolean on;

	if (proxy == pc->adapter && pc->replied &&
	    g_variant_lookup(changed, "Powered", "b", &on) && on)
		power_finish(pc, NULL);
}

static gboolean on_power_timeout(gpointer data)
{
	struct power_call *pc = data;
	g_autoptr(GError) timeout = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
							 "Powered stayed false");

	pc->timeout = 0;
	power_finish(pc, bluez_error_from_dbus(timeout, BLUEZ_OP_POWER));
	return G_SOURCE_REMOVE;
}

static void on_power_set(GObject *source, GAsyncResult *res, gpointer data)
{
	struct power_call *pc = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source),
								  res, &error);

	if (!reply) {
		power_finish(pc, bluez_error_from_dbus(error, BLUEZ_OP_POWER));
		return;
	}
	pc->replied = true;
	/* PropertiesChanged usually comes before the reply; if not, wait. */
	if (bluez_proxy_bool(pc->adapter, "Powered"))
		power_finish(pc, NULL);
}

guint bluez_power_on(struct bluez *bluez, const char *name, bluez_done_func func,
		     void *user_data, GDestroyNotify destroy)
{
	static guint next_id;
	GDBusProxy *adapter = adapter_proxy(bluez, name);
	struct power_call *pc;

	if (!adapter)
		return 0;
	pc = g_new0(struct power_call, 1);
	pc->adapter = adapter;
	pc->manager = g_object_ref(bluez_manager(bluez));
	pc->func = func;
	pc->user_data = user_data;
	pc->destroy = destroy;
	pc->sig_props = g_signal_connect(pc->manager, "interface-proxy-properties-changed",
					 G_CALLBACK(on_power_props), pc);
	pc->timeout = g_timeout_add(POWER_TIMEOUT_MS, on_power_timeout, pc);
	g_dbus_connection_call(g_dbus_proxy_get_connection(adapter),
			       g_dbus_proxy_get_name(adapter),
			       g_dbus_proxy_get_object_path(adapter),
			       "org.freedesktop.DBus.Properties", "Set",
			       g_variant_new("(ssv)", BLUEZ_ADAPTER_IFACE, "Powered",
					     g_variant_new_boolean(TRUE)),
			       NULL, G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL,
			       on_power_set, pc);
	if (++next_id == 0)
		next_id = 1;
	return next_id;
}

/* ---- Reading a device ---- */

static bool string_prop(GDBusProxy *proxy, const char *property, char *buf, size_t size)
{
	g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(proxy, property);

	if (!v || !(g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ||
		    g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH)))
		return false;
	g_strlcpy(buf, g_variant_get_string(v, NULL), size);
	return true;
}

static bool has_our_uuid(GDBusProxy *device)
{
	g_autoptr(GVariant) uuids = g_dbus_proxy_get_cached_property(device, "UUIDs");
	g_autofree const char **list = NULL;

	if (!uuids || !g_variant_is_of_type(uuids, G_VARIANT_TYPE_STRING_ARRAY))
		return false;
	list = g_variant_get_strv(uuids, NULL);
	for (size_t i = 0; list[i]; i++)
		if (g_ascii_strcasecmp(list[i], DP_SERVICE_UUID) == 0)
			return true;
	return false;
}

bool bluez_device_adv(GDBusProxy *device, struct dp_adv *adv)
{
	g_autoptr(GVariant) md = g_dbus_proxy_get_cached_property(device, "ManufacturerData");
	g_autoptr(GVariant) value = NULL;
	GVariantIter iter;
	guint16 company;
	GVariant *v;

	memset(adv, 0, sizeof(*adv));
	if (!md || !g_variant_is_of_type(md, G_VARIANT_TYPE("a{qv}")))
		return false;
	g_variant_iter_init(&iter, md);
	while (!value && g_variant_iter_next(&iter, "{qv}", &company, &v)) {
		if (company == DP_ADV_COMPANY_ID)
			value = g_variant_ref(v);
		g_variant_unref(v);
	}
	if (!value)
		return false;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTESTRING)) {
		gsize len;
		const uint8_t *buf = g_variant_get_fixed_array(value, &len, 1);

		/* §9.2: a malformed payload says nothing about pairing. */
		if (dp_adv_decode(buf, len, adv) != DP_OK)
			memset(adv, 0, sizeof(*adv));
	}
	return true;
}

static bool device_bonded(GDBusProxy *device)
{
	g_autoptr(GVariant) bonded = g_dbus_proxy_get_cached_property(device, "Bonded");

	if (bonded)
		return g_variant_is_of_type(bonded, G_VARIANT_TYPE_BOOLEAN) &&
		       g_variant_get_boolean(bonded);
	return bluez_proxy_bool(device, "Paired");
}

static bool device_on_adapter(GDBusProxy *device, GDBusProxy *adapter)
{
	char path[256];

	return string_prop(device, "Adapter", path, sizeof(path)) &&
	       strcmp(path, g_dbus_proxy_get_object_path(adapter)) == 0;
}

/* Fills roller from the device's cached properties; false if the device
 * is not a roller.  §9.1: a roller is known by our UUID in its UUID list
 * only; the manufacturer data under DP_ADV_COMPANY_ID (the SIG's test ID,
 * which other devices use too) is read from a device so known. */
static bool read_roller(GDBusProxy *device, struct bluez_roller *roller)
{
	g_autoptr(GVariant) rssi = NULL;

	memset(roller, 0, sizeof(*roller));
	if (!has_our_uuid(device))
		return false;
	bluez_device_adv(device, &roller->adv);
	if (!string_prop(device, "Address", roller->address, sizeof(roller->address)))
		return false;
	if (!string_prop(device, "Name", roller->name, sizeof(roller->name)))
		string_prop(device, "Alias", roller->name, sizeof(roller->name));
	rssi = g_dbus_proxy_get_cached_property(device, "RSSI");
	roller->rssi = rssi && g_variant_is_of_type(rssi, G_VARIANT_TYPE_INT16)
		       ? g_variant_get_int16(rssi) : BLUEZ_RSSI_UNKNOWN;
	roller->pairing = roller->adv.proto_major && (roller->adv.flags & DP_ADV_PAIRING);
	roller->bonded = device_bonded(device);
	return true;
}

static GDBusProxy *device_proxy(struct bluez *bluez, GDBusProxy *adapter, const char *address)
{
	GDBusObjectManager *manager = bluez_manager(bluez);
	GDBusProxy *found = NULL;
	GList *objects;
	char buf[32];

	if (!manager)
		return NULL;
	objects = g_dbus_object_manager_get_objects(manager);
	for (GList *l = objects; l && !found; l = l->next) {
		GDBusInterface *i = g_dbus_object_get_interface(l->data, BLUEZ_DEVICE_IFACE);

		if (!i)
			continue;
		if (device_on_adapter(G_DBUS_PROXY(i), adapter) &&
		    string_prop(G_DBUS_PROXY(i), "Address", buf, sizeof(buf)) &&
		    g_ascii_strcasecmp(buf, address) == 0)
			found = G_DBUS_PROXY(g_object_ref(i));
		g_object_unref(i);
	}
	g_list_free_full(objects, g_object_unref);
	return found;
}

bool bluez_roller_lookup(struct bluez *bluez, const char *adapter, const char *address,
			 struct bluez_roller *roller)
{
	g_autoptr(GDBusProxy) a = adapter_proxy(bluez, adapter);
	g_autoptr(GDBusProxy) device = a ? device_proxy(bluez, a, address) : NULL;

	return device && read_roller(device, roller);
}

/* ---- Discovery ---- */

struct bluez_scan {
	struct bluez *bluez;
	GDBusProxy *adapter;
	GDBusObjectManager *manager;
	GCancellable *cancellable;
	struct anchor *anchor;
	GHashTable *reported;        /* device path -> struct bluez_roller, as last told */
	gulong sig_added, sig_removed, sig_props, sig_owner;
	unsigned busy;               /* calls into func under way */
	bool started, failed, stopped;

	bluez_scan_func func;
	void *user_data;
	GDestroyNotify destroy;
};

static void scan_free(struct bluez_scan *scan)
{
	if (scan->destroy)
		scan->destroy(scan->user_data);
	g_hash_table_unref(scan->reported);
	g_object_unref(scan->cancellable);
	g_object_unref(scan->adapter);
	g_object_unref(scan->manager);
	bluez_unref(scan->bluez);
	g_free(scan);
}

/* Calls func; false when func stopped the scan, which is then freed and
 * must not be touched. */
static bool emit(struct bluez_scan *scan, enum bluez_scan_event event,
		 const struct bluez_roller *roller, const GError *error)
{
	scan->busy++;
	scan->func(scan, event, roller, error, scan->user_data);
	if (--scan->busy == 0 && scan->stopped) {
		scan_free(scan);
		return false;
	}
	return !scan->stopped;
}

static void fail(struct bluez_scan *scan, GError *error)
{
	if (!scan->failed) {
		scan->failed = true;
		emit(scan, BLUEZ_SCAN_FAILED, NULL, error);
	}
	g_error_free(error);
}

/* Reports the device if it is a roller seen in this discovery; false if
 * the scan was stopped meanwhile. */
static bool consider(struct bluez_scan *scan, GDBusProxy *device, bool seen)
{
	const char *path = g_dbus_proxy_get_object_path(device);
	struct bluez_roller roller, *known;

	if (scan->failed || !device_on_adapter(device, scan->adapter) ||
	    !read_roller(device, &roller))
		return true;
	known = g_hash_table_lookup(scan->reported, path);
	if (known) {
		if (memcmp(known, &roller, sizeof(roller)) == 0)
			return true;
		*known = roller;
		return emit(scan, BLUEZ_SCAN_CHANGED, &roller, NULL);
	}
	if (!seen)
		return true;
	g_hash_table_insert(scan->reported, g_strdup(path), g_memdup2(&roller, sizeof(roller)));
	return emit(scan, BLUEZ_SCAN_FOUND, &roller, NULL);
}

/* BlueZ keeps objects of devices seen earlier, and drops their RSSI when a
 * discovery ends: a device with an RSSI now was heard recently. */
static void consider_all(struct bluez_scan *scan)
{
	GList *objects = g_dbus_object_manager_get_objects(scan->manager);
	bool alive = true;

	for (GList *l = objects; l && alive; l = l->next) {
		GDBusInterface *i = g_dbus_object_get_interface(l->data, BLUEZ_DEVICE_IFACE);
		g_autoptr(GVariant) rssi = NULL;

		if (!i)
			continue;
		rssi = g_dbus_proxy_get_cached_property(G_DBUS_PROXY(i), "RSSI");
		alive = consider(scan, G_DBUS_PROXY(i), rssi != NULL);
		g_object_unref(i);
	}
	g_list_free_full(objects, g_object_unref);
}

static void on_added(GDBusObjectManager *manager, GDBusObject *object, gpointer data)
{
	struct bluez_scan *scan = data;
	g_autoptr(GDBusInterface) i = g_dbus_object_get_interface(object, BLUEZ_DEVICE_IFACE);

	if (i && scan->started)
		consider(scan, G_DBUS_PROXY(i), true);
}

static void on_removed(GDBusObjectManager *manager, GDBusObject *object, gpointer data)
{
	struct bluez_scan *scan = data;
	const char *path = g_dbus_object_get_object_path(object);
	struct bluez_roller *known, gone;

	if (strcmp(path, g_dbus_proxy_get_object_path(scan->adapter)) == 0) {
		fail(scan, bluez_error_new(BLUEZ_ADAPTER_GONE, NULL));
		return;
	}
	known = g_hash_table_lookup(scan->reported, path);
	if (!known || scan->failed)
		return;
	gone = *known;
	g_hash_table_remove(scan->reported, path);
	emit(scan, BLUEZ_SCAN_LOST, &gone, NULL);
}

static bool changed_has(GVariant *changed, const char *key)
{
	g_autoptr(GVariant) v = g_variant_lookup_value(changed, key, NULL);

	return v != NULL;
}

static void on_props(GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
		     GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
		     gpointer data)
{
	struct bluez_scan *scan = data;
	gboolean flag;

	if (proxy == scan->adapter) {
		if (g_variant_lookup(changed, "Powered", "b", &flag) && !flag)
			fail(scan, bluez_error_new(BLUEZ_POWERED_OFF, NULL));
		return;
	}
	if (!scan->started ||
	    strcmp(g_dbus_proxy_get_interface_name(proxy), BLUEZ_DEVICE_IFACE) != 0)
		return;
	/* Only what comes from the air counts as a sighting. */
	consider(scan, proxy, changed_has(changed, "RSSI") ||
			      changed_has(changed, "UUIDs") ||
			      changed_has(changed, "ManufacturerData"));
}

static void on_owner(GObject *manager, GParamSpec *pspec, gpointer data)
{
	struct bluez_scan *scan = data;

	if (!bluez_running(scan->bluez))
		fail(scan, bluez_error_new(BLUEZ_STOPPED, NULL));
}

static void on_started(GObject *source, GAsyncResult *res, gpointer data)
{
	struct anchor *anchor = data;
	struct bluez_scan *scan = anchor->target;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);

	anchor_unref(anchor);
	if (!scan)
		return;
	if (!reply) {
		fail(scan, bluez_error_from_dbus(error, BLUEZ_OP_DISCOVER));
		return;
	}
	scan->started = true;
	if (emit(scan, BLUEZ_SCAN_STARTED, NULL, NULL))
		consider_all(scan);
}

static void on_filter(GObject *source, GAsyncResult *res, gpointer data)
{
	struct anchor *anchor = data;
	struct bluez_scan *scan = anchor->target;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);

	if (!scan) {
		anchor_unref(anchor);
		return;
	}
	if (!reply) {
		anchor_unref(anchor);
		fail(scan, bluez_error_from_dbus(error, BLUEZ_OP_DISCOVER));
		return;
	}
	g_dbus_proxy_call(scan->adapter, "StartDiscovery", NULL, G_DBUS_CALL_FLAGS_NONE,
			  CALL_TIMEOUT_MS, scan->cancellable, on_started, anchor);
}

struct bluez_scan *bluez_scan_start(struct bluez *bluez, const char *adapter, int16_t rssi_min,
				    bluez_scan_func func, void *user_data,
				    GDestroyNotify destroy, GError **error)
{
	const char *uuids[] = { DP_SERVICE_UUID, NULL };
	struct bluez_scan *scan;
	GDBusProxy *a;
	GVariantBuilder filter;

	a = bluez_find_adapter(bluez, adapter, error);
	if (!a)
		return NULL;
	scan = g_new0(struct bluez_scan, 1);
	scan->bluez = bluez_ref(bluez);
	scan->adapter = a;
	scan->manager = g_object_ref(bluez_manager(bluez));
	scan->cancellable = g_cancellable_new();
	scan->anchor = anchor_new(scan);
	scan->reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	scan->func = func;
	scan->user_data = user_data;
	scan->destroy = destroy;
	scan->sig_added = g_signal_connect(scan->manager, "object-added",
					   G_CALLBACK(on_added), scan);
	scan->sig_removed = g_signal_connect(scan->manager, "object-removed",
					     G_CALLBACK(on_removed), scan);
	scan->sig_props = g_signal_connect(scan->manager, "interface-proxy-properties-changed",
					   G_CALLBACK(on_props), scan);
	scan->sig_owner = g_signal_connect(scan->manager, "notify::name-owner",
					   G_CALLBACK(on_owner), scan);

	g_variant_builder_init(&filter, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&filter, "{sv}", "Transport", g_variant_new_string("le"));
	g_variant_builder_add(&filter, "{sv}", "UUIDs", g_variant_new_strv(uuids, -1));
	if (rssi_min)
		g_variant_builder_add(&filter, "{sv}", "RSSI", g_variant_new_int16(rssi_min));
	g_dbus_proxy_call(a, "SetDiscoveryFilter", g_variant_new("(a{sv})", &filter),
			  G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, scan->cancellable,
			  on_filter, anchor_ref(scan->anchor));
	return scan;
}

void bluez_scan_stop(struct bluez_scan *scan)
{
	if (!scan || scan->stopped)
		return;
	scan->stopped = true;
	g_cancellable_cancel(scan->cancellable);
	anchor_cut(scan->anchor);
	g_clear_signal_handler(&scan->sig_added, scan->manager);
	g_clear_signal_handler(&scan->sig_removed, scan->manager);
	g_clear_signal_handler(&scan->sig_props, scan->manager);
	g_clear_signal_handler(&scan->sig_owner, scan->manager);
	/* Discovery is counted per client in BlueZ (and our filter goes with
	 * it): stop ours, not awaited. */
	if (scan->started && bluez_running(scan->bluez) &&
	    bluez_proxy_bool(scan->adapter, "Powered"))
		g_dbus_proxy_call(scan->adapter, "StopDiscovery", NULL, G_DBUS_CALL_FLAGS_NONE,
				  CALL_TIMEOUT_MS, NULL, NULL, NULL);
	if (scan->busy == 0)
		scan_free(scan);
}
