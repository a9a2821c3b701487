/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The history screen, in four pages: a calendar heat map of the passes
 * per day with the passes per zone over the weeks shown; a chart of one
 * zone (passes and mean pressure per session); the sessions, each shown
 * in full on Enter (zones, passes per direction, pressure, overrides
 * flagged, the reactions written after it); and the reactions.
 */
#include <string.h>

#include "cmd-common.h"
#include "summary.h"
#include "view.h"

#define DAY_MS G_GINT64_CONSTANT(86400000)
/* The heat map: the day names, then a column of three per week. */
#define MAP_LEFT 6
#define WEEK_COLS 3
/* What the calendar page keeps right of the heat map. */
#define MAP_PANEL 36
#define CHART_LEFT 7
#define ZONE_BAR_LEFT 16

enum history_page {
	PAGE_CALENDAR,
	PAGE_ZONE,
	PAGE_SESSIONS,
	PAGE_DETAIL,
	PAGE_REACTIONS,
};

struct history_view {
	bool loaded;
	unsigned int changes;        /* tui->history_changes when loaded */
	char *error;
	GPtrArray *sessions;         /* struct store_session *, by start time */
	GPtrArray *journal;          /* struct store_journal_entry *, by time */
	GPtrArray *overrides;        /* of the session in detail */
	enum history_page page;
	unsigned int zone;           /* the zone charted, in guidance order */
	guint cursor;                /* the session chosen, 0 = the newest */
	int scroll, lines, height;   /* of the scrolled pages */
};

