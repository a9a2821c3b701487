/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GATT application of roller-sim --ble (ble-peripheral.h): objects
 * exported with g_dbus_connection_register_object, an ObjectManager on the
 * root for BlueZ's RegisterApplication, and the bridge to the virtual
 * roller's local link (PROTOCOL.md §10.4).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "ble-bridge.h"
#include "ble-peripheral.h"
#include "dp/link-msg.h"

#define SERVICE_IFACE "org.bluez.GattService1"
#define CHAR_IFACE "org.bluez.GattCharacteristic1"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"
/* Messages read from the roller per wake-up. */
#define READ_BURST 32
/* MTU assumed when the host subscribes before any read or write told us
 * its own: ATT's largest; the virtual roller clamps it to its own (247),
 * as the exchange BlueZ always makes would. */
#define MTU_UNKNOWN 517

static const char introspection_xml[] =
	"<node>"
	" <interface name='org.freedesktop.DBus.ObjectManager'>"
	"  <method name='GetManagedObjects'>"
	"   <arg type='a{oa{sa{sv}}}' direction='out'/>"
	"  </method>"
	" </interface>"
	" <interface name='" SERVICE_IFACE "'>"
	"  <property name='UUID' type='s' access='read'/>"
	"  <property name='Primary' type='b' access='read'/>"
	" </interface>"
	" <interface name='" CHAR_IFACE "'>"
	"  <method name='ReadValue'>"
	"   <arg type='a{sv}' direction='in'/><arg type='ay' direction='out'/>"
	"  </method>"
	"  <method name='WriteValue'>"
	"   <arg type='ay' direction='in'/><arg type='a{sv}' direction='in'/>"
	"  </method>"
	"  <method name='StartNotify'/>"
	"  <method name='StopNotify'/>"
	"  <method name='Confirm'/>"
	"  <property name='UUID' type='s' access='read'/>"
	"  <property name='Service' type='o' access='read'/>"
	"  <property name='Flags' type='as' access='read'/>"
	"  <property name='Notifying' type='b' access='read'/>"
	" </interface>"
	"</node>";

struct ble_object {
	struct ble_peripheral *p;
	const struct ble_service_def *service;
	const struct ble_char_def *def;      /* NULL: the service itself */
	char *path;
	char *service_path;
	guint reg;
};

struct pending {
	GDBusMethodInvocation *inv;
	struct ble_object *obj;
	guint8 op;                           /* DP_MSG_READ or DP_MSG_WRITE */
	guint16 offset;
};

struct ble_peripheral {
	GDBusConnection *bus;
	GDBusNodeInfo *node;
	struct virtual_roller *vr;
	char *root;
	guint root_reg;
	GPtrArray *objects;                  /* struct ble_object, services first */

	int fd;                              /* our end of the link, -1 none */
	guint watch;
	char *device;                        /* the attached host's device path */
	GQueue pending;                      /* struct pending, oldest first */
	/* Notifying, kept across links (ble-bridge.h, drop_link). */
	struct ble_subscriptions subs;

	struct ble_peripheral_counters counters;
	ble_peripheral_event_func event;
	void *user_data;
};

static const char *char_name(enum dp_char chr)
{
	static const char *const names[DP_CHAR_MAX_ + 1] = {
		[DP_CHAR_INFO] = "INFO", [DP_CHAR_STREAM] = "STREAM",
		[DP_CHAR_CONTROL] = "CONTROL", [DP_CHAR_HISTORY] = "HISTORY",
		[DP_CHAR_BATTERY] = "Battery Level", [DP_CHAR_CURRENT_TIME] = "Current Time",
		[DP_CHAR_DEVICE_INFO] = "Device Information",
	};

	return chr <= DP_CHAR_MAX_ && names[chr] ? names[chr] : "?";
}

