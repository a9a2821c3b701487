/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The model of org.bluez: a GDBusObjectManagerClient on "/", which follows
 * InterfacesAdded/Removed and each object's PropertiesChanged, and the
 * lookups the link needs (adapter, device, characteristic by UUID).  The
 * client is made asynchronously; lookups read its cache and never call
 * bluetoothd.
 */
#include <string.h>

#include "anchor.h"
#include "bluez.h"

struct bluez {
	int ref_count;
	GDBusObjectManager *manager;
	GCancellable *cancellable;
	struct anchor *anchor;

	bluez_ready_func func;
	void *user_data;
	GDestroyNotify destroy;
};

static void finish_ready(struct bluez *bluez, const GError *error)
{
	bluez_ready_func func = bluez->func;
	void *user_data = bluez->user_data;
	GDestroyNotify destroy = bluez->destroy;

	bluez->func = NULL;
	bluez->destroy = NULL;
	if (!func)
		return;
	bluez_ref(bluez);
	func(bluez, error, user_data);
	if (destroy)
		destroy(user_data);
	bluez_unref(bluez);
}

static void on_manager(GObject *source, GAsyncResult *res, gpointer data)
{
	struct anchor *anchor = data;
	struct bluez *bluez = anchor->target;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) translated = NULL;
	GDBusObjectManager *manager = g_dbus_object_manager_client_new_finish(res, &error);

	anchor_unref(anchor);
	if (!bluez) {
		g_clear_object(&manager);
		return;
	}
	if (!manager) {
		translated = bluez_error_from_dbus(error, BLUEZ_OP_LOAD);
		finish_ready(bluez, translated);
		return;
	}
	bluez->manager = manager;
	finish_ready(bluez, NULL);
}

struct bluez *bluez_new(GDBusConnection *bus, bluez_ready_func func, void *user_data,
			GDestroyNotify destroy)
{
	struct bluez *bluez = g_new0(struct bluez, 1);

	bluez->ref_count = 1;
	bluez->cancellable = g_cancellable_new();
	bluez->anchor = anchor_new(bluez);
	bluez->func = func;
	bluez->user_data = user_data;
	bluez->destroy = destroy;
	/* DO_NOT_AUTO_START: a stopped bluetoothd is reported, not started. */
	g_dbus_object_manager_client_new(bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
					 BLUEZ_SERVICE, "/", NULL, NULL, NULL,
					 bluez->cancellable, on_manager,
					 anchor_ref(bluez->anchor));
	return bluez;
}

struct bluez *bluez_ref(struct bluez *bluez)
{
	bluez->ref_count++;
	return bluez;
}

void bluez_unref(struct bluez *bluez)
{
	if (!bluez || --bluez->ref_count > 0)
		return;
	g_cancellable_cancel(bluez->cancellable);
	g_object_unref(bluez->cancellable);
	anchor_cut(bluez->anchor);
	if (bluez->destroy)
		bluez->destroy(bluez->user_data);
	g_clear_object(&bluez->manager);
	g_free(bluez);
}

GDBusObjectManager *bluez_manager(struct bluez *bluez)
{
	return bluez->manager;
}

bool bluez_running(struct bluez *bluez)
{
	g_autofree char *owner = NULL;

	if (!bluez->manager)
		return false;
	owner = g_dbus_object_manager_client_get_name_owner(
		G_DBUS_OBJECT_MANAGER_CLIENT(bluez->manager));
	return owner != NULL;
}

static const char *proxy_string(GDBusProxy *proxy, const char *property, char *buf, size_t size)
{
	g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(proxy, property);

	if (!v || !(g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ||
		    g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH)))
		return NULL;
	g_strlcpy(buf, g_variant_get_string(v, NULL), size);
	return buf;
}

bool bluez_proxy_bool(GDBusProxy *proxy, const char *property)
{
	g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(proxy, property);

	return v && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean(v);
}

static gint compare_paths(gconstpointer a, gconstpointer b)
{
	return strcmp(g_dbus_proxy_get_object_path((GDBusProxy *)a),
		      g_dbus_proxy_get_object_path((GDBusProxy *)b));
}