static const char *const day_names[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static void clear(struct history_view *v)
{
	g_clear_pointer(&v->sessions, g_ptr_array_unref);
	g_clear_pointer(&v->journal, g_ptr_array_unref);
	g_clear_pointer(&v->overrides, g_ptr_array_unref);
	g_clear_pointer(&v->error, g_free);
}

static void load(struct tui *tui, struct history_view *v)
{
	g_autoptr(GError) error = NULL;

	if (v->loaded && v->changes == tui->history_changes)
		return;
	clear(v);
	v->loaded = true;
	v->changes = tui->history_changes;
	v->sessions = store_history(tui->opts.store, NULL, &error);
	if (v->sessions)
		g_ptr_array_set_free_func(v->sessions, (GDestroyNotify)store_session_free);
	else
		goto fail;
	v->journal = store_journal(tui->opts.store, 0, 0, &error);
	if (v->journal)
		g_ptr_array_set_free_func(v->journal, (GDestroyNotify)store_journal_entry_free);
	else
		goto fail;
	v->cursor = MIN(v->cursor, v->sessions->len ? v->sessions->len - 1 : 0);
	return;
fail:
	v->error = g_strdup(error->message);
	g_clear_pointer(&v->sessions, g_ptr_array_unref);
}

static unsigned int session_passes(const struct store_session *ss, uint8_t zone)
{
	unsigned int n = 0;

	for (guint i = 0; i < ss->zones->len; i++) {
		const struct store_zone_result *z =
			&g_array_index(ss->zones, struct store_zone_result, i);

		if (!zone || z->zone == zone)
			n += z->passes[0] + z->passes[1] + z->passes[2];
	}
	return n;
}

static const struct store_zone_result *session_zone(const struct store_session *ss,
						    uint8_t zone)
{
	for (guint i = 0; i < ss->zones->len; i++) {
		const struct store_zone_result *z =
			&g_array_index(ss->zones, struct store_zone_result, i);

		if (z->zone == zone)
			return z;
	}
	return NULL;
}

/* The local day of @ms in @tz, as a Julian day number. */
static guint32 julian(int64_t ms, GTimeZone *tz)
{
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(ms / 1000);
	g_autoptr(GDateTime) dt = utc ? g_date_time_to_timezone(utc, tz) : NULL;
	GDate date;

	if (!dt)
		return 0;
	g_date_clear(&date, 1);
	g_date_set_dmy(&date, (GDateDay)g_date_time_get_day_of_month(dt),
		       (GDateMonth)g_date_time_get_month(dt),
		       (GDateYear)g_date_time_get_year(dt));
	return g_date_get_julian(&date);
}

/* "24 Nov": the short dates under the charts. */
static char *day_month(int64_t ms, GTimeZone *tz)
{
	GDate date;

	g_date_clear(&date, 1);
	g_date_set_julian(&date, julian(ms, tz));
	return g_strdup_printf("%d %s", g_date_get_day(&date),
			       month_names[g_date_get_month(&date) - 1]);
}

static char *time_of_day(int64_t ms, GTimeZone *tz)
{
	g_autofree char *full = cmd_format_date_time(ms, tz);
	const char *space = strrchr(full, ' ');

	return g_strdup(space ? space + 1 : full);
}

/* ---- The calendar ---- */

static char heat_mark(unsigned int passes, unsigned int most, enum style *style)
{
	if (!passes) {
		*style = STYLE_DIM;
		return '.';
	}
	if (passes * 3 <= most) {
		*style = STYLE_HEAT_LOW;
		return '-';
	}
	if (passes * 3 <= most * 2) {
		*style = STYLE_HEAT_MID;
		return '+';
	}
	*style = STYLE_HEAT_HIGH;
	return '#';
}

static void draw_calendar(struct tui *tui, struct history_view *v, struct draw *d)
{
	int weeks = MAX((d->cols - MAP_LEFT - MAP_PANEL) / WEEK_COLS, 4);
	guint32 today = julian(tui_now_ms(tui), tui->tz), first;
	int days = weeks * 7, panel = MAP_LEFT + weeks * WEEK_COLS + 2;
	g_autofree unsigned int *per_day = g_new0(unsigned int, (gsize)days);
	unsigned int per_zone[ZONE_COUNT + 1] = { 0 }, most = 0, zone_most = 0, total = 0;
	unsigned int sessions = 0, active_days = 0;
	int last_label = -10, row;
	GDate date;

	g_date_clear(&date, 1);
	g_date_set_julian(&date, today);
	/* Weeks begin on Monday; the last column holds today. */
	first = today - (guint32)(g_date_get_weekday(&date) - 1) - (guint32)(weeks - 1) * 7;
	for (guint i = 0; i < v->sessions->len; i++) {
		const struct store_session *ss = v->sessions->pdata[i];
		guint32 day = julian(ss->started_ms, tui->tz);

		if (day < first || day >= first + (guint32)days)
			continue;
		sessions++;
		per_day[day - first] += session_passes(ss, 0);
		for (guint z = 0; z < ss->zones->len; z++) {
			const struct store_zone_result *r =
				&g_array_index(ss->zones, struct store_zone_result, z);

			if (r->zone >= 1 && r->zone <= ZONE_COUNT)
				per_zone[r->zone] += r->passes[0] + r->passes[1] + r->passes[2];
		}
	}
	for (int i = 0; i < days; i++) {
		most = MAX(most, per_day[i]);
		total += per_day[i];
		active_days += per_day[i] ? 1 : 0;
	}

	/* Month names over the week of their first day. */
	for (int w = 0; w < weeks; w++) {
		for (int dd = 0; dd < 7; dd++) {
			g_date_set_julian(&date, first + (guint32)(w * 7 + dd));
			if ((g_date_get_day(&date) == 1 || (w == 0 && dd == 0)) &&
			    MAP_LEFT + w * WEEK_COLS >= last_label + 4) {
				last_label = MAP_LEFT + w * WEEK_COLS;
				draw_text(d, 2, last_label, STYLE_DIM,
					  month_names[g_date_get_month(&date) - 1]);
			}
		}
	}
	for (int dd = 0; dd < 7; dd++) {
		draw_text(d, 3 + dd, 1, STYLE_DIM, day_names[dd]);
		for (int w = 0; w < weeks; w++) {
			guint32 day = first + (guint32)(w * 7 + dd);
			enum style style;
			char mark[2] = { 0 };

			if (day > today)
				continue;
			mark[0] = heat_mark(per_day[w * 7 + dd], most, &style);
			draw_text(d, 3 + dd, MAP_LEFT + w * WEEK_COLS,
				  day == today ? STYLE_LIT : style, mark);
		}
	}

	draw_printf(d, 2, panel, STYLE_TITLE, "Passes per day, %d weeks", weeks);
	draw_text(d, 4, panel, STYLE_DIM, "none");
	draw_text(d, 4, panel + 5, STYLE_DIM, ".");
	draw_text(d, 4, panel + 7, STYLE_HEAT_LOW, "-");
	draw_text(d, 4, panel + 9, STYLE_HEAT_MID, "+");
	draw_text(d, 4, panel + 11, STYLE_HEAT_HIGH, "#");
	draw_printf(d, 4, panel + 13, STYLE_DIM, "most (%u)", most);
	draw_printf(d, 6, panel, STYLE_NORMAL, "%u session%s on %u day%s", sessions,
		    sessions == 1 ? "" : "s", active_days, active_days == 1 ? "" : "s");
	draw_printf(d, 7, panel, STYLE_NORMAL, "%u passes", total);
	if (v->sessions->len) {
		const struct store_session *ss = v->sessions->pdata[v->sessions->len - 1];
		g_autofree char *when = cmd_format_date(ss->started_ms, tui->tz);

		draw_printf(d, 8, panel, STYLE_NORMAL, "last session %s", when);
	}
	draw_text(d, 9, panel, STYLE_DIM, "today is lit");

	row = 11;
	draw_text(d, row++, 1, STYLE_TITLE, "Passes per zone in these weeks");
	for (int z = 1; z <= ZONE_COUNT; z++)
		zone_most = MAX(zone_most, per_zone[z]);
	for (unsigned int o = 0; o < ZONE_COUNT && row < d->rows - 2; o++, row++) {
		const struct zone_info *zi = zone_by_order(o);
		int width = d->cols - ZONE_BAR_LEFT - 8;
		int n = zone_most ? (int)(per_zone[zi->id] * (unsigned int)width / zone_most) : 0;

		draw_text(d, row, 3, per_zone[zi->id] ? STYLE_NORMAL : STYLE_DIM, zi->label);
		if (per_zone[zi->id])
			n = MAX(n, 1);
		draw_fill(d, row, ZONE_BAR_LEFT, n, STYLE_HEAT_MID, '=');
		draw_printf(d, row, ZONE_BAR_LEFT + n + 1, per_zone[zi->id] ? STYLE_NORMAL : STYLE_DIM,
			    "%u", per_zone[zi->id]);
	}
}

/* ---- One zone's chart ---- */

static enum style band_style(enum policy_pressure p)
{
	switch (p) {
	case POLICY_PRESSURE_TOO_LIGHT:
		return STYLE_GAUGE_LIGHT;
	case POLICY_PRESSURE_TARGET:
		return STYLE_GAUGE_TARGET;
	case POLICY_PRESSURE_HIGH:
		return STYLE_GAUGE_HIGH;
	case POLICY_PRESSURE_TOO_HARD:
		break;
	}
	return STYLE_GAUGE_HARD;
}

/* The sessions on @zone, oldest first, at most @max of the latest. */
static GPtrArray *zone_sessions(struct history_view *v, uint8_t zone, int max)
{
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; i < v->sessions->len; i++)
		if (session_zone(v->sessions->pdata[i], zone))
			g_ptr_array_add(out, v->sessions->pdata[i]);
	if ((int)out->len > max)
		g_ptr_array_remove_range(out, 0, out->len - (guint)max);
	return out;
}

