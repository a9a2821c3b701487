/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The help screen: every key, made from the request table (request.h), so
 * it cannot miss one.
 */
#include "view.h"

struct help_view {
	int scroll;
	int lines;                   /* of the page, at the last draw */
	int height;                  /* rows the page had */
};

/* Draws the page; returns its length in lines. */
static int draw_page(struct draw *d)
{
	size_t count;
	const struct request_info *table = request_table(&count);
	int row = 0;

	for (int g = 0; g < REQUEST_GROUP_COUNT; g++) {
		if (g)
			row++;
		draw_text(d, row++, 1, STYLE_TITLE, request_group_title((enum request_group)g));
		for (size_t i = 0; i < count; i++) {
			char buf[16];

			if (table[i].group != (enum request_group)g)
				continue;
			draw_text(d, row, 3, STYLE_KEY, keymap_key_name(table[i].key, buf, sizeof(buf)));
			row += draw_wrap(d, row, 15, d->cols - 16, 3, STYLE_NORMAL, table[i].help);
		}
	}
	row++;
	draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_DIM,
		  "While you type an override reason, a roller's name or an adapter, every "
		  "key is text: Enter ends it, Esc cancels it.");
	return row + 2;
}

static void help_draw(struct tui *tui, void *priv, struct draw *d)
{
	struct help_view *v = priv;
	struct draw_window w;
	const char *keys = "q close  j/k scroll";
	int scroll;

	tui_draw_title(tui, d, "help");
	/* The page may be shorter at this size than the scroll: it is kept
	 * for the next size, and clamped here. */
	v->height = d->rows - 4;
	scroll = CLAMP(v->scroll, 0, MAX(v->lines - v->height, 0));
	draw_window_init(&w, d, 2, d->rows - 3, scroll);
	v->lines = draw_page(&w.draw);
	if (v->lines > v->height)
		keys = scroll + v->height < v->lines ? "q close  j/k scroll (more below)" :
			"q close  j/k scroll";
	tui_draw_keys(tui, d, keys);
}

static bool help_request(struct tui *tui, void *priv, enum request req)
{
	struct help_view *v = priv;

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
		tui_close_view(tui);
		break;
	case REQ_HELP:
	case REQ_REDRAW:
		break;
	default:
		/* Keys of other screens do nothing here. */
		return true;
	}
	tui_changed(tui);
	return true;
}

static void help_open(struct tui *tui, void *priv)
{
	((struct help_view *)priv)->scroll = 0;
}

const struct view_ops help_view_ops = {
	.name = "help",
	.private_size = sizeof(struct help_view),
	.open = help_open,
	.draw = help_draw,
	.request = help_request,
};
