/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The offline log ring (PROTOCOL.md §11.4): sequence numbers from 1, never
 * reused; records freed only by ack; a full ring drops and counts.
 */
#include <glib.h>
#include <string.h>

#include "dp/firmware.h"

static struct dp_log *log_new(uint32_t next_seq)
{
	struct dp_log *log = g_new0(struct dp_log, 1);

	dp_log_init(log, next_seq);
	return log;
}

/* A record whose fields all derive from a tag, so a read-back can be checked. */
static struct dp_pass pass_for(uint32_t tag)
{
	struct dp_pass p = {
		.seq = 0xdeadbeef,       /* overwritten by append */
		.start_ms = (uint64_t)tag * 1000 + 7,
		.duration_ms = (uint16_t)(tag % 5000),
		.distance_mm = (uint16_t)(tag % 300 + 8),
		.direction = tag % 2 ? DP_DIR_FORWARD : DP_DIR_BACKWARD,
		.angle_deg = (uint8_t)(tag % 180),
		.mean_force_cn = 100,
		.peak_force_cn = 200,
		.session = (uint16_t)tag,
		.zone = (uint8_t)(tag % 11),
	};
	return p;
}

static void append_ok(struct dp_log *log, uint32_t tag, uint32_t want_seq)
{
	struct dp_pass p = pass_for(tag);

	g_assert_true(dp_log_append(log, &p));
	g_assert_cmpuint(p.seq, ==, want_seq);
}

static void check_record(const struct dp_log *log, uint32_t seq, uint32_t tag)
{
	const struct dp_pass *r = dp_log_get(log, seq);
	struct dp_pass want = pass_for(tag);

	g_assert_nonnull(r);
	g_assert_cmpuint(r->seq, ==, seq);
	g_assert_cmpuint(r->start_ms, ==, want.start_ms);
	g_assert_cmpuint(r->session, ==, want.session);
	g_assert_cmpuint(r->zone, ==, want.zone);
}

static void check_span(const struct dp_log *log, uint32_t first, uint32_t next)
{
	g_assert_cmpuint(log->first_seq, ==, first);
	g_assert_cmpuint(log->next_seq, ==, next);
	g_assert_cmpuint(dp_log_count(log), ==, next - first);
}

static void test_init(void)
{
	struct dp_log *log = log_new(0);

	/* 0 is never a sequence number: the log starts at 1. */
	check_span(log, 1, 1);
	g_assert_null(dp_log_get(log, 0));
	g_assert_null(dp_log_get(log, 1));
	g_assert_cmpuint(log->dropped, ==, 0);

	dp_log_init(log, 1);
	check_span(log, 1, 1);
	dp_log_init(log, 5000);
	check_span(log, 5000, 5000);
	g_assert_null(dp_log_get(log, 4999));
	append_ok(log, 1, 5000);
	check_record(log, 5000, 1);
	g_free(log);
}

static void test_append_get(void)
{
	struct dp_log *log = log_new(1);

	for (uint32_t i = 1; i <= 10; i++) {
		append_ok(log, i + 100, i);
		check_span(log, 1, i + 1);
	}
	for (uint32_t i = 1; i <= 10; i++)
		check_record(log, i, i + 100);
	g_assert_null(dp_log_get(log, 0));
	g_assert_null(dp_log_get(log, 11));
	g_assert_null(dp_log_get(log, UINT32_MAX));
	g_free(log);
}

static void test_ack(void)
{
	struct dp_log *log = log_new(1);

	/* Empty log: nothing can be acked but "nothing" (0). */
	g_assert_true(dp_log_ack(log, 0));
	g_assert_false(dp_log_ack(log, 1));
	check_span(log, 1, 1);

	for (uint32_t i = 1; i <= 10; i++)
		append_ok(log, i, i);
	g_assert_true(dp_log_ack(log, 3));
	check_span(log, 4, 11);
	g_assert_null(dp_log_get(log, 3));
	check_record(log, 4, 4);
	/* Below first: a no-op that succeeds. */
	g_assert_true(dp_log_ack(log, 2));
	g_assert_true(dp_log_ack(log, 0));
	g_assert_true(dp_log_ack(log, 3));
	check_span(log, 4, 11);
	/* At or beyond next: refused, nothing freed. */
	g_assert_false(dp_log_ack(log, 11));
	g_assert_false(dp_log_ack(log, 12));
	g_assert_false(dp_log_ack(log, UINT32_MAX));
	check_span(log, 4, 11);
	/* Everything. */
	g_assert_true(dp_log_ack(log, 10));
	check_span(log, 11, 11);
	for (uint32_t s = 0; s <= 12; s++)
		g_assert_null(dp_log_get(log, s));
	/* Freed sequence numbers are never handed out again. */
	append_ok(log, 99, 11);
	g_free(log);
}

