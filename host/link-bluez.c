/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BlueZ backend of the roller link: a bonded roller reached through
 * bluetoothd's org.bluez objects (doc/bluez-backend.md).  It connects the
 * device, waits for ServicesResolved, finds the custom service by UUID
 * (PROTOCOL.md §2.1), and moves values: ReadValue for INFO, WriteValue
 * (Write Request, §2.1) for CONTROL with its indications from
 * PropertiesChanged, and AcquireNotify sockets for STREAM and HISTORY with
 * StartNotify as the fallback.  Every call is asynchronous, and cancelled
 * when the link closes.
 */
#define G_LOG_DOMAIN "dermaroll-bluez"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#include "anchor.h"
#include "bluez.h"
#include "dp/proto.h"
#include "link-backend.h"

#define CONNECT_TIMEOUT_MS 60000     /* Device1.Connect: BlueZ has its own, shorter */
#define CALL_TIMEOUT_MS 30000
#define RESOLVE_TIMEOUT_MS 30000     /* Connected to ServicesResolved */
/* Resolved, but our service missing: how long to wait for it to appear
 * (tests/ble: about 2 s after a roller restarted) before giving up. */
#define SERVICE_WAIT_MS 6000
/* An acquired socket that closes is usually the link going down: wait this
 * long for Connected or the bus to say why before blaming the socket. */
#define NOTIFY_GRACE_MS 1000
/* When BlueZ does not say the ATT MTU (no MTU property, BlueZ < 5.62):
 * BlueZ always negotiates, up to this. */
#define UNKNOWN_MTU 517
#define READ_BURST 64
/* Debugging knob (doc/bluez-backend.md): which way STREAM and HISTORY
 * notifications come in.  "acquire": AcquireNotify only; "start":
 * StartNotify only; unset or "auto": AcquireNotify, StartNotify where
 * BlueZ cannot hand out a socket. */
#define NOTIFY_ENV "DERMAROLL_BLUEZ_NOTIFY"

enum notify_path {
	NOTIFY_AUTO,
	NOTIFY_ACQUIRE,
	NOTIFY_START,
};

struct bluez_char {
	GDBusProxy *proxy;
	int fd;                      /* AcquireNotify socket, -1 when none */
	guint watch;
	bool notifying;              /* StartNotify path: Value changes are values */
};

struct bluez_backend {
	struct link *link;           /* not a reference: the link owns us */
	struct bluez *bluez;
	char *adapter_name;
	char address[18];
	GDBusProxy *adapter, *device;
	struct bluez_char chars[DP_CHAR_HISTORY + 1];   /* by enum dp_char */

	GCancellable *cancellable;
	struct anchor *anchor;       /* for async replies; cut on close */
	gulong sig_added, sig_removed, sig_props, sig_owner;
	guint resolve_timeout, service_wait, loss_source;
	enum bluez_problem loss;
	enum notify_path notify_path;
	bool ready, closed;
	bool connecting;             /* Device1.Connect not answered yet */
	bool lost;                   /* the link went down by itself */
	/* Our Device1.Disconnect, until bluetoothd answers it (once the
	 * link is down); NULL when none is running. */
	struct disconnect_call *disconnecting;
	struct link_bluez_counters counters;
};

/* A Disconnect() call; it outlives the backend if the link is freed
 * before bluetoothd answers. */
struct disconnect_call {
	struct bluez_backend *bb;    /* NULL once the backend is freed */
};

/* link -> backend, so link_bluez_counters() can find a link's counters. */
static GHashTable *backends;

static void lose(struct bluez_backend *bb, GError *error)
{
	bb->lost = true;
	link_backend_lost(bb->link, error);
}

