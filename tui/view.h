/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The screens (views) and the state the driver keeps for them.  One file
 * per screen fills a struct view_ops, as in tig; only driver.c and the
 * view-*.c files include this.
 */
#pragma once

#include "driver.h"
#include "hand.h"
#include "request.h"

enum view_id {
	VIEW_ROUTINE,
	VIEW_AFTERCARE,
	VIEW_HELP,
	VIEW_HOME,
	VIEW_HISTORY,
	VIEW_PAIR,
	VIEW_SETTINGS,
};
#define VIEW_COUNT (VIEW_SETTINGS + 1)

struct view_ops {
	const char *name;
	/* Bytes of private state the driver allocates (zeroed) per tui. */
	size_t private_size;
	/* The view comes on top. */
	void (*open)(struct tui *tui, void *priv);
	void (*draw)(struct tui *tui, void *priv, struct draw *d);
	/* TRUE when the view handled @req. */
	bool (*request)(struct tui *tui, void *priv, enum request req);
	/* Raw keys before the keymap (text being typed); TRUE when used.
	 * May be NULL. */
	bool (*key)(struct tui *tui, void *priv, int key);
	/* The view leaves the stack (closed, or under a view opened lower
	 * down).  May be NULL. */
	void (*close)(struct tui *tui, void *priv);
	/* Frees what the private state holds.  May be NULL. */
	void (*done)(void *priv);
};

extern const struct view_ops routine_view_ops;
extern const struct view_ops aftercare_view_ops;
extern const struct view_ops help_view_ops;
extern const struct view_ops home_view_ops;
extern const struct view_ops history_view_ops;
extern const struct view_ops pair_view_ops;
extern const struct view_ops settings_view_ops;

#define TUI_WARNINGS_KEPT 16

struct tui_warning {
	enum engine_warning_kind kind;
	int zone;
	char *message;
	int64_t at_ms;
	unsigned int zone_total;     /* passes on the zone when it came */
};

struct tui {
	struct tui_options opts;
	struct tui_hooks hooks;
	struct engine *engine;
	struct link *link;
	GTimeZone *tz;

	enum view_id stack[VIEW_COUNT];
	int depth;                   /* views on the stack; stack[depth-1] on top */
	void *priv[VIEW_COUNT];

	/* What the engine said. */
	bool connected;
	char *link_message;          /* why the link is down */
	struct engine_force force;
	bool have_force;
	uint16_t zone_peak_cn;       /* highest force on the current zone */
	int peak_zone;
	GPtrArray *warnings;         /* struct tui_warning *, newest last */
	struct tui_warning *alert;   /* the banner shown now, or NULL */
	int64_t started_ms;          /* checklist done; 0 before */
	int64_t ended_ms;            /* aftercare reached; 0 before */
	char *message;               /* one line for the user, or NULL */
	enum style message_style;
	guint finish_idle;
	/* Counts what may have changed the stored history (a roller came
	 * and recorded its head, a session was stored): screens that show
	 * the history read it again when it moved. */
	unsigned int history_changes;

	/* The roller's connection when none is up (tui_set_roller_status). */
	char *roller_status;
	bool roller_status_bad;
	struct dp_info roller_info;  /* from tui_set_roller_info() */
	bool have_roller_info;

	struct hand hand;
};

void tui_changed(struct tui *tui);
void tui_open_view(struct tui *tui, enum view_id id);
/* Closes the view on top; closing the last one quits. */
void tui_close_view(struct tui *tui);
void tui_quit(struct tui *tui);
/* Back to the home screen alone (the views above it closed); quits when
 * the run has no home screen. */
void tui_go_home(struct tui *tui);
/* The routine: the engine started if it was not yet, and its screen. */
void tui_start_routine(struct tui *tui);
/* The connected roller's INFO, or NULL. */
const struct dp_info *tui_roller_info(struct tui *tui);
int64_t tui_now_ms(struct tui *tui);

/* The title bar and the key bar every screen shares. */
void tui_draw_title(struct tui *tui, struct draw *d, const char *title);
void tui_draw_keys(struct tui *tui, struct draw *d, const char *keys);
/* "03:25" elapsed since the routine began (to its end once over). */
char *tui_elapsed(struct tui *tui, char buf[32]);
