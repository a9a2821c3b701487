/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where things stand (summary.h): head wear, the next date per zone, and
 * the reminders that are due.
 */
#include <string.h>

#include "cmd-common.h"
#include "summary.h"

static gint64 to_s(int64_t ms)
{
	return ms / 1000;
}

/* A stored end time in seconds, rounded up: never opens a lock early. */
static gint64 to_s_up(int64_t ms)
{
	return ms / 1000 + (ms % 1000 ? 1 : 0);
}

static void reminder_free(gpointer data)
{
	struct summary_reminder *r = data;

	g_free(r->text);
	g_free(r);
}

static void add_reminder(struct summary *s, enum summary_reminder_kind kind,
			 bool urgent, char *text)
{
	struct summary_reminder *r = g_new0(struct summary_reminder, 1);

	r->kind = kind;
	r->urgent = urgent;
	r->text = text;
	g_ptr_array_add(s->reminders, r);
}

static void clear_roller(gpointer data)
{
	store_head_clear(&((struct summary_roller *)data)->head);
}

void summary_free(struct summary *s)
{
	if (!s)
		return;
	if (s->rollers)
		g_array_unref(s->rollers);
	if (s->store_rollers)
		g_ptr_array_unref(s->store_rollers);
	g_ptr_array_unref(s->reminders);
	g_free(s);
}

static enum summary_next next_kind(const struct policy_verdict *v)
{
	bool interval = v->locks & POLICY_LOCK(POLICY_REASON_INTERVAL);

	if (v->locks & (POLICY_LOCK(POLICY_REASON_NEEDLE_CLINIC_ONLY) |
			POLICY_LOCK(POLICY_REASON_NEEDLE_NOT_FOR_HOME) |
			POLICY_LOCK(POLICY_REASON_NEEDLE_ZONE_CLASS) |
			POLICY_LOCK(POLICY_REASON_INVALID_INPUT)))
		return SUMMARY_NEXT_NEVER;
	if (v->locks & POLICY_LOCK(POLICY_REASON_HEAD_WORN))
		return interval ? SUMMARY_NEXT_NEW_HEAD_DATE : SUMMARY_NEXT_NEW_HEAD;
	return interval ? SUMMARY_NEXT_DATE : SUMMARY_NEXT_NOW;
}

static void head_reminder(struct summary *s, const struct store_roller *roller,
			  const struct policy_head_wear *w)
{
	g_autofree char *label = cmd_roller_label(roller);

	if (w->state == POLICY_HEAD_REMIND)
		add_reminder(s, SUMMARY_REMINDER_HEAD, false,
			     g_strdup_printf("%s: the head has been used for %u sessions; replace it after %u more.",
					     label, w->uses, w->uses_left));
	else if (w->state == POLICY_HEAD_REFUSE && w->worn_by_uses)
		add_reminder(s, SUMMARY_REMINDER_HEAD, true,
			     g_strdup_printf("%s: the head has been used for %u sessions, the most allowed is %u; fit a new head before the next session.",
					     label, w->uses, w->refuse_at_uses));
	else if (w->state == POLICY_HEAD_REFUSE)
		add_reminder(s, SUMMARY_REMINDER_HEAD, true,
			     g_strdup_printf("%s: the head was fitted %" G_GINT64_FORMAT " days ago, the most allowed is %u; fit a new head before the next session.",
					     label, w->days, w->refuse_after_days));
}

static void load_roller(struct summary *s, const struct policy *policy,
			const struct plan *plan, GTimeZone *tz,
			const int64_t last_ms[ZONE_COUNT + 1],
			struct summary_roller *sr)
{
	gint64 fitted = sr->head.fitted_ms > 0 ? to_s(sr->head.fitted_ms) : POLICY_TIME_NONE;
	gint64 latest = s->latest_ms ? to_s(s->latest_ms) : POLICY_TIME_NONE;