static void say(struct ble_peripheral *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void say(struct ble_peripheral *p, const char *fmt, ...)
{
	g_autofree char *line = NULL;
	va_list ap;

	if (!p->event)
		return;
	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	p->event(line, p->user_data);
}

static gboolean notifying(struct ble_object *o)
{
	return o->def && ble_subscriptions_notifying(&o->p->subs, o->def);
}

/* ---- The link to the roller ---- */

/* The subscriptions survive the link (p->subs is left alone): they are
 * the application's Notifying, which only StartNotify and StopNotify
 * change.  bluetoothd 5.66 (src/gatt-database.c) keeps a bonded client's
 * CCC values across disconnections: at a bonded host's disconnection it
 * calls neither StopNotify nor anything else on the application, and when
 * that host writes the same CCC value again on its next connection it
 * answers the write itself without calling StartNotify (it calls the
 * application only when the client's stored value changes).  The bluetoothd
 * -d log of tests/ble "peripheral" shows it: the reconnected host's "CCC
 * write called for handle" has no "External CCC write received" after it.
 * An unbonded host's CCCs are cleared at its disconnection, and that does
 * call StopNotify (for the last subscriber); so does a CCC written 0, and
 * bluetoothd forgets every CCC of the application's services when they
 * are unregistered.  ensure_link() replays the kept ones to each new
 * link, on which the roller starts with every CCCD off (§11.6). */
static void drop_link(struct ble_peripheral *p, const char *why)
{
	struct pending *pd;

	if (p->fd < 0)
		return;
	g_clear_handle_id(&p->watch, g_source_remove);
	virtual_roller_detach(p->vr);
	close(p->fd);
	p->fd = -1;
	while ((pd = g_queue_pop_head(&p->pending))) {
		g_dbus_method_invocation_return_dbus_error(pd->inv, "org.bluez.Error.Failed",
							   "the roller's link dropped");
		g_free(pd);
	}
	say(p, "link down (%s)", why);
	g_clear_pointer(&p->device, g_free);
}

static gboolean send_msg(struct ble_peripheral *p, const struct dp_msg *m)
{
	uint8_t buf[DP_MSG_MAX];
	size_t len;

	if (p->fd < 0 || dp_msg_encode(m, buf, sizeof(buf), &len) != DP_OK)
		return FALSE;
	/* The roller reads as fast as ATT can ask: a full socket means it
	 * is stuck, which a radio would see as a dead link. */
	return send(p->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len;
}

static void emit_value(struct ble_peripheral *p, struct ble_object *o, const guint8 *value,
		       gsize len)
{
	GVariantBuilder changed;

	g_variant_builder_init(&changed, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&changed, "{sv}", "Value",
			      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, value, len, 1));
	g_dbus_connection_emit_signal(p->bus, NULL, o->path, PROPS_IFACE, "PropertiesChanged",
				      g_variant_new("(sa{sv}as)", CHAR_IFACE, &changed, NULL),
				      NULL);
}

static void emit_notifying(struct ble_peripheral *p, struct ble_object *o)
{
	GVariantBuilder changed;

	g_variant_builder_init(&changed, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&changed, "{sv}", "Notifying", g_variant_new_boolean(notifying(o)));
	g_dbus_connection_emit_signal(p->bus, NULL, o->path, PROPS_IFACE, "PropertiesChanged",
				      g_variant_new("(sa{sv}as)", CHAR_IFACE, &changed, NULL),
				      NULL);
}

static void answer_error(struct ble_peripheral *p, GDBusMethodInvocation *inv, guint8 status)
{
	gboolean exact;
	const char *name = ble_att_error_name(status, &exact);

	p->counters.refused++;
	g_dbus_method_invocation_return_dbus_error(inv, name, exact ? "ATT error" :
						   "ATT error (sent as 0x80 by BlueZ)");
	if (!exact)
		g_debug("ble: ATT error 0x%02x has no org.bluez error of its own", status);
}

static void answer_read(struct ble_peripheral *p, struct pending *pd, const struct dp_msg *m)
{
	g_autofree char *field = NULL;
	const guint8 *value = m->value;
	gsize len = m->value_len;

	if (m->status != DP_ATT_OK) {
		answer_error(p, pd->inv, m->status);
		return;
	}
	if (pd->obj->def->dis_key) {
		field = ble_device_info_field(m->value, m->value_len, pd->obj->def->dis_key);
		value = (const guint8 *)(field ? field : "");
		len = field ? strlen(field) : 0;
	}
	if (pd->offset > len) {
		g_dbus_method_invocation_return_dbus_error(pd->inv, "org.bluez.Error.InvalidOffset",
							   "offset past the value");
		return;
	}
	p->counters.reads++;
	g_dbus_method_invocation_return_value(pd->inv, g_variant_new("(@ay)",
		g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, value + pd->offset,
					  len - pd->offset, 1)));
}

