/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scenario files (scenario.h; the user's view is doc/roller-sim.md).
 * Every line is checked as it is read, and every error names the file and
 * the line.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "scenario.h"

G_DEFINE_QUARK(scenario-error-quark, scenario_error)

#define REPEAT_MAX 10000
#define NESTING_MAX 8

static const char *const zone_names[] = {
	[DP_ZONE_NONE] = "none",
	[DP_ZONE_FOREHEAD] = "forehead",
	[DP_ZONE_LEFT_CHEEK] = "left-cheek",
	[DP_ZONE_RIGHT_CHEEK] = "right-cheek",
	[DP_ZONE_NOSE] = "nose",
	[DP_ZONE_CHIN] = "chin",
	[DP_ZONE_UPPER_LIP] = "upper-lip",
	[DP_ZONE_NECK] = "neck",
	[DP_ZONE_DECOLLETAGE] = "decolletage",
	[DP_ZONE_HANDS] = "hands",
	[DP_ZONE_SCALP] = "scalp",
};

const char *scenario_zone_name(guint8 zone)
{
	return zone < G_N_ELEMENTS(zone_names) ? zone_names[zone] : NULL;
}

gboolean scenario_zone_from_name(const char *name, guint8 *zone)
{
	g_autofree char *norm = g_ascii_strdown(name, -1);

	g_strdelimit(norm, "_", '-');
	for (guint i = 0; i < G_N_ELEMENTS(zone_names); i++) {
		if (g_str_equal(norm, zone_names[i])) {
			*zone = (guint8)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* Keys of roll, back-and-forth, set, pause and wait lines. */
enum key_id {
	K_ZONE, K_DIR, K_ANGLE, K_DISTANCE, K_SPEED, K_FORCE,
	K_LIFT_AT, K_HESITATE_AT, K_HESITATE_MS, K_MS, K_COUNT_
};

enum key_kind { KIND_NUMBER, KIND_ZONE, KIND_DIR, KIND_ANGLE, KIND_FORCE };

static const struct key_def {
	const char *name;
	enum key_kind kind;
	guint64 min, max;
	const char *unit;
} keys[K_COUNT_] = {
	[K_ZONE] = { "zone", KIND_ZONE, 0, DP_ZONE_MAX, "" },
	[K_DIR] = { "dir", KIND_DIR, 1, 2, "" },
	[K_ANGLE] = { "angle", KIND_ANGLE, 0, 179, " degrees" },
	[K_DISTANCE] = { "distance", KIND_NUMBER, 1, 500, " mm" },
	[K_SPEED] = { "speed", KIND_NUMBER, 5, 500, " mm/s" },
	[K_FORCE] = { "force", KIND_FORCE, 0, 3000, " cN" },
	[K_LIFT_AT] = { "lift_at", KIND_NUMBER, 1, 499, " mm" },
	[K_HESITATE_AT] = { "hesitate_at", KIND_NUMBER, 1, 499, " mm" },
	[K_HESITATE_MS] = { "hesitate_ms", KIND_NUMBER, 1, 60000, " ms" },
	[K_MS] = { "ms", KIND_NUMBER, 1, 3600000, " ms" },
};

#define STROKE_KEYS ((1u << K_ZONE) | (1u << K_DIR) | (1u << K_ANGLE) | \
		     (1u << K_DISTANCE) | (1u << K_SPEED) | (1u << K_FORCE) | \
		     (1u << K_LIFT_AT) | (1u << K_HESITATE_AT) | (1u << K_HESITATE_MS))
#define STROKE_REQUIRED ((1u << K_DIR) | (1u << K_ANGLE) | (1u << K_DISTANCE) | \
			 (1u << K_SPEED) | (1u << K_FORCE))

struct fields {
	guint32 have;                /* 1 << enum key_id */
	guint32 val[K_COUNT_];
};

struct item {
	gboolean is_wait;
	guint8 wait_zone;
	struct dp_stroke stroke;
};

struct repeat_frame {
	guint start;                 /* first item of the body */
	guint count;
	guint line;
};

struct parser {
	const char *name;
	guint line;
	GArray *items;               /* struct item */
	struct fields defaults;
	struct repeat_frame stack[NESTING_MAX];
	guint depth;
	GError **error;
};

G_GNUC_PRINTF(3, 4)
static gboolean fail(struct parser *p, enum scenario_error code, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(p->error, SCENARIO_ERROR, code, "%s:%u: %s", p->name, p->line, msg);
	return FALSE;
}

/* A whole unsigned decimal number, range-checked. */
static gboolean parse_uint(struct parser *p, const char *what, const char *s,
			   guint64 min, guint64 max, const char *unit, guint64 *out)
{
	guint64 v;
	char *end = NULL;

	if (!g_ascii_isdigit(s[0]))
		return fail(p, SCENARIO_ERROR_NUMBER, "%s: '%s' is not a number", what, s);
	errno = 0;
	v = g_ascii_strtoull(s, &end, 10);
	if (*end)
		return fail(p, SCENARIO_ERROR_NUMBER, "%s: '%s' is not a number", what, s);
	if (errno == ERANGE || v < min || v > max)
		return fail(p, SCENARIO_ERROR_RANGE, "%s must be between %" G_GUINT64_FORMAT
			    " and %" G_GUINT64_FORMAT "%s, not %s", what, min, max, unit, s);
	*out = v;
	return TRUE;
}

/* force=250 (centinewtons), force=250cN or force=2.5N. */
static gboolean parse_force(struct parser *p, const struct key_def *k, const char *s,
			    guint64 *out)
{
	g_autofree char *num = g_strdup(s);
	size_t n = strlen(num);
	double v;
	char *end = NULL;

	if (n > 2 && g_ascii_strcasecmp(num + n - 2, "cN") == 0) {
		num[n - 2] = '\0';
	} else if (n > 1 && (num[n - 1] == 'N' || num[n - 1] == 'n')) {
		num[n - 1] = '\0';
		if (!g_ascii_isdigit(num[0]))
			return fail(p, SCENARIO_ERROR_NUMBER, "force: '%s' is not a number", s);
		v = g_ascii_strtod(num, &end);
		if (*end || !isfinite(v))
			return fail(p, SCENARIO_ERROR_NUMBER, "force: '%s' is not a number", s);
		if (v < 0.0 || v * 100.0 > (double)k->max)
			return fail(p, SCENARIO_ERROR_RANGE,
				    "force must be between 0 and %.1f N, not %s",
				    k->max / 100.0, s);
		*out = (guint64)lround(v * 100.0);
		return TRUE;
	}
	return parse_uint(p, "force", num, k->min, k->max, " cN", out);
}

static gboolean parse_value(struct parser *p, enum key_id id, const char *s, guint32 *out)
{
	const struct key_def *k = &keys[id];
	guint64 v = 0;
	guint8 zone;

	switch (k->kind) {
	case KIND_ZONE:
		if (!scenario_zone_from_name(s, &zone))
			return fail(p, SCENARIO_ERROR_ZONE,
				    "unknown zone '%s' (forehead, left-cheek, right-cheek, nose, "
				    "chin, upper-lip, neck, decolletage, hands, scalp or none)", s);
		*out = zone;
		return TRUE;
	case KIND_DIR:
		if (g_str_equal(s, "forward"))
			*out = DP_DIR_FORWARD;
		else if (g_str_equal(s, "backward"))
			*out = DP_DIR_BACKWARD;
		else
			return fail(p, SCENARIO_ERROR_VALUE,
				    "dir must be forward or backward, not '%s'", s);
		return TRUE;
	case KIND_ANGLE:
		if (g_str_equal(s, "vertical")) {
			*out = 0;
			return TRUE;
		}
		if (g_str_equal(s, "diagonal")) {
			*out = 45;
			return TRUE;
		}
		if (g_str_equal(s, "horizontal")) {
			*out = 90;
			return TRUE;
		}
		if (!g_ascii_isdigit(s[0]))
			return fail(p, SCENARIO_ERROR_VALUE, "angle must be a number of degrees "
				    "(0..179) or vertical, diagonal or horizontal, not '%s'", s);
		break;
	case KIND_FORCE:
		if (!parse_force(p, k, s, &v))
			return FALSE;
		*out = (guint32)v;
		return TRUE;
	case KIND_NUMBER:
		break;
	}
	if (!parse_uint(p, k->name, s, k->min, k->max, k->unit, &v))
		return FALSE;
	*out = (guint32)v;
	return TRUE;
}

/* Reads key=value tokens into f; keys outside allowed are errors. */
static gboolean parse_keys(struct parser *p, const char *keyword, char **tok,
			   guint32 allowed, struct fields *f)
{
	guint32 seen = 0;

	for (; *tok; tok++) {
		char *eq = strchr(*tok, '=');
		g_autofree char *key = NULL;
		int id = -1;

		if (!eq || eq == *tok || !eq[1])
			return fail(p, SCENARIO_ERROR_SYNTAX,
				    "expected key=value after %s, got '%s'", keyword, *tok);
		key = g_strndup(*tok, (gsize)(eq - *tok));
		for (int i = 0; i < K_COUNT_; i++) {
			if ((allowed & (1u << i)) && g_str_equal(key, keys[i].name))
				id = i;
		}
		if (id < 0)
			return fail(p, SCENARIO_ERROR_KEY, "unknown key '%s' for %s", key, keyword);
		if (seen & (1u << id))
			return fail(p, SCENARIO_ERROR_KEY, "%s= given twice", key);
		seen |= 1u << id;
		if (!parse_value(p, (enum key_id)id, eq + 1, &f->val[id]))
			return FALSE;
		f->have |= 1u << id;
	}
	return TRUE;
}

static gboolean push_item(struct parser *p, const struct item *it)
{
	if (p->items->len >= SCENARIO_MAX_STROKES)
		return fail(p, SCENARIO_ERROR_TOO_BIG, "more than %u strokes",
			    SCENARIO_MAX_STROKES);
	g_array_append_val(p->items, *it);
	return TRUE;
}

static gboolean stroke_line(struct parser *p, const char *keyword, char **tok,
			    enum dp_stroke_kind kind)
{
	struct fields f = p->defaults;
	struct item it = { 0 };
	struct dp_stroke *s = &it.stroke;
	guint32 missing;

	if (!parse_keys(p, keyword, tok, STROKE_KEYS, &f))
		return FALSE;
	missing = STROKE_REQUIRED & ~f.have;
	if (missing) {
		for (int i = 0; i < K_COUNT_; i++) {
			if (missing & (1u << i))
				return fail(p, SCENARIO_ERROR_KEY,
					    "%s needs %s= (on the line or in a set line)",
					    keyword, keys[i].name);
		}
	}
	s->kind = (guint8)kind;
	s->zone = (guint8)f.val[K_ZONE];
	s->direction = (guint8)f.val[K_DIR];
	s->angle_deg = (guint8)f.val[K_ANGLE];
	s->distance_mm = (guint16)f.val[K_DISTANCE];
	s->speed_mm_s = (guint16)f.val[K_SPEED];
	s->force_cn = (guint16)f.val[K_FORCE];
	if (f.have & (1u << K_LIFT_AT)) {
		s->lift_at_mm = (guint16)f.val[K_LIFT_AT];
		if (s->lift_at_mm >= s->distance_mm)
			return fail(p, SCENARIO_ERROR_RANGE,
				    "lift_at=%u must be less than distance=%u",
				    s->lift_at_mm, s->distance_mm);
	}
	if ((f.have & (1u << K_HESITATE_AT)) != 0 && (f.have & (1u << K_HESITATE_MS)) == 0)
		return fail(p, SCENARIO_ERROR_KEY, "hesitate_at= needs hesitate_ms=");
	if ((f.have & (1u << K_HESITATE_MS)) != 0 && (f.have & (1u << K_HESITATE_AT)) == 0)
		return fail(p, SCENARIO_ERROR_KEY, "hesitate_ms= needs hesitate_at=");
	if (f.have & (1u << K_HESITATE_AT)) {
		s->hesitate_at_mm = (guint16)f.val[K_HESITATE_AT];
		s->hesitate_ms = (guint16)f.val[K_HESITATE_MS];
		if (s->hesitate_at_mm >= s->distance_mm)
			return fail(p, SCENARIO_ERROR_RANGE,
				    "hesitate_at=%u must be less than distance=%u",
				    s->hesitate_at_mm, s->distance_mm);
	}
	return push_item(p, &it);
}

static gboolean parse_line(struct parser *p, char *line)
{
	g_auto(GStrv) tok = NULL;
	char *hash = strchr(line, '#');
	char *kw;
	guint n;

	if (hash)
		*hash = '\0';
	g_strstrip(line);
	if (!*line)
		return TRUE;
	tok = g_regex_split_simple("[ \t]+", line, 0, 0);
	kw = tok[0];
	n = g_strv_length(tok);

	if (g_str_equal(kw, "roll"))
		return stroke_line(p, kw, tok + 1, DP_STROKE_ROLL);
	if (g_str_equal(kw, "back-and-forth"))
		return stroke_line(p, kw, tok + 1, DP_STROKE_BACK_AND_FORTH);
	if (g_str_equal(kw, "set")) {
		/* A set line may repeat a key an earlier set line gave. */
		struct fields f = { 0 };

		if (n < 2)
			return fail(p, SCENARIO_ERROR_SYNTAX, "set needs at least one key=value");
		if (!parse_keys(p, kw, tok + 1, STROKE_KEYS, &f))
			return FALSE;
		for (int i = 0; i < K_COUNT_; i++) {
			if (f.have & (1u << i))
				p->defaults.val[i] = f.val[i];
		}
		p->defaults.have |= f.have;
		return TRUE;
	}
	if (g_str_equal(kw, "pause")) {
		struct fields f = { 0 };
		struct item it = { 0 };

		if (!parse_keys(p, kw, tok + 1, 1u << K_MS, &f))
			return FALSE;
		if (!(f.have & (1u << K_MS)))
			return fail(p, SCENARIO_ERROR_KEY, "pause needs ms=");
		it.stroke.kind = DP_STROKE_PAUSE;
		it.stroke.duration_ms = f.val[K_MS];
		return push_item(p, &it);
	}
	if (g_str_equal(kw, "wait")) {
		struct fields f = { 0 };
		struct item it = { .is_wait = TRUE };

		if (!parse_keys(p, kw, tok + 1, 1u << K_ZONE, &f))
			return FALSE;
		if (!(f.have & (1u << K_ZONE)) || f.val[K_ZONE] == DP_ZONE_NONE)
			return fail(p, SCENARIO_ERROR_KEY, "wait needs zone= (a zone, not none)");
		it.wait_zone = (guint8)f.val[K_ZONE];
		return push_item(p, &it);
	}
	if (g_str_equal(kw, "repeat")) {
		guint64 count;

		if (n != 2)
			return fail(p, SCENARIO_ERROR_SYNTAX, "expected 'repeat COUNT'");
		if (!parse_uint(p, "repeat count", tok[1], 1, REPEAT_MAX, "", &count))
			return FALSE;
		if (p->depth >= NESTING_MAX)
			return fail(p, SCENARIO_ERROR_SYNTAX,
				    "repeat nested more than %d deep", NESTING_MAX);
		p->stack[p->depth++] = (struct repeat_frame) {
			.start = p->items->len, .count = (guint)count, .line = p->line,
		};
		return TRUE;
	}
	if (g_str_equal(kw, "end")) {
		struct repeat_frame *fr;
		guint body;

		if (n != 1)
			return fail(p, SCENARIO_ERROR_SYNTAX, "nothing may follow 'end'");
		if (!p->depth)
			return fail(p, SCENARIO_ERROR_SYNTAX, "'end' without 'repeat'");
		fr = &p->stack[--p->depth];
		body = p->items->len - fr->start;
		if ((guint64)body * fr->count + fr->start > SCENARIO_MAX_STROKES)
			return fail(p, SCENARIO_ERROR_TOO_BIG,
				    "the repeat from line %u makes more than %u strokes",
				    fr->line, SCENARIO_MAX_STROKES);
		for (guint i = 1; i < fr->count; i++) {
			for (guint j = 0; j < body; j++) {
				struct item it = g_array_index(p->items, struct item, fr->start + j);

				g_array_append_val(p->items, it);
			}
		}
		return TRUE;
	}
	return fail(p, SCENARIO_ERROR_KEYWORD,
		    "unknown keyword '%s' (roll, back-and-forth, pause, set, wait, repeat, end)",
		    kw);
}

static struct scenario *build(struct parser *p)
{
	struct scenario *sc = g_new0(struct scenario, 1);
	struct scenario_part part = { 0 };

	sc->name = g_strdup(p->name);
	sc->strokes = g_array_new(FALSE, TRUE, sizeof(struct dp_stroke));
	sc->parts = g_array_new(FALSE, TRUE, sizeof(struct scenario_part));
	for (guint i = 0; i < p->items->len; i++) {
		const struct item *it = &g_array_index(p->items, struct item, i);

		if (it->is_wait) {
			if (part.count || part.wait_zone)
				g_array_append_val(sc->parts, part);
			part = (struct scenario_part) {
				.wait_zone = it->wait_zone, .first = sc->strokes->len,
			};
			continue;
		}
		g_array_append_val(sc->strokes, it->stroke);
		part.count++;
	}
	if (part.count || part.wait_zone)
		g_array_append_val(sc->parts, part);
	return sc;
}

struct scenario *scenario_parse(const char *name, const char *text, GError **error)
{
	struct parser p = { .name = name, .error = error };
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GArray) items = g_array_new(FALSE, TRUE, sizeof(struct item));
	gboolean any = FALSE;

	p.items = items;
	for (guint i = 0; lines[i]; i++) {
		p.line = i + 1;
		g_strdelimit(lines[i], "\r", ' ');
		if (!parse_line(&p, lines[i]))
			return NULL;
	}
	if (p.depth) {
		p.line = p.stack[p.depth - 1].line;
		fail(&p, SCENARIO_ERROR_SYNTAX, "'repeat' without 'end'");
		return NULL;
	}
	for (guint i = 0; i < items->len; i++)
		any |= !g_array_index(items, struct item, i).is_wait;
	if (!any) {
		g_set_error(error, SCENARIO_ERROR, SCENARIO_ERROR_EMPTY,
			    "%s: no roll, back-and-forth or pause line", name);
		return NULL;
	}
	return build(&p);
}

struct scenario *scenario_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;

	if (!g_file_get_contents(path, &text, NULL, &err)) {
		g_set_error(error, err->domain, err->code, "cannot read scenario: %s",
			    err->message);
		return NULL;
	}
	if (!g_utf8_validate(text, -1, NULL)) {
		g_set_error(error, SCENARIO_ERROR, SCENARIO_ERROR_SYNTAX,
			    "%s: not a text file (invalid UTF-8)", path);
		return NULL;
	}
	return scenario_parse(path, text, error);
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	g_free(sc->name);
	g_array_unref(sc->strokes);
	g_array_unref(sc->parts);
	g_free(sc);
}

guint scenario_passes(const struct scenario *sc)
{
	guint n = 0;

	for (guint i = 0; i < sc->strokes->len; i++)
		n += dp_stroke_passes(&g_array_index(sc->strokes, struct dp_stroke, i));
	return n;
}
