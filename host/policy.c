/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The safety policy's answers: may this zone be treated now, passes,
 * pressure and head wear, from the table policy-table.c loaded.
 * SAFETY.md is the source of every rule; the table holds every number.
 */
#include <string.h>

#include <glib.h>

#include "plan.h"
#include "policy.h"
#include "policy-private.h"

static const char *const reason_names[POLICY_REASON_COUNT] = {
	[POLICY_OK] = "ok",
	[POLICY_REASON_INVALID_INPUT] = "invalid-input",
	[POLICY_REASON_NEEDLE_CLINIC_ONLY] = "needle-clinic-only",
	[POLICY_REASON_NEEDLE_NOT_FOR_HOME] = "needle-not-for-home",
	[POLICY_REASON_NEEDLE_ZONE_CLASS] = "needle-zone-class",
	[POLICY_REASON_HEAD_WORN] = "head-worn",
	[POLICY_REASON_CHECKLIST] = "checklist",
	[POLICY_REASON_INTERVAL] = "interval",
	[POLICY_REASON_CHECKLIST_MISSING] = "checklist-missing",
};

static const char *const pressure_names[] = {
	[POLICY_PRESSURE_TOO_LIGHT] = "too-light",
	[POLICY_PRESSURE_TARGET] = "target",
	[POLICY_PRESSURE_HIGH] = "high",
	[POLICY_PRESSURE_TOO_HARD] = "too-hard",
};

const char *policy_reason_name(enum policy_reason reason)
{
	if ((unsigned int)reason >= POLICY_REASON_COUNT)
		return NULL;

	return reason_names[reason];
}

/* ---- Formatting for messages ---- */

static const char *const month_names[12] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};

/* 500 -> "0.5", 750 -> "0.75", 1000 -> "1.0", 1234 -> "1.234". */
static void format_mm(unsigned int um, char *buf, size_t size)
{
	unsigned int frac = um % 1000;

	if (frac % 100 == 0)
		g_snprintf(buf, size, "%u.%u", um / 1000, frac / 100);
	else if (frac % 10 == 0)
		g_snprintf(buf, size, "%u.%02u", um / 1000, frac / 10);
	else
		g_snprintf(buf, size, "%u.%03u", um / 1000, frac);
}

static void format_interval(gint64 s, bool in_days, char *buf, size_t size)
{
	gint64 n = in_days ? s / 86400 : s / 3600;
	const char *unit = in_days ? "day" : "hour";

	g_snprintf(buf, size, "%" G_GINT64_FORMAT " %s%s", n, unit,
		   n == 1 ? "" : "s");
}

/* "14 December at 20:00", with the year when it is not @now's year. */
static void format_when(gint64 t, gint64 now, GTimeZone *tz, char *buf,
			size_t size)
{
	g_autoptr(GTimeZone) utc = tz ? NULL : g_time_zone_new_utc();
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) dn = g_date_time_new_from_unix_utc(now);
	g_autoptr(GDateTime) lt = NULL;
	g_autoptr(GDateTime) ln = NULL;
	int year;

	/* Only an interval ending past 9999-12-31 gets here without dates. */
	if (dt)
		lt = g_date_time_to_timezone(dt, tz ? tz : utc);
	if (dn)
		ln = g_date_time_to_timezone(dn, tz ? tz : utc);
	if (!lt || !ln) {
		g_strlcpy(buf, "a date after the year 9999", size);
		return;
	}

	year = g_date_time_get_year(lt);
	if (year != g_date_time_get_year(ln))
		g_snprintf(buf, size, "%d %s %d at %02d:%02d",
			   g_date_time_get_day_of_month(lt),
			   month_names[g_date_time_get_month(lt) - 1], year,
			   g_date_time_get_hour(lt),
			   g_date_time_get_minute(lt));
	else
		g_snprintf(buf, size, "%d %s at %02d:%02d",
			   g_date_time_get_day_of_month(lt),
			   month_names[g_date_time_get_month(lt) - 1],
			   g_date_time_get_hour(lt),
			   g_date_time_get_minute(lt));
}

/* ---- Decisions ---- */

gint64 policy_effective_now(gint64 now, gint64 latest_seen)
{
	return MAX(now, latest_seen);
}

static bool time_valid(gint64 t)
{
	return t >= 0 && t <= POLICY_TIME_MAX;
}

static bool time_valid_or_none(gint64 t)
{
	return t == POLICY_TIME_NONE || time_valid(t);
}

void policy_head_wear(const struct policy *p, unsigned int uses,
		      gint64 fitted, gint64 now, gint64 latest_seen,
		      struct policy_head_wear *out)
{
	gint64 t = policy_effective_now(now, latest_seen);