static void on_roller_msg(struct ble_peripheral *p, const struct dp_msg *m)
{
	struct pending *pd;

	switch (m->op) {
	case DP_MSG_HELLO:
		say(p, "link up: %s (ATT MTU %u, adv flags 0x%02x)", m->name, m->att_mtu,
		    m->adv.flags);
		return;
	case DP_MSG_READ_RESULT:
	case DP_MSG_WRITE_RESULT:
		pd = g_queue_pop_head(&p->pending);
		if (!pd || pd->obj->def->chr != m->chr ||
		    pd->op + 1 != m->op) {
			g_debug("ble: a result the roller owed no one (0x%02x)", m->op);
			if (pd)
				g_queue_push_head(&p->pending, pd);
			return;
		}
		if (m->op == DP_MSG_READ_RESULT)
			answer_read(p, pd, m);
		else if (m->status != DP_ATT_OK)
			answer_error(p, pd->inv, m->status);
		else {
			p->counters.writes++;
			g_dbus_method_invocation_return_value(pd->inv, NULL);
		}
		g_free(pd);
		return;
	case DP_MSG_NOTIFY:
	case DP_MSG_INDICATE:
		for (guint i = 0; i < p->objects->len; i++) {
			struct ble_object *o = g_ptr_array_index(p->objects, i);

			if (o->def && o->def->chr == m->chr && notifying(o))
				emit_value(p, o, m->value, m->value_len);
		}
		if (m->op == DP_MSG_NOTIFY) {
			p->counters.notifications++;
		} else {
			struct dp_msg confirm = { .op = DP_MSG_CONFIRM, .chr = m->chr };

			p->counters.indications++;
			send_msg(p, &confirm);
		}
		return;
	default:
		g_debug("ble: ignoring message 0x%02x, which only a host sends", m->op);
	}
}

static gboolean on_link(int fd, GIOCondition cond, gpointer data)
{
	struct ble_peripheral *p = data;
	uint8_t buf[DP_MSG_MAX + 1];

	for (int i = 0; i < READ_BURST && p->fd >= 0; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		struct dp_msg m;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return G_SOURCE_CONTINUE;
		if (n <= 0) {
			/* The roller dropped the link itself (virtual_roller_detach): a
			 * radio link would go down with it. */
			char *device = g_strdup(p->device);

			p->watch = 0;
			drop_link(p, "the roller closed it");
			if (device)
				g_dbus_connection_call(p->bus, "org.bluez", device,
						       "org.bluez.Device1", "Disconnect", NULL,
						       NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
						       NULL, NULL);
			g_free(device);
			return G_SOURCE_REMOVE;
		}
		if ((size_t)n > DP_MSG_MAX || dp_msg_decode(buf, (size_t)n, &m) != DP_OK) {
			g_debug("ble: a malformed message from the roller (%zd bytes)", n);
			continue;
		}
		on_roller_msg(p, &m);
	}
	return G_SOURCE_CONTINUE;
}

/* The subscriptions BlueZ still holds on, to a link just attached:
 * SUBSCRIBE has no reply and the roller handles messages in order
 * (§10.4), so they apply before any request that follows. */
static void replay_subscriptions(struct ble_peripheral *p)
{
	struct dp_msg msgs[DP_CHAR_MAX_];
	gsize n = ble_subscriptions_replay(&p->subs, msgs, G_N_ELEMENTS(msgs));
	g_autoptr(GString) names = g_string_new(NULL);

	for (gsize i = 0; i < n; i++) {
		send_msg(p, &msgs[i]);
		g_string_append_printf(names, "%s%s", i ? ", " : "", char_name(msgs[i].chr));
	}
	if (n)
		say(p, "still subscribed: %s", names->str);
}

