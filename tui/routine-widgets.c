/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parts of the routine screen (view-routine.c) that show the roller's
 * work: the face map, the pass counters and the pressure gauge.  They draw
 * through struct draw, like every view.
 */
#include "routine-widgets.h"

/* The gauge's full scale: room above the warning band to show how far
 * over it a hand went. */
#define GAUGE_MIN_SCALE_CN 800
/* Below this the roller rests on nothing: the sensor's noise when lifted
 * is a few cN (and contact starts at 30 cN, PROTOCOL.md §11.2). */
#define OFF_SKIN_CN 20

/* ---- The face map ---- */

/* The outline, as in a mirror: the left cheek on the left. */
static const char *const face[] = {
	"     .--------------------.",
	"    /                      \\",
	"   |                        |",
	"   |                        |",
	"   |                        |",
	"   |                        |",
	"   |                        |",
	"    \\                      /",
	"     '--------------------'",
	"",
};

static const struct {
	enum dp_zone zone;
	int row, col;                /* of the mark, in the map */
	const char *text;            /* beside the mark */
	const char *second;          /* the line below, under the text */
} places[] = {
	{ DP_ZONE_FOREHEAD, 1, 9, "Forehead", NULL },
	{ DP_ZONE_LEFT_CHEEK, 3, 5, "Left", "cheek" },
	{ DP_ZONE_RIGHT_CHEEK, 3, 18, "Right", "cheek" },
	{ DP_ZONE_NOSE, 5, 12, "Nose", NULL },
	{ DP_ZONE_UPPER_LIP, 6, 9, "Upper lip", NULL },
	{ DP_ZONE_CHIN, 7, 12, "Chin", NULL },
	{ DP_ZONE_NECK, 9, 12, "Neck", NULL },
};

/* The mark of a zone: what the legend explains. */
static char zone_mark(enum engine_zone_status status)
{
	switch (status) {
	case ENGINE_ZONE_ACTIVE:
		return '>';
	case ENGINE_ZONE_LOCKED:
		return 'x';
	case ENGINE_ZONE_DONE:
		return 'v';
	case ENGINE_ZONE_SKIPPED:
		return '-';
	case ENGINE_ZONE_PENDING:
	case ENGINE_ZONE_NOT_SELECTED:
		break;
	}
	return ' ';
}

static enum style zone_style(struct tui *tui, const struct engine_zone_counts *c)
{
	if (c->zone == engine_current_zone(tui->engine))
		return STYLE_LIT;
	switch (c->status) {
	case ENGINE_ZONE_LOCKED:
		return STYLE_LOCKED;
	case ENGINE_ZONE_DONE:
		return STYLE_GOOD;
	case ENGINE_ZONE_SKIPPED:
	case ENGINE_ZONE_NOT_SELECTED:
		return STYLE_DIM;
	default:
		return STYLE_NORMAL;
	}
}

/* "[>] Nose" at (row, col); a zone not in this routine has no mark. */
static int draw_zone_label(struct tui *tui, struct draw *d, int row, int col,
			   int zone, const char *text)
{
	const struct engine_zone_counts *c = engine_zone_counts(tui->engine, zone);
	enum style style = zone_style(tui, c);
	char mark[5] = "    ";

	if (c->status != ENGINE_ZONE_NOT_SELECTED)
		g_snprintf(mark, sizeof(mark), "[%c] ", zone_mark(c->status));
	col = draw_text(d, row, col, style, mark);
	return draw_text(d, row, col, style, text);
}

