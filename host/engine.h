/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session engine (DESIGN.md "The session engine"): one routine as a
 * state machine, from the pre-session checklist through the zones in
 * guidance order, passes per direction, to aftercare.
 *
 * It asks the policy which zones may be treated, counts passes per zone and
 * direction with their pressure figures, warns (too light, too hard, past
 * the maximum passes, zone locked), and records the session, zone results,
 * passes, overrides and checklist answers in the store.  Passes go through
 * sync (sync.h): committed first, acked after.  A dropped link pauses the
 * routine; a new link (engine_set_link) syncs what the roller logged
 * meanwhile and resumes with nothing lost.
 *
 * Input becomes requests (engine_answer_checklist, engine_next_zone, ...);
 * output is the handler's events.  No curses, no printing: g_log only.
 * Every time comes from the injected clock (engine-clock.h).
 *
 * A whole headless routine (what `dermaroll session --simulate` does):
 *
 *	struct engine *e = engine_new(policy, store, engine_clock_system(),
 *				      &handler, data);
 *	struct engine_options opts = { .zones = 0, .plan = plan,
 *				       .auto_advance = true };
 *	engine_set_link(e, link);        // link_socket_new(fd) to a virtual roller
 *	engine_start(e, &opts, NULL);
 *	for (unsigned i = 0; i < policy_checklist_count(policy); i++)
 *		engine_answer_checklist(e, i, answer_i, 0, NULL);
 *	engine_checklist_done(e, NULL);
 *	// In ENGINE_STATE_ZONE_LOCKED: engine_override(e, reason, &error)
 *	// or engine_skip_zone(e).  With auto_advance the engine moves on
 *	// once every direction of a zone reached its target; without it,
 *	// call engine_next_zone() when the user is done with a zone.
 *	while (engine_state(e) != ENGINE_STATE_AFTERCARE)
 *		g_main_context_iteration(NULL, TRUE);
 *	engine_finish(e, NULL);          // -> ENGINE_STATE_FINISHED
 *	while (!engine_sync_idle(e))     // last commits and ACKs
 *		g_main_context_iteration(NULL, TRUE);
 *	engine_free(e);
 *
 * A roller that is already connected when engine_start() is called is fine;
 * so is one that connects later (ENGINE_STATE_WAITING until it has synced).
 * The engine never reconnects by itself: when the connection event says
 * the link went down, the caller makes a new link (with backoff) and hands
 * it over with engine_set_link(); the routine resumes once it has synced.
 *
 * A roller whose offline log is behind what the history holds for its
 * serial (a roller reset, or a second virtual roller with the same serial
 * on the same history) is refused a sync and never acked: an
 * ENGINE_WARNING_ROLLER says so.  Passes it sends are still stored, but
 * their (serial, seq) may collide with old ones, which the store keeps.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "engine-clock.h"
#include "link.h"
#include "plan.h"
#include "policy.h"
#include "store.h"
#include "sync.h"
#include "zones.h"

struct engine;

enum engine_state {
	ENGINE_STATE_IDLE,           /* created; engine_start() not called yet */
	ENGINE_STATE_CHECKLIST,      /* answering the pre-session checklist */
	ENGINE_STATE_WAITING,        /* checklist done; waiting for the roller to
				      * connect and finish its offline sync */
	ENGINE_STATE_ZONE_LOCKED,    /* the policy refuses the current zone:
				      * override with a reason, or skip */
	ENGINE_STATE_ROLLING,        /* treating the current zone */
	ENGINE_STATE_PAUSED,         /* the link dropped mid-routine */
	ENGINE_STATE_AFTERCARE,      /* routine over: show the aftercare advice */
	ENGINE_STATE_FINISHED,       /* session ended and stored */
};

/* "checklist", "rolling", ...: stable names for logs and tests. */
const char *engine_state_name(enum engine_state state);

enum engine_zone_status {
	ENGINE_ZONE_NOT_SELECTED,    /* not part of this routine */
	ENGINE_ZONE_PENDING,         /* still to come */
	ENGINE_ZONE_LOCKED,          /* refused by the policy (maybe overridden later) */
	ENGINE_ZONE_ACTIVE,          /* being treated */
	ENGINE_ZONE_DONE,
	ENGINE_ZONE_SKIPPED,
};

/* What this session did on one zone.  Passes are counted from the roller's
 * records of this session (each seq once), whichever way they arrived. */
struct engine_zone_counts {
	int zone;                    /* enum dp_zone */
	enum engine_zone_status status;
	unsigned int passes[ZONE_DIR_COUNT];
	unsigned int total;
	uint16_t mean_force_cn;      /* duration-weighted mean of the passes' means */
	uint16_t peak_force_cn;
	uint32_t over_warn_ms;       /* time over the warning band, summed */
	unsigned int too_light;      /* passes warned as too light */
	unsigned int too_hard;       /* passes warned as too hard */
	int64_t started_ms, ended_ms;/* first pass start, last pass end (0: none) */
	bool overridden;             /* treated under an override */
};

enum engine_warning_kind {
	ENGINE_WARNING_TOO_LIGHT,    /* a pass's mean force below the target band */
	ENGINE_WARNING_TOO_HARD,     /* a pass went over the warning band */
	ENGINE_WARNING_MAX_PASSES,   /* past the maximum per direction or zone:
				      * counted and recorded, never dropped */
	ENGINE_WARNING_ZONE_LOCKED,  /* the policy refuses the zone */
	ENGINE_WARNING_LINK,         /* the roller's link dropped or misbehaved */
	ENGINE_WARNING_ROLLER,       /* the roller refused a command, log nearly full */
	ENGINE_WARNING_STORE,        /* the history could not be written */
};