static gboolean lose_now(gpointer data)
{
	struct bluez_backend *bb = data;
	enum bluez_problem problem = bb->loss;

	bb->loss_source = 0;
	/* GDBusObjectManagerClient drops every object when org.bluez loses its
	 * owner: then the cause is bluetoothd, not the device. */
	if (!bluez_running(bb->bluez))
		problem = BLUEZ_STOPPED;
	else if (problem == BLUEZ_NOTIFY_CLOSED && !bluez_proxy_bool(bb->device, "Connected"))
		problem = BLUEZ_DISCONNECTED;
	lose(bb, bluez_error_new(problem, NULL));
	return G_SOURCE_REMOVE;
}

/* Of several signs of one loss, the one that explains most wins. */
static int loss_rank(enum bluez_problem problem)
{
	switch (problem) {
	case BLUEZ_NOTIFY_CLOSED:
		return 0;
	case BLUEZ_DISCONNECTED:
		return 1;
	default:
		return 2;
	}
}

/* Reports the loss once the signals that came with it have been seen. */
static void lose_later(struct bluez_backend *bb, enum bluez_problem problem, guint delay_ms)
{
	if (bb->closed)
		return;
	if (bb->loss_source && loss_rank(problem) <= loss_rank(bb->loss))
		return;
	g_clear_handle_id(&bb->loss_source, g_source_remove);
	bb->loss = problem;
	bb->loss_source = g_timeout_add(delay_ms, lose_now, bb);
}

static struct bluez_char *char_of(struct bluez_backend *bb, enum dp_char chr)
{
	if (chr < DP_CHAR_INFO || chr > DP_CHAR_HISTORY || !bb->chars[chr].proxy)
		return NULL;
	return &bb->chars[chr];
}

static void deliver(struct bluez_backend *bb, enum dp_char chr, const uint8_t *buf, size_t len)
{
	struct link *link = link_ref(bb->link);

	link_backend_value(link, chr, buf, len);
	link_unref(link);
}

/* ---- Reads and writes ---- */

static void on_read(GObject *source, GAsyncResult *res, gpointer data)
{
	struct anchor *anchor = data;
	struct bluez_backend *bb = anchor->target;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);
	g_autoptr(GVariant) value = NULL;
	struct link *link;
	gsize len = 0;
	const uint8_t *buf;

	anchor_unref(anchor);
	if (!bb)
		return;
	if (!reply) {
		lose(bb, bluez_error_from_dbus(error, BLUEZ_OP_READ));
		return;
	}
	value = g_variant_get_child_value(reply, 0);
	buf = g_variant_get_fixed_array(value, &len, 1);
	link = link_ref(bb->link);
	link_backend_read_result(link, DP_CHAR_INFO, DP_ATT_OK, buf, len);
	link_unref(link);
}

static gboolean bb_read(void *backend, enum dp_char chr, GError **error)
{
	struct bluez_backend *bb = backend;
	struct bluez_char *c = char_of(bb, chr);

	if (!c) {
		g_set_error_literal(error, LINK_ERROR, LINK_ERROR_PROTOCOL,
				    "Internal error: that roller value cannot be read over Bluetooth.");
		return FALSE;
	}
	g_dbus_proxy_call(c->proxy, "ReadValue", g_variant_new_parsed("(@a{sv} {},)"),
			  G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, bb->cancellable,
			  on_read, anchor_ref(bb->anchor));
	return TRUE;
}

static void on_write(GObject *source, GAsyncResult *res, gpointer data)
{
	struct anchor *anchor = data;
	struct bluez_backend *bb = anchor->target;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);
	struct link *link;
	uint8_t att;

	anchor_unref(anchor);
	if (!bb)
		return;
	link = link_ref(bb->link);
	if (reply) {
		link_backend_write_result(link, DP_CHAR_CONTROL, DP_ATT_OK);
	} else if ((att = bluez_error_att_status(error)) != 0) {
		/* The roller answered with an ATT error: that command failed, the
		 * link is still good (§2.3 table). */
		link_backend_write_result(link, DP_CHAR_CONTROL, att);
	} else {
		lose(bb, bluez_error_from_dbus(error, BLUEZ_OP_WRITE));
	}
	link_unref(link);
}