static void draw_dates(struct tui *tui, struct draw *d, int row, GPtrArray *on)
{
	const struct store_session *a = on->pdata[0], *b = on->pdata[on->len - 1];
	g_autofree char *left = day_month(a->started_ms, tui->tz);
	g_autofree char *right = day_month(b->started_ms, tui->tz);
	int end = CHART_LEFT + 1 + 2 * ((int)on->len - 1);

	int col = draw_text(d, row, CHART_LEFT + 1, STYLE_DIM, left);

	if (on->len < 2)
		return;
	/* The latest under its bar when there is room, else after a dash. */
	if (end - (int)strlen(right) + 1 > col + 1)
		draw_text(d, row, end - (int)strlen(right) + 1, STYLE_DIM, right);
	else
		draw_printf(d, row, col, STYLE_DIM, " to %s", right);
}

static void draw_zone_chart(struct tui *tui, struct history_view *v, struct draw *d)
{
	const struct zone_info *zi = zone_by_order(v->zone);
	struct policy_passes pp;
	struct policy_pressure_bands bands;
	int extra = MAX(d->rows - 24, 0) / 2;
	int bar_rows = 6 + extra, dot_rows = 4 + extra;
	int max = (d->cols - CHART_LEFT - 3) / 2, row, col;
	g_autoptr(GPtrArray) on = zone_sessions(v, (uint8_t)zi->id, max);
	unsigned int most = 1, top_cn;
	unsigned int all = 0;

	policy_get_passes(tui->opts.policy, zi->id, &pp);
	policy_get_pressure_bands(tui->opts.policy, &bands);
	col = draw_text(d, 2, 1, STYLE_TITLE, "Zone");
	col = draw_printf(d, 2, col + 1, STYLE_LIT, "< %s >", zi->label);
	for (guint i = 0; i < v->sessions->len; i++)
		all += session_zone(v->sessions->pdata[i], (uint8_t)zi->id) ? 1 : 0;
	draw_printf(d, 2, col + 2, STYLE_DIM, "zone %u of %u, [ and ] change it; sessions on it: %u",
		    v->zone + 1, ZONE_COUNT, all);
	if (!on->len) {
		draw_wrap(d, 4, 3, d->cols - 4, 2, STYLE_DIM, "No session has treated this zone yet.");
		return;
	}

	/* Passes per session, the target and the most per zone marked. */
	for (guint i = 0; i < on->len; i++)
		most = MAX(most, session_passes(on->pdata[i], (uint8_t)zi->id));
	most = MAX(most, pp.max_per_zone);
	row = 4;
	draw_printf(d, row++, 1, STYLE_TITLE, "Passes per session (target %u, at most %u)",
		    pp.target_per_direction * ZONE_DIR_COUNT, pp.max_per_zone);
	for (int r = 0; r < bar_rows; r++) {
		/* The passes a bar reaches this row with. */
		unsigned int level = most * (unsigned int)(bar_rows - r) / (unsigned int)bar_rows;

		if (r == 0 || r == bar_rows - 1 || r == bar_rows / 2)
			draw_printf(d, row + r, 1, STYLE_DIM, "%4u", level);
		draw_text(d, row + r, CHART_LEFT - 1, STYLE_DIM, "|");
		for (guint i = 0; i < on->len; i++) {
			unsigned int n = session_passes(on->pdata[i], (uint8_t)zi->id);
			enum style style = n > pp.max_per_zone ? STYLE_BAD :
				n >= pp.target_per_direction * ZONE_DIR_COUNT ? STYLE_GOOD : STYLE_WARN;
			/* A bar of n passes fills the rows whose level it reaches,
			 * at least one. */
			unsigned int low = most * (unsigned int)(bar_rows - r - 1) / (unsigned int)bar_rows;

			if (n > low || (r == bar_rows - 1 && n))
				draw_text(d, row + r, CHART_LEFT + 1 + 2 * (int)i, style, "#");
		}
	}
	row += bar_rows;
	draw_text(d, row, CHART_LEFT - 1, STYLE_DIM, "+");
	draw_fill(d, row++, CHART_LEFT, 2 * (int)on->len + 1, STYLE_DIM, '-');
	draw_dates(tui, d, row++, on);

	/* Mean pressure per session, on a scale with the warning band in
	 * view. */
	row++;
	draw_printf(d, row++, 1, STYLE_TITLE, "Mean pressure per session (N; target %u.%u-%u.%u)",
		    bands.too_light_below_cn / 100, bands.too_light_below_cn % 100 / 10,
		    bands.target_max_cn / 100, bands.target_max_cn % 100 / 10);
	top_cn = bands.warn_above_cn + bands.warn_above_cn / 5;
	for (guint i = 0; i < on->len; i++)
		top_cn = MAX(top_cn, session_zone(on->pdata[i], (uint8_t)zi->id)->mean_force_cn);
	for (int r = 0; r < dot_rows; r++) {
		unsigned int high = top_cn * (unsigned int)(dot_rows - r) / (unsigned int)dot_rows;
		unsigned int low = top_cn * (unsigned int)(dot_rows - r - 1) / (unsigned int)dot_rows;
		char n[16];

		draw_printf(d, row + r, 1, STYLE_DIM, "%4s", draw_newton(n, high));
		draw_text(d, row + r, CHART_LEFT - 1, STYLE_DIM, "|");
		for (guint i = 0; i < on->len; i++) {
			unsigned int cn = session_zone(on->pdata[i], (uint8_t)zi->id)->mean_force_cn;

			if ((cn > low && cn <= high) || (r == dot_rows - 1 && cn <= low))
				draw_text(d, row + r, CHART_LEFT + 1 + 2 * (int)i,
					  band_style(policy_classify_force(tui->opts.policy, cn)),
					  "o");
		}
	}
	row += dot_rows;
	draw_text(d, row, CHART_LEFT - 1, STYLE_DIM, "+");
	draw_fill(d, row++, CHART_LEFT, 2 * (int)on->len + 1, STYLE_DIM, '-');
	draw_dates(tui, d, row, on);
}

