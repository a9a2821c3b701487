/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The safety policy: SAFETY.md as data.
 *
 * Every number comes from the versioned table data/safety-limits.conf
 * (installed as $datadir/dermaroll/safety-limits.conf), never from
 * constants here.  The policy answers "may this zone be treated now with
 * this head, and if not, why and until when", classifies passes and
 * pressure, and tracks head wear.
 *
 * Time: every time is a gint64 count of seconds since the Unix epoch (UTC),
 * passed in by the caller; the policy never reads the system clock.  Each
 * function that needs "now" takes both the wall-clock time and the latest
 * time ever seen (which the caller stores) and uses the later of the two,
 * so a clock set back never opens a lock early (SAFETY.md "Needle length
 * and the minimum interval").  Fold the roller's clock into latest_seen to
 * use it as the second witness.
 *
 * The policy never prints.  Messages are one English sentence each, for the
 * user, returned in the verdicts.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "zones.h"

struct policy;
struct plan;
struct plan_rule;

/* "No such time": no previous session, head fitting time unknown. */
#define POLICY_TIME_NONE G_MININT64
/* Times outside 0..POLICY_TIME_MAX (9999-12-31T23:59:59Z) are invalid. */
#define POLICY_TIME_MAX G_GINT64_CONSTANT(253402300799)

#define POLICY_ERROR (policy_error_quark())
GQuark policy_error_quark(void);

/* Errors from policy_load() and plan_load().  Every message names the file
 * and, when it applies, the line, the [group] and the key. */
enum policy_error {
	POLICY_ERROR_READ,	/* the file cannot be read */
	POLICY_ERROR_SYNTAX,	/* not a well-formed key file */
	POLICY_ERROR_FORMAT,	/* a format version this build does not read */
	POLICY_ERROR_MISSING,	/* a required group or key is absent */
	POLICY_ERROR_VALUE,	/* a value is out of range or inconsistent */
	POLICY_ERROR_UNKNOWN,	/* a group or key the format does not have */
	POLICY_ERROR_FORBIDDEN,	/* a plan rule for needles never allowed at home */
};

/* The table format this build reads ([table] format). */
#define POLICY_TABLE_FORMAT 1
#define POLICY_TABLE_FILE "safety-limits.conf"
/* The environment variable that overrides the installed data directory. */
#define POLICY_DATA_DIR_ENV "DERMAROLL_DATA_DIR"

/* ---- Loading the table ---- */

/* $DERMAROLL_DATA_DIR/safety-limits.conf when that variable is set and not
 * empty, else the installed $datadir/dermaroll/safety-limits.conf, else,
 * when nothing is installed, the source tree's data/safety-limits.conf. */
char *policy_default_path(void);

struct policy *policy_load(const char *path, GError **error);
/* policy_load(policy_default_path()). */
struct policy *policy_load_default(GError **error);
void policy_free(struct policy *policy);

const char *policy_path(const struct policy *policy);
/* The table's own version ([table] version) and date (YYYY-MM-DD), for
 * exports and `dermaroll status`. */
unsigned int policy_table_version(const struct policy *policy);
const char *policy_table_date(const struct policy *policy);

/* Heads at least this long (µm) are refused at home, whatever the override
 * or plan (SAFETY.md: 1.5 mm and longer, clinic only). */
unsigned int policy_refuse_from_um(const struct policy *policy);

/* ---- May this zone be treated now? ---- */

/*
 * Why a zone may not be treated.  The order is the order of precedence: a
 * verdict's reason is the first of its locks.
 */
enum policy_reason {
	POLICY_OK = 0,
	POLICY_REASON_INVALID_INPUT,	/* unknown zone, no needle length, impossible time */
	POLICY_REASON_NEEDLE_CLINIC_ONLY, /* >= refuse_from (1.5 mm): never at home */
	POLICY_REASON_NEEDLE_NOT_FOR_HOME, /* longer than the longest row (1.0 mm) but
					    * below 1.5 mm: takes the stricter,
					    * clinic-only row; a plan may allow it */
	POLICY_REASON_NEEDLE_ZONE_CLASS, /* too long for the zone class (scalp > 0.5 mm);
					  * a plan may allow it */
	POLICY_REASON_HEAD_WORN,	/* too many uses, or fitted too long ago */
	POLICY_REASON_CHECKLIST,	/* a checklist answer stops this zone */
	POLICY_REASON_INTERVAL,		/* too soon after the last session on the zone */
	POLICY_REASON_CHECKLIST_MISSING, /* the checklist is not (fully) answered */
};
#define POLICY_REASON_COUNT (POLICY_REASON_CHECKLIST_MISSING + 1)
#define POLICY_LOCK(reason) (1u << (reason))
/* The locks an override with a reason typed in full may pass (SAFETY.md
 * "Overrides": interval, head wear, checklist; passes only ever warn). */
#define POLICY_LOCKS_OVERRIDABLE (POLICY_LOCK(POLICY_REASON_HEAD_WORN) | \
				  POLICY_LOCK(POLICY_REASON_CHECKLIST) | \
				  POLICY_LOCK(POLICY_REASON_INTERVAL))

