/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The live session behind the live screen: connects the link's events to the
 * screen's model and walks the face zones in guidance order.
 */
#include <string.h>

#include <glib-unix.h>

#include "live-screen.h"
#include "live-session.h"

/* Redraws are capped near 30 Hz: a frame arrives every 50 ms and force
 * samples at 200 Hz, far more often than a person can read. */
#define REDRAW_MS 33

struct live_session {
	struct link *link;
	struct live_model model;
	unsigned face_zones[ZONE_COUNT];
	unsigned face_zone_count;
	bool dirty;
	guint redraw_timer, stdin_watch;
	GMainLoop *loop;
};

static void set_message(struct live_session *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void set_message(struct live_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_vsnprintf(s->model.message, sizeof(s->model.message), fmt, ap);
	va_end(ap);
	s->dirty = true;
}

static void command_done(struct link *link, const struct dp_response *rsp,
			 const GError *error, void *user_data)
{
	struct live_session *s = user_data;

	if (error)
		set_message(s, "%s", error->message);
	else if (rsp->result != DP_RES_OK)
		set_message(s, "The roller refused the request (code %u).", rsp->result);
}

static void send_command(struct live_session *s, const struct dp_command *cmd)
{
	if (!link_command(s->link, cmd, command_done, s, NULL))
		set_message(s, "The roller is not connected.");
}

static void enter_zone(struct live_session *s, unsigned number)
{
	struct live_model *m = &s->model;
	struct dp_command cmd = {
		.opcode = number == 1 ? DP_OP_START_SESSION : DP_OP_SET_ZONE,
		.u.zone = s->face_zones[number - 1],
	};

	m->zone = cmd.u.zone;
	m->zone_number = number;
	memset(m->passes, 0, sizeof(m->passes));
	m->too_hard = 0;
	m->peak_cn = 0;
	m->have_pass = false;
	send_command(s, &cmd);
	set_message(s, "Roll the %s: %u passes in each direction.",
		    zone_get(m->zone)->phrase, m->target_per_direction);
}

static bool zone_complete(const struct live_model *m)
{
	for (int d = 0; d < ZONE_DIR_COUNT; d++)
		if (m->passes[d] < m->target_per_direction)
			return false;
	return true;
}

static void on_connected(struct link *link, const struct dp_info *info, void *user_data)
{
	struct live_session *s = user_data;
	struct live_model *m = &s->model;
	struct dp_command set_time = {
		.opcode = DP_OP_SET_TIME,
		.u.time_ms = (uint64_t)(g_get_real_time() / 1000 - DP_EPOCH_UNIX_S * 1000),
	};

	m->connected = true;
	g_strlcpy(m->roller, info->serial, sizeof(m->roller));
	m->needle_um = info->needle_um;
	m->head_uses = info->head_uses;
	m->started_us = g_get_monotonic_time();
	send_command(s, &set_time);
	enter_zone(s, 1);
}

static void on_disconnected(struct link *link, const GError *error, void *user_data)
{
	struct live_session *s = user_data;

	s->model.connected = false;
	set_message(s, "%s", error->message);
}

static void on_force(struct link *link, uint64_t time_ms, const struct dp_force *force,
		     void *user_data)
{
	struct live_session *s = user_data;
	struct live_model *m = &s->model;

	m->force_cn = force->cn[force->count - 1];
	for (unsigned i = 0; i < force->count; i++)
		m->peak_cn = MAX(m->peak_cn, force->cn[i]);
	s->dirty = true;
}

static void on_pass(struct link *link, const struct dp_pass *pass, bool from_history,
		    void *user_data)
{
	struct live_session *s = user_data;
	struct live_model *m = &s->model;

	if (from_history || pass->zone != m->zone || m->finished)
		return;
	m->have_pass = true;
	m->last_pass = *pass;
	m->last_pass_class = zone_classify_angle(pass->angle_deg);
	m->passes[m->last_pass_class]++;
	if (pass->over_warn_ms)
		m->too_hard++;
	s->dirty = true;
	if (!zone_complete(m))
		return;
	if (m->zone_number < s->face_zone_count) {
		enter_zone(s, m->zone_number + 1);
	} else {
		struct dp_command stop = { .opcode = DP_OP_STOP_SESSION };

		send_command(s, &stop);
		m->finished = true;
		set_message(s, "All face zones are done.");
	}
}

static void on_status(struct link *link, const struct dp_status *status, void *user_data)
{
	struct live_session *s = user_data;

	s->model.battery_pct = status->battery_pct;
	s->dirty = true;
}

static void on_problem(struct link *link, enum link_problem problem, const char *detail,
		       void *user_data)
{
	struct live_session *s = user_data;

	s->model.counters = *link_counters(link);
	s->dirty = true;
}

static const struct link_handler handler = {
	.connected = on_connected,
	.disconnected = on_disconnected,
	.force = on_force,
	.pass = on_pass,
	.status = on_status,
	.problem = on_problem,
};

static gboolean on_redraw(gpointer data)
{
	struct live_session *s = data;

	s->model.counters = *link_counters(s->link);
	live_screen_draw(&s->model, g_get_monotonic_time());
	s->dirty = false;
	return G_SOURCE_CONTINUE;
}

static gboolean on_key(int fd, GIOCondition cond, gpointer data)
{
	struct live_session *s = data;
	int ch;

	while ((ch = live_screen_key()) >= 0) {
		if (ch == 'q' || ch == 'Q')
			g_main_loop_quit(s->loop);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_quit_signal(gpointer data)
{
	struct live_session *s = data;

	g_main_loop_quit(s->loop);
	return G_SOURCE_CONTINUE;
}

int live_session_run(struct link *link, const struct live_bands *bands)
{
	struct live_session s = { .link = link };
	guint sig_int, sig_term;

	for (unsigned o = 0; o < ZONE_COUNT; o++) {
		const struct zone_info *z = zone_by_order(o);

		if (z && z->zclass == ZONE_CLASS_FACE)
			s.face_zones[s.face_zone_count++] = z->id;
	}
	s.model.zone_total = s.face_zone_count;
	s.model.battery_pct = -1;
	s.model.target_per_direction = bands->target_per_direction;
	s.model.light_below_cn = bands->light_below_cn;
	s.model.target_up_to_cn = bands->target_up_to_cn;
	s.model.warn_above_cn = bands->warn_above_cn;
	set_message(&s, "Connecting to the roller...");

	s.loop = g_main_loop_new(NULL, FALSE);
	link_set_handler(link, &handler, &s);
	live_screen_open();
	s.redraw_timer = g_timeout_add(REDRAW_MS, on_redraw, &s);
	s.stdin_watch = g_unix_fd_add(0, G_IO_IN, on_key, &s);
	sig_int = g_unix_signal_add(SIGINT, on_quit_signal, &s);
	sig_term = g_unix_signal_add(SIGTERM, on_quit_signal, &s);

	g_main_loop_run(s.loop);

	g_source_remove(s.redraw_timer);
	g_source_remove(s.stdin_watch);
	g_source_remove(sig_int);
	g_source_remove(sig_term);
	link_set_handler(link, NULL, NULL);
	live_screen_close();
	g_main_loop_unref(s.loop);
	return 0;
}