	memset(out, 0, sizeof(*out));
	out->uses = uses;
	out->days = -1;
	out->refuse_at = POLICY_TIME_NONE;
	out->remind_at_uses = p->remind_at_uses;
	out->refuse_at_uses = p->refuse_at_uses;
	out->refuse_after_days = p->refuse_after_days;
	out->uses_left = uses < p->refuse_at_uses ? p->refuse_at_uses - uses
						  : 0;
	out->worn_by_uses = uses >= p->refuse_at_uses;

	/* An unknown or impossible fitting time leaves only the use count. */
	if (time_valid(fitted) && time_valid(t)) {
		out->refuse_at = fitted + (gint64)p->refuse_after_days * 86400;
		out->days = t > fitted ? (t - fitted) / 86400 : 0;
		out->worn_by_days = t >= out->refuse_at;
	}

	if (out->worn_by_uses || out->worn_by_days)
		out->state = POLICY_HEAD_REFUSE;
	else if (uses >= p->remind_at_uses)
		out->state = POLICY_HEAD_REMIND;
	else
		out->state = POLICY_HEAD_OK;
}

/*
 * SAFETY.md "Needle length and the minimum interval": the interval for
 * @needle_um on @zone, or the needle lock(s) that refuse it.  The home limit
 * comes first and nothing passes it; then a plan rule; then the zone class
 * and the rows, where a head between two rows takes the stricter one.
 */
static guint32 resolve_interval(const struct policy *p,
				const struct zone_info *zone,
				unsigned int needle_um,
				const struct plan *plan,
				struct policy_verdict *out)
{
	const struct class_rule *c = &p->classes[zone->zclass];
	const struct plan_rule *rule;
	const struct row *row = NULL;
	guint32 locks = 0;

	if (needle_um >= p->refuse_from_um)
		return POLICY_LOCK(POLICY_REASON_NEEDLE_CLINIC_ONLY);

	rule = plan ? plan_find_rule(plan, zone->id, needle_um) : NULL;
	if (rule) {
		out->interval_source = POLICY_INTERVAL_PLAN;
		out->interval_s = rule->interval_s;
		out->plan_rule = rule;
		return 0;
	}

	for (unsigned int i = 0; i < p->n_rows && !row; i++)
		if (needle_um <= p->rows[i].up_to_um)
			row = &p->rows[i];

	if (!row)
		locks |= POLICY_LOCK(POLICY_REASON_NEEDLE_NOT_FOR_HOME);
	if (c->has_max && needle_um > c->max_um)
		locks |= POLICY_LOCK(POLICY_REASON_NEEDLE_ZONE_CLASS);
	if (locks)
		return locks;

	if (c->has_interval) {
		out->interval_source = POLICY_INTERVAL_CLASS;
		out->interval_s = c->iv.s;
	} else {
		out->interval_source = POLICY_INTERVAL_ROW;
		out->interval_s = row->iv.s;
		out->row_um = row->up_to_um;
	}

	return 0;
}

/* The checklist locks for @zone; sets @first to the first refusing item. */
static guint32 check_checklist(const struct policy *p,
			       const struct policy_checklist *cl, int zone,
			       int *first)
{
	guint32 locks = 0;

	if (!cl)
		return POLICY_LOCK(POLICY_REASON_CHECKLIST_MISSING);

	for (unsigned int i = 0; i < p->n_checklist; i++) {
		const struct policy_checklist_item *it = &p->checklist[i];
		unsigned int a = cl->answer[i];
		bool refuses;

		if (a != POLICY_ANSWER_NO && a != POLICY_ANSWER_YES) {
			locks |= POLICY_LOCK(POLICY_REASON_CHECKLIST_MISSING);
			continue;
		}

		refuses = (a == POLICY_ANSWER_YES) == it->refuse_if_yes;
		/* "In the area": only the zones named; none named means all. */
		if (refuses && it->scope == POLICY_SCOPE_ZONE &&
		    cl->zones[i] != 0 &&
		    !(cl->zones[i] & POLICY_ZONE_BIT(zone)))
			refuses = false;

		if (refuses) {
			locks |= POLICY_LOCK(POLICY_REASON_CHECKLIST);
			if (*first < 0)
				*first = (int)i;
		}
	}

	return locks;
}

