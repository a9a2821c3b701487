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
	BLUEZ_OP_DISCOVER,           /* SetDiscoveryFilter, StartDiscovery */
	BLUEZ_OP_POWER,              /* Set(Adapter1.Powered) */
	BLUEZ_OP_PAIR,               /* RegisterAgent, Device1.Pair, Set(Trusted) */
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
	BLUEZ_NOT_FOUND,             /* no roller with that address was seen (detail) */
	BLUEZ_NOT_PAIRING,           /* the roller is not in pairing mode (§9.3) */
	BLUEZ_NEWER_ROLLER,          /* proto_major above ours (detail: its major) */
	BLUEZ_PAIR_DECLINED,         /* the user said no to pairing or a passkey */
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
/* For a link made by link_bluez_connect(), closed or not: the
 * Disconnect() its closing asked for is not answered yet (bluetoothd
 * answers once the link is down), or BlueZ still says its device is
 * connected.  False for any other link. */
bool link_bluez_device_connected(struct link *link);

/* ---- The adapter's power (bluez-scan.c) ---- */

/* True when the adapter (name, or the first one) exists but is switched
 * off, and not blocked by rfkill: the one case a program may offer to
 * power it on.  Never powers anything on by itself. */
bool bluez_adapter_is_off(struct bluez *bluez, const char *name);

/* Completion of an asynchronous call of this file: error NULL on success,
 * else a LINK_ERROR with its sentence. */
typedef void (*bluez_done_func)(const GError *error, void *user_data);

/* Powers the adapter on (Set Adapter1.Powered true), and reports once the
 * model says Powered, at most 10 s later.  Only on the user's word: the
 * CLI asks first (--power-on, or y/n on a terminal).  Returns 0, without
 * calling func or destroy, when there is no such adapter. */
guint bluez_power_on(struct bluez *bluez, const char *name, bluez_done_func func,
		     void *user_data, GDestroyNotify destroy);

/* ---- Discovery (bluez-scan.c) ---- */

/* RSSI when BlueZ does not know it: 127 is also what the controller sends
 * for "not available" (btvirt does so, tests/ble/README.md). */
#define BLUEZ_RSSI_UNKNOWN 127

/* A roller as discovery sees it (PROTOCOL.md §9). */
struct bluez_roller {
	char address[18];            /* "AA:BB:CC:DD:EE:FF" */
	char name[64];               /* Device1.Name, else Alias; "" if neither */
	int16_t rssi;                /* dBm, or BLUEZ_RSSI_UNKNOWN */
	struct dp_adv adv;           /* §9.2 payload; proto_major 0: none seen */
	bool pairing;                /* DP_ADV_PAIRING set: ready to pair (§9.3) */
	bool bonded;                 /* Bonded (or Paired before BlueZ 5.65) */
};

enum bluez_scan_event {
	BLUEZ_SCAN_STARTED,          /* StartDiscovery answered */
	BLUEZ_SCAN_FOUND,            /* a roller was seen for the first time */
	BLUEZ_SCAN_CHANGED,          /* its RSSI, adv payload, name or bond changed */
	BLUEZ_SCAN_LOST,             /* BlueZ forgot it (its object was removed) */
	BLUEZ_SCAN_FAILED,           /* discovery ended; error says why; nothing follows */
};

struct bluez_scan;

/* roller is set for FOUND, CHANGED and LOST; error for FAILED only. */
typedef void (*bluez_scan_func)(struct bluez_scan *scan, enum bluez_scan_event event,
				const struct bluez_roller *roller, const GError *error,
				void *user_data);

/* Discovery for rollers on the adapter (name, or the first one), on a model
 * that is ready: SetDiscoveryFilter {Transport: le, UUIDs: [DP_SERVICE_UUID],
 * RSSI: rssi_min when not 0}, then StartDiscovery.  A device is a roller
 * when DP_SERVICE_UUID is in its UUIDs (§9.1); its pairing flag and major
 * come from bluez_device_adv().  Returns NULL with error set, and
 * func and destroy never called, when the adapter cannot scan (bluetoothd
 * not running, no adapter, off, rfkill).  Otherwise every event comes from
 * the main loop; destroy runs on user_data when the scan is freed. */
struct bluez_scan *bluez_scan_start(struct bluez *bluez, const char *adapter, int16_t rssi_min,
				    bluez_scan_func func, void *user_data,
				    GDestroyNotify destroy, GError **error);
/* Stops discovery (StopDiscovery, not awaited) and frees the scan; func is
 * not called again. */
void bluez_scan_stop(struct bluez_scan *scan);