/* Every proxy for iface, sorted by path (hci0 before hci1); owned list. */
static GList *proxies_with(struct bluez *bluez, const char *iface)
{
	GList *objects, *found = NULL;

	if (!bluez->manager)
		return NULL;
	objects = g_dbus_object_manager_get_objects(bluez->manager);
	for (GList *l = objects; l; l = l->next) {
		GDBusInterface *i = g_dbus_object_get_interface(l->data, iface);

		if (i)
			found = g_list_prepend(found, i);
	}
	g_list_free_full(objects, g_object_unref);
	return g_list_sort(found, compare_paths);
}

GDBusProxy *bluez_find_adapter(struct bluez *bluez, const char *name, GError **error)
{
	GList *adapters;
	GDBusProxy *adapter = NULL;
	char state[32];

	if (!bluez_running(bluez)) {
		g_propagate_error(error, bluez_error_new(BLUEZ_NOT_RUNNING, NULL));
		return NULL;
	}
	adapters = proxies_with(bluez, BLUEZ_ADAPTER_IFACE);
	for (GList *l = adapters; l; l = l->next) {
		const char *path = g_dbus_proxy_get_object_path(l->data);
		const char *base = strrchr(path, '/');

		if (!name || (base && strcmp(base + 1, name) == 0)) {
			adapter = g_object_ref(l->data);
			break;
		}
	}
	g_list_free_full(adapters, g_object_unref);
	if (!adapter) {
		g_propagate_error(error, bluez_error_new(name ? BLUEZ_NO_SUCH_ADAPTER
							      : BLUEZ_NO_ADAPTER, name));
		return NULL;
	}
	/* PowerState (BlueZ 5.64+) tells rfkill apart from a plain "off". */
	if (proxy_string(adapter, "PowerState", state, sizeof(state)) &&
	    strcmp(state, "off-blocked") == 0) {
		g_propagate_error(error, bluez_error_new(BLUEZ_RFKILL, NULL));
		g_object_unref(adapter);
		return NULL;
	}
	if (!bluez_proxy_bool(adapter, "Powered")) {
		g_propagate_error(error, bluez_error_new(BLUEZ_POWERED_OFF, NULL));
		g_object_unref(adapter);
		return NULL;
	}
	return adapter;
}

GDBusProxy *bluez_find_device(struct bluez *bluez, GDBusProxy *adapter, const char *address)
{
	GList *devices = proxies_with(bluez, BLUEZ_DEVICE_IFACE);
	const char *adapter_path = g_dbus_proxy_get_object_path(adapter);
	GDBusProxy *device = NULL;
	char buf[256];

	for (GList *l = devices; l && !device; l = l->next) {
		const char *owner = proxy_string(l->data, "Adapter", buf, sizeof(buf));

		if (!owner || strcmp(owner, adapter_path) != 0)
			continue;
		if (proxy_string(l->data, "Address", buf, sizeof(buf)) &&
		    g_ascii_strcasecmp(buf, address) == 0)
			device = g_object_ref(l->data);
	}
	g_list_free_full(devices, g_object_unref);
	return device;
}

/* The first proxy for iface whose parent_prop names parent_path and whose
 * UUID is uuid; UUIDs compare without case. */
static GDBusProxy *find_child(struct bluez *bluez, const char *iface, const char *parent_prop,
			      const char *parent_path, const char *uuid)
{
	GList *list = proxies_with(bluez, iface);
	GDBusProxy *found = NULL;
	char buf[256];

	for (GList *l = list; l && !found; l = l->next) {
		const char *parent = proxy_string(l->data, parent_prop, buf, sizeof(buf));

		if (!parent || strcmp(parent, parent_path) != 0)
			continue;
		if (proxy_string(l->data, "UUID", buf, sizeof(buf)) &&
		    g_ascii_strcasecmp(buf, uuid) == 0)
			found = g_object_ref(l->data);
	}
	g_list_free_full(list, g_object_unref);
	return found;
}

GDBusProxy *bluez_find_characteristic(struct bluez *bluez, GDBusProxy *device,
				      const char *service_uuid, const char *char_uuid)
{
	g_autoptr(GDBusProxy) service = find_child(bluez, BLUEZ_SERVICE_IFACE, "Device",
						   g_dbus_proxy_get_object_path(device),
						   service_uuid);

	if (!service)
		return NULL;
	return find_child(bluez, BLUEZ_CHAR_IFACE, "Service",
			  g_dbus_proxy_get_object_path(service), char_uuid);
}