static void interval_explanation(const struct policy *p,
				 const struct zone_info *zone,
				 unsigned int needle_um,
				 const struct policy_verdict *v, char *buf,
				 size_t size)
{
	char mm[16], row_mm[16], iv[32];
	bool in_days = false;

	format_mm(needle_um, mm, sizeof(mm));

	switch (v->interval_source) {
	case POLICY_INTERVAL_PLAN:
		format_interval(v->interval_s, v->plan_rule->in_days, iv,
				sizeof(iv));
		g_snprintf(buf, size,
			   "your dermatologist's plan sets %s between sessions for %s mm heads",
			   iv, mm);
		return;
	case POLICY_INTERVAL_CLASS:
		in_days = p->classes[zone->zclass].iv.in_days;
		format_interval(v->interval_s, in_days, iv, sizeof(iv));
		g_snprintf(buf, size,
			   "%s mm heads need %s between sessions on the %s",
			   mm, iv, zone_class_name(zone->zclass));
		return;
	case POLICY_INTERVAL_ROW:
		for (unsigned int i = 0; i < p->n_rows; i++)
			if (p->rows[i].up_to_um == v->row_um)
				in_days = p->rows[i].iv.in_days;
		format_interval(v->interval_s, in_days, iv, sizeof(iv));
		if (needle_um == v->row_um) {
			g_snprintf(buf, size,
				   "%s mm heads need %s between sessions", mm,
				   iv);
		} else {
			format_mm(v->row_um, row_mm, sizeof(row_mm));
			g_snprintf(buf, size,
				   "%s mm heads follow the %s mm limit of %s between sessions",
				   mm, row_mm, iv);
		}
		return;
	case POLICY_INTERVAL_NONE:
		break;
	}

	buf[0] = '\0';
}

static void zone_message(const struct policy *p, const struct zone_info *zone,
			 const struct policy_query *q,
			 struct policy_verdict *v)
{
	char mm[16], lim[16], when[64], why[256];
	const struct policy_head_wear *h = &v->head;

	format_mm(q->needle_um, mm, sizeof(mm));

	if (v->override_used) {
		g_snprintf(v->message, sizeof(v->message),
			   "Your %s may be treated now under your override; the reason is kept with the session and flagged in every export.",
			   zone->phrase);
		return;
	}

	switch (v->reason) {
	case POLICY_OK:
		if (h->state == POLICY_HEAD_REMIND)
			g_snprintf(v->message, sizeof(v->message),
				   "Your %s can be treated now; this head has been used for %u sessions and has %u left before it must be replaced.",
				   zone->phrase, h->uses, h->uses_left);
		else
			g_snprintf(v->message, sizeof(v->message),
				   "Your %s can be treated now.",
				   zone->phrase);
		return;
	case POLICY_REASON_INVALID_INPUT:
		/* Set where the input was found invalid. */
		return;
	case POLICY_REASON_NEEDLE_CLINIC_ONLY:
		format_mm(p->refuse_from_um, lim, sizeof(lim));
		g_snprintf(v->message, sizeof(v->message),
			   "This %s mm head is for clinics only: needles of %s mm or longer are never used at home, even with an override.",
			   mm, lim);
		return;
	case POLICY_REASON_NEEDLE_NOT_FOR_HOME:
		format_mm(p->rows[p->n_rows - 1].up_to_um, lim, sizeof(lim));
		g_snprintf(v->message, sizeof(v->message),
			   "This %s mm head is longer than %s mm, the longest head for home use, so only a dermatologist's plan can allow it.",
			   mm, lim);
		return;
	case POLICY_REASON_NEEDLE_ZONE_CLASS:
		format_mm(p->classes[zone->zclass].max_um, lim, sizeof(lim));
		g_snprintf(v->message, sizeof(v->message),
			   "Your %s may only be treated with heads up to %s mm, and this head is %s mm, so only a dermatologist's plan can allow it.",
			   zone->phrase, lim, mm);
		return;
	case POLICY_REASON_HEAD_WORN:
		if (h->worn_by_uses)
			g_snprintf(v->message, sizeof(v->message),
				   "This head has been used for %u sessions, the most allowed is %u: fit a new head before treating your %s.",
				   h->uses, h->refuse_at_uses, zone->phrase);
		else
			g_snprintf(v->message, sizeof(v->message),
				   "This head was fitted %" G_GINT64_FORMAT " days ago, the most allowed is %u: fit a new head before treating your %s.",
				   h->days, h->refuse_after_days, zone->phrase);
		return;
	case POLICY_REASON_CHECKLIST: {
		const struct policy_checklist_item *it =
			&p->checklist[v->checklist_item];

		g_snprintf(v->message, sizeof(v->message),
			   "Your %s cannot be treated now because of %s; %s.",
			   zone->phrase, it->reason, it->advice);
		return;
	}
	case POLICY_REASON_INTERVAL:
		format_when(v->interval_ends, v->now, q->tz, when,
			    sizeof(when));
		interval_explanation(p, zone, q->needle_um, v, why,
				     sizeof(why));
		g_snprintf(v->message, sizeof(v->message),
			   "Your %s can be treated again on %s (%s).",
			   zone->phrase, when, why);
		return;
	case POLICY_REASON_CHECKLIST_MISSING:
		g_snprintf(v->message, sizeof(v->message),
			   q->checklist ?
			   "Answer every question of the checklist before treating your %s." :
			   "Answer the checklist before treating your %s.",
			   zone->phrase);
		return;
	}
}

