/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pairing wizard's one interface to Bluetooth (issue 4, deliverable 3):
 * check the adapter, scan, pair, answer the agent's questions, read the
 * roller's INFO.  Two implementations: BlueZ (pairing-bluez.c, on
 * host/bluez.h) and the virtual rollers "nearby" of --simulate
 * (pairing-sim.c); the tests plug in a scripted one.
 *
 * Every outcome comes as an event through one callback, from the main loop
 * or, for a call refused at once, before the call returns.  Problems are
 * sorted into the kinds the wizard has a screen for, each with the
 * sentence to show.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "dp/proto.h"

/* Signal strength when nobody knows it. */
#define PAIRING_RSSI_UNKNOWN 127

enum pairing_problem {
	PAIRING_OK,
	PAIRING_NO_BUS,              /* the system message bus cannot be reached */
	PAIRING_NOT_RUNNING,         /* bluetoothd is not running */
	PAIRING_NO_ADAPTER,          /* no adapter, or not the one asked for */
	PAIRING_OFF,                 /* switched off: may be turned on, with consent */
	PAIRING_RFKILL,              /* blocked by rfkill */
	PAIRING_NOT_PAIRING,         /* the roller is not (or no longer) in pairing mode */
	PAIRING_NEWER,               /* the roller needs a newer dermaroll */
	PAIRING_REFUSED,             /* pairing refused, declined or failed */
	PAIRING_INFO_FAILED,         /* paired, but its INFO could not be read */
	PAIRING_FAILED,              /* anything else: the message says */
};

struct pairing_roller {
	char address[18];            /* "AA:BB:CC:DD:EE:FF" */
	char name[64];               /* as it advertises itself; "" if unknown */
	int16_t rssi;                /* dBm, or PAIRING_RSSI_UNKNOWN */
	bool pairing;                /* in pairing mode (PROTOCOL.md §9.3) */
	bool bonded;                 /* paired with this computer already */
	bool newer;                  /* speaks a newer protocol than ours */
};

/* The agent's questions (host/bluez.h enum bluez_agent_ask, same order). */
enum pairing_ask {
	PAIRING_ASK_AUTHORIZE,       /* Just Works: pair? */
	PAIRING_ASK_CONFIRM,         /* does the roller show this number? */
	PAIRING_ASK_PASSKEY,         /* type the number the roller shows */
	PAIRING_ASK_SHOW,            /* type this number on the roller; no answer */
	PAIRING_ASK_CANCELLED,       /* the question above is void */
};

enum pairing_event_kind {
	PAIRING_EVENT_CHECKED,       /* pairing_check(): problem says if usable */
	PAIRING_EVENT_POWERED,       /* pairing_power_on() finished */
	PAIRING_EVENT_FOUND,         /* a roller was seen for the first time */
	PAIRING_EVENT_CHANGED,       /* its signal, name or mode changed */
	PAIRING_EVENT_LOST,          /* it is gone */
	PAIRING_EVENT_SCAN_FAILED,   /* scanning stopped: problem says why */
	PAIRING_EVENT_ASK,           /* a question for the user: pairing_reply() */
	PAIRING_EVENT_PAIRED,        /* pairing_pair() finished */
	PAIRING_EVENT_INFO,          /* pairing_read_info() finished */
};

struct pairing_event {
	enum pairing_event_kind kind;
	enum pairing_problem problem;        /* PAIRING_OK: it went well */
	const char *message;                 /* the sentence when not OK */
	const struct pairing_roller *roller; /* FOUND, CHANGED, LOST */
	enum pairing_ask ask;                /* ASK */
	uint32_t passkey;                    /* ASK: CONFIRM and SHOW */
	bool was_bonded;                     /* PAIRED: it was paired already */
	const struct dp_info *info;          /* INFO, when OK */
};

struct pairing;

typedef void (*pairing_func)(struct pairing *p, const struct pairing_event *event,
			     void *user_data);

/* What an implementation fills in; every call reports by events. */
struct pairing_ops {
	void (*check)(struct pairing *p);
	void (*power_on)(struct pairing *p);
	void (*scan_start)(struct pairing *p);
	void (*scan_stop)(struct pairing *p);
	void (*pair)(struct pairing *p, const char *address);
	void (*reply)(struct pairing *p, bool accept, uint32_t passkey);
	void (*read_info)(struct pairing *p, const char *address);
	/* Stops a pairing or an INFO read in progress: no event follows. */
	void (*cancel)(struct pairing *p);
	void (*free)(struct pairing *p);
};

/* The part every implementation shares; it embeds this first. */
struct pairing {
	const struct pairing_ops *ops;
	pairing_func func;
	void *user_data;
	char *adapter;               /* "hci0", or NULL: the first one */
	bool simulated;              /* virtual rollers, not Bluetooth */
};

/* The BlueZ implementation, on the system bus (DBUS_SYSTEM_BUS_ADDRESS
 * when set); nothing is touched before pairing_check(). */
struct pairing *pairing_bluez_new(void);
/* Virtual rollers nearby, for --simulate: three rollers that come into
 * range one after another with changing signal, one of them not in
 * pairing mode; pairing and reading INFO go through a virtual roller on a
 * socket link. */
struct pairing *pairing_sim_new(void);

/* For implementations: sets up the shared part. */
void pairing_init(struct pairing *p, const struct pairing_ops *ops);
/* For implementations: hands @event to the wizard. */
void pairing_emit(struct pairing *p, const struct pairing_event *event);
/* For implementations: an event of @kind with @problem and its sentence. */
void pairing_emit_problem(struct pairing *p, enum pairing_event_kind kind,
			  enum pairing_problem problem, const char *message);

/* Who hears the events (NULL: nobody). */
void pairing_set_func(struct pairing *p, pairing_func func, void *user_data);
/* The adapter for the next check or scan: "hci0", or NULL/"" for the first. */
void pairing_set_adapter(struct pairing *p, const char *adapter);

/* Whether Bluetooth can be used: CHECKED follows, with PAIRING_OFF when
 * the adapter is merely switched off. */
void pairing_check(struct pairing *p);
/* Switches the adapter on: only on the user's word.  POWERED follows. */
void pairing_power_on(struct pairing *p);
/* FOUND, CHANGED, LOST follow until pairing_scan_stop() or SCAN_FAILED. */
void pairing_scan_start(struct pairing *p);
void pairing_scan_stop(struct pairing *p);
/* Pairs the roller at @address once the user confirmed; ASK may come,
 * then PAIRED. */
void pairing_pair(struct pairing *p, const char *address);
void pairing_reply(struct pairing *p, bool accept, uint32_t passkey);
/* Connects to the paired roller and reads its INFO: INFO follows. */
void pairing_read_info(struct pairing *p, const char *address);
void pairing_cancel(struct pairing *p);
void pairing_free(struct pairing *p);