	policy_head_wear(policy, MAX(sr->head.uses_reported, sr->head.sessions),
			 fitted, to_s(s->now_ms), latest, &sr->wear);
	for (unsigned int i = 0; i < ZONE_COUNT; i++) {
		struct summary_zone *z = &sr->zones[i];
		struct policy_query q = {
			.needle_um = sr->head.needle_um,
			.head_uses = sr->wear.uses,
			.head_fitted = fitted,
			.now = to_s(s->now_ms),
			.latest_seen = latest,
			.plan = plan,
			.tz = tz,
		};

		z->zone = zone_by_order(i);
		q.zone = z->zone->id;
		/* The end of the last pass, not the session's start: the
		 * stricter of the two. */
		z->last_ms = last_ms[z->zone->id];
		q.last_session = z->last_ms ? to_s_up(z->last_ms) : POLICY_TIME_NONE;
		policy_check_zone(policy, &q, &z->verdict);
		z->next = next_kind(&z->verdict);
		z->next_ms = z->verdict.interval_ends != POLICY_TIME_NONE ?
			z->verdict.interval_ends * 1000 : 0;
	}
}

/* SAFETY.md "Aftercare": each reminder with hours stays that long after
 * the last pass on any zone. */
static void aftercare_reminders(struct summary *s, const struct policy *policy,
				GTimeZone *tz, int64_t last_ms)
{
	if (!last_ms)
		return;
	for (unsigned int i = 0; i < policy_aftercare_count(policy); i++) {
		const struct policy_aftercare_item *it = policy_aftercare_item(policy, i);
		int64_t until = last_ms + (int64_t)it->hours * 3600 * 1000;
		g_autofree char *text = NULL;
		g_autofree char *when = NULL;
		size_t n;

		if (!it->hours || s->effective_ms >= until)
			continue;
		text = g_strdup(it->text);
		n = strlen(text);
		if (n && text[n - 1] == '.')
			text[n - 1] = '\0';
		when = cmd_format_date_time(until, tz);
		add_reminder(s, SUMMARY_REMINDER_AFTERCARE, false,
			     g_strdup_printf("%s (until %s).", text, when));
	}
}

static void sanitise_reminder(struct summary *s, const struct policy *policy)
{
	int i = policy_checklist_find(policy, "sanitised");

	if (i < 0 || !s->any_head)
		return;
	add_reminder(s, SUMMARY_REMINDER_SANITISE, false,
		     g_strdup_printf("Sanitise the head before the next session: %s.",
				     policy_checklist_item(policy, (unsigned int)i)->advice));
}

struct summary *summary_load(struct store *store, const struct policy *policy,
			     const struct plan *plan, int64_t now_ms,
			     GTimeZone *tz, GError **error)
{
	struct summary *s = g_new0(struct summary, 1);
	int64_t last_ms[ZONE_COUNT + 1] = { 0 };
	int64_t last_any = 0;

	s->now_ms = now_ms;
	s->reminders = g_ptr_array_new_with_free_func(reminder_free);
	if (!store_time_seen(store, &s->latest_ms, error))
		goto fail;
	s->effective_ms = MAX(s->now_ms, s->latest_ms);
	s->store_rollers = store_rollers(store, false, error);
	if (!s->store_rollers)
		goto fail;
	for (unsigned int z = 1; z <= ZONE_COUNT; z++) {
		struct store_zone_last at;

		if (!store_zone_last_treated(store, (uint8_t)z, 0, &at, error))
			goto fail;
		last_ms[z] = at.treated_ms;
		last_any = MAX(last_any, at.treated_ms);
	}

	s->rollers = g_array_sized_new(FALSE, TRUE, sizeof(struct summary_roller),
				       s->store_rollers->len);
	g_array_set_clear_func(s->rollers, clear_roller);
	for (guint i = 0; i < s->store_rollers->len; i++) {
		struct summary_roller sr = { .roller = s->store_rollers->pdata[i] };

		if (!store_head_current(store, sr.roller->id, &sr.head, error))
			goto fail;
		if (sr.head.id) {
			s->any_head = true;
			load_roller(s, policy, plan, tz, last_ms, &sr);
			head_reminder(s, sr.roller, &sr.wear);
		}
		g_array_append_val(s->rollers, sr);
	}
	aftercare_reminders(s, policy, tz, last_any);
	sanitise_reminder(s, policy);
	return s;

fail:
	summary_free(s);
	return NULL;
}