static void refuse_invalid(struct policy_verdict *v, const char *message)
{
	v->allowed = false;
	v->reason = POLICY_REASON_INVALID_INPUT;
	v->locks = POLICY_LOCK(POLICY_REASON_INVALID_INPUT);
	g_strlcpy(v->message, message, sizeof(v->message));
}

void policy_check_zone(const struct policy *p, const struct policy_query *q,
		       struct policy_verdict *v)
{
	const struct zone_info *zone = zone_get(q->zone);
	guint32 locks;
	guint32 waiting = POLICY_LOCK(POLICY_REASON_INTERVAL) |
			  POLICY_LOCK(POLICY_REASON_CHECKLIST_MISSING);

	memset(v, 0, sizeof(*v));
	v->now = POLICY_TIME_NONE;
	v->unlocks_at = POLICY_TIME_NONE;
	v->interval_ends = POLICY_TIME_NONE;
	v->checklist_item = -1;
	v->head.days = -1;
	v->head.refuse_at = POLICY_TIME_NONE;

	if (!zone) {
		char msg[96];

		g_snprintf(msg, sizeof(msg),
			   "Zone %d is not a zone dermaroll knows.", q->zone);
		refuse_invalid(v, msg);
		return;
	}
	if (q->needle_um == 0) {
		refuse_invalid(v, "The head did not report its needle length, so dermaroll cannot check the limits.");
		return;
	}
	if (!time_valid(q->now) || !time_valid_or_none(q->latest_seen) ||
	    !time_valid_or_none(q->last_session) ||
	    !time_valid_or_none(q->head_fitted)) {
		refuse_invalid(v, "A clock or a stored time is impossible, so dermaroll cannot check the limits.");
		return;
	}

	v->now = policy_effective_now(q->now, q->latest_seen);

	locks = resolve_interval(p, zone, q->needle_um, q->plan, v);
	if (!locks && q->last_session != POLICY_TIME_NONE) {
		v->interval_ends = q->last_session + v->interval_s;
		if (v->now < v->interval_ends)
			locks |= POLICY_LOCK(POLICY_REASON_INTERVAL);
	}

	policy_head_wear(p, q->head_uses, q->head_fitted, q->now,
			 q->latest_seen, &v->head);
	if (v->head.state == POLICY_HEAD_REFUSE)
		locks |= POLICY_LOCK(POLICY_REASON_HEAD_WORN);

	locks |= check_checklist(p, q->checklist, zone->id,
				 &v->checklist_item);

	v->locks = locks;
	v->reason = locks ? (enum policy_reason)g_bit_nth_lsf(locks, -1)
			  : POLICY_OK;
	v->override_possible = locks && !(locks & ~POLICY_LOCKS_OVERRIDABLE);

	if (!locks) {
		v->allowed = true;
	} else if (q->override_reason) {
		if (!policy_check_override_reason(p, q->override_reason, NULL))
			v->override_rejected = true;
		else if (v->override_possible)
			v->allowed = v->override_used = true;
	}

	/* Opens by itself only if the interval is all that holds it, and the
	 * head will not have worn out by then. */
	if ((locks & POLICY_LOCK(POLICY_REASON_INTERVAL)) &&
	    !(locks & ~waiting) &&
	    (v->head.refuse_at == POLICY_TIME_NONE ||
	     v->head.refuse_at > v->interval_ends))
		v->unlocks_at = v->interval_ends;

	zone_message(p, zone, q, v);
}

