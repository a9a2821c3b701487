/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The roller's flash image (dp/flash.h, PROTOCOL.md §11.3–11.4): what is
 * saved is what is loaded, a wrapped ring included, and every damaged or
 * inconsistent image is refused with its own code, leaving the roller as
 * it was.
 */
#include <glib.h>
#include <string.h>

#include "dp/flash.h"

static const struct dp_fw_ops no_ops;

static struct dp_fw *fw_new(void)
{
	struct dp_fw *fw = g_new0(struct dp_fw, 1);
	struct dp_fw_config cfg;

	dp_fw_config_default(&cfg);
	dp_fw_init(fw, &cfg, &no_ops, NULL);
	return fw;
}

/* A record whose fields all derive from a tag. */
static struct dp_pass pass_for(uint32_t tag)
{
	struct dp_pass p = {
		.start_ms = (uint64_t)tag * 1000 + 7,
		.duration_ms = (uint16_t)(tag % 5000 + 10),
		.distance_mm = (uint16_t)(tag % 300 + 8),
		.direction = tag % 2 ? DP_DIR_FORWARD : DP_DIR_BACKWARD,
		.angle_deg = (uint8_t)(tag % 180),
		.mean_force_cn = (uint16_t)(100 + tag % 50),
		.peak_force_cn = (uint16_t)(200 + tag % 50),
		.over_warn_ms = (uint16_t)(tag % 10),
		.session = (uint16_t)tag,
		.zone = (uint8_t)(tag % 11),
		.flags = (uint8_t)(tag % 16),
	};
	return p;
}

static void log_n(struct dp_fw *fw, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct dp_pass p = pass_for(fw->log.next_seq);

		g_assert_true(dp_log_append(&fw->log, &p));
	}
}

/* A roller with some of everything flash keeps. */
static struct dp_fw *fw_used(void)
{
	struct dp_fw *fw = fw_new();

	log_n(fw, 40);
	g_assert_true(dp_log_ack(&fw->log, 12));
	fw->log.dropped = 7;
	fw->session_counter = 65535;
	fw->force_offset_cn = -1234;
	dp_fw_fit_head(fw, "H-4242", 750);
	fw->cfg.head_uses = 321;
	fw->cfg.head_fitted_ms = 0x0123456789abcdefull;
	g_strlcpy(fw->serial, "DR-FLASH-16CHARS", sizeof(fw->serial));
	return fw;
}

static uint8_t *save(const struct dp_fw *fw, size_t *len)
{
	size_t size = dp_fw_flash_size(fw);
	uint8_t *buf = g_malloc(size);

	g_assert_cmpint(dp_fw_flash_save(fw, buf, size, len), ==, DP_FLASH_OK);
	g_assert_cmpuint(*len, ==, size);
	return buf;
}

static void assert_same_flash(const struct dp_fw *a, const struct dp_fw *b)
{
	g_assert_cmpuint(a->log.first_seq, ==, b->log.first_seq);
	g_assert_cmpuint(a->log.next_seq, ==, b->log.next_seq);
	g_assert_cmpuint(a->log.dropped, ==, b->log.dropped);
	g_assert_cmpuint(a->session_counter, ==, b->session_counter);
	g_assert_cmpuint(a->cfg.needle_um, ==, b->cfg.needle_um);
	g_assert_cmpuint(a->cfg.head_uses, ==, b->cfg.head_uses);
	g_assert_cmpuint(a->cfg.head_fitted_ms, ==, b->cfg.head_fitted_ms);
	g_assert_cmpint(a->force_offset_cn, ==, b->force_offset_cn);
	g_assert_cmpstr(a->serial, ==, b->serial);
	g_assert_cmpstr(a->head_serial, ==, b->head_serial);
	for (uint32_t seq = a->log.first_seq; seq != a->log.next_seq; seq++) {
		const struct dp_pass *x = dp_log_get(&a->log, seq), *y = dp_log_get(&b->log, seq);

		g_assert_nonnull(x);
		g_assert_nonnull(y);
		g_assert_cmpuint(x->seq, ==, seq);
		g_assert_cmpuint(y->seq, ==, seq);
		g_assert_cmpuint(x->start_ms, ==, y->start_ms);
		g_assert_cmpuint(x->duration_ms, ==, y->duration_ms);
		g_assert_cmpuint(x->distance_mm, ==, y->distance_mm);
		g_assert_cmpuint(x->direction, ==, y->direction);
		g_assert_cmpuint(x->angle_deg, ==, y->angle_deg);
		g_assert_cmpuint(x->mean_force_cn, ==, y->mean_force_cn);
		g_assert_cmpuint(x->peak_force_cn, ==, y->peak_force_cn);
		g_assert_cmpuint(x->over_warn_ms, ==, y->over_warn_ms);
		g_assert_cmpuint(x->session, ==, y->session);
		g_assert_cmpuint(x->zone, ==, y->zone);
		g_assert_cmpuint(x->flags, ==, y->flags);
	}
}

