/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The routine screen: the checklist one question at a time, then the
 * zones in guidance order with a face map, the passes per direction
 * against their targets, a pressure gauge with its bands, the elapsed
 * time, and warnings in a banner that cannot be missed.  A zone the
 * policy refuses shows the policy's sentence and takes an override only
 * with a reason typed in full (SAFETY.md "Overrides").
 */
#include <string.h>

#include "routine-widgets.h"
#include "view.h"
#include "virtual-roller.h"

/* The face map on the left, the passes and the gauge on its right. */
#define MAP_ROW 3
#define MAP_COL 1
#define PANEL_COL 33

enum confirm {
	CONFIRM_NONE,
	CONFIRM_QUIT,                /* q during a routine */
	CONFIRM_FINISH,              /* f */
	CONFIRM_NEXT,                /* Enter before every direction has its target */
};

struct routine_view {
	unsigned int question;       /* the checklist item asked now */
	guint8 answers[POLICY_CHECKLIST_MAX]; /* enum policy_answer */
	enum confirm confirm;
	int confirm_zone;            /* the zone a confirmation is about */
	bool typing;                 /* an override reason is being typed */
	GString *reason;
	char *reason_error;          /* why the last reason was refused */
};

/* The next zone in guidance order after the current one. */
static const char *next_zone_label(struct tui *tui)
{
	int current = engine_current_zone(tui->engine);
	const struct zone_info *cur = zone_get(current);

	for (unsigned int o = cur ? cur->order + 1 : 0; o < ZONE_COUNT; o++) {
		const struct zone_info *zi = zone_by_order(o);

		if (engine_zone_counts(tui->engine, zi->id)->status == ENGINE_ZONE_PENDING)
			return zi->label;
	}
	return NULL;
}

static int zone_position(struct tui *tui, int *count)
{
	int current = engine_current_zone(tui->engine), at = 0;

	*count = 0;
	for (unsigned int o = 0; o < ZONE_COUNT; o++) {
		const struct zone_info *zi = zone_by_order(o);

		if (engine_zone_counts(tui->engine, zi->id)->status == ENGINE_ZONE_NOT_SELECTED)
			continue;
		(*count)++;
		if ((int)zi->id == current)
			at = *count;
	}
	return at;
}

/* ---- Banners ---- */

static const char *warning_heading(enum engine_warning_kind kind)
{
	switch (kind) {
	case ENGINE_WARNING_TOO_LIGHT:
		return "TOO LIGHT";
	case ENGINE_WARNING_TOO_HARD:
		return "TOO HARD";
	case ENGINE_WARNING_MAX_PASSES:
		return "PAST THE MAXIMUM";
	case ENGINE_WARNING_ZONE_LOCKED:
		return "ZONE LOCKED";
	case ENGINE_WARNING_LINK:
		return "ROLLER LINK";
	case ENGINE_WARNING_ROLLER:
		return "ROLLER";
	case ENGINE_WARNING_STORE:
		return "HISTORY NOT WRITTEN";
	}
	return "WARNING";
}

/* A block of rows from @row to @last in the alert style, text wrapped
 * inside; returns the next row inside it. */
static int banner_open(struct draw *d, int row, int last, const char *heading)
{
	for (int r = row; r <= last; r++)
		draw_fill(d, r, 0, d->cols, STYLE_ALERT, ' ');
	draw_printf(d, row, 2, STYLE_ALERT, "!! %s !!", heading);
	return row + 1;
}

static int banner_text(struct draw *d, int row, int last, const char *text)
{
	return row + draw_wrap(d, row, 2, d->cols - 4, last - row + 1, STYLE_ALERT, text);
}

static void draw_locked(struct tui *tui, struct routine_view *v, struct draw *d,
			int row, int last)
{
	int zone = engine_current_zone(tui->engine);
	const struct policy_verdict *verdict = engine_zone_verdict(tui->engine, zone);
	const struct zone_info *zi = zone_get(zone);
	g_autofree char *heading = g_strdup_printf("ZONE LOCKED: %s", zi ? zi->label : "?");
	g_autofree char *input = NULL;

	row = banner_open(d, row, last, heading);
	if (!v->typing) {
		row = banner_text(d, row, last, verdict ? verdict->message : "");
		banner_text(d, row, last, verdict && verdict->override_possible ?
			    "o: override with a reason typed in full   s: skip this zone" :
			    "No override passes this lock.   s: skip this zone");
		return;
	}
	row = banner_text(d, row, last,
			  "Why? Type it in full: it is stored and shown to your dermatologist.");
	input = g_strdup_printf("> %s_", v->reason->str);
	/* The end of a long reason stays in view. */
	draw_fill(d, row, 2, d->cols - 4, STYLE_INPUT, ' ');
	draw_text(d, row, 2 + MIN(0, d->cols - 4 - (int)g_utf8_strlen(input, -1)),
		  STYLE_INPUT, input);
	if (v->reason_error)
		banner_text(d, row + 1, last, v->reason_error);
}