static gboolean bb_write(void *backend, enum dp_char chr, const uint8_t *buf, size_t len,
			 GError **error)
{
	struct bluez_backend *bb = backend;
	struct bluez_char *c = char_of(bb, chr);
	GVariantBuilder opts;

	if (!c || chr != DP_CHAR_CONTROL) {
		g_set_error_literal(error, LINK_ERROR, LINK_ERROR_PROTOCOL,
				    "Internal error: that roller value cannot be written over Bluetooth.");
		return FALSE;
	}
	/* §2.1: CONTROL takes Write Request only; BlueZ's AcquireWrite socket
	 * writes without response, so it is not used. */
	g_variant_builder_init(&opts, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&opts, "{sv}", "type", g_variant_new_string("request"));
	g_dbus_proxy_call(c->proxy, "WriteValue",
			  g_variant_new("(@aya{sv})",
					g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, buf, len, 1),
					&opts),
			  G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, bb->cancellable,
			  on_write, anchor_ref(bb->anchor));
	return TRUE;
}

/* ---- Notifications: AcquireNotify sockets, StartNotify fallback ---- */

static void close_notify_fd(struct bluez_char *c)
{
	g_clear_handle_id(&c->watch, g_source_remove);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static gboolean on_notify_fd(int fd, GIOCondition cond, gpointer data)
{
	struct bluez_backend *bb = data;
	struct link *link = link_ref(bb->link);
	enum dp_char chr = DP_CHAR_STREAM;
	uint8_t buf[DP_MAX_FRAME + 1];
	gboolean keep = G_SOURCE_CONTINUE;

	if (bb->chars[DP_CHAR_HISTORY].fd == fd)
		chr = DP_CHAR_HISTORY;
	for (int i = 0; i < READ_BURST && bb->chars[chr].fd == fd; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (n <= 0) {
			/* BlueZ closes the socket when the link drops. */
			bb->chars[chr].watch = 0;
			close_notify_fd(&bb->chars[chr]);
			keep = G_SOURCE_REMOVE;
			lose_later(bb, BLUEZ_NOTIFY_CLOSED, NOTIFY_GRACE_MS);
			break;
		}
		bb->counters.acquired++;
		/* A value over 512 bytes cannot come from ATT; what is left of it
		 * fails to decode and is counted as malformed by link.c. */
		link_backend_value(link, chr, buf, MIN((size_t)n, (size_t)DP_MAX_FRAME));
	}
	if (bb->chars[chr].fd != fd)
		keep = G_SOURCE_REMOVE;
	link_unref(link);
	return keep;
}

static void on_start_notify(GObject *source, GAsyncResult *res, gpointer data)
{
	struct anchor *anchor = data;
	struct bluez_backend *bb = anchor->target;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);

	anchor_unref(anchor);
	if (bb && !reply)
		lose(bb, bluez_error_from_dbus(error, BLUEZ_OP_NOTIFY));
}

static void start_notify(struct bluez_backend *bb, struct bluez_char *c)
{
	/* Values may come before the reply; they count from now. */
	c->notifying = true;
	g_dbus_proxy_call(c->proxy, "StartNotify", NULL, G_DBUS_CALL_FLAGS_NONE,
			  CALL_TIMEOUT_MS, bb->cancellable, on_start_notify,
			  anchor_ref(bb->anchor));
}

/* Errors that mean "no AcquireNotify here": an old BlueZ, or a
 * characteristic another client already has notifications on. */