int routine_map(struct tui *tui, struct draw *d, int top, int left)
{
	for (size_t i = 0; i < G_N_ELEMENTS(face); i++)
		draw_text(d, top + (int)i, left, STYLE_DIM, face[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(places); i++) {
		int row = top + places[i].row, col = left + places[i].col;
		const struct engine_zone_counts *c =
			engine_zone_counts(tui->engine, places[i].zone);

		draw_zone_label(tui, d, row, col, places[i].zone, places[i].text);
		if (places[i].second)
			draw_text(d, row + 1, col + 4, zone_style(tui, c), places[i].second);
	}
	return (int)G_N_ELEMENTS(face);
}

int routine_body_zones(struct tui *tui, struct draw *d, int row, int col)
{
	bool any = false;

	for (int z = 1; z <= ZONE_COUNT; z++) {
		const struct zone_info *zi = zone_get(z);

		if (zi->zclass == ZONE_CLASS_FACE ||
		    engine_zone_counts(tui->engine, z)->status == ENGINE_ZONE_NOT_SELECTED)
			continue;
		if (!any)
			col = draw_text(d, row, col, STYLE_DIM, "Also: ");
		any = true;
		col = draw_zone_label(tui, d, row, col, z, zi->label) + 2;
	}
	return any ? 1 : 0;
}

/* ---- The passes and the pressure ---- */

void routine_passes(struct tui *tui, struct draw *d, int row, int left, int zone)
{
	const struct engine_zone_counts *c = engine_zone_counts(tui->engine, zone);
	struct policy_passes pp;

	policy_get_passes(tui->opts.policy, zone, &pp);
	draw_text(d, row, left, STYLE_TITLE, "Passes");
	draw_printf(d, row, left + 8, STYLE_DIM, "target %u each way, at most %u",
		    pp.target_per_direction, pp.max_per_direction);
	for (int dir = 0; dir < ZONE_DIR_COUNT; dir++) {
		unsigned int n = c->passes[dir];
		enum style style = n > pp.max_per_direction ? STYLE_BAD :
			n >= pp.target_per_direction ? STYLE_GOOD : STYLE_NORMAL;
		int r = row + 1 + dir, col = left + 2;
		g_autofree char *name = g_strdup(zone_dir_name((enum zone_dir)dir));

		name[0] = g_ascii_toupper(name[0]);
		if (tui->opts.roller && tui->hand.dir == (enum zone_dir)dir)
			draw_text(d, r, left, STYLE_KEY, ">");
		draw_text(d, r, col, STYLE_NORMAL, name);
		col += 12;
		col = draw_text(d, r, col, STYLE_NORMAL, "[");
		for (unsigned int i = 0; i < pp.max_per_direction; i++)
			col = draw_text(d, r, col, i < n ? style : STYLE_DIM,
					i < n ? "#" : i < pp.target_per_direction ? "." : ":");
		col = draw_text(d, r, col, STYLE_NORMAL, "]");
		col = draw_printf(d, r, col + 1, style, "%2u/%u", n, pp.target_per_direction);
		if (n > pp.max_per_direction)
			draw_text(d, r, col + 1, STYLE_BAD, "OVER THE MAXIMUM");
		else if (n >= pp.target_per_direction)
			draw_text(d, r, col + 1, STYLE_GOOD, "done");
	}
	draw_printf(d, row + 4, left + 2, c->total > pp.max_per_zone ? STYLE_BAD : STYLE_NORMAL,
		    "%u pass%s on this zone, at most %u", c->total,
		    c->total == 1 ? "" : "es", pp.max_per_zone);
}

static enum style band_style(enum policy_pressure band, bool filled)
{
	static const enum style bands[2][4] = {
		{ STYLE_GAUGE_LIGHT, STYLE_GAUGE_TARGET, STYLE_GAUGE_HIGH, STYLE_GAUGE_HARD },
		{ STYLE_FILL_LIGHT, STYLE_FILL_TARGET, STYLE_FILL_HIGH, STYLE_FILL_HARD },
	};

	return bands[filled][(unsigned int)band < 4 ? band : 0];
}

const char *routine_band_words(enum policy_pressure band)
{
	switch (band) {
	case POLICY_PRESSURE_TOO_LIGHT:
		return "too light";
	case POLICY_PRESSURE_TARGET:
		return "on target";
	case POLICY_PRESSURE_HIGH:
		return "high";
	case POLICY_PRESSURE_TOO_HARD:
		return "TOO HARD";
	}
	return "";
}

/*
 * Pressure  2.5 N on target   peak 3.1 N
 * [####======================+++++!!!!!!!!!!!!] 8 N
 *  light < 1.0 N   target 1.0-4.0 N   too hard > 5.0 N
 * Unfilled cells show their band as a character, so the bands read in
 * monochrome too: . too light, = target, + high, ! too hard.
 */
void routine_gauge(struct tui *tui, struct draw *d, int row, int left)
{
	const struct policy *policy = tui->opts.policy;
	struct policy_pressure_bands b;
	unsigned int now = tui->have_force && tui->force.last_cn >= OFF_SKIN_CN ?
		tui->force.last_cn : 0;
	unsigned int peak = tui->zone_peak_cn;
	enum policy_pressure band = policy_classify_force(policy, now);
	int width = d->cols - left - 8;
	unsigned int scale;
	char n1[16], n2[16], n3[16], n4[16];
	int col;

	policy_get_pressure_bands(policy, &b);
	scale = MAX(GAUGE_MIN_SCALE_CN, (b.warn_above_cn * 8 / 5 + 99) / 100 * 100);
	draw_text(d, row, left, STYLE_TITLE, "Pressure");
	col = draw_printf(d, row, left + 10, band == POLICY_PRESSURE_TOO_HARD ?
			  STYLE_BAD : STYLE_NORMAL, "%s N %s", draw_newton(n1, now),
			  now ? routine_band_words(band) : "off the skin");
	draw_printf(d, row, MAX(col + 3, left + 30),
		    policy_classify_force(policy, peak) == POLICY_PRESSURE_TOO_HARD ?
		    STYLE_BAD : STYLE_NORMAL, "peak %s N", draw_newton(n1, peak));

	col = draw_text(d, row + 1, left, STYLE_NORMAL, "[");
	for (int i = 0; i < width; i++) {
		unsigned int from = (unsigned int)((guint64)i * scale / (guint)width);
		unsigned int to = (unsigned int)((guint64)(i + 1) * scale / (guint)width);
		enum policy_pressure cb = policy_classify_force(policy, from);
		static const char chars[] = ".=+!";
		char cell[2] = { chars[cb], '\0' };
		bool filled = now > from;

		if (filled)
			cell[0] = '#';
		else if (peak >= OFF_SKIN_CN && peak >= from && peak < to)
			cell[0] = '|';
		col = draw_text(d, row + 1, col, band_style(cb, filled), cell);
	}
	col = draw_text(d, row + 1, col, STYLE_NORMAL, "]");
	draw_printf(d, row + 1, col + 1, STYLE_DIM, "%u N", scale / 100);
	draw_printf(d, row + 2, left + 1, STYLE_DIM,
		    "light < %s N  target %s-%s N  hard > %s N",
		    draw_newton(n1, b.too_light_below_cn), draw_newton(n2, b.too_light_below_cn),
		    draw_newton(n3, b.target_max_cn),
		    draw_newton(n4, b.warn_above_cn));
}