static void draw_confirm(struct routine_view *v, struct draw *d, int row, int last)
{
	const char *q = "";

	switch (v->confirm) {
	case CONFIRM_QUIT:
		q = "Stop the routine and quit? What you rolled is kept in the history.";
		break;
	case CONFIRM_FINISH:
		q = "End the routine now and go to the aftercare? The zones left are skipped.";
		break;
	case CONFIRM_NEXT:
		q = "Not every direction has its target of passes yet. Move on to the next zone?";
		break;
	case CONFIRM_NONE:
		return;
	}
	row = banner_open(d, row, last, "PLEASE CONFIRM");
	row = banner_text(d, row, last, q);
	banner_text(d, row, last, "y: yes   n: no");
}

/* Warnings before the one in the banner, newest first. */
static void draw_earlier(struct tui *tui, struct draw *d, int row, int last)
{
	int shown = 0;

	for (guint i = tui->warnings->len; i-- > 0 && row <= last;) {
		struct tui_warning *w = tui->warnings->pdata[i];

		if (w == tui->alert)
			continue;
		if (!shown++)
			draw_text(d, row++, 1, STYLE_DIM, "Earlier warnings");
		if (row <= last)
			row += draw_wrap(d, row, 3, d->cols - 4, last - row + 1,
					 w->kind == ENGINE_WARNING_TOO_LIGHT ? STYLE_WARN :
					 STYLE_DIM, w->message);
	}
}

static void draw_banners(struct tui *tui, struct routine_view *v, struct draw *d,
			 int row, int last)
{
	enum engine_state state = engine_state(tui->engine);

	if (v->confirm) {
		draw_confirm(v, d, row, last);
	} else if (state == ENGINE_STATE_ZONE_LOCKED) {
		draw_locked(tui, v, d, row, last);
	} else if (state == ENGINE_STATE_PAUSED) {
		row = banner_open(d, row, last, "THE ROLLER IS NOT CONNECTED");
		row = banner_text(d, row, last, tui->link_message ? tui->link_message : "");
		banner_text(d, row, last, "The routine waits for it; nothing rolled is lost.");
	} else if (tui->alert) {
		int end = MIN(last, row + 1 + draw_wrap_lines(d->cols - 4, tui->alert->message));

		row = banner_open(d, row, end, warning_heading(tui->alert->kind));
		banner_text(d, row, end, tui->alert->message);
		draw_earlier(tui, d, end + 2, last);
	} else {
		draw_earlier(tui, d, row, last);
	}
}

/* ---- The checklist ---- */

static void draw_checklist(struct tui *tui, struct routine_view *v, struct draw *d)
{
	const struct policy *policy = tui->opts.policy;
	unsigned int count = policy_checklist_count(policy);
	const struct policy_checklist_item *item =
		policy_checklist_item(policy, MIN(v->question, count - 1));
	const char *info = policy_checklist_information(policy);
	int row = 2, info_rows = info ? draw_wrap_lines(d->cols - 4, info) : 0;

	draw_printf(d, row, 1, STYLE_TITLE, "Before you start: question %u of %u",
		    MIN(v->question + 1, count), count);
	row += 2;
	row += draw_wrap(d, row, 3, d->cols - 6, 3, STYLE_NORMAL, item->question);
	row++;
	draw_text(d, row, 3, STYLE_KEY, "y");
	draw_text(d, row, 5, STYLE_NORMAL, "yes");
	draw_text(d, row, 11, STYLE_KEY, "n");
	draw_text(d, row, 13, STYLE_NORMAL, "no");
	if (v->question > 0) {
		draw_text(d, row, 18, STYLE_KEY, "b");
		draw_text(d, row, 20, STYLE_NORMAL, "back");
	}
	row += 2;
	for (unsigned int i = 0; i < count && i < v->question && row < d->rows - 3 - info_rows; i++) {
		const struct policy_checklist_item *it = policy_checklist_item(policy, i);
		bool yes = v->answers[i] == POLICY_ANSWER_YES;
		bool refuses = yes == it->refuse_if_yes;
		g_autofree char *q = g_strdup(it->question);
		int width = d->cols - 26;

		if ((int)g_utf8_strlen(q, -1) > width) {
			char *cut = g_utf8_offset_to_pointer(q, width - 3);

			strcpy(cut, "...");
		}
		draw_printf(d, row, 3, STYLE_DIM, "%u. %s", i + 1, q);
		draw_text(d, row, d->cols - 14, refuses ? STYLE_BAD : STYLE_GOOD,
			  yes ? "yes" : "no");
		if (refuses)
			draw_text(d, row, d->cols - 10, STYLE_BAD, "refuses");
		row++;
	}
	if (info)
		draw_wrap(d, d->rows - 2 - info_rows, 1, d->cols - 4, info_rows, STYLE_DIM, info);
}