static bool acquire_unavailable(const GError *error)
{
	static const char *const names[] = {
		"org.freedesktop.DBus.Error.UnknownMethod",
		"org.bluez.Error.NotSupported",
		"org.bluez.Error.NotPermitted",
		"org.bluez.Error.InProgress",
	};
	g_autofree char *name = g_dbus_error_get_remote_error(error);

	for (size_t i = 0; name && i < G_N_ELEMENTS(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

struct acquire_call {
	struct anchor *anchor;
	enum dp_char chr;
};

static void on_acquire(GObject *source, GAsyncResult *res, gpointer data)
{
	struct acquire_call *call = data;
	struct bluez_backend *bb = call->anchor->target;
	enum dp_char chr = call->chr;
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_with_unix_fd_list_finish(
		G_DBUS_PROXY(source), &fds, res, &error);
	struct bluez_char *c;
	gint32 index = -1;
	guint16 mtu = 0;
	int fd;

	anchor_unref(call->anchor);
	g_free(call);
	if (!bb)
		return;
	c = &bb->chars[chr];
	if (!reply) {
		if (bb->notify_path == NOTIFY_AUTO && acquire_unavailable(error))
			start_notify(bb, c);
		else
			lose(bb, bluez_error_from_dbus(error, BLUEZ_OP_NOTIFY));
		return;
	}
	g_variant_get(reply, "(hq)", &index, &mtu);
	fd = fds ? g_unix_fd_list_get(fds, index, &error) : -1;
	if (fd < 0) {
		lose(bb, bluez_error_new(BLUEZ_NOTIFY_CLOSED, NULL));
		return;
	}
	bb->counters.acquired_mtu = mtu;
	if (mtu < DP_MIN_ATT_MTU) {
		g_autofree char *m = g_strdup_printf("%u", mtu);

		close(fd);
		lose(bb, bluez_error_new(BLUEZ_SMALL_MTU, m));
		return;
	}
	close_notify_fd(c);
	c->fd = fd;
	c->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_notify_fd, bb);
}

static void acquire_notify(struct bluez_backend *bb, enum dp_char chr)
{
	struct acquire_call *call = g_new0(struct acquire_call, 1);

	call->anchor = anchor_ref(bb->anchor);
	call->chr = chr;
	g_dbus_proxy_call_with_unix_fd_list(bb->chars[chr].proxy, "AcquireNotify",
					    g_variant_new_parsed("(@a{sv} {},)"),
					    G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL,
					    bb->cancellable, on_acquire, call);
}

static gboolean bb_subscribe(void *backend, enum dp_char chr, uint8_t mode, GError **error)
{
	struct bluez_backend *bb = backend;
	struct bluez_char *c = char_of(bb, chr);

	if (!c || chr == DP_CHAR_INFO) {
		g_set_error_literal(error, LINK_ERROR, LINK_ERROR_PROTOCOL,
				    "Internal error: that roller value has no notifications.");
		return FALSE;
	}
	if (mode == 0) {
		close_notify_fd(c);
		if (c->notifying)
			g_dbus_proxy_call(c->proxy, "StopNotify", NULL, G_DBUS_CALL_FLAGS_NONE,
					  CALL_TIMEOUT_MS, NULL, NULL, NULL);
		c->notifying = false;
		return TRUE;
	}
	/* Indications come through PropertiesChanged only: BlueZ confirms them
	 * itself, and AcquireNotify would hide them from Value. */
	if (chr == DP_CHAR_CONTROL || bb->notify_path == NOTIFY_START)
		start_notify(bb, c);
	else
		acquire_notify(bb, chr);
	return TRUE;
}

/* ---- Connection ---- */

static void read_adv(struct bluez_backend *bb, struct dp_adv *adv)
{
	/* §9.2: the payload under our company id in ManufacturerData; all
	 * zero (proto_major 0) when the roller has not been seen advertising
	 * since bluetoothd started. */
	bluez_device_adv(bb->device, adv);
}

static uint16_t read_mtu(struct bluez_backend *bb)
{
	g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(
		bb->chars[DP_CHAR_STREAM].proxy, "MTU");

	if (v && g_variant_is_of_type(v, G_VARIANT_TYPE_UINT16) && g_variant_get_uint16(v))
		return g_variant_get_uint16(v);
	return UNKNOWN_MTU;
}

static gboolean service_wait_over(gpointer data)
{
	struct bluez_backend *bb = data;

	bb->service_wait = 0;
	lose(bb, bluez_error_new(BLUEZ_NO_SERVICE, NULL));
	return G_SOURCE_REMOVE;
}

static void services_resolved(struct bluez_backend *bb)
{
	static const char *const uuids[] = {
		[DP_CHAR_INFO] = DP_CHAR_INFO_UUID,
		[DP_CHAR_STREAM] = DP_CHAR_STREAM_UUID,
		[DP_CHAR_CONTROL] = DP_CHAR_CONTROL_UUID,
		[DP_CHAR_HISTORY] = DP_CHAR_HISTORY_UUID,
	};
	g_autoptr(GVariant) name = NULL;
	GDBusProxy *found[DP_CHAR_HISTORY + 1] = { NULL };
	bool all = true;
	struct dp_adv adv;
	struct link *link;

	if (bb->ready || bb->closed)
		return;
	g_clear_handle_id(&bb->resolve_timeout, g_source_remove);
	for (int i = DP_CHAR_INFO; i <= DP_CHAR_HISTORY; i++) {
		found[i] = bluez_find_characteristic(bb->bluez, bb->device, DP_SERVICE_UUID,
						     uuids[i]);
		all = all && found[i];
	}
	if (!all) {
		/* A bonded roller whose GATT application changed (restarted)
		 * is first resolved from BlueZ's cache; its Service Changed
		 * brings our service a moment later (on_object_added). */
		for (int i = DP_CHAR_INFO; i <= DP_CHAR_HISTORY; i++)
			g_clear_object(&found[i]);
		if (!bb->service_wait)
			bb->service_wait = g_timeout_add(SERVICE_WAIT_MS, service_wait_over, bb);
		return;
	}
	g_clear_handle_id(&bb->service_wait, g_source_remove);
	for (int i = DP_CHAR_INFO; i <= DP_CHAR_HISTORY; i++)
		bb->chars[i].proxy = found[i];
	bb->ready = true;
	read_adv(bb, &adv);
	name = g_dbus_proxy_get_cached_property(bb->device, "Name");
	if (!name)
		name = g_dbus_proxy_get_cached_property(bb->device, "Alias");
	link = link_ref(bb->link);
	link_backend_ready(link, read_mtu(bb), &adv,
			   name && g_variant_is_of_type(name, G_VARIANT_TYPE_STRING)
			   ? g_variant_get_string(name, NULL) : NULL);
	link_unref(link);
}

static gboolean resolve_timed_out(gpointer data)
{
	struct bluez_backend *bb = data;

	bb->resolve_timeout = 0;
	lose(bb, bluez_error_new(BLUEZ_RESOLVE_TIMEOUT, NULL));
	return G_SOURCE_REMOVE;
}

static void on_connect(GObject *source, GAsyncResult *res, gpointer data)
{
	struct anchor *anchor = data;
	struct bluez_backend *bb = anchor->target;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, &error);
	g_autofree char *name = NULL;

	anchor_unref(anchor);
	if (!bb)
		return;
	bb->connecting = false;
	if (!reply) {
		name = g_dbus_error_get_remote_error(error);
		/* Someone else connected it first: as good as done. */
		if (!name || strcmp(name, "org.bluez.Error.AlreadyConnected") != 0) {
			lose(bb, bluez_error_from_dbus(error, BLUEZ_OP_CONNECT));
			return;
		}
	}
	if (bluez_proxy_bool(bb->device, "ServicesResolved"))
		services_resolved(bb);
}

static bool is_ours(struct bluez_backend *bb, GDBusProxy *proxy)
{
	for (int i = DP_CHAR_INFO; i <= DP_CHAR_HISTORY; i++)
		if (bb->chars[i].proxy == proxy)
			return true;
	return false;
}

static void on_properties(GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
			  GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
			  gpointer data)
{
	struct bluez_backend *bb = data;
	gboolean flag;
	g_autoptr(GVariant) value = NULL;

	if (proxy == bb->adapter) {
		/* Powering off drops the link too; this says why. */
		if (g_variant_lookup(changed, "Powered", "b", &flag) && !flag)
			lose_later(bb, BLUEZ_POWERED_OFF, 0);
		return;
	}
	if (proxy == bb->device) {
		if (g_variant_lookup(changed, "Connected", "b", &flag) && !flag)
			lose_later(bb, BLUEZ_DISCONNECTED, 0);
		else if (g_variant_lookup(changed, "ServicesResolved", "b", &flag) && flag)
			services_resolved(bb);
		return;
	}
	if (!bb->ready || !is_ours(bb, proxy))
		return;
	value = g_variant_lookup_value(changed, "Value", G_VARIANT_TYPE_BYTESTRING);
	if (!value)
		return;
	for (int i = DP_CHAR_STREAM; i <= DP_CHAR_HISTORY; i++) {
		gsize len;
		const uint8_t *buf;

		if (bb->chars[i].proxy != proxy || !bb->chars[i].notifying)
			continue;
		buf = g_variant_get_fixed_array(value, &len, 1);
		if (i == DP_CHAR_CONTROL)
			bb->counters.indications++;
		else
			bb->counters.properties++;
		deliver(bb, i, buf, len);
		return;
	}
}

static void on_object_added(GDBusObjectManager *manager, GDBusObject *object, gpointer data)
{
	struct bluez_backend *bb = data;

	/* Our service's objects, after a Service Changed (services_resolved). */
	if (bb->service_wait)
		services_resolved(bb);
}

static void on_object_removed(GDBusObjectManager *manager, GDBusObject *object, gpointer data)
{
	struct bluez_backend *bb = data;
	const char *path = g_dbus_object_get_object_path(object);

	if (strcmp(path, g_dbus_proxy_get_object_path(bb->adapter)) == 0) {
		lose_later(bb, BLUEZ_ADAPTER_GONE, 0);
		return;
	}
	if (strcmp(path, g_dbus_proxy_get_object_path(bb->device)) == 0) {
		lose_later(bb, BLUEZ_VANISHED, 0);
		return;
	}
	/* Our service's objects go when the link does. */
	for (int i = DP_CHAR_INFO; i <= DP_CHAR_HISTORY; i++)
		if (bb->chars[i].proxy &&
		    strcmp(path, g_dbus_proxy_get_object_path(bb->chars[i].proxy)) == 0)
			lose_later(bb, BLUEZ_DISCONNECTED, 0);
}

static void on_name_owner(GObject *manager, GParamSpec *pspec, gpointer data)
{
	struct bluez_backend *bb = data;

	if (!bluez_running(bb->bluez))
		lose_later(bb, BLUEZ_STOPPED, 0);
}

static bool is_bonded(GDBusProxy *device)
{
	g_autoptr(GVariant) bonded = g_dbus_proxy_get_cached_property(device, "Bonded");

	/* Bonded is BlueZ 5.65+; before it, Paired is the closest. */
	if (bonded)
		return g_variant_is_of_type(bonded, G_VARIANT_TYPE_BOOLEAN) &&
		       g_variant_get_boolean(bonded);
	return bluez_proxy_bool(device, "Paired");
}

static void on_model(struct bluez *bluez, const GError *error, void *data)
{
	struct bluez_backend *bb = data;
	GError *err = NULL;
	GDBusObjectManager *manager;

	if (bb->closed)
		return;
	if (error) {
		lose(bb, g_error_copy(error));
		return;
	}
	bb->adapter = bluez_find_adapter(bluez, bb->adapter_name, &err);
	if (!bb->adapter) {
		lose(bb, err);
		return;
	}
	bb->device = bluez_find_device(bluez, bb->adapter, bb->address);
	if (!bb->device || !is_bonded(bb->device)) {
		lose(bb, bluez_error_new(BLUEZ_NOT_PAIRED, bb->address));
		return;
	}
	manager = bluez_manager(bluez);
	bb->sig_added = g_signal_connect(manager, "object-added",
					 G_CALLBACK(on_object_added), bb);
	bb->sig_removed = g_signal_connect(manager, "object-removed",
					   G_CALLBACK(on_object_removed), bb);
	bb->sig_props = g_signal_connect(manager, "interface-proxy-properties-changed",
					 G_CALLBACK(on_properties), bb);
	bb->sig_owner = g_signal_connect(manager, "notify::name-owner",
					 G_CALLBACK(on_name_owner), bb);
	if (bluez_proxy_bool(bb->device, "Connected") &&
	    bluez_proxy_bool(bb->device, "ServicesResolved")) {
		services_resolved(bb);
		return;
	}
	bb->resolve_timeout = g_timeout_add(RESOLVE_TIMEOUT_MS, resolve_timed_out, bb);
	bb->connecting = true;
	g_dbus_proxy_call(bb->device, "Connect", NULL, G_DBUS_CALL_FLAGS_NONE,
			  CONNECT_TIMEOUT_MS, bb->cancellable, on_connect,
			  anchor_ref(bb->anchor));
}

/* ---- Teardown ---- */

static void on_disconnect(GObject *source, GAsyncResult *res, gpointer data)
{
	struct disconnect_call *dc = data;
	GVariant *reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), res, NULL);

	/* Answered, or failed (not connected any more): either way done. */
	if (reply)
		g_variant_unref(reply);
	if (dc->bb)
		dc->bb->disconnecting = NULL;
	g_free(dc);
}