/* ---- Sessions ---- */

static const struct store_session *chosen(struct history_view *v)
{
	if (!v->sessions->len)
		return NULL;
	return v->sessions->pdata[v->sessions->len - 1 - MIN(v->cursor, v->sessions->len - 1)];
}

static void draw_sessions(struct tui *tui, struct history_view *v, struct draw *d)
{
	int rows = d->rows - 5, top;

	draw_text(d, 2, 1, STYLE_TITLE, "Sessions, the newest first");
	if (!v->sessions->len) {
		draw_text(d, 4, 3, STYLE_DIM, "No sessions yet.");
		return;
	}
	/* The chosen one stays in view. */
	top = CLAMP((int)v->cursor - rows / 2, 0, MAX((int)v->sessions->len - rows, 0));
	for (int r = 0; r < rows && top + r < (int)v->sessions->len; r++) {
		guint i = v->sessions->len - 1 - (guint)(top + r);
		const struct store_session *ss = v->sessions->pdata[i];
		g_autofree char *when = cmd_format_date_time(ss->started_ms, tui->tz);
		g_autoptr(GPtrArray) overrides = store_overrides(tui->opts.store, ss->id, NULL);
		bool cursor = (guint)(top + r) == v->cursor;
		int col;

		if (overrides)
			g_ptr_array_set_free_func(overrides, (GDestroyNotify)store_override_free);
		if (cursor)
			draw_fill(d, 3 + r, 1, d->cols - 2, STYLE_LIT, ' ');
		col = draw_printf(d, 3 + r, 1, cursor ? STYLE_LIT : STYLE_NORMAL,
				  "%s %-21s  %-13s %2u zone%s %4u passes", cursor ? ">" : " ", when,
				  summary_session_state_word(ss->state), ss->zones->len,
				  ss->zones->len == 1 ? " " : "s", session_passes(ss, 0));
		if (overrides && overrides->len)
			draw_text(d, 3 + r, col + 2, cursor ? STYLE_LIT : STYLE_WARN, "OVERRIDDEN");
	}
}

