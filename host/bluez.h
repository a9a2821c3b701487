/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BlueZ side of the roller link: a model of org.bluez built on a
 * GDBusObjectManagerClient (bluez-adapter.c), the translation of every
 * D-Bus error into a sentence (bluez-error.c), and the link backend
 * (link-bluez.c).  doc/bluez-backend.md maps each call to org.bluez.
 * Everything here is asynchronous: nothing blocks the main loop.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <gio/gio.h>

#include "link.h"

#define BLUEZ_SERVICE "org.bluez"
#define BLUEZ_ADAPTER_IFACE "org.bluez.Adapter1"
#define BLUEZ_DEVICE_IFACE "org.bluez.Device1"
#define BLUEZ_SERVICE_IFACE "org.bluez.GattService1"
#define BLUEZ_CHAR_IFACE "org.bluez.GattCharacteristic1"

/* ---- The model ---- */

struct bluez;

/* Called once the model has loaded org.bluez's objects, or could not be
 * made (error set, already translated).  A bluetoothd that is not running
 * is not an error here: see bluez_running(). */
typedef void (*bluez_ready_func)(struct bluez *bluez, const GError *error, void *user_data);

/* Starts loading the model; func runs later from the main loop, unless
 * bluez_unref() comes first.  destroy is called on user_data afterwards. */
struct bluez *bluez_new(GDBusConnection *bus, bluez_ready_func func, void *user_data,
			GDestroyNotify destroy);
struct bluez *bluez_ref(struct bluez *bluez);
void bluez_unref(struct bluez *bluez);

/* The GDBusObjectManagerClient, for its object-added/-removed,
 * interface-proxy-properties-changed and notify::name-owner signals.
 * NULL until ready. */
GDBusObjectManager *bluez_manager(struct bluez *bluez);

/* org.bluez has an owner on the bus. */
bool bluez_running(struct bluez *bluez);

/* The adapter called name ("hci0"), or the first one when name is NULL,
 * checked to be usable: powered, not blocked.  Errors: bluetoothd not
 * running, no adapter, no such adapter, off, blocked by rfkill. */
GDBusProxy *bluez_find_adapter(struct bluez *bluez, const char *name, GError **error);
/* The device with this address ("AA:BB:CC:DD:EE:FF") under the adapter, or
 * NULL. */
GDBusProxy *bluez_find_device(struct bluez *bluez, GDBusProxy *adapter, const char *address);
/* The characteristic with this UUID in the device's primary service with
 * service_uuid, or NULL. */
GDBusProxy *bluez_find_characteristic(struct bluez *bluez, GDBusProxy *device,
				      const char *service_uuid, const char *char_uuid);

/* A cached boolean property, false when absent. */
bool bluez_proxy_bool(GDBusProxy *proxy, const char *property);

/* ---- Errors (bluez-error.c): every sentence the BlueZ path shows ---- */

/* What was being done when a D-Bus call failed; it picks the wording of
 * errors whose name alone does not say enough (org.bluez.Error.Failed). */
enum bluez_op {
	BLUEZ_OP_LOAD,               /* GetManagedObjects and name watching */
	BLUEZ_OP_CONNECT,            /* Device1.Connect */
	BLUEZ_OP_READ,               /* GattCharacteristic1.ReadValue */
	BLUEZ_OP_WRITE,              /* GattCharacteristic1.WriteValue */
	BLUEZ_OP_NOTIFY,             /* AcquireNotify, StartNotify, StopNotify */
};

/* Problems the model finds itself, without a D-Bus error. */
enum bluez_problem {
	BLUEZ_NOT_RUNNING,           /* org.bluez has no owner */
	BLUEZ_STOPPED,               /* org.bluez lost its owner while connected */
	BLUEZ_NO_ADAPTER,
	BLUEZ_NO_SUCH_ADAPTER,       /* the adapter asked for by name */
	BLUEZ_POWERED_OFF,
	BLUEZ_RFKILL,                /* PowerState "off-blocked" */
	BLUEZ_ADAPTER_GONE,          /* the adapter went away while in use */
	BLUEZ_BAD_ADDRESS,
	BLUEZ_NOT_PAIRED,            /* unknown to BlueZ, or known but not bonded */
	BLUEZ_VANISHED,              /* the device object was removed */
	BLUEZ_DISCONNECTED,          /* Device1.Connected went false */
	BLUEZ_NOTIFY_CLOSED,         /* an acquired notification socket closed */
	BLUEZ_NO_SERVICE,            /* our GATT service or a characteristic is missing */
	BLUEZ_RESOLVE_TIMEOUT,       /* ServicesResolved never came */
	BLUEZ_SMALL_MTU,             /* ATT MTU below DP_MIN_ATT_MTU */
};

/* A LINK_ERROR for a D-Bus (or GIO) error from a call made for op.  Every
 * org.bluez.Error.* and org.freedesktop.DBus.Error.* name BlueZ can send has
 * its own sentence; anything else gets a generic one naming op. */
GError *bluez_error_from_dbus(const GError *error, enum bluez_op op);
/* A LINK_ERROR for a problem found by the model.  detail fills in the
 * adapter name (NO_SUCH_ADAPTER), the address (BAD_ADDRESS, NOT_PAIRED) or
 * the MTU (SMALL_MTU); it may be NULL otherwise. */
GError *bluez_error_new(enum bluez_problem problem, const char *detail);
/* The ATT error code in an org.bluez.Error.Failed "... ATT error: 0xNN"
 * message, or 0 when the error carries none. */
uint8_t bluez_error_att_status(const GError *error);

/* ---- The link backend (link-bluez.c) ---- */

/* How the notifications of one link came in (DESIGN.md: count both paths). */
struct link_bluez_counters {
	uint64_t acquired;           /* values read from AcquireNotify sockets */
	uint64_t properties;         /* PropertiesChanged(Value) on STREAM/HISTORY */
	uint64_t indications;        /* PropertiesChanged(Value) on CONTROL */
	uint16_t acquired_mtu;       /* AcquireNotify's mtu, 0 when not acquired */
};

/* The counters of a link made by link_bluez_connect(), or NULL for any
 * other link. */
const struct link_bluez_counters *link_bluez_counters(struct link *link);

/* Delay before reconnection attempt number attempt (0 first): 1 s, 2 s,
 * 4 s ... at most 30 s. */
guint link_bluez_retry_delay_ms(unsigned attempt);