static void bb_close(void *backend)
{
	struct bluez_backend *bb = backend;
	GDBusObjectManager *manager = bb->bluez ? bluez_manager(bb->bluez) : NULL;
	/* A link that went down by itself (or is going: a loss is pending)
	 * is not disconnected from here: BlueZ may still say Connected while
	 * it is disconnecting, and a Disconnect() now would start its 2 s
	 * disconnect timer again, inside which the next connection
	 * (reconnect.c) would be refused.  Any other link this backend
	 * connected is: one that got ready (whatever the cached Connected
	 * says, which was seen stale), or whose Connect() is still running,
	 * which bluetoothd would otherwise finish after this program has
	 * gone, leaving the roller connected (and not advertising, §9.1). */
	bool connected = !bb->lost && !bb->loss_source && bb->device &&
			 bluez_running(bb->bluez) &&
			 (bb->connecting || bb->ready ||
			  bluez_proxy_bool(bb->device, "Connected"));

	g_info("bluez link %s: closing (%s; lost %d, loss pending %d, ready %d, connecting %d, "
	       "running %d, Connected %d)", bb->address,
	       bb->lost ? "it went down by itself" : connected ? "disconnecting it" :
	       "not connected", bb->lost, bb->loss_source != 0, bb->ready, bb->connecting,
	       bb->bluez && bluez_running(bb->bluez),
	       bb->device && bluez_proxy_bool(bb->device, "Connected"));
	bb->closed = true;
	g_cancellable_cancel(bb->cancellable);
	if (bb->anchor) {
		anchor_cut(bb->anchor);
		bb->anchor = NULL;
	}
	if (manager) {
		g_clear_signal_handler(&bb->sig_added, manager);
		g_clear_signal_handler(&bb->sig_removed, manager);
		g_clear_signal_handler(&bb->sig_props, manager);
		g_clear_signal_handler(&bb->sig_owner, manager);
	}
	g_clear_handle_id(&bb->resolve_timeout, g_source_remove);
	g_clear_handle_id(&bb->service_wait, g_source_remove);
	g_clear_handle_id(&bb->loss_source, g_source_remove);
	for (int i = DP_CHAR_INFO; i <= DP_CHAR_HISTORY; i++) {
		struct bluez_char *c = &bb->chars[i];

		close_notify_fd(c);
		/* Replies are not awaited: nothing is left to tell. */
		if (c->notifying && connected)
			g_dbus_proxy_call(c->proxy, "StopNotify", NULL, G_DBUS_CALL_FLAGS_NONE,
					  CALL_TIMEOUT_MS, NULL, NULL, NULL);
		c->notifying = false;
	}
	/* §9.1: the roller advertises again only once the link is down. */
	if (connected && !bb->disconnecting) {
		bb->disconnecting = g_new0(struct disconnect_call, 1);
		bb->disconnecting->bb = bb;
		g_dbus_proxy_call(bb->device, "Disconnect", NULL, G_DBUS_CALL_FLAGS_NONE,
				  CALL_TIMEOUT_MS, NULL, on_disconnect, bb->disconnecting);
	}
}