static int draw_reaction(struct tui *tui, struct draw *d, int row,
			 const struct store_journal_entry *e)
{
	g_autoptr(GTimeZone) own = g_time_zone_new_offset(e->utc_offset_s);
	g_autofree char *when = cmd_format_date_time(e->at_ms, own);
	const struct zone_info *zi = zone_get(e->zone);
	g_autofree char *text = g_strdup_printf("%s, redness %u of 3, swelling %u of 3%s%s",
						zi ? zi->label : "No zone", e->redness,
						e->swelling, e->note && *e->note ? ": " : "",
						e->note ? e->note : "");

	draw_text(d, row, 3, STYLE_NORMAL, when);
	return row + draw_wrap(d, row, 26, d->cols - 27, 4,
			       e->redness >= 2 || e->swelling >= 2 ? STYLE_WARN : STYLE_NORMAL,
			       text);
}

static int draw_detail_page(struct tui *tui, struct history_view *v, struct draw *d)
{
	const struct store_session *ss = chosen(v);
	g_autoptr(GTimeZone) own = g_time_zone_new_offset(ss->utc_offset_s);
	g_autofree char *when = cmd_format_date_time(ss->started_ms, own);
	g_autofree char *end = ss->ended_ms ? time_of_day(ss->ended_ms, own) : NULL;
	struct store_roller roller = { .serial = ss->roller_serial, .name = ss->roller_name };
	g_autofree char *label = cmd_roller_label(&roller);
	int64_t until = 0;
	int row = 0, shown = 0;

	draw_printf(d, row, 1, STYLE_TITLE, "%s%s%s, %s", when, end ? " to " : "", end ? end : "",
		    summary_session_state_word(ss->state));
	if (v->overrides && v->overrides->len)
		draw_text(d, row, d->cols - 12, STYLE_WARN, "OVERRIDDEN");
	row++;
	if (ss->head_id) {
		g_autofree char *mm = cmd_format_mm(ss->needle_um);

		draw_printf(d, row++, 3, STYLE_NORMAL, "%s, %s mm head %s, its session %u", label,
			    mm, ss->head_serial, ss->head_use);
	} else {
		draw_printf(d, row++, 3, STYLE_NORMAL, "%s, head not known", label);
	}
	row++;
	if (!ss->zones->len) {
		draw_text(d, row++, 3, STYLE_DIM, "No passes on any zone.");
	} else {
		draw_text(d, row++, 3, STYLE_DIM,
			  "Zone          horiz  vert  diag    mean    peak  over warn");
		for (guint i = 0; i < ss->zones->len; i++) {
			const struct store_zone_result *z =
				&g_array_index(ss->zones, struct store_zone_result, i);
			const struct zone_info *zi = zone_get(z->zone);
			char mean[16], peak[16];
			enum style ps = band_style(policy_classify_force(tui->opts.policy,
									  z->mean_force_cn));

			draw_text(d, row, 3, STYLE_NORMAL, zi ? zi->label : "none");
			draw_printf(d, row, 17, STYLE_NORMAL, "%5u %5u %5u", z->passes[0], z->passes[1],
				    z->passes[2]);
			draw_printf(d, row, 36, ps, "%5s N", draw_newton(mean, z->mean_force_cn));
			draw_printf(d, row, 44, STYLE_NORMAL, "%5s N", draw_newton(peak, z->peak_force_cn));
			draw_printf(d, row++, 54, z->over_warn_ms ? STYLE_BAD : STYLE_NORMAL,
				    "%5u.%u s", z->over_warn_ms / 1000, z->over_warn_ms % 1000 / 100);
		}
	}
	for (guint i = 0; v->overrides && i < v->overrides->len; i++) {
		const struct store_override *o = v->overrides->pdata[i];
		const struct zone_info *zi = zone_get(o->zone);
		g_autofree char *at = cmd_format_date_time(o->at_ms, own);
		g_autofree char *text = g_strdup_printf("OVERRIDE of the %s limit %s%s, %s: \"%s\"",
							summary_override_word(o->kind),
							zi ? "on the " : "for the whole session",
							zi ? zi->phrase : "", at, o->reason);

		row++;
		row += draw_wrap(d, row, 3, d->cols - 4, 4, STYLE_WARN, text);
	}

	/* The reactions written after it, until the next session. */
	for (guint i = 0; i < v->sessions->len; i++)
		if (v->sessions->pdata[i] == ss && i + 1 < v->sessions->len)
			until = ((struct store_session *)v->sessions->pdata[i + 1])->started_ms;
	row++;
	draw_text(d, row++, 1, STYLE_TITLE, "Reactions after it");
	for (guint i = 0; i < v->journal->len; i++) {
		const struct store_journal_entry *e = v->journal->pdata[i];

		if (e->at_ms < ss->started_ms || (until && e->at_ms >= until))
			continue;
		row = draw_reaction(tui, d, row, e);
		shown++;
	}
	if (!shown)
		draw_text(d, row++, 3, STYLE_DIM, "None written ('dermaroll journal' writes one).");
	return row;
}