/* ---- Drawing ---- */

static void draw_hand(struct tui *tui, struct draw *d, int row)
{
	char n[16];
	unsigned int cn = hand_force_cn(&tui->hand);
	int col;

	col = draw_text(d, row, 1, STYLE_TITLE, "Hand");
	col = draw_printf(d, row, col + 2, STYLE_NORMAL, "%s %s N %s",
			  zone_dir_name(tui->hand.dir), draw_newton(n, cn),
			  routine_band_words(policy_classify_force(tui->opts.policy, cn)));
	col = MAX(col + 2, 36);
	col = draw_text(d, row, col, STYLE_KEY, "Space");
	col = draw_text(d, row, col + 1, STYLE_DIM, "roll");
	col = draw_text(d, row, col + 2, STYLE_KEY, "d");
	col = draw_text(d, row, col + 1, STYLE_DIM, "direction");
	col = draw_text(d, row, col + 2, STYLE_KEY, "+/-");
	col = draw_text(d, row, col + 1, STYLE_DIM, "force");
	col = draw_text(d, row, col + 2, STYLE_KEY, "l");
	draw_text(d, row, col + 1, STYLE_DIM, "lift");
}

static const char *keys_for(struct tui *tui, struct routine_view *v)
{
	if (v->typing)
		return "Enter done  Esc cancel  Backspace erase";
	if (v->confirm)
		return "y yes  n no";
	switch (engine_state(tui->engine)) {
	case ENGINE_STATE_CHECKLIST:
		return "y yes  n no  b back  ? help  q quit";
	case ENGINE_STATE_ZONE_LOCKED:
		return "o override  s skip  f finish  ? help  q quit";
	case ENGINE_STATE_ROLLING:
		return "Enter next zone  s skip  f finish  ? help  q quit";
	default:
		return "f finish  ? help  q quit";
	}
}

static void routine_draw(struct tui *tui, void *priv, struct draw *d)
{
	struct routine_view *v = priv;
	enum engine_state state = engine_state(tui->engine);
	int zone = engine_current_zone(tui->engine);
	const struct zone_info *zi = zone_get(zone);
	char elapsed[32];
	int row, count, at;
	const char *next;

	tui_draw_title(tui, d, "routine");
	tui_draw_keys(tui, d, keys_for(tui, v));
	if (state == ENGINE_STATE_CHECKLIST || state == ENGINE_STATE_IDLE) {
		draw_checklist(tui, v, d);
		return;
	}

	at = zone_position(tui, &count);
	if (zi)
		draw_printf(d, 2, 1, STYLE_TITLE, "Zone %d of %d: %s", at, count, zi->label);
	else if (state == ENGINE_STATE_WAITING)
		draw_text(d, 2, 1, STYLE_TITLE,
			  "Waiting for the roller to connect and send what it logged...");
	else if (state == ENGINE_STATE_PAUSED)
		draw_text(d, 2, 1, STYLE_TITLE, "Paused: waiting for the roller");
	draw_printf(d, 2, d->cols - 16, STYLE_NORMAL, "elapsed %s", tui_elapsed(tui, elapsed));

	row = MAP_ROW + routine_map(tui, d, MAP_ROW, MAP_COL);
	if (zi) {
		routine_passes(tui, d, MAP_ROW + 1, PANEL_COL, zone);
		routine_gauge(tui, d, MAP_ROW + 7, PANEL_COL);
	}
	draw_text(d, row, MAP_COL + 1, STYLE_DIM,
		  "[>] now  [x] locked  [v] done  [-] skipped  [ ] to come");
	row++;
	row += routine_body_zones(tui, d, row, MAP_COL);
	if (tui->opts.roller)
		draw_hand(tui, d, row++);
	next = next_zone_label(tui);
	if (zi)
		draw_printf(d, row++, 1, STYLE_NORMAL, "Next: %s", next ? next : "aftercare");
	draw_banners(tui, v, d, row + 1, d->rows - 3);
}

/* ---- Requests ---- */