/* The link for device, made when the host first uses ATT on it, or when
 * it connects while subscriptions are on (ble_peripheral_connected). */
static gboolean ensure_link(struct ble_peripheral *p, const char *device, guint16 mtu)
{
	g_autoptr(GError) error = NULL;
	int fds[2];

	if (p->fd >= 0 && (!device || !p->device || strcmp(device, p->device) == 0)) {
		if (!p->device && device)
			p->device = g_strdup(device);
		return TRUE;
	}
	if (p->fd >= 0)
		drop_link(p, "another host");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0) {
		g_warning("ble: socketpair: %s", g_strerror(errno));
		return FALSE;
	}
	virtual_roller_set_att_mtu(p->vr, mtu ? mtu : MTU_UNKNOWN);
	if (!virtual_roller_attach(p->vr, fds[1], &error)) {
		g_warning("ble: the roller refused the link: %s", error->message);
		close(fds[0]);
		return FALSE;
	}
	p->fd = fds[0];
	p->device = g_strdup(device);
	p->counters.connections++;
	p->watch = g_unix_fd_add(p->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_link, p);
	replay_subscriptions(p);
	return TRUE;
}

/* ---- org.bluez.GattCharacteristic1 ---- */

static void char_read(struct ble_object *o, GDBusMethodInvocation *inv, GVariant *options)
{
	struct ble_peripheral *p = o->p;
	struct dp_msg m = { .op = DP_MSG_READ, .chr = (uint8_t)o->def->chr };
	struct pending *pd;

	if (!ensure_link(p, ble_option_device(options), ble_option_u16(options, "mtu")) ||
	    !send_msg(p, &m)) {
		g_dbus_method_invocation_return_dbus_error(inv, "org.bluez.Error.Failed",
							   "the roller is not answering");
		return;
	}
	pd = g_new0(struct pending, 1);
	pd->inv = inv;
	pd->obj = o;
	pd->op = DP_MSG_READ;
	pd->offset = ble_option_u16(options, "offset");
	g_queue_push_tail(&p->pending, pd);
}

static void char_write(struct ble_object *o, GDBusMethodInvocation *inv, GVariant *value,
		       GVariant *options)
{
	struct ble_peripheral *p = o->p;
	struct dp_msg m = { .op = DP_MSG_WRITE, .chr = (uint8_t)o->def->chr };
	struct pending *pd;
	gsize len;

	m.value = g_variant_get_fixed_array(value, &len, 1);
	m.value_len = len;
	/* §2.3 order: the roller would say 0x0D; the local link cannot carry
	 * an empty or a partial write. */
	if (len == 0 || len > DP_MAX_FRAME || ble_option_u16(options, "offset")) {
		answer_error(p, inv, DP_ATT_INVALID_LENGTH);
		return;
	}
	if (!ensure_link(p, ble_option_device(options), ble_option_u16(options, "mtu")) ||
	    !send_msg(p, &m)) {
		g_dbus_method_invocation_return_dbus_error(inv, "org.bluez.Error.Failed",
							   "the roller is not answering");
		return;
	}
	pd = g_new0(struct pending, 1);
	pd->inv = inv;
	pd->obj = o;
	pd->op = DP_MSG_WRITE;
	g_queue_push_tail(&p->pending, pd);
}

static void char_notify(struct ble_object *o, GDBusMethodInvocation *inv, gboolean on)
{
	struct ble_peripheral *p = o->p;
	struct dp_msg m = { .op = DP_MSG_SUBSCRIBE, .chr = (uint8_t)o->def->chr,
			    .status = on ? o->def->subscribe_mode : 0 };

	if (!o->def->subscribe_mode) {
		answer_error(p, inv, DP_ATT_REQUEST_NOT_SUPPORTED);
		return;
	}
	/* StartNotify carries no device: the host that uses ATT now. */
	if (on && !ensure_link(p, NULL, 0)) {
		g_dbus_method_invocation_return_dbus_error(inv, "org.bluez.Error.Failed",
							   "the roller is not answering");
		return;
	}
	/* Sent even when nothing changed: StartNotify comes for each client
	 * that enables the CCC, and the roller takes it again harmlessly. */
	if (p->fd >= 0)
		send_msg(p, &m);
	if (ble_subscriptions_set(&p->subs, o->def, on)) {
		emit_notifying(p, o);
		say(p, "%s %s", on ? "subscribed" : "unsubscribed", char_name(o->def->chr));
	}
	g_dbus_method_invocation_return_value(inv, NULL);
}