static int draw_reactions_page(struct tui *tui, struct history_view *v, struct draw *d)
{
	int row = 0;

	draw_text(d, row++, 1, STYLE_TITLE, "Reactions, the newest first");
	if (!v->journal->len)
		return row + draw_wrap(d, row, 3, d->cols - 4, 2, STYLE_DIM,
				       "None written yet: 'dermaroll journal' writes one.");
	for (guint i = v->journal->len; i-- > 0;)
		row = draw_reaction(tui, d, row, v->journal->pdata[i]);
	return row;
}

/* ---- The screen ---- */

static const char *keys_for(struct history_view *v, bool more)
{
	switch (v->page) {
	case PAGE_CALENDAR:
		return "1 calendar  2 zone  3 sessions  4 reactions  q back  ? help";
	case PAGE_ZONE:
		return "[ ] zone  1 calendar  3 sessions  4 reactions  q back  ? help";
	case PAGE_SESSIONS:
		return "j/k choose  Enter show  1 calendar  2 zone  4 reactions  q back";
	case PAGE_DETAIL:
		return more ? "q sessions  j/k scroll (more below)" : "q sessions  j/k scroll";
	case PAGE_REACTIONS:
		break;
	}
	return more ? "1 calendar  2 zone  3 sessions  q back  j/k scroll (more below)" :
		"1 calendar  2 zone  3 sessions  q back  j/k scroll";
}

