/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The driver of the screens (as tig's view_driver): keys become requests,
 * requests go to the screen on top, and the engine's events update what
 * the screens show.  It never calls curses: the display layer (display.c)
 * or a test feeds it keys and asks it to draw through a struct draw.
 */
#pragma once

#include <stdbool.h>

#include "draw.h"
#include "engine.h"

struct pairing;
struct settings;
struct virtual_roller;
struct tui;

struct tui_hooks {
	/* Something on the screen changed: draw again (soon, not now). */
	void (*changed)(void *user_data);
	/* The user asked to quit (and confirmed when a routine runs). */
	void (*quit)(void *user_data);
	/* The engine's connection event, passed on (for reconnect.h).  May
	 * be NULL. */
	void (*connection)(bool connected, const char *message, void *user_data);
	/* The pairing wizard paired and recorded the roller at @address.
	 * May be NULL. */
	void (*paired)(const char *address, void *user_data);
	/* The settings screen changed and saved a setting.  May be NULL. */
	void (*settings_changed)(void *user_data);
	void *user_data;
};

struct tui_options {
	const struct policy *policy;
	struct store *store;
	const struct engine_clock *clock;    /* the engine's and the screens' */
	struct engine_options engine;        /* what engine_start() gets */
	/* The virtual roller in this process, for rolling by hand (a
	 * reference is taken); NULL when the roller is elsewhere. */
	struct virtual_roller *roller;
	GTimeZone *tz;                       /* for the times shown; NULL: local */
	/* Open on the home screen, the routine waiting for Enter or r;
	 * false: on the routine's checklist. */
	bool home;
	/* The pairing wizard's Bluetooth (pairing.h), or NULL when this run
	 * cannot pair; the caller keeps it and frees it after the tui. */
	struct pairing *pairing;
	/* The user's settings, which the settings screen changes and saves
	 * to settings_path; NULL: no settings screen.  The caller keeps
	 * them. */
	struct settings *settings;
	const char *settings_path;
};

/* Makes the engine, and starts the routine at its checklist (on the home
 * screen: once the user starts it, so that settings changed meanwhile
 * count); then give it the roller with tui_set_link(), or let
 * reconnect.h do so. */
struct tui *tui_new(const struct tui_options *opts, const struct tui_hooks *hooks,
		    GError **error);
void tui_free(struct tui *tui);

struct engine *tui_engine(struct tui *tui);
/* Hands @link to the engine (engine_set_link()) and keeps a reference to
 * show the roller's serial and head; NULL drops it. */
void tui_set_link(struct tui *tui, struct link *link);

/* One line for the user above the key bar (NULL @fmt clears it). */
void tui_set_message(struct tui *tui, enum style style, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);
/* What the screens say about the roller's connection when none is up:
 * "Connecting to ...", "Trying again in 4 s", why it cannot be reached.
 * NULL clears it. */
void tui_set_roller_status(struct tui *tui, bool bad, const char *text);
/* The roller's INFO for the title bar, when the link was handed to the
 * engine by someone else (reconnect.h); NULL forgets it. */
void tui_set_roller_info(struct tui *tui, const struct dp_info *info);
/* The options the next routine starts with (the settings screen's
 * zones and moving on); a routine already started keeps its own.
 * Returns whether they apply to the routine of this run. */
bool tui_set_engine_options(struct tui *tui, const struct engine_options *opts);

/* The engine events the screens follow; a test may call them to inject
 * an event (user_data is the struct tui). */
const struct engine_handler *tui_engine_handler(void);

/* A key (a Unicode code point or a TUI_KEY_*). */
void tui_key(struct tui *tui, int key);
/* Draws the whole screen (the caller cleared it). */
void tui_draw(struct tui *tui, struct draw *d);
/* The name of the screen on top: "home", "routine", "aftercare", "help",
 * "history", "pair", "settings". */
const char *tui_view_name(struct tui *tui);
/* Whether the screen shows a running clock (so it needs a redraw every
 * second). */
bool tui_ticking(struct tui *tui);

/* Quitting: ends a routine that runs as stopped early and closes the
 * stored session, so that what was rolled is kept.  Afterwards wait for
 * engine_sync_idle() (briefly) so the roller is acked. */
void tui_stop(struct tui *tui);