/* A stable machine name for @reason ("interval", "head-worn", ...), for
 * the store and exports; NULL when unknown. */
const char *policy_reason_name(enum policy_reason reason);

/* ---- The checklist (SAFETY.md "Before each session") ---- */

#define POLICY_CHECKLIST_MAX 16

enum policy_checklist_scope {
	POLICY_SCOPE_ZONE,	/* "in the area": only the zones concerned */
	POLICY_SCOPE_ALL,	/* about the person or the head: every zone */
};

struct policy_checklist_item {
	const char *id;		/* stable: "sunburn" */
	const char *question;	/* a yes/no question to ask */
	const char *reason;	/* mid-sentence: "sunburn in the area" */
	const char *advice;	/* mid-sentence: "please ask a dermatologist" */
	enum policy_checklist_scope scope;
	bool refuse_if_yes;	/* false: the answer "no" refuses (e.g. sanitised) */
};

unsigned int policy_checklist_count(const struct policy *policy);
const struct policy_checklist_item *
policy_checklist_item(const struct policy *policy, unsigned int index);
/* The index of item @id, or -1. */
int policy_checklist_find(const struct policy *policy, const char *id);
/* Information shown with the checklist (risk factors, reported harms). */
const char *policy_checklist_information(const struct policy *policy);

enum policy_answer {
	POLICY_ANSWER_UNSET = 0,
	POLICY_ANSWER_NO,
	POLICY_ANSWER_YES,
};

#define POLICY_ZONE_BIT(zone) (1u << (zone))

/* The user's answers, indexed like policy_checklist_item().  Zero it, then
 * answer every item.  For a refusing answer to a POLICY_SCOPE_ZONE item,
 * zones[i] holds the POLICY_ZONE_BIT()s of the zones concerned; 0 means
 * every zone. */
struct policy_checklist {
	guint8 answer[POLICY_CHECKLIST_MAX];	/* enum policy_answer */
	guint32 zones[POLICY_CHECKLIST_MAX];
};

/* ---- Head wear (SAFETY.md "The roller head") ---- */

enum policy_head_state {
	POLICY_HEAD_OK,
	POLICY_HEAD_REMIND,	/* uses >= remind_at_uses: a new head is due soon */
	POLICY_HEAD_REFUSE,	/* uses >= refuse_at_uses, or days >= refuse_after_days */
};

struct policy_head_wear {
	enum policy_head_state state;
	unsigned int uses;		/* sessions done with this head */
	gint64 days;			/* whole days since fitted; -1 if unknown */
	unsigned int uses_left;		/* sessions left before refusal */
	gint64 refuse_at;		/* fitted + refuse_after_days, or POLICY_TIME_NONE */
	bool worn_by_uses;
	bool worn_by_days;
	unsigned int remind_at_uses;	/* the table's numbers, for messages */
	unsigned int refuse_at_uses;
	unsigned int refuse_after_days;
};

/*
 * @uses is the head's use count as the roller reports it: sessions already
 * done with the head (the roller adds one at each session start, PROTOCOL
 * "Sessions").  @fitted is when the head was fitted, or POLICY_TIME_NONE
 * when unknown (then only the use count counts).
 */
void policy_head_wear(const struct policy *policy, unsigned int uses,
		      gint64 fitted, gint64 now, gint64 latest_seen,
		      struct policy_head_wear *out);

/* ---- The zone verdict ---- */

struct policy_query {
	int zone;			/* enum dp_zone, 1..ZONE_COUNT */
	unsigned int needle_um;		/* head's needle length */
	unsigned int head_uses;		/* see policy_head_wear() */
	gint64 head_fitted;		/* or POLICY_TIME_NONE */
	gint64 last_session;		/* start of the last session on this zone, or POLICY_TIME_NONE */
	gint64 now;			/* wall clock */
	gint64 latest_seen;		/* latest wall-clock time ever seen, or POLICY_TIME_NONE */
	const struct policy_checklist *checklist; /* NULL: not answered yet */
	const char *override_reason;	/* NULL: no override asked for */
	const struct plan *plan;	/* a dermatologist's plan, or NULL */
	GTimeZone *tz;			/* for dates in the message; NULL: UTC */
};

enum policy_interval_source {
	POLICY_INTERVAL_NONE,		/* the needle is refused on this zone */
	POLICY_INTERVAL_ROW,		/* the needle-length row (stricter row between two) */
	POLICY_INTERVAL_CLASS,		/* the zone class rule (scalp) */
	POLICY_INTERVAL_PLAN,		/* the dermatologist's plan */
};

#define POLICY_MESSAGE_MAX 512

struct policy_verdict {
	bool allowed;
	/* POLICY_OK when allowed without an override; otherwise the first
	 * lock (when allowed under an override: the lock it passed). */
	enum policy_reason reason;
	guint32 locks;			/* POLICY_LOCK() of every lock that applies */
	gint64 now;			/* the effective now used; store it as latest_seen */

