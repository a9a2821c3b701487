/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The driver (driver.h): the stack of screens, the routing of requests,
 * and the engine's events turned into what the screens show.
 */
#include <stdarg.h>
#include <string.h>

#include "cmd-common.h"
#include "view.h"
#include "virtual-roller.h"

static const struct view_ops *const views[VIEW_COUNT] = {
	[VIEW_ROUTINE] = &routine_view_ops,
	[VIEW_AFTERCARE] = &aftercare_view_ops,
	[VIEW_HELP] = &help_view_ops,
	[VIEW_HOME] = &home_view_ops,
	[VIEW_HISTORY] = &history_view_ops,
	[VIEW_PAIR] = &pair_view_ops,
	[VIEW_SETTINGS] = &settings_view_ops,
};

/* ---- Screens ---- */

void tui_changed(struct tui *tui)
{
	if (tui->hooks.changed)
		tui->hooks.changed(tui->hooks.user_data);
}

void tui_set_message(struct tui *tui, enum style style, const char *fmt, ...)
{
	va_list ap;

	g_free(tui->message);
	tui->message = NULL;
	if (fmt) {
		va_start(ap, fmt);
		tui->message = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	tui->message_style = style;
	tui_changed(tui);
}

static enum view_id top(const struct tui *tui)
{
	return tui->stack[tui->depth - 1];
}

/* Takes the views from @depth up off the stack. */
static void close_above(struct tui *tui, int depth)
{
	while (tui->depth > depth) {
		enum view_id id = tui->stack[--tui->depth];

		if (views[id]->close)
			views[id]->close(tui, tui->priv[id]);
	}
}

void tui_open_view(struct tui *tui, enum view_id id)
{
	int at = tui->depth;

	/* A view already open comes back on top, with what lay above it
	 * closed. */
	for (int i = 0; i < tui->depth; i++)
		if (tui->stack[i] == id)
			at = i;
	close_above(tui, at + 1);
	tui->stack[at] = id;
	tui->depth = at + 1;
	if (views[id]->open)
		views[id]->open(tui, tui->priv[id]);
	tui_changed(tui);
}

void tui_quit(struct tui *tui)
{
	if (tui->hooks.quit)
		tui->hooks.quit(tui->hooks.user_data);
}

void tui_close_view(struct tui *tui)
{
	if (tui->depth <= 1) {
		tui_quit(tui);
		return;
	}
	close_above(tui, tui->depth - 1);
	tui_changed(tui);
}

void tui_go_home(struct tui *tui)
{
	close_above(tui, 0);
	tui->stack[0] = VIEW_HOME;
	tui->depth = 1;
	if (views[VIEW_HOME]->open)
		views[VIEW_HOME]->open(tui, tui->priv[VIEW_HOME]);
	tui_changed(tui);
}

void tui_start_routine(struct tui *tui)
{
	g_autoptr(GError) error = NULL;
	enum engine_state state = engine_state(tui->engine);

	if (state == ENGINE_STATE_IDLE && !engine_start(tui->engine, &tui->opts.engine, &error)) {
		tui_set_message(tui, STYLE_BAD, "%s", error->message);
		return;
	}
	/* One routine a run: once over, its aftercare is what there is. */
	if (state == ENGINE_STATE_AFTERCARE || state == ENGINE_STATE_FINISHED)
		tui_open_view(tui, VIEW_AFTERCARE);
	else
		tui_open_view(tui, VIEW_ROUTINE);
}

const struct dp_info *tui_roller_info(struct tui *tui)
{
	if (!tui->connected)
		return NULL;
	if (tui->link)
		return link_info(tui->link);
	return tui->have_roller_info ? &tui->roller_info : NULL;
}

void tui_set_roller_status(struct tui *tui, bool bad, const char *text)
{
	g_free(tui->roller_status);
	tui->roller_status = g_strdup(text);
	tui->roller_status_bad = bad;
	tui_changed(tui);
}

void tui_set_roller_info(struct tui *tui, const struct dp_info *info)
{
	tui->have_roller_info = info != NULL;
	if (info)
		tui->roller_info = *info;
	tui_changed(tui);
}

bool tui_set_engine_options(struct tui *tui, const struct engine_options *opts)
{
	tui->opts.engine = *opts;
	tui->opts.engine.tz = tui->tz;
	return engine_state(tui->engine) == ENGINE_STATE_IDLE;
}

const char *tui_view_name(struct tui *tui)
{
	return views[top(tui)]->name;
}

int64_t tui_now_ms(struct tui *tui)
{
	return engine_clock_now(tui->opts.clock);
}

bool tui_ticking(struct tui *tui)
{
	return top(tui) == VIEW_ROUTINE && tui->started_ms && !tui->ended_ms;
}

char *tui_elapsed(struct tui *tui, char buf[32])
{
	int64_t end = tui->ended_ms ? tui->ended_ms : tui_now_ms(tui);
	int64_t s = tui->started_ms ? MAX(end - tui->started_ms, 0) / 1000 : 0;

	g_snprintf(buf, 32, "%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT, s / 60, s % 60);
	return buf;
}

void tui_draw_title(struct tui *tui, struct draw *d, const char *title)
{
	const struct dp_status *st = engine_roller_status(tui->engine);
	const struct dp_info *info = tui_roller_info(tui);
	g_autofree char *left = g_strdup_printf(" dermaroll - %s", title);
	g_autofree char *right = NULL;
	g_autofree char *mm = info ? cmd_format_mm(info->needle_um) : NULL;

	if (info && st)
		right = g_strdup_printf("%s  head %s mm  battery %u%% ", info->serial, mm,
					st->battery_pct);
	else if (info)
		right = g_strdup_printf("%s  head %s mm ", info->serial, mm);
	else
		right = g_strdup("no roller connected ");
	draw_fill(d, 0, 0, d->cols, STYLE_BAR, ' ');
	draw_text(d, 0, 0, STYLE_BAR, left);
	draw_text(d, 0, d->cols - (int)g_utf8_strlen(right, -1), STYLE_BAR, right);
}

void tui_draw_keys(struct tui *tui, struct draw *d, const char *keys)
{
	int row = d->rows - 1;

	draw_fill(d, row, 0, d->cols, STYLE_BAR, ' ');
	draw_text(d, row, 1, STYLE_BAR, keys);
	if (tui->message) {
		/* A long message takes up to three lines above the key bar,
		 * over what was there: it must be read in full. */
		int lines = CLAMP(draw_wrap_lines(d->cols - 2, tui->message), 1, 3);

		for (int i = 1; i < lines; i++)
			draw_fill(d, row - 1 - i, 0, d->cols, STYLE_NORMAL, ' ');
		draw_wrap(d, row - lines, 1, d->cols - 2, lines, tui->message_style, tui->message);
	}
}

void tui_draw(struct tui *tui, struct draw *d)
{
	enum view_id id = top(tui);

	if (d->rows < 24 || d->cols < 80) {
		draw_wrap(d, 0, 0, d->cols, d->rows, STYLE_WARN,
			  "dermaroll needs a terminal of at least 80 columns and 24 lines: "
			  "make this one larger.");
		return;
	}
	views[id]->draw(tui, tui->priv[id], d);
}

void tui_key(struct tui *tui, int key)
{
	enum view_id id = top(tui);
	enum request req;

	if (key == TUI_KEY_RESIZE) {
		tui_changed(tui);
		return;
	}
	if (views[id]->key && views[id]->key(tui, tui->priv[id], key))
		return;
	req = keymap_request(key);
	if (req == REQ_NONE)
		return;
	if (views[id]->request(tui, tui->priv[id], req))
		return;
	switch (req) {
	case REQ_HELP:
		tui_open_view(tui, VIEW_HELP);
		break;
	case REQ_CLOSE:
		tui_close_view(tui);
		break;
	case REQ_REDRAW:
		tui_changed(tui);
		break;
	default:
		break;
	}
}

/* ---- Engine events ---- */

static void warning_free(gpointer data)
{
	struct tui_warning *w = data;

	g_free(w->message);
	g_free(w);
}

/* The stored session is closed as soon as the routine is over, so that
 * the history holds it whatever the user does next. */
static gboolean finish_session(gpointer data)
{
	struct tui *tui = data;
	g_autoptr(GError) error = NULL;

	tui->finish_idle = 0;
	if (engine_state(tui->engine) == ENGINE_STATE_AFTERCARE &&
	    !engine_finish(tui->engine, &error))
		tui_set_message(tui, STYLE_BAD, "%s", error->message);
	tui->history_changes++;
	tui_changed(tui);
	return G_SOURCE_REMOVE;
}

static void on_state(struct engine *e, enum engine_state state, void *data)
{
	struct tui *tui = data;

	if (state == ENGINE_STATE_WAITING && !tui->started_ms) {
		tui->started_ms = tui_now_ms(tui);
		/* What the checklist said is on the zones' screen now. */
		g_clear_pointer(&tui->message, g_free);
	}
	if (state == ENGINE_STATE_ROLLING || state == ENGINE_STATE_ZONE_LOCKED)
		tui->alert = NULL;
	if (state == ENGINE_STATE_AFTERCARE) {
		tui->ended_ms = tui_now_ms(tui);
		tui->alert = NULL;
		if (!tui->finish_idle)
			tui->finish_idle = g_idle_add(finish_session, tui);
		tui_open_view(tui, VIEW_AFTERCARE);
	}
	tui_changed(tui);
}

static void on_counts(struct engine *e, const struct engine_zone_counts *c, void *data)
{
	struct tui *tui = data;

	/* A pass warning stays up until a later pass goes well. */
	if (tui->alert && tui->alert->zone_total && c->zone == tui->alert->zone &&
	    c->total > tui->alert->zone_total)
		tui->alert = NULL;
	tui_changed(tui);
}

static void on_warning(struct engine *e, const struct engine_warning *w, void *data)
{
	struct tui *tui = data;
	const struct engine_zone_counts *c = engine_zone_counts(e, w->zone);
	struct tui_warning *tw = g_new0(struct tui_warning, 1);

	tw->kind = w->kind;
	tw->zone = w->zone;
	tw->message = g_strdup(w->message);
	tw->at_ms = tui_now_ms(tui);
	tw->zone_total = w->seq && c ? c->total : 0;
	if (tui->warnings->len == TUI_WARNINGS_KEPT) {
		if (tui->alert == tui->warnings->pdata[0])
			tui->alert = NULL;
		g_ptr_array_remove_index(tui->warnings, 0);
	}
	g_ptr_array_add(tui->warnings, tw);
	/* The lock has a screen of its own; too light is a hint, the rest
	 * must not be missed. */
	if (w->kind != ENGINE_WARNING_ZONE_LOCKED && w->kind != ENGINE_WARNING_TOO_LIGHT)
		tui->alert = tw;
	tui_changed(tui);
}

static void on_force(struct engine *e, const struct engine_force *f, void *data)
{
	struct tui *tui = data;
	int zone = engine_current_zone(e);

	if (zone != tui->peak_zone) {
		tui->peak_zone = zone;
		tui->zone_peak_cn = 0;
	}
	tui->force = *f;
	tui->have_force = true;
	if (zone && engine_state(e) == ENGINE_STATE_ROLLING)
		tui->zone_peak_cn = MAX(tui->zone_peak_cn, f->peak_cn);
	tui_changed(tui);
}

static void on_connection(struct engine *e, bool connected, const char *message,
			  void *data)
{
	struct tui *tui = data;

	tui->connected = connected;
	/* Connecting recorded the roller and its head. */
	if (connected)
		tui->history_changes++;
	g_free(tui->link_message);
	tui->link_message = g_strdup(message);
	if (tui->hooks.connection)
		tui->hooks.connection(connected, message, tui->hooks.user_data);
	tui_changed(tui);
}

static const struct engine_handler handler = {
	.state_changed = on_state,
	.counts_changed = on_counts,
	.warning = on_warning,
	.force = on_force,
	.connection = on_connection,
};

const struct engine_handler *tui_engine_handler(void)
{
	return &handler;
}

/* ---- Life cycle ---- */

struct tui *tui_new(const struct tui_options *opts, const struct tui_hooks *hooks,
		    GError **error)
{
	struct tui *tui = g_new0(struct tui, 1);

	tui->opts = *opts;
	if (opts->roller)
		tui->opts.roller = virtual_roller_ref(opts->roller);
	tui->hooks = *hooks;
	tui->tz = opts->tz ? g_time_zone_ref(opts->tz) : g_time_zone_new_local();
	tui->opts.engine.tz = tui->tz;
	tui->warnings = g_ptr_array_new_with_free_func(warning_free);
	hand_init(&tui->hand);
	for (int i = 0; i < VIEW_COUNT; i++)
		tui->priv[i] = g_malloc0(MAX(views[i]->private_size, 1));
	tui->engine = engine_new(opts->policy, opts->store, opts->clock, &handler, tui);
	tui->stack[0] = opts->home ? VIEW_HOME : VIEW_ROUTINE;
	tui->depth = 1;
	if (views[tui->stack[0]]->open)
		views[tui->stack[0]]->open(tui, tui->priv[tui->stack[0]]);
	if (!opts->home && !engine_start(tui->engine, &tui->opts.engine, error)) {
		tui_free(tui);
		return NULL;
	}
	return tui;
}

void tui_free(struct tui *tui)
{
	if (!tui)
		return;
	if (tui->finish_idle)
		g_source_remove(tui->finish_idle);
	close_above(tui, 0);
	engine_free(tui->engine);
	if (tui->link)
		link_unref(tui->link);
	for (int i = 0; i < VIEW_COUNT; i++) {
		if (views[i]->done)
			views[i]->done(tui->priv[i]);
		g_free(tui->priv[i]);
	}
	if (tui->opts.roller)
		virtual_roller_unref(tui->opts.roller);
	g_ptr_array_unref(tui->warnings);
	g_time_zone_unref(tui->tz);
	g_free(tui->link_message);
	g_free(tui->roller_status);
	g_free(tui->message);
	g_free(tui);
}

struct engine *tui_engine(struct tui *tui)
{
	return tui->engine;
}

void tui_set_link(struct tui *tui, struct link *link)
{
	if (tui->link == link)
		return;
	if (link)
		link_ref(link);
	engine_set_link(tui->engine, link);
	if (tui->link)
		link_unref(tui->link);
	tui->link = link;
}

void tui_stop(struct tui *tui)
{
	enum engine_state state = engine_state(tui->engine);

	if (tui->finish_idle) {
		g_source_remove(tui->finish_idle);
		tui->finish_idle = 0;
	}
	if (state != ENGINE_STATE_IDLE && state != ENGINE_STATE_CHECKLIST &&
	    state != ENGINE_STATE_AFTERCARE && state != ENGINE_STATE_FINISHED)
		engine_finish(tui->engine, NULL);
	if (engine_state(tui->engine) == ENGINE_STATE_AFTERCARE)
		engine_finish(tui->engine, NULL);
}
