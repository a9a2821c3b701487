/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The home screen: when each zone may be treated next, the reminders that
 * are due, and each roller with its head's needle length and wear, from
 * summary.h (what `dermaroll status` prints).  Enter or r starts the
 * routine, h shows the history.
 */
#include <string.h>

#include "cmd-common.h"
#include "summary.h"
#include "view.h"

/* Read the history again at least this often: locks open and reminders
 * end while the screen is up. */
#define RELOAD_MS 60000
/* From this width the zones get the full table of `dermaroll status`. */
#define WIDE_COLS 110
#define LABEL_WIDTH 13
#define BAR_WIDTH 10

struct home_view {
	struct summary *summary;
	char *error;                 /* why the history could not be read */
	bool loaded;
	unsigned int changes;        /* tui->history_changes when loaded */
	int64_t loaded_ms;
	int scroll;
	int lines;
	int height;
};

static void load(struct tui *tui, struct home_view *v)
{
	g_autoptr(GError) error = NULL;
	int64_t now = tui_now_ms(tui);

	if (v->loaded && v->changes == tui->history_changes &&
	    now >= v->loaded_ms && now < v->loaded_ms + RELOAD_MS)
		return;
	g_clear_pointer(&v->summary, summary_free);
	g_clear_pointer(&v->error, g_free);
	v->summary = summary_load(tui->opts.store, tui->opts.policy, tui->opts.engine.plan,
				  now, tui->tz, &error);
	if (!v->summary)
		v->error = g_strdup(error->message);
	v->loaded = true;
	v->changes = tui->history_changes;
	v->loaded_ms = now;
}

static const char *connected_serial(struct tui *tui)
{
	const struct dp_info *info = tui_roller_info(tui);

	return info ? info->serial : NULL;
}

static bool any_paired(const struct summary *s)
{
	for (guint i = 0; i < s->rollers->len; i++) {
		const struct summary_roller *sr =
			&g_array_index(s->rollers, struct summary_roller, i);

		if (sr->roller->address && !sr->roller->forgotten)
			return true;
	}
	return false;
}

/* Why no roller is there, when none is: what reconnecting says, and the
 * wizard when no roller was ever paired. */
static int draw_connection(struct tui *tui, const struct summary *s, struct draw *d, int row)
{
	int start = row;

	if (tui->connected)
		return row;
	if (tui->roller_status)
		row += draw_wrap(d, row, 1, d->cols - 2, 3,
				 tui->roller_status_bad ? STYLE_BAD : STYLE_WARN, tui->roller_status);
	if (s && !any_paired(s) && tui->opts.pairing)
		row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_WARN,
				 "No roller is paired yet: press p to pair one.");
	return row > start ? row + 1 : row;
}

/* The roller whose head the zone dates are for: the one connected, else
 * the last one seen with a head. */
static const struct summary_roller *dates_roller(struct tui *tui, const struct summary *s)
{
	const struct summary_roller *best = summary_find(s, connected_serial(tui));

	if (best && best->head.id)
		return best;
	best = NULL;
	for (guint i = 0; i < s->rollers->len; i++) {
		const struct summary_roller *sr =
			&g_array_index(s->rollers, struct summary_roller, i);

		if (sr->head.id && (!best || sr->roller->last_seen_ms >= best->roller->last_seen_ms))
			best = sr;
	}
	return best;
}

static enum style next_style(enum summary_next next)
{
	switch (next) {
	case SUMMARY_NEXT_NOW:
		return STYLE_GOOD;
	case SUMMARY_NEXT_DATE:
		return STYLE_LOCKED;
	case SUMMARY_NEXT_NEW_HEAD:
	case SUMMARY_NEXT_NEW_HEAD_DATE:
	case SUMMARY_NEXT_NEVER:
		break;
	}
	return STYLE_BAD;
}