static void history_draw(struct tui *tui, void *priv, struct draw *d)
{
	struct history_view *v = priv;
	bool more = false;

	load(tui, v);
	tui_draw_title(tui, d, "history");
	if (!v->sessions) {
		draw_wrap(d, 2, 1, d->cols - 2, 4, STYLE_BAD, v->error);
		tui_draw_keys(tui, d, "q back");
		return;
	}
	if (v->page == PAGE_DETAIL && !chosen(v))
		v->page = PAGE_SESSIONS;
	switch (v->page) {
	case PAGE_CALENDAR:
		draw_calendar(tui, v, d);
		break;
	case PAGE_ZONE:
		draw_zone_chart(tui, v, d);
		break;
	case PAGE_SESSIONS:
		draw_sessions(tui, v, d);
		break;
	case PAGE_DETAIL:
	case PAGE_REACTIONS: {
		struct draw_window w;
		int scroll;

		v->height = d->rows - 4;
		scroll = CLAMP(v->scroll, 0, MAX(v->lines - v->height, 0));
		draw_window_init(&w, d, 2, d->rows - 3, scroll);
		v->lines = v->page == PAGE_DETAIL ? draw_detail_page(tui, v, &w.draw) :
			draw_reactions_page(tui, v, &w.draw);
		more = scroll + v->height < v->lines;
		break;
	}
	}
	tui_draw_keys(tui, d, keys_for(v, more));
}

static void show_detail(struct tui *tui, struct history_view *v)
{
	const struct store_session *ss = chosen(v);
	g_autoptr(GError) error = NULL;

	if (!ss)
		return;
	g_clear_pointer(&v->overrides, g_ptr_array_unref);
	v->overrides = store_overrides(tui->opts.store, ss->id, &error);
	if (!v->overrides) {
		tui_set_message(tui, STYLE_BAD, "%s", error->message);
		return;
	}
	g_ptr_array_set_free_func(v->overrides, (GDestroyNotify)store_override_free);
	v->page = PAGE_DETAIL;
	v->scroll = 0;
}

static void go(struct history_view *v, enum history_page page)
{
	v->page = page;
	v->scroll = 0;
}

static bool history_request(struct tui *tui, void *priv, enum request req)
{
	struct history_view *v = priv;
	bool scrolled = v->page == PAGE_DETAIL || v->page == PAGE_REACTIONS;

	switch (req) {
	case REQ_CALENDAR:
		go(v, PAGE_CALENDAR);
		break;
	case REQ_ZONE_CHART:
		go(v, PAGE_ZONE);
		break;
	case REQ_SESSIONS:
		go(v, PAGE_SESSIONS);
		break;
	case REQ_REACTIONS:
		go(v, PAGE_REACTIONS);
		break;
	case REQ_ZONE_PREV:
		v->zone = (v->zone + ZONE_COUNT - 1) % ZONE_COUNT;
		go(v, PAGE_ZONE);
		break;
	case REQ_ZONE_NEXT:
		v->zone = (v->zone + 1) % ZONE_COUNT;
		go(v, PAGE_ZONE);
		break;
	case REQ_NEXT_ZONE:
		if (v->page == PAGE_SESSIONS && v->sessions)
			show_detail(tui, v);
		break;
	case REQ_SCROLL_DOWN:
		if (v->page == PAGE_SESSIONS && v->sessions && v->cursor + 1 < v->sessions->len)
			v->cursor++;
		else if (scrolled && v->scroll + v->height < v->lines)
			v->scroll++;
		break;
	case REQ_SCROLL_UP:
		if (v->page == PAGE_SESSIONS && v->cursor > 0) {
			v->cursor--;
		} else if (scrolled) {
			v->scroll = MIN(v->scroll, MAX(v->lines - v->height, 0));
			if (v->scroll > 0)
				v->scroll--;
		}
		break;
	case REQ_CLOSE:
		if (v->page != PAGE_DETAIL)
			return false;
		go(v, PAGE_SESSIONS);
		break;
	case REQ_REDRAW:
		v->loaded = false;
		return false;
	case REQ_HELP:
		return false;
	default:
		/* Keys of other screens do nothing here. */
		return true;
	}
	tui_changed(tui);
	return true;
}

static void history_open(struct tui *tui, void *priv)
{
	struct history_view *v = priv;

	v->loaded = false;
	v->page = PAGE_CALENDAR;
	v->cursor = 0;
	v->scroll = 0;
}

static void history_done(void *priv)
{
	clear(priv);
}

const struct view_ops history_view_ops = {
	.name = "history",
	.private_size = sizeof(struct history_view),
	.open = history_open,
	.draw = history_draw,
	.request = history_request,
	.done = history_done,
};
