/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The aftercare screen (SAFETY.md "Aftercare"): what the routine did on
 * each zone, then what to do and what to avoid, with until when, from the
 * policy's aftercare items.
 */
#include <string.h>

#include "cmd-common.h"
#include "view.h"

struct aftercare_view {
	int scroll;
	int lines;
	int height;
};

static const char *status_words(const struct engine_zone_counts *c)
{
	switch (c->status) {
	case ENGINE_ZONE_DONE:
		return c->overridden ? "done, OVERRIDDEN" : "done";
	case ENGINE_ZONE_SKIPPED:
		return c->total ? "stopped early" : "skipped";
	case ENGINE_ZONE_LOCKED:
		return "locked";
	case ENGINE_ZONE_ACTIVE:
		return "stopped";
	case ENGINE_ZONE_PENDING:
		return "not reached";
	case ENGINE_ZONE_NOT_SELECTED:
		break;
	}
	return "";
}

static int draw_zones(struct tui *tui, struct draw *d, int row)
{
	struct policy_pressure_bands b;

	policy_get_pressure_bands(tui->opts.policy, &b);
	draw_text(d, row, 1, STYLE_TITLE, "What you did");
	draw_text(d, row, 36, STYLE_DIM, "horiz  vert  diag   peak");
	row++;
	for (unsigned int o = 0; o < ZONE_COUNT; o++) {
		const struct zone_info *zi = zone_by_order(o);
		const struct engine_zone_counts *c = engine_zone_counts(tui->engine, zi->id);
		char peak[16];

		if (c->status == ENGINE_ZONE_NOT_SELECTED)
			continue;
		draw_text(d, row, 3, STYLE_NORMAL, zi->label);
		draw_text(d, row, 17, c->overridden ? STYLE_WARN :
			  c->status == ENGINE_ZONE_DONE ? STYLE_GOOD : STYLE_DIM,
			  status_words(c));
		if (c->total) {
			draw_printf(d, row, 36, STYLE_NORMAL, "%5u %5u %5u", c->passes[ZONE_DIR_HORIZONTAL],
				    c->passes[ZONE_DIR_VERTICAL], c->passes[ZONE_DIR_DIAGONAL]);
			draw_printf(d, row, 55, c->peak_force_cn > b.warn_above_cn ? STYLE_BAD :
				    STYLE_NORMAL, "%4s N", draw_newton(peak, c->peak_force_cn));
			if (c->too_hard)
				draw_printf(d, row, 64, STYLE_BAD, "%u too hard", c->too_hard);
		}
		row++;
	}
	return row;
}

static int draw_advice(struct tui *tui, struct draw *d, int row)
{
	const struct policy *policy = tui->opts.policy;
	int64_t end = tui->ended_ms ? tui->ended_ms : tui_now_ms(tui);

	draw_text(d, row++, 1, STYLE_TITLE, "What to do and what to avoid");
	for (unsigned int i = 0; i < policy_aftercare_count(policy); i++) {
		const struct policy_aftercare_item *item = policy_aftercare_item(policy, i);

		g_autofree char *until = NULL;
		int lines, len = (int)g_utf8_strlen(item->text, -1);

		draw_text(d, row, 3, STYLE_NORMAL, "-");
		lines = draw_wrap(d, row, 5, d->cols - 7, 4, STYLE_NORMAL, item->text);
		row += lines;
		if (!item->hours)
			continue;
		until = cmd_format_date_time(end + (int64_t)item->hours * 3600 * 1000, tui->tz);
		/* Beside a one-line item when it fits, else below it. */
		if (lines == 1 && 5 + len + 2 + 6 + (int)strlen(until) <= d->cols - 1)
			draw_printf(d, row - 1, 5 + len + 2, STYLE_WARN, "until %s", until);
		else
			draw_printf(d, row++, 5, STYLE_WARN, "until %s", until);
	}
	row++;
	row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_DIM,
			 "dermaroll is a companion, not a medical device: when in doubt, "
			 "ask a dermatologist.");
	return row;
}

static int draw_page(struct tui *tui, struct draw *d)
{
	enum engine_state state = engine_state(tui->engine);
	char elapsed[32];
	int row = 0;

	draw_printf(d, row, 1, STYLE_TITLE, "The routine is over after %s.",
		    tui_elapsed(tui, elapsed));
	if (state == ENGINE_STATE_FINISHED && engine_session_id(tui->engine))
		draw_text(d, row + 1, 1, STYLE_GOOD, "It is stored in the history.");
	else if (state == ENGINE_STATE_FINISHED)
		draw_text(d, row + 1, 1, STYLE_DIM, "No session was started, so none is stored.");
	else
		draw_text(d, row + 1, 1, STYLE_DIM, "Storing it in the history...");
	row = draw_zones(tui, d, row + 3);
	return draw_advice(tui, d, row + 1);
}

static void aftercare_draw(struct tui *tui, void *priv, struct draw *d)
{
	struct aftercare_view *v = priv;
	struct draw_window w;
	int scroll;

	tui_draw_title(tui, d, "aftercare");
	/* The page may be shorter at this size than the scroll: it is kept
	 * for the next size, and clamped here. */
	v->height = d->rows - 4;
	scroll = CLAMP(v->scroll, 0, MAX(v->lines - v->height, 0));
	draw_window_init(&w, d, 2, d->rows - 3, scroll);
	v->lines = draw_page(tui, &w.draw);
	tui_draw_keys(tui, d, v->lines > v->height ? "q home  ? help  j/k scroll" :
		      "q home  ? help");
}

static bool aftercare_request(struct tui *tui, void *priv, enum request req)
{
	struct aftercare_view *v = priv;

	switch (req) {
	case REQ_SCROLL_DOWN:
		if (v->scroll + v->height < v->lines)
			v->scroll++;
		break;
	case REQ_SCROLL_UP:
		v->scroll = MIN(v->scroll, MAX(v->lines - v->height, 0));
		if (v->scroll > 0)
			v->scroll--;
		break;
	case REQ_CLOSE:
		/* The routine is over: home, where the next dates are. */
		tui_go_home(tui);
		return true;
	case REQ_HELP:
	case REQ_REDRAW:
		return false;
	default:
		/* The routine's keys do nothing once it is over. */
		return true;
	}
	tui_changed(tui);
	return true;
}

const struct view_ops aftercare_view_ops = {
	.name = "aftercare",
	.private_size = sizeof(struct aftercare_view),
	.draw = aftercare_draw,
	.request = aftercare_request,
};