/* The date without its year when it is this year's: "Sat 12 Dec 08:01". */
static char *short_date_time(int64_t ms, int64_t now_ms, GTimeZone *tz)
{
	char *text = cmd_format_date_time(ms, tz);
	g_autofree char *now = cmd_format_date(now_ms, tz);
	const char *year = strrchr(now, ' ');
	char *at = year ? strstr(text, year) : NULL;

	if (at)
		memmove(at, at + strlen(year), strlen(at + strlen(year)) + 1);
	return text;
}

static char *compact_next(const struct summary_zone *z, int64_t now_ms, GTimeZone *tz)
{
	g_autofree char *when = NULL;

	switch (z->next) {
	case SUMMARY_NEXT_DATE:
		return short_date_time(z->next_ms, now_ms, tz);
	case SUMMARY_NEXT_NEW_HEAD:
		return g_strdup("new head");
	case SUMMARY_NEXT_NEW_HEAD_DATE:
		when = short_date_time(z->next_ms, now_ms, tz);
		return g_strdup_printf("new head, %s", when);
	case SUMMARY_NEXT_NOW:
	case SUMMARY_NEXT_NEVER:
		break;
	}
	return summary_next_text(z, tz);
}

static int draw_zones(struct tui *tui, const struct summary *s, struct draw *d, int row)
{
	const struct summary_roller *sr = dates_roller(tui, s);
	g_autofree char *mm = NULL;
	g_autofree char *label = NULL;

	if (!sr) {
		draw_text(d, row++, 1, STYLE_TITLE, "Next allowed");
		row += draw_wrap(d, row, 3, d->cols - 4, 3, STYLE_DIM,
				 "The dates need a roller's head: connect your roller.");
		return row;
	}
	mm = cmd_format_mm(sr->head.needle_um);
	label = cmd_roller_label(sr->roller);
	draw_printf(d, row++, 1, STYLE_TITLE, "Next allowed, with the %s mm head of %s", mm, label);
	if (d->cols >= WIDE_COLS) {
		draw_text(d, row, 3, STYLE_DIM, "Zone");
		draw_text(d, row, 3 + LABEL_WIDTH + 1, STYLE_DIM, "Next allowed");
		draw_text(d, row, 55, STYLE_DIM, "Last treated");
		draw_text(d, row++, 79, STYLE_DIM, "Interval");
		for (unsigned int i = 0; i < ZONE_COUNT; i++, row++) {
			const struct summary_zone *z = &sr->zones[i];
			g_autofree char *next = summary_next_text(z, tui->tz);
			g_autofree char *last = z->last_ms ?
				cmd_format_date_time(z->last_ms, tui->tz) : g_strdup("never");
			g_autofree char *rule = summary_rule_text(z);

			draw_text(d, row, 3, STYLE_NORMAL, z->zone->label);
			draw_text(d, row, 3 + LABEL_WIDTH + 1, next_style(z->next), next);
			draw_text(d, row, 55, z->last_ms ? STYLE_NORMAL : STYLE_DIM, last);
			draw_text(d, row, 79, STYLE_DIM, rule);
		}
		return row;
	}
	/* Two columns of five. */
	for (unsigned int i = 0; i < ZONE_COUNT; i++) {
		const struct summary_zone *z = &sr->zones[i];
		int r = row + (int)(i % ((ZONE_COUNT + 1) / 2));
		int col = i < (ZONE_COUNT + 1) / 2 ? 3 : d->cols / 2 + 1;
		g_autofree char *next = compact_next(z, s->effective_ms, tui->tz);

		draw_text(d, r, col, STYLE_NORMAL, z->zone->label);
		draw_text(d, r, col + LABEL_WIDTH, next_style(z->next), next);
	}
	return row + (ZONE_COUNT + 1) / 2;
}

static int draw_reminders(const struct summary *s, struct draw *d, int row)
{
	draw_text(d, row++, 1, STYLE_TITLE, "Reminders");
	if (!s->reminders->len)
		return row + draw_wrap(d, row, 3, d->cols - 4, 1, STYLE_DIM, "No reminders are due.");
	for (guint i = 0; i < s->reminders->len; i++) {
		const struct summary_reminder *r = s->reminders->pdata[i];
		enum style style = r->urgent ? STYLE_BAD :
			r->kind == SUMMARY_REMINDER_HEAD ? STYLE_WARN : STYLE_NORMAL;

		draw_text(d, row, 3, style, "-");
		row += draw_wrap(d, row, 5, d->cols - 6, 4, style, r->text);
	}
	return row;
}

