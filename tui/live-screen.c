/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Draws the live screen.  The only file of the program that calls curses.
 */
#include <locale.h>
#include <stdlib.h>

#include <curses.h>

#include "live-screen.h"

/* Gauge full scale: a little over the warning band, so "too hard" shows. */
#define GAUGE_MAX_CN 800

enum pair { PAIR_TITLE = 1, PAIR_GOOD, PAIR_WARN, PAIR_BAD, PAIR_DIM };

static bool use_colour;

void live_screen_open(void)
{
	setlocale(LC_ALL, "");
	initscr();
	cbreak();
	noecho();
	curs_set(0);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	use_colour = has_colors() && !getenv("NO_COLOR");
	if (use_colour) {
		start_color();
		use_default_colors();
		init_pair(PAIR_TITLE, COLOR_CYAN, -1);
		init_pair(PAIR_GOOD, COLOR_GREEN, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_BAD, COLOR_RED, -1);
		init_pair(PAIR_DIM, COLOR_BLUE, -1);
	}
}

int live_screen_key(void)
{
	int ch = getch();

	return ch == ERR ? -1 : ch;
}

void live_screen_close(void)
{
	if (!isendwin())
		endwin();
}

/* Colour when we have it; bold or reverse carries the meaning without. */
static attr_t look(enum pair pair, attr_t mono)
{
	return use_colour ? COLOR_PAIR(pair) | (pair == PAIR_BAD ? A_BOLD : 0) : mono;
}

static enum pair band_pair(const struct live_model *m, uint16_t cn)
{
	if (cn > m->warn_above_cn)
		return PAIR_BAD;
	if (cn < m->light_below_cn || cn > m->target_up_to_cn)
		return PAIR_WARN;
	return PAIR_GOOD;
}

static void draw_gauge(const struct live_model *m, int y, int width)
{
	int bar = width - 24;
	int fill = (int)((long)MIN(m->force_cn, GAUGE_MAX_CN) * bar / GAUGE_MAX_CN);
	int light = m->light_below_cn * bar / GAUGE_MAX_CN;
	int target = m->target_up_to_cn * bar / GAUGE_MAX_CN;
	int warn = m->warn_above_cn * bar / GAUGE_MAX_CN;

	mvprintw(y, 2, "Pressure");
	move(y, 12);
	addch('[');
	for (int i = 0; i < bar; i++) {
		chtype c = i < fill ? '#' : (i == light || i == target || i == warn) ? '|' : ' ';
		enum pair p = i < light ? PAIR_WARN : i < target ? PAIR_GOOD :
			      i < warn ? PAIR_WARN : PAIR_BAD;

		attron(look(p, i < fill ? A_BOLD : A_NORMAL));
		addch(c);
		attroff(look(p, i < fill ? A_BOLD : A_NORMAL));
	}
	addch(']');
	attron(look(band_pair(m, m->force_cn), A_BOLD));
	printw(" %4.1f N", m->force_cn / 100.0);
	attroff(look(band_pair(m, m->force_cn), A_BOLD));
	mvprintw(y + 1, 12, "too light < %.1f N   target %.1f-%.1f N   too hard > %.1f N",
		 m->light_below_cn / 100.0, m->light_below_cn / 100.0,
		 m->target_up_to_cn / 100.0, m->warn_above_cn / 100.0);
	mvprintw(y + 2, 12, "peak on this zone %.1f N", m->peak_cn / 100.0);
}

static void draw_counts(const struct live_model *m, int y)
{
	mvprintw(y, 2, "Passes");
	for (int d = 0; d < ZONE_DIR_COUNT; d++) {
		bool done = m->passes[d] >= m->target_per_direction;

		mvprintw(y, 12 + d * 20, "%-10s ", zone_dir_name(d));
		attron(look(done ? PAIR_GOOD : PAIR_TITLE, done ? A_BOLD : A_NORMAL));
		printw("%u / %u", m->passes[d], m->target_per_direction);
		attroff(look(done ? PAIR_GOOD : PAIR_TITLE, done ? A_BOLD : A_NORMAL));
	}
}

static void draw_last_pass(const struct live_model *m, int y)
{
	const struct dp_pass *p = &m->last_pass;

	if (!m->have_pass) {
		mvprintw(y, 2, "Last pass  none yet: roll the roller over the skin");
		return;
	}
	mvprintw(y, 2, "Last pass  %s, %u mm in %.1f s, mean %.1f N, peak %.1f N",
		 zone_dir_name(m->last_pass_class), p->distance_mm,
		 p->duration_ms / 1000.0, p->mean_force_cn / 100.0, p->peak_force_cn / 100.0);
	if (p->over_warn_ms) {
		attron(look(PAIR_BAD, A_REVERSE));
		mvprintw(y + 1, 13, " Too hard for %.1f s: press more lightly. ",
			 p->over_warn_ms / 1000.0);
		attroff(look(PAIR_BAD, A_REVERSE));
	}
}

void live_screen_draw(const struct live_model *m, gint64 now_us)
{
	int width = MAX(COLS, 60);
	gint64 elapsed = m->started_us ? (now_us - m->started_us) / G_USEC_PER_SEC : 0;

	erase();
	attron(look(PAIR_TITLE, A_BOLD) | A_BOLD);
	mvprintw(0, 0, " dermaroll");
	attroff(look(PAIR_TITLE, A_BOLD) | A_BOLD);
	if (m->connected)
		printw("   %s   needle %.2f mm   head used %u times   battery %d%%",
		       m->roller, m->needle_um / 1000.0, m->head_uses, MAX(m->battery_pct, 0));
	else
		printw("   no roller connected");
	mvhline(1, 0, ACS_HLINE, width);

	if (m->zone) {
		attron(A_BOLD);
		mvprintw(3, 2, "Zone %u of %u: %s", m->zone_number, m->zone_total,
			 zone_get(m->zone)->label);
		attroff(A_BOLD);
		mvprintw(3, width - 18, "time %02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT,
			 elapsed / 60, elapsed % 60);
		draw_counts(m, 5);
		draw_gauge(m, 7, width);
		draw_last_pass(m, 11);
		if (m->too_hard)
			mvprintw(13, 2, "Passes too hard on this zone: %u", m->too_hard);
	}
	if (m->finished) {
		attron(look(PAIR_GOOD, A_BOLD) | A_BOLD);
		mvprintw(15, 2, "Demo routine done: every face zone has its passes. Press q to quit.");
		attroff(look(PAIR_GOOD, A_BOLD) | A_BOLD);
	}
	mvprintw(17, 2, "%s", m->message);
	attron(look(PAIR_DIM, A_DIM));
	mvprintw(LINES - 2, 2, "link: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
		 " missing, %" G_GUINT64_FORMAT " malformed, %" G_GUINT64_FORMAT " repeated",
		 m->counters.stream_frames, m->counters.missing_frames,
		 m->counters.malformed, m->counters.replays);
	attroff(look(PAIR_DIM, A_DIM));
	mvprintw(LINES - 1, 2, "q quit");
	refresh();
}