static void test_crc(void)
{
	/* The check value of CRC-32/ISO-HDLC, and continuation in pieces. */
	const uint8_t digits[] = "123456789";

	g_assert_cmphex(dp_flash_crc32(0, digits, 9), ==, 0xCBF43926u);
	g_assert_cmphex(dp_flash_crc32(dp_flash_crc32(0, digits, 4), digits + 4, 5), ==,
			0xCBF43926u);
	g_assert_cmphex(dp_flash_crc32(0, NULL, 0), ==, 0);
}

static void test_empty(void)
{
	g_autofree struct dp_fw *fw = fw_new();
	g_autofree uint8_t *buf = NULL;
	static const uint8_t head[] = {
		'D', 'R', 'F', 'L', 1, 0, 74, 0, 0, 0,  /* magic, version, length */
		1, 0, 0, 0, 1, 0, 0, 0,                 /* first, next */
		0, 0, 0, 0, 0xf4, 0x01, 0, 0,           /* dropped, session, needle, uses */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0,           /* fitted, tare */
		12, 'D', 'R', '-', '0', '0', '0', '0', '-', '0', '0', '0', '1', 0, 0, 0, 0,
		6, 'H', '-', '0', '0', '0', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	size_t len;

	g_assert_cmpuint(dp_fw_flash_size(fw), ==, 74);
	g_assert_cmpuint(DP_FLASH_MIN_SIZE, ==, 74);
	g_assert_cmpuint(DP_FLASH_MAX_SIZE, ==, 114762);
	buf = save(fw, &len);
	g_assert_cmpuint(len, ==, 74);
	g_assert_cmpmem(buf, sizeof(head), head, sizeof(head));
	g_assert_cmphex(buf[70] | buf[71] << 8 | buf[72] << 16 | (uint32_t)buf[73] << 24, ==,
			dp_flash_crc32(0, buf, 70));
	g_assert_cmpint(dp_flash_check(buf, len), ==, DP_FLASH_OK);
}

static void test_round_trip(void)
{
	g_autofree struct dp_fw *fw = fw_used();
	g_autofree struct dp_fw *back = fw_new();
	g_autofree uint8_t *buf = NULL, *again = NULL;
	size_t len, len2;

	buf = save(fw, &len);
	g_assert_cmpuint(len, ==, 74 + 28 * 28);
	g_assert_cmpint(dp_fw_flash_load(back, buf, len), ==, DP_FLASH_OK);
	assert_same_flash(fw, back);
	again = save(back, &len2);
	g_assert_cmpmem(buf, len, again, len2);
	/* What flash does not keep comes from power-up (§11.3). */
	g_assert_cmpuint(back->state, ==, DP_STATE_IDLE);
	g_assert_cmpuint(back->session, ==, 0);
	g_assert_false(back->clock_set);
}

/* After a load the roller goes on where it was: the next pass gets the
 * next seq, the next session the next number (wrapping past 0). */
static void test_continues(void)
{
	g_autofree struct dp_fw *fw = fw_used();
	g_autofree struct dp_fw *back = fw_new();
	g_autofree uint8_t *buf = NULL;
	struct dp_pass p = pass_for(1);
	size_t len;

	buf = save(fw, &len);
	g_assert_cmpint(dp_fw_flash_load(back, buf, len), ==, DP_FLASH_OK);
	g_assert_true(dp_log_append(&back->log, &p));
	g_assert_cmpuint(p.seq, ==, 41);
	g_assert_cmpuint(dp_log_count(&back->log), ==, 29);
	g_assert_cmpuint(back->stream_pass_seq, ==, 41);
	g_assert_false(dp_log_ack(&back->log, 42));
	g_assert_true(dp_log_ack(&back->log, 41));
	g_assert_cmpuint(dp_log_count(&back->log), ==, 0);
}

/* A ring that has gone round: seq % capacity wraps inside the saved span. */
static void test_wrapped(void)
{
	g_autofree struct dp_fw *fw = fw_new();
	g_autofree struct dp_fw *back = fw_new();
	g_autofree uint8_t *buf = NULL;
	struct dp_pass p = pass_for(0);
	size_t len;

	log_n(fw, DP_LOG_CAPACITY);
	g_assert_true(dp_log_ack(&fw->log, 3000));
	log_n(fw, 2000);
	g_assert_cmpuint(fw->log.first_seq, ==, 3001);
	g_assert_cmpuint(fw->log.next_seq, ==, 6097);
	buf = save(fw, &len);
	g_assert_cmpuint(len, ==, 74 + 3096 * 28);
	g_assert_cmpint(dp_fw_flash_load(back, buf, len), ==, DP_FLASH_OK);
	assert_same_flash(fw, back);
	g_free(buf);

	/* Full, and past full: the drops are kept. */
	log_n(fw, DP_LOG_CAPACITY - 3096);
	g_assert_false(dp_log_append(&fw->log, &p));
	buf = save(fw, &len);
	g_assert_cmpuint(len, ==, DP_FLASH_MAX_SIZE);
	g_assert_cmpint(dp_fw_flash_load(back, buf, len), ==, DP_FLASH_OK);
	assert_same_flash(fw, back);
	g_assert_cmpuint(back->log.dropped, ==, 1);
	g_assert_false(dp_log_append(&back->log, &p));
	g_assert_cmpuint(back->log.dropped, ==, 2);
}

static void test_no_space(void)
{
	g_autofree struct dp_fw *fw = fw_used();
	uint8_t buf[DP_FLASH_MIN_SIZE + 27 * DP_PASS_SIZE];
	size_t len = 99;

	g_assert_cmpint(dp_fw_flash_save(fw, buf, sizeof(buf), &len), ==, DP_FLASH_NO_SPACE);
	g_assert_cmpuint(len, ==, 0);
}

/* ---- Robustness: the roller is left as it was ---- */

static void assert_refused(const uint8_t *buf, size_t len, enum dp_flash_err want)
{
	g_autofree struct dp_fw *fw = fw_used();
	g_autofree struct dp_fw *ref = fw_used();
	g_autofree uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;

	g_assert_cmpint(dp_flash_check(buf, len), ==, want);
	g_assert_cmpint(dp_fw_flash_load(fw, buf, len), ==, want);
	assert_same_flash(fw, ref);
	g_assert_cmpuint(fw->stream_pass_seq, ==, ref->stream_pass_seq);
	a = save(fw, &alen);
	b = save(ref, &blen);
	g_assert_cmpmem(a, alen, b, blen);
}

static void test_prefixes(void)
{
	g_autofree struct dp_fw *fw = fw_used();
	g_autofree uint8_t *buf = NULL;
	size_t len;

	buf = save(fw, &len);
	for (size_t n = 0; n < len; n++) {
		/* An exact-size copy, so ASan sees a read past the prefix. */
		g_autofree uint8_t *part = g_memdup2(buf, n);

		g_assert_cmpint(dp_flash_check(part, n), ==, DP_FLASH_TRUNCATED);
	}
	assert_refused(buf, len - 1, DP_FLASH_TRUNCATED);
}

static void test_magic_version_length(void)
{
	g_autofree struct dp_fw *fw = fw_used();
	g_autofree uint8_t *buf = NULL, *longer = NULL;
	size_t len;

	buf = save(fw, &len);
	for (size_t i = 0; i < 4; i++) {
		buf[i] ^= 0x20;
		assert_refused(buf, len, DP_FLASH_MAGIC);
		/* A foreign file says so even when it is short. */
		g_assert_cmpint(dp_flash_check(buf, 4), ==, DP_FLASH_MAGIC);
		buf[i] ^= 0x20;
	}
	buf[4] = 2;
	assert_refused(buf, len, DP_FLASH_VERSION_UNKNOWN);
	buf[4] = 0;
	assert_refused(buf, len, DP_FLASH_VERSION_UNKNOWN);
	buf[4] = 1;
	buf[5] = 1;
	assert_refused(buf, len, DP_FLASH_VERSION_UNKNOWN);
	buf[5] = 0;

	longer = g_malloc0(len + 1);
	memcpy(longer, buf, len);
	assert_refused(longer, len + 1, DP_FLASH_LENGTH);
	g_assert_cmpint(dp_flash_check(buf, len), ==, DP_FLASH_OK);
}

/* Any single damaged byte past the length field (or in the CRC itself) is
 * caught by the checksum. */
static void test_checksum(void)
{
	g_autofree struct dp_fw *fw = fw_used();
	g_autofree uint8_t *buf = NULL;
	size_t len;

	buf = save(fw, &len);
	for (size_t i = 10; i < len; i++) {
		for (unsigned int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1u << bit);
			g_assert_cmpint(dp_flash_check(buf, len), ==, DP_FLASH_CHECKSUM);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	buf[len / 2] ^= 0xff;
	assert_refused(buf, len, DP_FLASH_CHECKSUM);
}

static void put32_at(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void reseal(uint8_t *buf, size_t len)
{
	put32_at(buf + 6, (uint32_t)len);
	put32_at(buf + len - 4, dp_flash_crc32(0, buf, len - 4));
}

/* Images with a good checksum whose fields a roller could not have
 * written: each is refused as FIELD. */
struct field_case {
	const char *what;
	size_t off;
	uint8_t value;
};

static void test_fields(void)
{
	/* Offsets in an image of fw_used(): records start at 70, first seq 13. */
	static const struct field_case cases[] = {
		{ "first seq 0", 10, 0 },          /* with next = 41 the span is also wrong */
		{ "serial length 0", 36, 0 },
		{ "serial length 17", 36, 17 },
		{ "serial not printable", 37, 0x7f },
		{ "serial control char", 38, 0x1f },
		{ "serial padding", 36, 15 },       /* the 16th character becomes padding */
		{ "head serial length 0", 53, 0 },
		{ "head serial padding", 69, 1 },
		{ "record seq", 70, 14 },
		{ "record direction 0", 70 + 16, 0 },
		{ "record direction 3", 70 + 16, 3 },
		{ "record angle 180", 70 + 17, 180 },
		{ "record zone 11", 70 + 26, 11 },
		{ "record flags", 70 + 27, 0x10 },
		{ "last record seq", 70 + 27 * 28, 13 },
		{ "last record zone", 70 + 27 * 28 + 26, 0xff },
	};
	g_autofree struct dp_fw *fw = fw_used();
	g_autofree uint8_t *good = NULL;
	size_t len;

	good = save(fw, &len);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree uint8_t *buf = g_memdup2(good, len);

		g_test_message("%s", cases[i].what);
		buf[cases[i].off] = cases[i].value;
		reseal(buf, len);
		assert_refused(buf, len, DP_FLASH_FIELD);
	}
}

/* Fields that are only wrong together. */
static void test_inconsistent(void)
{
	g_autofree struct dp_fw *fw = fw_used();
	g_autofree uint8_t *good = NULL, *buf = NULL;
	size_t len;

	good = save(fw, &len);
	buf = g_memdup2(good, len);

	/* needle 0 */
	buf[22] = 0, buf[23] = 0;
	reseal(buf, len);
	assert_refused(buf, len, DP_FLASH_FIELD);
	memcpy(buf, good, len);

	/* needle 3001 */
	buf[22] = 0xb9, buf[23] = 0x0b;
	reseal(buf, len);
	assert_refused(buf, len, DP_FLASH_FIELD);
	memcpy(buf, good, len);

	/* next < first */
	put32_at(buf + 14, 12);
	reseal(buf, len);
	assert_refused(buf, len, DP_FLASH_FIELD);
	memcpy(buf, good, len);

	/* more unacked records than the ring holds */
	put32_at(buf + 10, 1);
	put32_at(buf + 14, 1 + DP_LOG_CAPACITY + 1);
	reseal(buf, len);
	assert_refused(buf, len, DP_FLASH_FIELD);
	memcpy(buf, good, len);

	/* the span says one record more than the image carries */
	put32_at(buf + 14, 42);
	reseal(buf, len);
	assert_refused(buf, len, DP_FLASH_FIELD);
	memcpy(buf, good, len);

	/* peak below mean, warn time beyond the duration */
	buf[70 + 20] = 0, buf[70 + 21] = 0;
	reseal(buf, len);
	assert_refused(buf, len, DP_FLASH_FIELD);
	memcpy(buf, good, len);
	buf[70 + 22] = 0xff, buf[70 + 23] = 0xff;
	reseal(buf, len);
	assert_refused(buf, len, DP_FLASH_FIELD);
	memcpy(buf, good, len);

	/* an image shorter than any a roller writes, length and CRC right */
	reseal(buf, DP_FLASH_MIN_SIZE - 1);
	assert_refused(buf, DP_FLASH_MIN_SIZE - 1, DP_FLASH_FIELD);
	memcpy(buf, good, len);

	/* the same image a record short: length and CRC agree, the span not */
	reseal(buf, len - DP_PASS_SIZE);
	assert_refused(buf, len - DP_PASS_SIZE, DP_FLASH_FIELD);

	g_assert_cmpint(dp_flash_check(good, len), ==, DP_FLASH_OK);
}

static void test_strerror(void)
{
	g_assert_cmpstr(dp_flash_strerror(DP_FLASH_CHECKSUM), ==, "bad checksum");
	g_assert_cmpstr(dp_flash_strerror(DP_FLASH_ERR_COUNT_), ==, "unknown error");
	for (int e = DP_FLASH_OK; e < DP_FLASH_ERR_COUNT_; e++)
		g_assert_cmpstr(dp_flash_strerror((enum dp_flash_err)e), !=, "unknown error");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/flash/crc32", test_crc);
	g_test_add_func("/flash/empty", test_empty);
	g_test_add_func("/flash/round-trip", test_round_trip);
	g_test_add_func("/flash/continues", test_continues);
	g_test_add_func("/flash/wrapped", test_wrapped);
	g_test_add_func("/flash/no-space", test_no_space);
	g_test_add_func("/flash/strerror", test_strerror);
	g_test_add_func("/flash/robustness/prefixes", test_prefixes);
	g_test_add_func("/flash/robustness/magic-version-length", test_magic_version_length);
	g_test_add_func("/flash/robustness/checksum", test_checksum);
	g_test_add_func("/flash/robustness/fields", test_fields);
	g_test_add_func("/flash/robustness/inconsistent", test_inconsistent);
	return g_test_run();
}