static void test_full(void)
{
	struct dp_log *log = log_new(1);
	struct dp_pass p = pass_for(1);

	for (uint32_t i = 1; i <= DP_LOG_CAPACITY; i++)
		append_ok(log, i, i);
	check_span(log, 1, DP_LOG_CAPACITY + 1);

	p.seq = 0;
	g_assert_false(dp_log_append(log, &p));
	g_assert_cmpuint(p.seq, ==, 0);          /* no sequence number given */
	g_assert_cmpuint(log->dropped, ==, 1);
	g_assert_false(dp_log_append(log, &p));
	g_assert_cmpuint(log->dropped, ==, 2);
	check_span(log, 1, DP_LOG_CAPACITY + 1);
	/* The oldest record is intact: a full ring never overwrites. */
	check_record(log, 1, 1);
	check_record(log, DP_LOG_CAPACITY, DP_LOG_CAPACITY);

	g_assert_true(dp_log_ack(log, 1));
	append_ok(log, 7, DP_LOG_CAPACITY + 1);
	check_record(log, DP_LOG_CAPACITY + 1, 7);
	check_record(log, 2, 2);
	g_assert_false(dp_log_append(log, &p));
	g_assert_cmpuint(log->dropped, ==, 3);
	g_free(log);
}

static void test_dropped_saturates(void)
{
	struct dp_log *log = log_new(1);
	struct dp_pass p = pass_for(1);

	for (uint32_t i = 1; i <= DP_LOG_CAPACITY; i++)
		append_ok(log, i, i);
	for (uint32_t i = 0; i < 70000; i++)
		g_assert_false(dp_log_append(log, &p));
	g_assert_cmpuint(log->dropped, ==, UINT16_MAX);
	g_free(log);
}

/* Many laps of the ring, with acks landing on every kind of boundary: the
 * slot boundary (seq % capacity == 0), just before and after it, one record
 * at a time, and everything at once. */
static void test_wrap_around(void)
{
	struct dp_log *log = log_new(1);
	uint32_t next = 1, first = 1;
	guint laps = 0;

	for (guint round = 0; round < 400; round++) {
		/* A pseudo-random but fixed batch size, up to a full ring. */
		uint32_t room = DP_LOG_CAPACITY - (next - first);
		uint32_t add = (round * 2654435761u) % (DP_LOG_CAPACITY + 1);
		uint32_t up_to;

		if (add > room)
			add = room;
		for (uint32_t i = 0; i < add; i++, next++)
			append_ok(log, next, next);
		check_span(log, first, next);

		switch (round % 6) {
		case 0:                 /* everything */
			up_to = next - 1;
			break;
		case 1:                 /* the last record before a slot boundary */
			up_to = first + (DP_LOG_CAPACITY - first % DP_LOG_CAPACITY) % DP_LOG_CAPACITY;
			if (up_to % DP_LOG_CAPACITY == 0 && up_to > 0)
				up_to--;
			break;
		case 2:                 /* exactly at the slot boundary */
			up_to = first + (DP_LOG_CAPACITY - first % DP_LOG_CAPACITY) % DP_LOG_CAPACITY;
			break;
		case 3:                 /* one */
			up_to = first;
			break;
		case 4:                 /* half */
			up_to = first + (next - first) / 2;
			break;
		default:                /* none (below first) */
			up_to = first - 1;
			break;
		}
		if (up_to >= next) {
			g_assert_false(dp_log_ack(log, up_to));
		} else {
			g_assert_true(dp_log_ack(log, up_to));
			if (up_to >= first)
				first = up_to + 1;
		}
		check_span(log, first, next);
		for (uint32_t s = first; s < next; s++)
			check_record(log, s, s);
		g_assert_null(dp_log_get(log, first - 1));
		g_assert_null(dp_log_get(log, next));
	}
	laps = next / DP_LOG_CAPACITY;
	g_assert_cmpuint(laps, >=, 50);
	g_assert_cmpuint(log->dropped, ==, 0);
	g_free(log);
}

