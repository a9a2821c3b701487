/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Link loss (issue 4): the session pauses, a new link is made with
 * backoff, and the engine resumes and resyncs the offline log.  The engine
 * never reconnects by itself (engine.h); this does it for the engine's
 * owner, on either backend: make_link returns link_bluez_connect() or
 * link_socket_connect().
 *
 * Each new link is watched by this module until it has connected and its
 * INFO serial has been checked (PROTOCOL.md §9.5: a bonded roller whose
 * serial differs from the recorded one is refused), and only then handed
 * to the engine with engine_set_link(), so nothing of a wrong roller ever
 * reaches the history.  Once handed over, the engine sees the link go
 * down: its owner forwards engine_handler.connection to
 * reconnect_connection(), which schedules the next attempt.
 *
 *	static void on_connection(struct engine *e, bool up, const char *msg,
 *				  void *data)
 *	{
 *		reconnect_connection(rc, up, msg);   // and update the screen
 *	}
 *	rc = reconnect_new(engine, make_link, data, NULL);
 *	reconnect_set_handler(rc, &handler, data);
 *	reconnect_set_serial(rc, recorded_serial);   // or NULL: the first one
 *	reconnect_start(rc);
 *	...
 *	reconnect_free(rc);          // before engine_set_link(e, NULL)
 *
 * Backoff: 1 s, 2 s, 4 s ... at most 30 s between attempts
 * (reconnect_delay_ms), back to 1 s after a good connection (one the
 * engine synced).  Failures
 * that retrying cannot fix end it with gave_up(): a roller that needs a
 * newer dermaroll or is not the recorded one (at once), or that is not
 * paired (or no longer) or refuses this computer (LINK_ERROR_REFUSED on two
 * attempts in a row: BlueZ also reports a read failed while a link settles
 * that way).  Everything happens from the main loop.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>
#include <glib.h>

#include "engine.h"
#include "link.h"

struct reconnect;

/* Makes a fresh link to the roller (not yet connected).  NULL with error
 * set when no link can be made at all (a malformed address, a socket path
 * that does not exist yet): that attempt failed, and the backoff goes on
 * unless the error is one retrying cannot fix (see reconnect_gave_up). */
typedef struct link *(*reconnect_link_func)(void *user_data, GError **error);

enum reconnect_state {
	RECONNECT_IDLE,              /* reconnect_start() not called yet */
	RECONNECT_CONNECTING,        /* a link is being made (attempt n) */
	RECONNECT_CONNECTED,         /* handed to the engine, and up */
	RECONNECT_WAITING,           /* the next attempt comes in a while */
	RECONNECT_GAVE_UP,           /* stopped for good: see the error */
};

/* "idle", "connecting", ...: stable names for logs and tests. */
const char *reconnect_state_name(enum reconnect_state state);

/* Every call comes from the main loop or from reconnect_start(); each
 * handler but connecting() may call reconnect_free(). */
struct reconnect_handler {
	/* Attempt number attempt (1 for the first of a series) starts. */
	void (*connecting)(struct reconnect *rc, unsigned int attempt, void *user_data);
	/* The link is up, its serial checked, and the engine has it (it
	 * resumes once it has synced). */
	void (*connected)(struct reconnect *rc, const struct dp_info *info, void *user_data);
	/* The link went down or an attempt failed (error says why); the next
	 * attempt comes in delay_ms. */
	void (*waiting)(struct reconnect *rc, guint delay_ms, const GError *error,
			void *user_data);
	/* Retrying cannot fix this (error says why, in a sentence): nothing
	 * more is attempted.  The engine keeps its dropped link, paused. */
	void (*gave_up)(struct reconnect *rc, const GError *error, void *user_data);
};

/* Delay before attempt number attempt of a series (0 first): 1 s, 2 s,
 * 4 s, 8 s, 16 s, then 30 s.  The one backoff of the project. */
guint reconnect_delay_ms(unsigned int attempt);

/* For tests: the delay actually waited before attempt (0 first), from
 * func instead of reconnect_delay_ms.  NULL restores the default. */
typedef guint (*reconnect_delay_func)(unsigned int attempt, void *user_data);

/* @engine must outlive the reconnect.  destroy runs on user_data in
 * reconnect_free(). */
struct reconnect *reconnect_new(struct engine *engine, reconnect_link_func make_link,
				void *user_data, GDestroyNotify destroy);
/* Cancels any pending attempt and closes a link not yet handed over; no
 * attempt and no handler call comes afterwards.  The engine keeps the
 * link it has. */
void reconnect_free(struct reconnect *rc);

void reconnect_set_handler(struct reconnect *rc, const struct reconnect_handler *handler,
			   void *user_data);
void reconnect_set_delay_func(struct reconnect *rc, reconnect_delay_func func,
			      void *user_data);
/* The INFO serial the roller must report (§9.5: the one recorded with
 * its address).  NULL (the default): the first connection's serial is
 * recorded here, and every later connection must match it. */
void reconnect_set_serial(struct reconnect *rc, const char *serial);

/* Makes the first link now (attempt 1).  FALSE if already started. */
gboolean reconnect_start(struct reconnect *rc);

/* Forward engine_handler.connection here: down (connected false) makes
 * the next attempt after the backoff; up (the engine has synced) resets
 * the backoff to its first step.  Ignored unless the link in question is
 * one this module handed over. */
void reconnect_connection(struct reconnect *rc, bool connected, const char *message);

/* ---- For the screen: "trying again in N s, attempt K" ---- */

enum reconnect_state reconnect_state(const struct reconnect *rc);
/* The attempt in progress or coming next, from 1; 0 before the first. */
unsigned int reconnect_attempt(const struct reconnect *rc);
/* Milliseconds until the next attempt while WAITING (monotonic clock,
 * rounded up), 0 otherwise. */
guint reconnect_remaining_ms(const struct reconnect *rc);
/* Why the last attempt failed, the link went down, or it gave up; NULL
 * when the last attempt succeeded. */
const GError *reconnect_error(const struct reconnect *rc);
/* Links handed to the engine that went down afterwards (drops). */
unsigned int reconnect_drops(const struct reconnect *rc);
/* Good connections handed to the engine so far (the first included). */
unsigned int reconnect_connections(const struct reconnect *rc);
/* The serial set or pinned, NULL while none. */
const char *reconnect_serial(const struct reconnect *rc);

/* Errors of this module (the rest are LINK_ERRORs from the link). */
#define RECONNECT_ERROR (reconnect_error_quark())
GQuark reconnect_error_quark(void);

enum reconnect_error {
	RECONNECT_ERROR_WRONG_ROLLER,    /* §9.5: INFO serial differs from the recorded one */
};