const struct summary_roller *summary_find(const struct summary *s, const char *serial)
{
	for (guint i = 0; serial && i < s->rollers->len; i++) {
		const struct summary_roller *sr =
			&g_array_index(s->rollers, struct summary_roller, i);

		if (strcmp(sr->roller->serial, serial) == 0)
			return sr;
	}
	return NULL;
}

char *summary_next_text(const struct summary_zone *z, GTimeZone *tz)
{
	g_autofree char *when = NULL;

	switch (z->next) {
	case SUMMARY_NEXT_NOW:
		return g_strdup("now");
	case SUMMARY_NEXT_NEVER:
		return g_strdup("never");
	case SUMMARY_NEXT_NEW_HEAD:
		return g_strdup("new head first");
	case SUMMARY_NEXT_NEW_HEAD_DATE:
		when = cmd_format_date_time(z->next_ms, tz);
		return g_strdup_printf("new head, and %s", when);
	case SUMMARY_NEXT_DATE:
		break;
	}
	return cmd_format_date_time(z->next_ms, tz);
}

static char *format_interval(gint64 s)
{
	if (s % 86400 == 0 && s >= 7 * 86400)
		return g_strdup_printf("%" G_GINT64_FORMAT " days", s / 86400);
	if (s % 3600 == 0)
		return g_strdup_printf("%" G_GINT64_FORMAT " hours", s / 3600);
	return g_strdup_printf("%" G_GINT64_FORMAT " minutes", s / 60);
}

char *summary_rule_text(const struct summary_zone *z)
{
	const struct policy_verdict *v = &z->verdict;
	g_autofree char *iv = format_interval(v->interval_s);
	g_autofree char *mm = NULL;

	if (v->locks & POLICY_LOCK(POLICY_REASON_NEEDLE_CLINIC_ONLY))
		return g_strdup("refused: this head is for clinics only");
	if (v->locks & POLICY_LOCK(POLICY_REASON_NEEDLE_NOT_FOR_HOME))
		return g_strdup("refused: too long for home use without a plan");
	if (v->locks & POLICY_LOCK(POLICY_REASON_NEEDLE_ZONE_CLASS))
		return g_strdup_printf("refused: too long for the %s without a plan",
				       zone_class_name(z->zone->zclass));

	switch (v->interval_source) {
	case POLICY_INTERVAL_ROW:
		mm = cmd_format_mm(v->row_um);
		return g_strdup_printf("%s (heads up to %s mm)", iv, mm);
	case POLICY_INTERVAL_CLASS:
		return g_strdup_printf("%s (%s)", iv, zone_class_name(z->zone->zclass));
	case POLICY_INTERVAL_PLAN:
		return g_strdup_printf("%s (dermatologist's plan)", iv);
	case POLICY_INTERVAL_NONE:
		break;
	}
	return g_strdup("");
}

const char *summary_wear_word(enum policy_head_state state)
{
	switch (state) {
	case POLICY_HEAD_OK:
		return "fine";
	case POLICY_HEAD_REMIND:
		return "replace it soon";
	case POLICY_HEAD_REFUSE:
		break;
	}
	return "worn out, fit a new head";
}

const char *summary_session_state_word(enum store_session_state state)
{
	switch (state) {
	case STORE_SESSION_OPEN:
		return "open";
	case STORE_SESSION_COMPLETED:
		return "completed";
	case STORE_SESSION_ABORTED:
		return "stopped early";
	case STORE_SESSION_INTERRUPTED:
		return "interrupted";
	}
	return "unknown";
}

const char *summary_override_word(enum store_override_kind kind)
{
	switch (kind) {
	case STORE_OVERRIDE_INTERVAL:
		return "interval";
	case STORE_OVERRIDE_PASSES:
		return "passes";
	case STORE_OVERRIDE_HEAD_WEAR:
		return "head wear";
	case STORE_OVERRIDE_CHECKLIST:
		return "checklist";
	}
	return "unknown";
}