/* The advertising payload (PROTOCOL.md §9.2) in a device's cached
 * ManufacturerData under DP_ADV_COMPANY_ID: true when that entry exists,
 * with *adv zero (proto_major 0) if it does not decode; false, *adv zero,
 * when there is none.  It says nothing about whether the device is a
 * roller: that is our UUID in its UUIDs (§9.1). */
bool bluez_device_adv(GDBusProxy *device, struct dp_adv *adv);

/* The roller with this address as the model knows it now (scanning or
 * not); false when BlueZ has no such device or it is not a roller. */
bool bluez_roller_lookup(struct bluez *bluez, const char *adapter, const char *address,
			 struct bluez_roller *roller);

/* ---- The pairing agent (bluez-agent.c) ---- */

/* What bluetoothd asks the agent (org.bluez.Agent1). */
enum bluez_agent_ask {
	BLUEZ_ASK_AUTHORIZE,         /* RequestAuthorization: Just Works, pair? */
	BLUEZ_ASK_CONFIRM,           /* RequestConfirmation: does the roller show passkey? */
	BLUEZ_ASK_PASSKEY,           /* RequestPasskey: type what the roller shows */
	BLUEZ_ASK_SHOW,              /* DisplayPasskey: show passkey; no answer */
	BLUEZ_ASK_CANCELLED,         /* Cancel: the question above is void */
};

struct bluez_agent;

/* device is the object path the question is about.  Every ask but SHOW and
 * CANCELLED waits for bluez_agent_reply(); with no func, each is refused. */
typedef void (*bluez_agent_func)(struct bluez_agent *agent, enum bluez_agent_ask ask,
				 const char *device, uint32_t passkey, void *user_data);

#define BLUEZ_AGENT_CAPABILITY "NoInputNoOutput"

/* Exports an org.bluez.Agent1 on bus at a path of its own; registering it
 * with AgentManager1 is the caller's job (bluez-pair.c does it only while
 * pairing).  NULL with error if the object cannot be exported. */
struct bluez_agent *bluez_agent_new(GDBusConnection *bus, bluez_agent_func func,
				    void *user_data, GDestroyNotify destroy, GError **error);
const char *bluez_agent_path(const struct bluez_agent *agent);
/* Answers the question in progress: accept, and for BLUEZ_ASK_PASSKEY the
 * passkey typed (0..999999).  No question in progress: nothing happens. */
void bluez_agent_reply(struct bluez_agent *agent, bool accept, uint32_t passkey);
/* Unexports the agent; a question still open is refused.  destroy runs. */
void bluez_agent_free(struct bluez_agent *agent);

/* ---- Pairing (bluez-pair.c) ---- */

struct bluez_pair;

struct bluez_pair_handler {
	/* A question from bluetoothd for the user (see bluez_agent_func);
	 * answer with bluez_pair_reply().  NULL: every question is refused. */
	void (*ask)(struct bluez_pair *pair, enum bluez_agent_ask ask, uint32_t passkey,
		    void *user_data);
	/* Paired and trusted (error NULL), or why not.  The last call: free
	 * the pair afterwards (from here or later). */
	void (*done)(struct bluez_pair *pair, const GError *error, void *user_data);
};

/* Pairs the roller at address on the adapter (name, or the first one):
 * RegisterAgent(NoInputNoOutput) (not as the default agent: Pair() asks
 * its caller's), Device1.Pair(),
 * Set Trusted true, UnregisterAgent (PROTOCOL.md §9.4, §9.5), all on the
 * model's connection, which bluetoothd ties the agent to.  The model
 * must be ready and the roller known to it (seen by a scan).  Refused at
 * once, NULL with error and nothing called, for a bad address, an adapter
 * that cannot be used, a device BlueZ does not know, a roller not in
 * pairing mode (unless already bonded: then Pair() is skipped and only
 * Trusted is set), or a roller that needs a newer dermaroll. */
struct bluez_pair *bluez_pair_start(struct bluez *bluez, const char *adapter,
				    const char *address,
				    const struct bluez_pair_handler *handler, void *user_data,
				    GDestroyNotify destroy, GError **error);
/* Answers the question passed to ask(). */
void bluez_pair_reply(struct bluez_pair *pair, bool accept, uint32_t passkey);
/* The roller was bonded already, so Pair() was not called. */
bool bluez_pair_was_bonded(const struct bluez_pair *pair);
/* Stops: CancelPairing if Pair() is running, the agent unregistered, done
 * not called; frees the pair and runs destroy. */
void bluez_pair_free(struct bluez_pair *pair);