static void on_method(GDBusConnection *bus, const char *sender, const char *path,
		      const char *iface, const char *method, GVariant *params,
		      GDBusMethodInvocation *inv, gpointer data)
{
	struct ble_object *o = data;

	if (strcmp(method, "ReadValue") == 0) {
		g_autoptr(GVariant) options = g_variant_get_child_value(params, 0);

		char_read(o, inv, options);
	} else if (strcmp(method, "WriteValue") == 0) {
		g_autoptr(GVariant) value = g_variant_get_child_value(params, 0);
		g_autoptr(GVariant) options = g_variant_get_child_value(params, 1);

		char_write(o, inv, value, options);
	} else if (strcmp(method, "StartNotify") == 0) {
		char_notify(o, inv, TRUE);
	} else if (strcmp(method, "StopNotify") == 0) {
		char_notify(o, inv, FALSE);
	} else {
		/* Confirm: BlueZ tells us the host confirmed an indication; the
		 * roller had its CONFIRM when the indication left (header). */
		g_dbus_method_invocation_return_value(inv, NULL);
	}
}

static GVariant *char_props(struct ble_object *o)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	if (!o->def) {
		g_variant_builder_add(&b, "{sv}", "UUID", g_variant_new_string(o->service->uuid));
		g_variant_builder_add(&b, "{sv}", "Primary", g_variant_new_boolean(TRUE));
	} else {
		g_variant_builder_add(&b, "{sv}", "UUID", g_variant_new_string(o->def->uuid));
		g_variant_builder_add(&b, "{sv}", "Service",
				      g_variant_new_object_path(o->service_path));
		g_variant_builder_add(&b, "{sv}", "Flags",
				      g_variant_new_strv(o->def->flags, -1));
		g_variant_builder_add(&b, "{sv}", "Notifying",
				      g_variant_new_boolean(notifying(o)));
	}
	return g_variant_builder_end(&b);
}

static GVariant *on_get_property(GDBusConnection *bus, const char *sender, const char *path,
				 const char *iface, const char *prop, GError **error,
				 gpointer data)
{
	g_autoptr(GVariant) all = g_variant_ref_sink(char_props(data));
	GVariant *v = g_variant_lookup_value(all, prop, NULL);

	if (!v)
		g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
			    "no property %s", prop);
	return v;
}

static const GDBusInterfaceVTable object_vtable = {
	.method_call = on_method,
	.get_property = on_get_property,
};

/* ---- org.freedesktop.DBus.ObjectManager on the root ---- */

static void on_root_method(GDBusConnection *bus, const char *sender, const char *path,
			   const char *iface, const char *method, GVariant *params,
			   GDBusMethodInvocation *inv, gpointer data)
{
	struct ble_peripheral *p = data;
	GVariantBuilder objects;

	g_variant_builder_init(&objects, G_VARIANT_TYPE("a{oa{sa{sv}}}"));
	for (guint i = 0; i < p->objects->len; i++) {
		struct ble_object *o = g_ptr_array_index(p->objects, i);

		g_variant_builder_open(&objects, G_VARIANT_TYPE("{oa{sa{sv}}}"));
		g_variant_builder_add(&objects, "o", o->path);
		g_variant_builder_open(&objects, G_VARIANT_TYPE("a{sa{sv}}"));
		g_variant_builder_add(&objects, "{s@a{sv}}", o->def ? CHAR_IFACE : SERVICE_IFACE,
				      char_props(o));
		g_variant_builder_close(&objects);
		g_variant_builder_close(&objects);
	}
	g_dbus_method_invocation_return_value(inv, g_variant_new("(a{oa{sa{sv}}})", &objects));
}

