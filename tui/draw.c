/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The drawing helpers (draw.h): clipping, wrapping, and the looks of the
 * styles.  No curses here.
 */
#include <stdarg.h>
#include <string.h>

#include "draw.h"

/* Colour where the terminal has it; without, reverse marks what must not
 * be missed and bold what matters (the text says it in words too). */
static const struct style_look looks[STYLE_COUNT] = {
	[STYLE_NORMAL] = { LOOK_DEFAULT, LOOK_DEFAULT, 0, 0, ' ' },
	[STYLE_BAR] = { LOOK_WHITE, LOOK_BLUE, LOOK_BOLD, LOOK_REVERSE, 'B' },
	[STYLE_TITLE] = { LOOK_CYAN, LOOK_DEFAULT, LOOK_BOLD, LOOK_BOLD, 'T' },
	[STYLE_DIM] = { LOOK_BLUE, LOOK_DEFAULT, 0, LOOK_DIM, 'd' },
	[STYLE_KEY] = { LOOK_YELLOW, LOOK_DEFAULT, LOOK_BOLD, LOOK_BOLD, 'k' },
	[STYLE_GOOD] = { LOOK_GREEN, LOOK_DEFAULT, LOOK_BOLD, LOOK_BOLD, 'g' },
	[STYLE_WARN] = { LOOK_YELLOW, LOOK_DEFAULT, LOOK_BOLD, LOOK_UNDERLINE, 'w' },
	[STYLE_BAD] = { LOOK_RED, LOOK_DEFAULT, LOOK_BOLD, LOOK_BOLD | LOOK_UNDERLINE, 'b' },
	[STYLE_ALERT] = { LOOK_WHITE, LOOK_RED, LOOK_BOLD, LOOK_REVERSE | LOOK_BOLD, 'A' },
	[STYLE_LIT] = { LOOK_BLACK, LOOK_YELLOW, LOOK_BOLD, LOOK_REVERSE, 'L' },
	[STYLE_LOCKED] = { LOOK_RED, LOOK_DEFAULT, 0, LOOK_UNDERLINE, 'x' },
	[STYLE_INPUT] = { LOOK_DEFAULT, LOOK_DEFAULT, LOOK_UNDERLINE, LOOK_UNDERLINE, 'i' },
	[STYLE_GAUGE_LIGHT] = { LOOK_YELLOW, LOOK_DEFAULT, 0, 0, 'l' },
	[STYLE_GAUGE_TARGET] = { LOOK_GREEN, LOOK_DEFAULT, 0, 0, 't' },
	[STYLE_GAUGE_HIGH] = { LOOK_YELLOW, LOOK_DEFAULT, 0, 0, 'h' },
	[STYLE_GAUGE_HARD] = { LOOK_RED, LOOK_DEFAULT, 0, 0, 'r' },
	[STYLE_FILL_LIGHT] = { LOOK_BLACK, LOOK_YELLOW, 0, LOOK_REVERSE, '1' },
	[STYLE_FILL_TARGET] = { LOOK_BLACK, LOOK_GREEN, 0, LOOK_REVERSE, '2' },
	[STYLE_FILL_HIGH] = { LOOK_BLACK, LOOK_YELLOW, LOOK_BOLD, LOOK_REVERSE, '3' },
	[STYLE_FILL_HARD] = { LOOK_WHITE, LOOK_RED, LOOK_BOLD, LOOK_REVERSE | LOOK_BOLD, '4' },
	[STYLE_HEAT_LOW] = { LOOK_GREEN, LOOK_DEFAULT, 0, LOOK_DIM, '5' },
	[STYLE_HEAT_MID] = { LOOK_GREEN, LOOK_DEFAULT, LOOK_BOLD, LOOK_BOLD, '6' },
	[STYLE_HEAT_HIGH] = { LOOK_BLACK, LOOK_GREEN, 0, LOOK_REVERSE, '7' },
};

const struct style_look *draw_style_look(enum style style)
{
	return &looks[(unsigned int)style < STYLE_COUNT ? style : STYLE_NORMAL];
}

int draw_text(struct draw *d, int row, int col, enum style style, const char *text)
{
	const char *end = text;
	int n = 0, room;
	char *part;

	if (row < 0 || row >= d->rows || col >= d->cols || !text)
		return col;
	/* Characters left of the screen are cut off. */
	while (col < 0 && *text) {
		text = g_utf8_next_char(text);
		col++;
	}
	room = d->cols - col;
	for (end = text; *end && n < room; end = g_utf8_next_char(end))
		n++;
	if (!n)
		return col;
	part = g_strndup(text, (gsize)(end - text));
	d->ops->text(d->ctx, row, col, style, part);
	g_free(part);
	return col + n;
}

int draw_printf(struct draw *d, int row, int col, enum style style,
		const char *fmt, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return draw_text(d, row, col, style, text);
}

void draw_fill(struct draw *d, int row, int col, int n, enum style style, char c)
{
	char *text;

	if (n <= 0)
		return;
	text = g_malloc((gsize)n + 1);
	memset(text, c, (size_t)n);
	text[n] = '\0';
	draw_text(d, row, col, style, text);
	g_free(text);
}

/* The next line of @text: at most @width characters, broken after the last
 * space that fits (or hard, for a word longer than the line).  Returns the
 * line's length in bytes and sets *next past it and its spaces. */
static size_t next_line(const char *text, int width, const char **next)
{
	const char *p = text, *brk = NULL;
	int n = 0;

	while (*p && n < width) {
		if (*p == ' ')
			brk = p;
		p = g_utf8_next_char(p);
		n++;
	}
	if (!*p || *p == ' ' || !brk)
		brk = p;
	*next = brk;
	while (**next == ' ')
		(*next)++;
	return (size_t)(brk - text);
}

int draw_wrap(struct draw *d, int row, int col, int width, int max_rows,
	      enum style style, const char *text)
{
	int lines = 0;

	if (width <= 0)
		return 0;
	while (*text && lines < max_rows) {
		const char *next;
		size_t len = next_line(text, width, &next);
		g_autofree char *line = g_strndup(text, len);

		draw_text(d, row + lines, col, style, line);
		lines++;
		text = next;
	}
	return lines;
}

int draw_wrap_lines(int width, const char *text)
{
	int lines = 0;

	if (width <= 0)
		return 0;
	while (*text) {
		const char *next;

		next_line(text, width, &next);
		lines++;
		text = next;
	}
	return lines;
}

char *draw_newton(char buf[16], unsigned int cn)
{
	unsigned int tenths = (cn + 5) / 10;

	g_snprintf(buf, 16, "%u.%u", tenths / 10, tenths % 10);
	return buf;
}

static void window_text(void *ctx, int row, int col, enum style style, const char *text)
{
	struct draw_window *w = ctx;
	int at = w->top + row - w->scroll;

	if (at >= w->top && at <= w->bottom)
		draw_text(w->parent, at, col, style, text);
}

static const struct draw_ops window_ops = {
	.text = window_text,
};

void draw_window_init(struct draw_window *w, struct draw *parent, int top,
		      int bottom, int scroll)
{
	w->parent = parent;
	w->top = top;
	w->bottom = bottom;
	w->scroll = scroll;
	w->draw.ops = &window_ops;
	w->draw.ctx = w;
	/* Rows are page lines: as many as anyone draws. */
	w->draw.rows = G_MAXINT / 2;
	w->draw.cols = parent->cols;
	w->draw.colour = parent->colour;
}