bool policy_check_override_reason(const struct policy *p, const char *reason,
				  GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GHashTable) words = NULL;
	GString *word;
	glong nchars;

	if (!reason || !g_utf8_validate(reason, -1, NULL)) {
		g_set_error_literal(error, POLICY_ERROR, POLICY_ERROR_VALUE,
				    "An override needs a reason, typed as text.");
		return false;
	}

	text = g_strstrip(g_strdup(reason));
	for (const char *c = text; *c; c = g_utf8_next_char(c)) {
		if (g_unichar_iscntrl(g_utf8_get_char(c))) {
			g_set_error_literal(error, POLICY_ERROR,
					    POLICY_ERROR_VALUE,
					    "An override reason must be plain text on one line.");
			return false;
		}
	}

	nchars = g_utf8_strlen(text, -1);
	if (nchars > OVERRIDE_MAX_CHARS) {
		g_set_error(error, POLICY_ERROR, POLICY_ERROR_VALUE,
			    "An override reason may have at most %d characters.",
			    OVERRIDE_MAX_CHARS);
		return false;
	}

	words = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	word = g_string_new(NULL);
	for (const char *c = text;; c = g_utf8_next_char(c)) {
		gunichar ch = g_utf8_get_char(c);

		if (*c && g_unichar_isalnum(ch)) {
			g_string_append_unichar(word, g_unichar_tolower(ch));
			continue;
		}
		if (g_utf8_strlen(word->str, -1) >= 2)
			g_hash_table_add(words, g_strdup(word->str));
		g_string_truncate(word, 0);
		if (!*c)
			break;
	}
	g_string_free(word, TRUE);

	if (nchars < (glong)p->override_min_chars ||
	    g_hash_table_size(words) < p->override_min_words) {
		g_set_error(error, POLICY_ERROR, POLICY_ERROR_VALUE,
			    "An override needs its reason typed in full: at least %u characters and %u different words.",
			    p->override_min_chars, p->override_min_words);
		return false;
	}

	return true;
}

/* ---- Passes and pressure ---- */

void policy_get_passes(const struct policy *p, int zone,
		       struct policy_passes *out)
{
	*out = p->passes;
}

void policy_check_pass(const struct policy *p, int zone, enum zone_dir dir,
		       unsigned int dir_count, unsigned int zone_count,
		       struct policy_pass_verdict *out)
{
	const struct zone_info *z = zone_get(zone);
	const char *where = z ? z->phrase : "this zone";
	const char *dname = zone_dir_name(dir);
	const struct policy_passes *ps = &p->passes;

	memset(out, 0, sizeof(*out));
	if (!dname)
		dname = "unknown";

	/* SAFETY.md "Passes": beyond the maximum a pass is counted, recorded
	 * and warned about loudly, never dropped. */
	if (zone_count > ps->max_per_zone) {
		out->state = POLICY_PASS_OVER_ZONE;
		out->warn = true;
		g_snprintf(out->message, sizeof(out->message),
			   "Pass %u on your %s is beyond the maximum of %u per zone: it is recorded, but stop rolling this zone now.",
			   zone_count, where, ps->max_per_zone);
	} else if (dir_count > ps->max_per_direction) {
		out->state = POLICY_PASS_OVER_DIRECTION;
		out->warn = true;
		g_snprintf(out->message, sizeof(out->message),
			   "Pass %u in the %s direction on your %s is beyond the maximum of %u per direction: it is recorded, but roll no more this way.",
			   dir_count, dname, where, ps->max_per_direction);
	} else if (dir_count >= ps->target_per_direction) {
		out->state = POLICY_PASS_TARGET;
		g_snprintf(out->message, sizeof(out->message),
			   dir_count == ps->max_per_direction ?
			   "Your %s has %u %s passes: the target is reached and this is the maximum." :
			   "Your %s has %u %s passes: the target is reached.",
			   where, dir_count, dname);
	} else {
		out->state = POLICY_PASS_BELOW_TARGET;
		g_snprintf(out->message, sizeof(out->message),
			   "Your %s has %u of %u %s passes.", where, dir_count,
			   ps->target_per_direction, dname);
	}
}

void policy_get_pressure_bands(const struct policy *p,
			       struct policy_pressure_bands *out)
{
	*out = p->pressure;
}

enum policy_pressure policy_classify_force(const struct policy *p,
					   unsigned int force_cn)
{
	const struct policy_pressure_bands *b = &p->pressure;

	/* SAFETY.md "Pressure": too light under 1.0 N, target 1.0-4.0 N,
	 * warn over 5.0 N. */
	if (force_cn < b->too_light_below_cn)
		return POLICY_PRESSURE_TOO_LIGHT;
	if (force_cn <= b->target_max_cn)
		return POLICY_PRESSURE_TARGET;
	if (force_cn <= b->warn_above_cn)
		return POLICY_PRESSURE_HIGH;

	return POLICY_PRESSURE_TOO_HARD;
}

const char *policy_pressure_name(enum policy_pressure pressure)
{
	if ((unsigned int)pressure >= G_N_ELEMENTS(pressure_names))
		return NULL;

	return pressure_names[pressure];
}