static const GDBusInterfaceVTable root_vtable = {
	.method_call = on_root_method,
};

/* ---- Life cycle ---- */

static void object_free(gpointer data)
{
	struct ble_object *o = data;

	if (o->reg)
		g_dbus_connection_unregister_object(o->p->bus, o->reg);
	g_free(o->path);
	g_free(o->service_path);
	g_free(o);
}

static gboolean export(struct ble_peripheral *p, struct ble_object *o, GError **error)
{
	GDBusInterfaceInfo *info = g_dbus_node_info_lookup_interface(p->node,
		o->def ? CHAR_IFACE : SERVICE_IFACE);

	o->reg = g_dbus_connection_register_object(p->bus, o->path, info, &object_vtable, o,
						   NULL, error);
	return o->reg != 0;
}

struct ble_peripheral *ble_peripheral_new(GDBusConnection *bus, const char *root,
					  struct virtual_roller *vr,
					  ble_peripheral_event_func event, void *user_data,
					  GError **error)
{
	struct ble_peripheral *p = g_new0(struct ble_peripheral, 1);

	p->bus = g_object_ref(bus);
	p->vr = virtual_roller_ref(vr);
	p->root = g_strdup(root);
	p->fd = -1;
	p->event = event;
	p->user_data = user_data;
	g_queue_init(&p->pending);
	p->objects = g_ptr_array_new_with_free_func(object_free);
	p->node = g_dbus_node_info_new_for_xml(introspection_xml, error);
	if (!p->node)
		goto fail;
	p->root_reg = g_dbus_connection_register_object(bus, root,
		g_dbus_node_info_lookup_interface(p->node, "org.freedesktop.DBus.ObjectManager"),
		&root_vtable, p, NULL, error);
	if (!p->root_reg)
		goto fail;
	for (guint s = 0; s < ble_n_services; s++) {
		const struct ble_service_def *sd = &ble_services[s];
		struct ble_object *so = g_new0(struct ble_object, 1);

		so->p = p;
		so->service = sd;
		so->path = g_strdup_printf("%s/service%u", root, s);
		g_ptr_array_add(p->objects, so);
		if (!export(p, so, error))
			goto fail;
		for (guint c = 0; c < sd->n_chars; c++) {
			struct ble_object *co = g_new0(struct ble_object, 1);

			co->p = p;
			co->service = sd;
			co->def = &sd->chars[c];
			co->service_path = g_strdup(so->path);
			co->path = g_strdup_printf("%s/char%u", so->path, c);
			g_ptr_array_add(p->objects, co);
			if (!export(p, co, error))
				goto fail;
		}
	}
	return p;

fail:
	ble_peripheral_free(p);
	return NULL;
}

void ble_peripheral_free(struct ble_peripheral *p)
{
	if (!p)
		return;
	drop_link(p, "stopping");
	g_ptr_array_unref(p->objects);
	if (p->root_reg)
		g_dbus_connection_unregister_object(p->bus, p->root_reg);
	if (p->node)
		g_dbus_node_info_unref(p->node);
	virtual_roller_unref(p->vr);
	g_object_unref(p->bus);
	g_free(p->root);
	g_free(p);
}

void ble_peripheral_connected(struct ble_peripheral *p, const char *device)
{
	/* A bonded host's kept CCCs are on from the first moment of the
	 * connection: the stream (and a pending response) flows at once,
	 * as from a roller that keeps them itself.  Otherwise the link waits
	 * for the host's first ATT use, which tells the MTU. */
	if (ble_subscriptions_any(&p->subs))
		ensure_link(p, device, 0);
}

void ble_peripheral_disconnected(struct ble_peripheral *p, const char *device)
{
	if (p->fd >= 0 && (!device || !p->device || strcmp(device, p->device) == 0))
		drop_link(p, device ? "the host disconnected" : "stopping");
}

const char *ble_peripheral_device(struct ble_peripheral *p)
{
	return p->device;
}

const struct ble_peripheral_counters *ble_peripheral_counters(struct ble_peripheral *p)
{
	return &p->counters;
}