static enum style wear_style(enum policy_head_state state)
{
	switch (state) {
	case POLICY_HEAD_OK:
		return STYLE_GOOD;
	case POLICY_HEAD_REMIND:
		return STYLE_WARN;
	case POLICY_HEAD_REFUSE:
		break;
	}
	return STYLE_BAD;
}

/* "[#####.....]": the larger share of the head's sessions or days used. */
static void draw_wear_bar(struct draw *d, int row, int col, const struct policy_head_wear *w)
{
	unsigned int by_uses = w->refuse_at_uses ?
		MIN(w->uses, w->refuse_at_uses) * BAR_WIDTH / w->refuse_at_uses : 0;
	unsigned int by_days = w->days >= 0 && w->refuse_after_days ?
		(unsigned int)(MIN(w->days, (gint64)w->refuse_after_days) * BAR_WIDTH /
			       w->refuse_after_days) : 0;
	int filled = (int)MAX(by_uses, by_days);

	draw_text(d, row, col, STYLE_NORMAL, "[");
	draw_fill(d, row, col + 1, filled, wear_style(w->state), '#');
	draw_fill(d, row, col + 1 + filled, BAR_WIDTH - filled, STYLE_DIM, '.');
	draw_text(d, row, col + 1 + BAR_WIDTH, STYLE_NORMAL, "]");
}

static int draw_roller(struct tui *tui, const struct summary_roller *sr, struct draw *d,
		       int row, bool connected)
{
	g_autofree char *label = cmd_roller_label(sr->roller);
	const struct policy_head_wear *w = &sr->wear;
	g_autofree char *mm = NULL;
	g_autofree char *fitted = NULL;
	g_autofree char *days = NULL;
	int col;

	col = draw_text(d, row, 3, STYLE_NORMAL, label);
	if (connected)
		col = draw_text(d, row, col + 1, STYLE_GOOD, "(connected)");
	if (!sr->head.id) {
		draw_text(d, row + 1, 5, STYLE_DIM,
			  "No head recorded: 'dermaroll rollers new-head' records it.");
		return row + 2;
	}
	mm = cmd_format_mm(sr->head.needle_um);
	fitted = sr->head.fitted_ms > 0 ? cmd_format_date(sr->head.fitted_ms, tui->tz) :
		g_strdup("on a day not known");
	draw_printf(d, row, col + 2, STYLE_NORMAL, "%s mm head %s, fitted %s", mm,
		    sr->head.serial, fitted);
	draw_wear_bar(d, row + 1, 5, w);
	days = w->days >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT " of %u days", w->days,
					      w->refuse_after_days) :
		g_strdup("days not known");
	col = draw_printf(d, row + 1, 5 + BAR_WIDTH + 3, STYLE_NORMAL, "%u of %u sessions, %s:",
			  w->uses, w->refuse_at_uses, days);
	draw_text(d, row + 1, col + 1, wear_style(w->state), summary_wear_word(w->state));
	return row + 2;
}

static int draw_rollers(struct tui *tui, const struct summary *s, struct draw *d, int row)
{
	const struct summary_roller *now = summary_find(s, connected_serial(tui));

	draw_text(d, row++, 1, STYLE_TITLE, "Rollers");
	if (!s->rollers->len)
		return row + draw_wrap(d, row, 3, d->cols - 4, 2, STYLE_DIM,
				       "No rollers yet: the one you connect is recorded here.");
	if (now)
		row = draw_roller(tui, now, d, row, true);
	/* The others, the last seen first. */
	for (guint i = s->rollers->len; i-- > 0;) {
		const struct summary_roller *sr =
			&g_array_index(s->rollers, struct summary_roller, i);

		if (sr != now)
			row = draw_roller(tui, sr, d, row, false);
	}
	return row;
}

