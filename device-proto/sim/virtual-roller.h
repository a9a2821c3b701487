/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtual roller: the firmware state machine (dp_fw) fed by the sensor
 * model (dp_model) on the GLib main loop, speaking the local link messages
 * (PROTOCOL.md §10) on a SOCK_SEQPACKET socket.  roller-sim wraps it in a
 * program; tests and `dermaroll --simulate` link it into their own process
 * over a socketpair.
 *
 * What the roller rolls, in order of priority, whenever the stroke in
 * progress ends: strokes queued with virtual_roller_roll(); the scenario
 * file; otherwise (with autopilot) the demo routine of the zone a host
 * session is on.
 *
 * Sources are attached to the thread-default main context at the time of
 * virtual_roller_new().
 */
#pragma once

#include <glib.h>

#include "dp/firmware.h"
#include "dp/model.h"

struct virtual_roller_options {
	uint16_t needle_um;          /* 500; 100..3000 */
	uint16_t head_uses;          /* 0 */
	uint8_t battery_pct;         /* 80; 0..100 */
	guint prefill;               /* offline passes already in the log at start,
				        0..DP_LOG_CAPACITY */
	gboolean pairing;            /* start in pairing mode */
	guint64 seed;                /* noise and routine seed (1) */
	double speed;                /* model time per wall-clock time; 1.0 = real
				        time; 0.01..1000 */
	const char *serial;          /* "DR-SIM-0001"; 1..16 printable ASCII */
	const char *scenario;        /* scenario file path, or NULL */
	gboolean autopilot;          /* with no scenario: roll the demo routine of
				        the zone the host starts (TRUE) */
	uint16_t att_mtu;            /* ATT_MTU announced in HELLO (247) */
	/* The roller's flash (dp/flash.h) as a file, or NULL: a roller whose
	 * log, seqs, session counter and head are lost at exit.  When the
	 * file exists it is loaded, and its serial, needle, head uses and log
	 * win over the options above (a roller's serial and fitted head are
	 * in its flash, not in how it was switched on); a file that cannot be
	 * read or is damaged stops the roller with an error naming it.  It is
	 * written atomically (0600, its folder made 0700), before anything a
	 * new seq or session number reaches the host, and otherwise at most
	 * every 200 ms and at the last unref. */
	const char *state;
	/* With state: start from an empty flash whatever the file holds.
	 * Refused while the file holds passes no host has acked (or cannot be
	 * read) unless discard_unsynced. */
	gboolean fresh;
	gboolean discard_unsynced;
	/* The seq of the first pass of an empty flash (1); a fresh flash may
	 * skip seqs a history has already seen, never reuse them (§11.4). */
	guint32 first_seq;
};

void virtual_roller_options_default(struct virtual_roller_options *opts);

struct virtual_roller;

/* Builds the roller, loads the scenario and rolls the prefill passes
 * (offline, zone 0, through the model and the firmware).  The error says
 * which option is wrong. */
struct virtual_roller *virtual_roller_new(const struct virtual_roller_options *opts,
					  GError **error);
struct virtual_roller *virtual_roller_ref(struct virtual_roller *vr);
void virtual_roller_unref(struct virtual_roller *vr);
/* autoptr glue: GLib's macro needs a type name */
typedef struct virtual_roller virtual_roller;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virtual_roller, virtual_roller_unref)

/* Connects the roller to a host on fd (SOCK_SEQPACKET; the roller takes
 * ownership, and closes it on failure too).  Sends HELLO first.  Only one
 * host at a time: G_IO_ERROR_BUSY otherwise. */
gboolean virtual_roller_attach(struct virtual_roller *vr, int fd, GError **error);
/* Drops the link as a radio would: the host sees EOF.  The roller detaches
 * by itself when the host closes its end. */
void virtual_roller_detach(struct virtual_roller *vr);
gboolean virtual_roller_is_attached(struct virtual_roller *vr);
/* The ATT_MTU of the next attach (HELLO and the firmware's frame size):
 * min(att_mtu, the roller's own, opts->att_mtu at virtual_roller_new()).
 * A BLE link learns it from the stack; 23..517. */
void virtual_roller_set_att_mtu(struct virtual_roller *vr, uint16_t att_mtu);

/* Writes the flash file now, if there is one (atomically, as above). */
gboolean virtual_roller_save_state(struct virtual_roller *vr, GError **error);
/* The serial the roller goes by: the flash file's when it had one. */
const char *virtual_roller_serial(struct virtual_roller *vr);

/* The firmware inside, for tests and for the status line of roller-sim. */
const struct dp_fw *virtual_roller_firmware(struct virtual_roller *vr);

/* Rolls these strokes (copied) once the stroke in progress ends, before the
 * scenario or the autopilot go on: the keys of `dermaroll --simulate`. */
void virtual_roller_roll(struct virtual_roller *vr, const struct dp_stroke *strokes,
			 gsize n);
/* The button: a long press enters pairing mode (60 s). */
void virtual_roller_long_press(struct virtual_roller *vr);
/* The BLE stack says a pairing completed: pairing mode ends (§9.3). */
void virtual_roller_pairing_complete(struct virtual_roller *vr);
void virtual_roller_set_battery(struct virtual_roller *vr, guint8 pct);

/* TRUE when nothing is being rolled: the scenario has ended or waits for a
 * zone, no strokes are queued, and the autopilot has finished its zone. */
gboolean virtual_roller_is_resting(struct virtual_roller *vr);
/* Firmware time of the last sample, in ms since power-up. */
guint64 virtual_roller_time(struct virtual_roller *vr);