static void answer(struct tui *tui, struct routine_view *v, bool yes)
{
	const struct policy *policy = tui->opts.policy;
	unsigned int count = policy_checklist_count(policy);
	const struct policy_checklist_item *item = policy_checklist_item(policy, v->question);
	g_autoptr(GError) error = NULL;

	if (!engine_answer_checklist(tui->engine, v->question, yes, 0, &error)) {
		tui_set_message(tui, STYLE_BAD, "%s", error->message);
		return;
	}
	v->answers[v->question] = yes ? POLICY_ANSWER_YES : POLICY_ANSWER_NO;
	if (yes == item->refuse_if_yes)
		tui_set_message(tui, STYLE_BAD, "That answer refuses every zone today: %s.",
				item->advice);
	else
		tui_set_message(tui, STYLE_NORMAL, NULL);
	if (++v->question < count) {
		tui_changed(tui);
		return;
	}
	if (!engine_checklist_done(tui->engine, &error)) {
		tui_set_message(tui, STYLE_BAD, "%s", error->message);
		v->question = count - 1;
	}
}

static void confirmed(struct tui *tui, struct routine_view *v)
{
	enum confirm what = v->confirm;
	g_autoptr(GError) error = NULL;

	v->confirm = CONFIRM_NONE;
	/* The routine may have moved on while the question was up. */
	if (what == CONFIRM_NEXT && v->confirm_zone != engine_current_zone(tui->engine)) {
		tui_set_message(tui, STYLE_WARN, "The routine had moved on: nothing was done.");
		return;
	}
	switch (what) {
	case CONFIRM_QUIT:
		tui_quit(tui);
		return;
	case CONFIRM_FINISH:
		if (!engine_finish(tui->engine, &error))
			tui_set_message(tui, STYLE_BAD, "%s", error->message);
		break;
	case CONFIRM_NEXT:
		if (!engine_next_zone(tui->engine, &error))
			tui_set_message(tui, STYLE_BAD, "%s", error->message);
		break;
	case CONFIRM_NONE:
		break;
	}
	tui_changed(tui);
}

static bool zone_target_reached(struct tui *tui, int zone)
{
	const struct engine_zone_counts *c = engine_zone_counts(tui->engine, zone);
	struct policy_passes pp;

	policy_get_passes(tui->opts.policy, zone, &pp);
	for (int dir = 0; dir < ZONE_DIR_COUNT; dir++)
		if (c->passes[dir] < pp.target_per_direction)
			return false;
	return true;
}

static void roll(struct tui *tui, bool lift)
{
	struct dp_stroke stroke;
	int zone = engine_current_zone(tui->engine);

	if (!tui->opts.roller) {
		tui_set_message(tui, STYLE_WARN,
				"Rolling by hand needs the virtual roller: dermaroll --simulate.");
		return;
	}
	if (lift) {
		hand_lift(&stroke);
	} else if (engine_state(tui->engine) != ENGINE_STATE_ROLLING) {
		tui_set_message(tui, STYLE_WARN, "Roll once a zone is open.");
		return;
	} else {
		hand_stroke(&tui->hand, zone, &stroke);
	}
	virtual_roller_roll(tui->opts.roller, &stroke, 1);
}

static bool hand_request(struct tui *tui, enum request req)
{
	char n[16];

	switch (req) {
	case REQ_ROLL:
		roll(tui, false);
		return true;
	case REQ_LIFT:
		roll(tui, true);
		return true;
	case REQ_DIRECTION:
		hand_next_direction(&tui->hand);
		break;
	case REQ_HARDER:
		if (!hand_harder(&tui->hand))
			tui_set_message(tui, STYLE_WARN, "The hand presses as hard as it goes (%s N).",
					draw_newton(n, hand_force_cn(&tui->hand)));
		break;
	case REQ_LIGHTER:
		if (!hand_lighter(&tui->hand))
			tui_set_message(tui, STYLE_WARN, "The hand presses as lightly as it goes (%s N).",
					draw_newton(n, hand_force_cn(&tui->hand)));
		break;
	default:
		return false;
	}
	tui_changed(tui);
	return true;
}