static int draw_page(struct tui *tui, struct home_view *v, struct draw *d)
{
	enum engine_state state = engine_state(tui->engine);
	int row = 0;

	if (state == ENGINE_STATE_AFTERCARE || state == ENGINE_STATE_FINISHED) {
		draw_text(d, row, 1, STYLE_GOOD, "This routine is over: r shows its aftercare again.");
		row += 2;
	} else if (state != ENGINE_STATE_IDLE && state != ENGINE_STATE_CHECKLIST) {
		draw_text(d, row, 1, STYLE_WARN, "A routine is under way: r goes back to it.");
		row += 2;
	}
	row = draw_connection(tui, v->summary, d, row);
	if (!v->summary) {
		row += draw_wrap(d, row, 1, d->cols - 2, 4, STYLE_BAD, v->error);
		return row;
	}
	row = draw_zones(tui, v->summary, d, row) + 1;
	row = draw_reminders(v->summary, d, row) + 1;
	return draw_rollers(tui, v->summary, d, row);
}

static void home_draw(struct tui *tui, void *priv, struct draw *d)
{
	struct home_view *v = priv;
	struct draw_window w;
	const char *keys = "Enter/r routine  h history  p pair  c settings  ? help  q quit";
	int scroll;

	load(tui, v);
	tui_draw_title(tui, d, "home");
	/* The page may be shorter at this size than the scroll: it is kept
	 * for the next size, and clamped here. */
	v->height = d->rows - 4;
	scroll = CLAMP(v->scroll, 0, MAX(v->lines - v->height, 0));
	draw_window_init(&w, d, 2, d->rows - 3, scroll);
	v->lines = draw_page(tui, v, &w.draw);
	if (v->lines > v->height)
		keys = scroll + v->height < v->lines ?
			"Enter/r routine  h history  p pair  c settings  ? help  q quit  j/k more below" :
			"Enter/r routine  h history  p pair  c settings  ? help  q quit  j/k scroll";
	tui_draw_keys(tui, d, keys);
}

static bool home_request(struct tui *tui, void *priv, enum request req)
{
	struct home_view *v = priv;

	switch (req) {
	case REQ_ROUTINE:
	case REQ_NEXT_ZONE:
		tui_start_routine(tui);
		return true;
	case REQ_PAIR:
		if (tui->opts.pairing)
			tui_open_view(tui, VIEW_PAIR);
		else
			tui_set_message(tui, STYLE_WARN, "Pairing needs Bluetooth, or --simulate: "
					"this run talks to roller-sim over a socket.");
		return true;
	case REQ_SETTINGS:
		if (tui->opts.settings)
			tui_open_view(tui, VIEW_SETTINGS);
		else
			tui_set_message(tui, STYLE_WARN, "This run has no settings file.");
		return true;
	case REQ_HISTORY:
		tui_open_view(tui, VIEW_HISTORY);
		return true;
	case REQ_SCROLL_DOWN:
		if (v->scroll + v->height < v->lines)
			v->scroll++;
		break;
	case REQ_SCROLL_UP:
		v->scroll = MIN(v->scroll, MAX(v->lines - v->height, 0));
		if (v->scroll > 0)
			v->scroll--;
		break;
	case REQ_REDRAW:
		/* Read the history again too. */
		v->loaded = false;
		return false;
	case REQ_HELP:
	case REQ_CLOSE:
		return false;
	default:
		/* The routine's keys wait for the routine. */
		return true;
	}
	tui_changed(tui);
	return true;
}

static void home_open(struct tui *tui, void *priv)
{
	struct home_view *v = priv;

	v->loaded = false;
	v->scroll = 0;
}

static void home_done(void *priv)
{
	struct home_view *v = priv;

	summary_free(v->summary);
	g_free(v->error);
}

const struct view_ops home_view_ops = {
	.name = "home",
	.private_size = sizeof(struct home_view),
	.open = home_open,
	.draw = home_draw,
	.request = home_request,
	.done = home_done,
};