static void bb_free(void *backend)
{
	struct bluez_backend *bb = backend;

	if (bb->disconnecting)
		bb->disconnecting->bb = NULL;
	if (backends)
		g_hash_table_remove(backends, bb->link);
	for (int i = DP_CHAR_INFO; i <= DP_CHAR_HISTORY; i++)
		g_clear_object(&bb->chars[i].proxy);
	g_clear_object(&bb->device);
	g_clear_object(&bb->adapter);
	bluez_unref(bb->bluez);
	g_object_unref(bb->cancellable);
	g_free(bb->adapter_name);
	g_free(bb);
}

static const struct link_backend_ops bluez_ops = {
	.name = "bluez",
	.read = bb_read,
	.write = bb_write,
	.subscribe = bb_subscribe,
	.close = bb_close,
	.free = bb_free,
};

static enum notify_path notify_path_from_env(void)
{
	const char *v = g_getenv(NOTIFY_ENV);

	if (!v || !*v || g_ascii_strcasecmp(v, "auto") == 0)
		return NOTIFY_AUTO;
	if (g_ascii_strcasecmp(v, "acquire") == 0)
		return NOTIFY_ACQUIRE;
	if (g_ascii_strcasecmp(v, "start") == 0)
		return NOTIFY_START;
	g_message("%s=%s is not one of auto, acquire, start: using auto", NOTIFY_ENV, v);
	return NOTIFY_AUTO;
}