	/* When the zone opens by itself: the end of the interval if that is
	 * all that holds it (an unanswered checklist aside) and the head will
	 * still be usable then; POLICY_TIME_NONE otherwise. */
	gint64 unlocks_at;
	/* End of the interval since the last session on the zone, whatever
	 * else holds it; POLICY_TIME_NONE when there was no session or the
	 * needle is refused.  For "next allowed date" displays. */
	gint64 interval_ends;
	gint64 interval_s;		/* minimum interval applied; 0 if refused */
	enum policy_interval_source interval_source;
	unsigned int row_um;		/* for POLICY_INTERVAL_ROW: the row taken */
	const struct plan_rule *plan_rule; /* for POLICY_INTERVAL_PLAN; owned
					    * by the query's plan */

	struct policy_head_wear head;
	int checklist_item;		/* for POLICY_REASON_CHECKLIST: the item, else -1 */

	bool override_possible;		/* every lock is one an override may pass */
	bool override_used;		/* allowed because of the override: flag it in exports */
	bool override_rejected;		/* a reason was given but is not typed in full */

	char message[POLICY_MESSAGE_MAX]; /* one sentence, UTF-8 */
};

/* max(@now, @latest_seen): the clock rollback rule. */
gint64 policy_effective_now(gint64 now, gint64 latest_seen);

/* Fills @out for @query.  Never fails: bad input gives a refusing verdict
 * with POLICY_REASON_INVALID_INPUT. */
void policy_check_zone(const struct policy *policy,
		       const struct policy_query *query,
		       struct policy_verdict *out);

/*
 * An override reason is "typed in full" when, with surrounding whitespace
 * removed, it is valid UTF-8 without control characters, has at least
 * [override] min_chars characters and at most 500, and holds at least
 * [override] min_words different words (a word: two or more letters or
 * digits in a row, compared without case).  Defaults: 15 characters and 3
 * words, so "ok", "   " or "yes yes yes" never pass.  On failure sets
 * @error (POLICY_ERROR_VALUE) to a sentence for the user.
 */
bool policy_check_override_reason(const struct policy *policy,
				  const char *reason, GError **error);

/* ---- Passes (SAFETY.md "Passes") ---- */

struct policy_passes {
	unsigned int target_per_direction;
	unsigned int max_per_direction;
	unsigned int max_per_zone;
};

/* Table format 1 has one set of pass limits for every zone; @zone is
 * there so that a later format can differ per zone class. */
void policy_get_passes(const struct policy *policy, int zone,
		       struct policy_passes *out);

enum policy_pass_state {
	POLICY_PASS_BELOW_TARGET,	/* keep rolling this direction */
	POLICY_PASS_TARGET,		/* target reached, within the maximum */
	POLICY_PASS_OVER_DIRECTION,	/* beyond the maximum per direction */
	POLICY_PASS_OVER_ZONE,		/* beyond the maximum per zone */
};

struct policy_pass_verdict {
	enum policy_pass_state state;
	/* A pass beyond a maximum is still counted and recorded, never
	 * dropped; the verdict only says to warn, loudly. */
	bool warn;
	char message[POLICY_MESSAGE_MAX];
};

/* @dir_count and @zone_count include the pass being judged. */
void policy_check_pass(const struct policy *policy, int zone,
		       enum zone_dir dir, unsigned int dir_count,
		       unsigned int zone_count,
		       struct policy_pass_verdict *out);

/* ---- Pressure (SAFETY.md "Pressure": product defaults, not published) ---- */

struct policy_pressure_bands {
	unsigned int too_light_below_cn; /* below: too light (1.0 N) */
	unsigned int target_max_cn;	 /* too_light_below..target_max: target (4.0 N) */
	unsigned int warn_above_cn;	 /* above: too hard (5.0 N) */
};

enum policy_pressure {
	POLICY_PRESSURE_TOO_LIGHT,
	POLICY_PRESSURE_TARGET,
	POLICY_PRESSURE_HIGH,		/* above target, not yet over the warning band */
	POLICY_PRESSURE_TOO_HARD,	/* over the warning band: warn */
};

void policy_get_pressure_bands(const struct policy *policy,
			       struct policy_pressure_bands *out);
enum policy_pressure policy_classify_force(const struct policy *policy,
					   unsigned int force_cn);
/* "too-light", "target", "high", "too-hard"; NULL when unknown. */
const char *policy_pressure_name(enum policy_pressure pressure);

/* ---- Aftercare (SAFETY.md "Aftercare") ---- */

struct policy_aftercare_item {
	const char *id;
	const char *text;	/* one sentence to show */
	unsigned int hours;	/* how long the reminder stays; 0 = shown once */
};

unsigned int policy_aftercare_count(const struct policy *policy);
const struct policy_aftercare_item *
policy_aftercare_item(const struct policy *policy, unsigned int index);
