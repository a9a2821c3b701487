/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The drawing interface of the views: text at a row and column in a
 * style.  Views never call curses; the display layer (display.c) draws
 * through curses, the tests into a text buffer that they dump and compare.
 *
 * A style names what a cell means (a warning, the lit zone), not how it
 * looks: draw_style_look() says how, in colour and on a monochrome
 * terminal, for both layers alike.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

enum style {
	STYLE_NORMAL,
	STYLE_BAR,              /* title and key bars */
	STYLE_TITLE,            /* headings */
	STYLE_DIM,              /* secondary text */
	STYLE_KEY,              /* a key in a hint */
	STYLE_GOOD,             /* done, target reached */
	STYLE_WARN,             /* needs attention */
	STYLE_BAD,              /* over a limit */
	STYLE_ALERT,            /* the warning banner: never missed */
	STYLE_LIT,              /* the zone being treated */
	STYLE_LOCKED,           /* a zone the policy refuses */
	STYLE_INPUT,            /* text being typed */
	STYLE_GAUGE_LIGHT,      /* pressure bands on the gauge */
	STYLE_GAUGE_TARGET,
	STYLE_GAUGE_HIGH,
	STYLE_GAUGE_HARD,
	STYLE_FILL_LIGHT,       /* the gauge filled up to the force now */
	STYLE_FILL_TARGET,
	STYLE_FILL_HIGH,
	STYLE_FILL_HARD,
	STYLE_HEAT_LOW,         /* the history's heat map: few passes that day */
	STYLE_HEAT_MID,
	STYLE_HEAT_HIGH,        /* the most */
};
#define STYLE_COUNT (STYLE_HEAT_HIGH + 1)

enum look_colour {
	LOOK_DEFAULT = -1,
	LOOK_BLACK, LOOK_RED, LOOK_GREEN, LOOK_YELLOW,
	LOOK_BLUE, LOOK_MAGENTA, LOOK_CYAN, LOOK_WHITE,
};

#define LOOK_BOLD      (1u << 0)
#define LOOK_REVERSE   (1u << 1)
#define LOOK_UNDERLINE (1u << 2)
#define LOOK_DIM       (1u << 3)

struct style_look {
	enum look_colour fg, bg;
	unsigned int attrs;          /* with colour */
	unsigned int mono;           /* without: attributes carry the meaning */
	char code;                   /* one letter for screen dumps */
};

const struct style_look *draw_style_look(enum style style);

struct draw_ops {
	/* @text is UTF-8, one cell per character, already clipped to the
	 * screen. */
	void (*text)(void *ctx, int row, int col, enum style style, const char *text);
};

struct draw {
	const struct draw_ops *ops;
	void *ctx;
	int rows, cols;
	bool colour;
};

/* Text at (@row, @col), clipped to the screen; returns the column after it. */
int draw_text(struct draw *d, int row, int col, enum style style, const char *text);
int draw_printf(struct draw *d, int row, int col, enum style style,
		const char *fmt, ...) G_GNUC_PRINTF(5, 6);
/* @n copies of the character @c. */
void draw_fill(struct draw *d, int row, int col, int n, enum style style, char c);
/* @text wrapped at spaces into lines of at most @width characters, from
 * @row on, at most @max_rows lines; returns the lines used. */
int draw_wrap(struct draw *d, int row, int col, int width, int max_rows,
	      enum style style, const char *text);
/* How many lines draw_wrap() would use. */
int draw_wrap_lines(int width, const char *text);

/*
 * A window on a taller page: rows @top..@bottom of @parent show the page
 * from line @scroll on.  Draw into @window with page rows.
 */
struct draw_window {
	struct draw draw;
	struct draw *parent;
	int top, bottom, scroll;
};
void draw_window_init(struct draw_window *w, struct draw *parent, int top,
		      int bottom, int scroll);

/* Force for people, to a tenth of a newton: 256 cN -> "2.6". */
char *draw_newton(char buf[16], unsigned int cn);