static void ack_at(const struct dp_log *base, struct dp_log *log, uint32_t up_to)
{
	uint32_t first = base->first_seq, next = base->next_seq;
	uint32_t want_first = up_to >= first ? up_to + 1 : first;

	memcpy(log, base, sizeof(*log));
	if (up_to >= next) {
		g_assert_false(dp_log_ack(log, up_to));
		check_span(log, first, next);
		return;
	}
	g_assert_true(dp_log_ack(log, up_to));
	check_span(log, want_first, next);
	g_assert_null(dp_log_get(log, want_first - 1));
	if (want_first < next)
		check_record(log, want_first, want_first);
	/* And the ring goes on from there. */
	append_ok(log, 5, next);
	check_record(log, next, 5);
}

/* Acks around first_seq, around every slot boundary and around next_seq,
 * on a log that has wrapped twice. */
static void test_ack_every_boundary(void)
{
	struct dp_log *base = log_new(1);
	struct dp_log *log = g_new0(struct dp_log, 1);
	uint32_t first, next;
	guint boundaries = 0;

	for (uint32_t s = 1; s < 3 * DP_LOG_CAPACITY - 5; s++) {
		append_ok(base, s, s);
		if (dp_log_count(base) == DP_LOG_CAPACITY)
			g_assert_true(dp_log_ack(base, s - DP_LOG_CAPACITY + 10));
	}
	first = base->first_seq;
	next = base->next_seq;
	g_assert_cmpuint(next - first, ==, DP_LOG_CAPACITY - 4);
	g_assert_cmpuint(first % DP_LOG_CAPACITY, ==, DP_LOG_CAPACITY - 1);

	for (uint32_t up_to = first - 3; up_to <= first + 3; up_to++)
		ack_at(base, log, up_to);
	for (uint32_t b = first - first % DP_LOG_CAPACITY; b < next; b += DP_LOG_CAPACITY) {
		if (b <= first)
			continue;
		boundaries++;
		for (uint32_t up_to = b - 2; up_to <= b + 2; up_to++)
			ack_at(base, log, up_to);
	}
	g_assert_cmpuint(boundaries, ==, 1);
	for (uint32_t up_to = next - 3; up_to <= next + 3; up_to++)
		ack_at(base, log, up_to);
	g_free(log);
	g_free(base);
}

static void test_seq_exhausted(void)
{
	struct dp_log *log = log_new(UINT32_MAX - 2);
	struct dp_pass p = pass_for(1);

	append_ok(log, 1, UINT32_MAX - 2);
	append_ok(log, 2, UINT32_MAX - 1);
	/* UINT32_MAX would be the next seq and could never be acked past:
	 * the log refuses rather than wrap and reuse numbers. */
	g_assert_false(dp_log_append(log, &p));
	g_assert_cmpuint(log->dropped, ==, 1);
	check_span(log, UINT32_MAX - 2, UINT32_MAX);
	g_assert_true(dp_log_ack(log, UINT32_MAX - 1));
	check_span(log, UINT32_MAX, UINT32_MAX);
	g_assert_false(dp_log_ack(log, UINT32_MAX));
	g_assert_null(dp_log_get(log, UINT32_MAX));
	g_free(log);
}

int main(int argc, char *argv[])
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/log/init", test_init);
	g_test_add_func("/log/append-get", test_append_get);
	g_test_add_func("/log/ack", test_ack);
	g_test_add_func("/log/full", test_full);
	g_test_add_func("/log/dropped-saturates", test_dropped_saturates);
	g_test_add_func("/log/wrap-around", test_wrap_around);
	g_test_add_func("/log/ack-every-boundary", test_ack_every_boundary);
	g_test_add_func("/log/robustness/seq-exhausted", test_seq_exhausted);

	return g_test_run();
}