struct engine_warning {
	enum engine_warning_kind kind;
	int zone;                    /* 0 when not about a zone */
	enum zone_dir dir;           /* for TOO_LIGHT, TOO_HARD, MAX_PASSES */
	uint32_t seq;                /* the pass, 0 if none */
	const char *message;         /* one sentence for the user */
};

/* The pressure right now, for the gauge: one per FORCE record (every 50 ms
 * or so while connected). */
struct engine_force {
	uint64_t device_ms;          /* device time of the first sample */
	uint16_t last_cn;            /* the latest sample */
	uint16_t peak_cn;            /* the highest sample of the batch */
	enum policy_pressure band;   /* of last_cn */
};

struct engine_handler {
	void (*state_changed)(struct engine *e, enum engine_state state, void *user_data);
	/* A pass was counted on @zone. */
	void (*counts_changed)(struct engine *e, const struct engine_zone_counts *counts,
			       void *user_data);
	void (*warning)(struct engine *e, const struct engine_warning *warning,
			void *user_data);
	void (*force)(struct engine *e, const struct engine_force *force, void *user_data);
	/* The link came up (and synced) or went down; @message says why it
	 * went down, NULL when up. */
	void (*connection)(struct engine *e, bool connected, const char *message,
			   void *user_data);
};

struct engine_options {
	/* POLICY_ZONE_BIT()s of the zones to treat; 0: the face zones. */
	guint32 zones;
	const struct plan *plan;     /* a dermatologist's plan, or NULL */
	GTimeZone *tz;               /* for dates in messages; NULL: UTC */
	/* Move to the next zone by itself once every direction of the
	 * current one reached its target. */
	bool auto_advance;
};

/* @policy, @store and @clock must outlive the engine. */
struct engine *engine_new(const struct policy *policy, struct store *store,
			  const struct engine_clock *clock,
			  const struct engine_handler *handler, void *user_data);
void engine_free(struct engine *e);

/* Gives the engine a link (it takes a reference and installs its link
 * handler).  Replacing a dropped link resumes a paused routine once the
 * new one has connected and synced.  NULL drops the current link. */
void engine_set_link(struct engine *e, struct link *link);
bool engine_is_connected(const struct engine *e);

/* IDLE -> CHECKLIST.  FALSE if already started. */
gboolean engine_start(struct engine *e, const struct engine_options *opts,
		      GError **error);

/* Answers checklist item @index (policy_checklist_item()) in CHECKLIST.
 * @zones: for a refusing answer to an "in the area" item, the
 * POLICY_ZONE_BIT()s concerned (0: every zone). */
gboolean engine_answer_checklist(struct engine *e, unsigned int index, bool yes,
				 guint32 zones, GError **error);
/* Every item answered: CHECKLIST -> WAITING -> the first zone. */
gboolean engine_checklist_done(struct engine *e, GError **error);

/* The current zone is done: on to the next in guidance order, or to
 * aftercare after the last.  In ROLLING or ZONE_LOCKED. */
gboolean engine_next_zone(struct engine *e, GError **error);
/* Leaves the current zone untreated (passes already made stay counted). */
gboolean engine_skip_zone(struct engine *e, GError **error);
/* Passes the current zone's lock with a reason typed in full (SAFETY.md
 * "Overrides"); stored with the session.  In ZONE_LOCKED.  Fails with the
 * policy's sentence when the reason is too short or the lock is one no
 * override passes (1.5 mm and longer). */
gboolean engine_override(struct engine *e, const char *reason, GError **error);
/* From a zone state: stops the roller's session and goes to AFTERCARE
 * (remaining zones skipped).  From AFTERCARE: ends the stored session ->
 * FINISHED. */
gboolean engine_finish(struct engine *e, GError **error);

enum engine_state engine_state(const struct engine *e);
/* The zone being treated or refused, 0 outside the zones. */
int engine_current_zone(const struct engine *e);
const struct engine_zone_counts *engine_zone_counts(const struct engine *e, int zone);
/* The policy's verdict when the zone came up (NULL before). */
const struct policy_verdict *engine_zone_verdict(const struct engine *e, int zone);
/* The stored session, 0 before the roller started it. */
int64_t engine_session_id(const struct engine *e);
/* The roller's last status record, NULL before one arrived. */
const struct dp_status *engine_roller_status(const struct engine *e);
const struct sync_stats *engine_sync_stats(const struct engine *e);
/* Connected, synced, and every stored pass acked. */
bool engine_sync_idle(const struct engine *e);

/* Domain errors (GError) of the requests. */
#define ENGINE_ERROR (engine_error_quark())
GQuark engine_error_quark(void);

enum engine_error {
	ENGINE_ERROR_STATE,          /* not possible in this state */
	ENGINE_ERROR_INVALID,        /* a bad argument (index, zone) */
	ENGINE_ERROR_CHECKLIST,      /* not every item answered */
	ENGINE_ERROR_OVERRIDE,       /* reason not typed in full, or lock not overridable */
	ENGINE_ERROR_STORE,          /* the history could not be written */
};