static bool valid_address(const char *address)
{
	if (strlen(address) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? address[i] != ':' : !g_ascii_isxdigit(address[i]))
			return false;
	}
	return true;
}

struct link *link_bluez_connect(GDBusConnection *bus, const char *adapter,
				const char *address, GError **error)
{
	struct bluez_backend *bb;

	if (!address || !valid_address(address)) {
		g_propagate_error(error, bluez_error_new(BLUEZ_BAD_ADDRESS, address));
		return NULL;
	}
	bb = g_new0(struct bluez_backend, 1);
	bb->adapter_name = g_strdup(adapter);
	g_strlcpy(bb->address, address, sizeof(bb->address));
	bb->notify_path = notify_path_from_env();
	for (int i = 0; i <= DP_CHAR_HISTORY; i++)
		bb->chars[i].fd = -1;
	bb->cancellable = g_cancellable_new();
	bb->anchor = anchor_new(bb);
	bb->link = link_new(&bluez_ops, bb);
	if (!backends)
		backends = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_hash_table_insert(backends, bb->link, bb);
	/* The model's callback never runs after bluez_unref (in bb_free). */
	bb->bluez = bluez_new(bus, on_model, bb, NULL);
	return bb->link;
}

bool link_bluez_device_connected(struct link *link)
{
	struct bluez_backend *bb = backends ? g_hash_table_lookup(backends, link) : NULL;

	/* bluetoothd answers Disconnect() once the link is down; the model
	 * keeps the device's properties until the last reference to the
	 * link goes. */
	if (!bb || !bb->device || !bb->bluez || !bluez_running(bb->bluez))
		return false;
	return bb->disconnecting || bluez_proxy_bool(bb->device, "Connected");
}

const struct link_bluez_counters *link_bluez_counters(struct link *link)
{
	struct bluez_backend *bb = backends ? g_hash_table_lookup(backends, link) : NULL;

	return bb ? &bb->counters : NULL;
}
