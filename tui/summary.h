/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where things stand, from the history and the safety policy: per roller,
 * the fitted head's wear and the next date each zone may be treated; and
 * the reminders that are due (SAFETY.md "Aftercare", "The roller head").
 * `dermaroll status` prints it and the home screen draws it.  Reads only:
 * it never moves the latest time seen.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "plan.h"
#include "policy.h"
#include "store.h"
#include "zones.h"

enum summary_next {
	SUMMARY_NEXT_NOW,
	SUMMARY_NEXT_DATE,          /* once the interval ends, next_ms */
	SUMMARY_NEXT_NEW_HEAD,      /* only a new head opens it */
	SUMMARY_NEXT_NEW_HEAD_DATE, /* a new head, and the interval's end */
	SUMMARY_NEXT_NEVER,         /* this head is refused on the zone */
};

struct summary_zone {
	const struct zone_info *zone;
	struct policy_verdict verdict;
	enum summary_next next;
	int64_t next_ms;            /* for the _DATE kinds */
	int64_t last_ms;            /* end of the last pass on it; 0: never */
};

struct summary_roller {
	const struct store_roller *roller; /* in summary.rollers */
	struct store_head head;            /* head.id 0: none recorded */
	struct policy_head_wear wear;      /* when head.id */
	struct summary_zone zones[ZONE_COUNT]; /* in guidance order */
};

enum summary_reminder_kind {
	SUMMARY_REMINDER_HEAD,
	SUMMARY_REMINDER_AFTERCARE,
	SUMMARY_REMINDER_SANITISE,
};

struct summary_reminder {
	enum summary_reminder_kind kind;
	bool urgent;                /* a head that is worn out */
	char *text;                 /* one sentence */
};

struct summary {
	int64_t now_ms;             /* the clock */
	int64_t latest_ms;          /* the latest time seen; 0: none */
	int64_t effective_ms;       /* the later of the two */
	GPtrArray *store_rollers;   /* struct store_roller *, not forgotten */
	GArray *rollers;            /* struct summary_roller, same order */
	GPtrArray *reminders;       /* struct summary_reminder *, in order */
	bool any_head;
};

/* Everything as it is at @now_ms (Unix ms); @plan may be NULL, @tz is for
 * the dates in the reminders. */
struct summary *summary_load(struct store *store, const struct policy *policy,
			     const struct plan *plan, int64_t now_ms,
			     GTimeZone *tz, GError **error);
void summary_free(struct summary *s);

/* The roller whose serial is @serial, or NULL. */
const struct summary_roller *summary_find(const struct summary *s,
					  const char *serial);

/* "now", "never", "new head first", "new head, and <date time>" or the
 * date and time, in @tz. */
char *summary_next_text(const struct summary_zone *z, GTimeZone *tz);
/* The rule that sets the zone's interval, or why none does:
 * "21 days (heads up to 0.5 mm)", "refused: ...". */
char *summary_rule_text(const struct summary_zone *z);
/* "completed", "stopped early", ... */
const char *summary_session_state_word(enum store_session_state state);
/* "interval", "head wear", ...: the limit an override passed. */
const char *summary_override_word(enum store_override_kind kind);
/* "fine", "replace it soon", "worn out, fit a new head". */
const char *summary_wear_word(enum policy_head_state state);