static bool routine_request(struct tui *tui, void *priv, enum request req)
{
	struct routine_view *v = priv;
	enum engine_state state = engine_state(tui->engine);
	int zone = engine_current_zone(tui->engine);
	g_autoptr(GError) error = NULL;
	bool in_zone = state == ENGINE_STATE_ROLLING || state == ENGINE_STATE_ZONE_LOCKED;

	if (v->confirm) {
		if (req == REQ_YES) {
			confirmed(tui, v);
		} else if (req == REQ_NO || req == REQ_CLOSE) {
			v->confirm = CONFIRM_NONE;
			tui_changed(tui);
		} else if (req != REQ_HELP && req != REQ_REDRAW) {
			return true;
		}
		return req != REQ_HELP && req != REQ_REDRAW;
	}
	if (hand_request(tui, req))
		return true;

	switch (req) {
	case REQ_YES:
	case REQ_NO:
		if (state == ENGINE_STATE_CHECKLIST)
			answer(tui, v, req == REQ_YES);
		return true;
	case REQ_PREVIOUS:
		if (state == ENGINE_STATE_CHECKLIST && v->question > 0) {
			v->question--;
			tui_changed(tui);
		}
		return true;
	case REQ_NEXT_ZONE:
		if (state == ENGINE_STATE_ROLLING && !zone_target_reached(tui, zone)) {
			v->confirm = CONFIRM_NEXT;
			v->confirm_zone = zone;
		} else if (in_zone && !engine_next_zone(tui->engine, &error)) {
			tui_set_message(tui, STYLE_BAD, "%s", error->message);
		}
		tui_changed(tui);
		return true;
	case REQ_SKIP_ZONE:
		if (in_zone && !engine_skip_zone(tui->engine, &error))
			tui_set_message(tui, STYLE_BAD, "%s", error->message);
		tui_changed(tui);
		return true;
	case REQ_OVERRIDE: {
		const struct policy_verdict *verdict = engine_zone_verdict(tui->engine, zone);

		if (state != ENGINE_STATE_ZONE_LOCKED)
			tui_set_message(tui, STYLE_WARN, "There is no lock to pass on this zone.");
		else if (!verdict || !verdict->override_possible)
			tui_set_message(tui, STYLE_BAD, "No override passes this lock.");
		else
			v->typing = true;
		tui_changed(tui);
		return true;
	}
	case REQ_FINISH:
		if (in_zone || state == ENGINE_STATE_PAUSED || state == ENGINE_STATE_WAITING) {
			v->confirm = CONFIRM_FINISH;
			v->confirm_zone = zone;
		}
		tui_changed(tui);
		return true;
	case REQ_CLOSE:
		if (in_zone || state == ENGINE_STATE_PAUSED) {
			v->confirm = CONFIRM_QUIT;
			tui_changed(tui);
			return true;
		}
		return false;
	default:
		return false;
	}
}

/* Typing the override reason: every key is text until Enter or Esc. */
static bool routine_key(struct tui *tui, void *priv, int key)
{
	struct routine_view *v = priv;
	g_autoptr(GError) error = NULL;

	if (!v->typing)
		return false;
	if (engine_state(tui->engine) != ENGINE_STATE_ZONE_LOCKED) {
		v->typing = false;
		return false;
	}
	switch (key) {
	case TUI_KEY_ENTER:
	case '\r':
		g_clear_pointer(&v->reason_error, g_free);
		if (!engine_override(tui->engine, v->reason->str, &error)) {
			v->reason_error = g_strdup(error->message);
			break;
		}
		tui_set_message(tui, STYLE_WARN,
				"The override and its reason are stored with the session.");
		v->typing = false;
		g_string_truncate(v->reason, 0);
		break;
	case TUI_KEY_ESC:
		v->typing = false;
		g_string_truncate(v->reason, 0);
		g_clear_pointer(&v->reason_error, g_free);
		break;
	case TUI_KEY_BACKSPACE:
	case 0x7f:
	case 0x08:
		if (v->reason->len) {
			char *last = g_utf8_find_prev_char(v->reason->str,
							   v->reason->str + v->reason->len);

			g_string_truncate(v->reason, (gsize)(last - v->reason->str));
		}
		break;
	case 0x15: /* Ctrl-U */
		g_string_truncate(v->reason, 0);
		break;
	default:
		if (key >= 0x20 && key < 0x110000 && key != 0x7f &&
		    g_unichar_isprint((gunichar)key) && v->reason->len < 500)
			g_string_append_unichar(v->reason, (gunichar)key);
		break;
	}
	tui_changed(tui);
	return true;
}

static void routine_open(struct tui *tui, void *priv)
{
	struct routine_view *v = priv;

	if (!v->reason)
		v->reason = g_string_new(NULL);
}

static void routine_done(void *priv)
{
	struct routine_view *v = priv;

	if (v->reason)
		g_string_free(v->reason, TRUE);
	g_free(v->reason_error);
}

const struct view_ops routine_view_ops = {
	.name = "routine",
	.private_size = sizeof(struct routine_view),
	.open = routine_open,
	.draw = routine_draw,
	.request = routine_request,
	.key = routine_key,
	.done = routine_done,
};
