// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Local link messages (PROTOCOL.md §10): exact bytes of every op, and every
 * violation rejected with its code, on decode and on encode.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "dp/link-msg.h"
#include "test-hex.h"

static const uint8_t value3[] = { 0xaa, 0xbb, 0xcc };
static const uint8_t command_frame[] = { 0x10, 0x05, 0x00, 0x04, 0x02 };

static const struct {
	const char *name;
	struct dp_msg msg;
	const char *hex;
} vectors[] = {
	{ "hello", { .op = DP_MSG_HELLO, .chr = 0, .att_mtu = 247,
		     .adv = { .flags = DP_ADV_PAIRING, .proto_major = 1 }, .name = "Dermaroll-42" },
	  "01 00 f700 01 01 0c 4465726d61726f6c6c2d3432" },
	{ "hello-no-name", { .op = DP_MSG_HELLO, .att_mtu = 23,
			     .adv = { .flags = 0, .proto_major = 1 } },
	  "01 00 1700 00 01 00" },
	{ "hello-29", { .op = DP_MSG_HELLO, .att_mtu = 0xffff,
			.adv = { .flags = 0xff, .proto_major = 15 },
			.name = " ~abcdefghijklmnopqrstuvwxyz0" },
	  "01 00 ffff ff 0f 1d 207e6162636465666768696a6b6c6d6e6f707172737475767778797a30" },
	{ "read", { .op = DP_MSG_READ, .chr = DP_CHAR_INFO }, "02 01" },
	{ "read-device-info", { .op = DP_MSG_READ, .chr = DP_CHAR_DEVICE_INFO }, "02 07" },
	{ "read-result", { .op = DP_MSG_READ_RESULT, .chr = DP_CHAR_INFO, .status = DP_ATT_OK,
			   .value = value3, .value_len = 3 }, "03 01 00 aabbcc" },
	{ "read-result-error", { .op = DP_MSG_READ_RESULT, .chr = DP_CHAR_STREAM,
				 .status = DP_ATT_INSUFFICIENT_ENCRYPTION }, "03 02 0f" },
	{ "write", { .op = DP_MSG_WRITE, .chr = DP_CHAR_CONTROL, .value = command_frame,
		     .value_len = sizeof(command_frame) }, "04 03 1005000402" },
	{ "write-result", { .op = DP_MSG_WRITE_RESULT, .chr = DP_CHAR_CONTROL,
			    .status = DP_ATT_INVALID_LENGTH }, "05 03 0d" },
	{ "subscribe-off", { .op = DP_MSG_SUBSCRIBE, .chr = DP_CHAR_STREAM, .status = 0 }, "06 02 00" },
	{ "subscribe-notify", { .op = DP_MSG_SUBSCRIBE, .chr = DP_CHAR_HISTORY, .status = 1 }, "06 04 01" },
	{ "subscribe-indicate", { .op = DP_MSG_SUBSCRIBE, .chr = DP_CHAR_CONTROL, .status = 2 }, "06 03 02" },
	{ "notify", { .op = DP_MSG_NOTIFY, .chr = DP_CHAR_STREAM, .value = value3, .value_len = 1 },
	  "07 02 aa" },
	{ "indicate", { .op = DP_MSG_INDICATE, .chr = DP_CHAR_CONTROL, .value = value3, .value_len = 2 },
	  "08 03 aabb" },
	{ "confirm", { .op = DP_MSG_CONFIRM, .chr = DP_CHAR_CONTROL }, "09 03" },
};

static void assert_msg_eq(const struct dp_msg *a, const struct dp_msg *b)
{
	g_assert_cmpuint(a->op, ==, b->op);
	g_assert_cmpuint(a->chr, ==, b->chr);
	g_assert_cmpuint(a->status, ==, b->status);
	g_assert_cmpmem(a->value, a->value_len, b->value, b->value_len);
	g_assert_cmpuint(a->att_mtu, ==, b->att_mtu);
	g_assert_cmpuint(a->adv.flags, ==, b->adv.flags);
	g_assert_cmpuint(a->adv.proto_major, ==, b->adv.proto_major);
	g_assert_cmpstr(a->name, ==, b->name);
}

static void test_bytes(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++) {
		uint8_t buf[DP_MSG_MAX], want[DP_MSG_MAX];
		size_t n = 0, wn = hex_to(want, sizeof(want), vectors[i].hex);
		struct dp_msg got;

		g_test_message("case %s", vectors[i].name);
		g_assert_cmpint(dp_msg_encode(&vectors[i].msg, buf, sizeof(buf), &n), ==, DP_OK);
		g_assert_cmpmem(buf, n, want, wn);
		memset(&got, 0x5a, sizeof(got));
		g_assert_cmpint(dp_msg_decode(buf, n, &got), ==, DP_OK);
		assert_msg_eq(&got, &vectors[i].msg);
		/* The value points into the decoded buffer, not a copy. */
		if (got.value_len)
			g_assert_true(got.value == buf + n - got.value_len);
		else
			g_assert_null(got.value);
	}
}

/* Values of the largest size (one ATT value, 512) and beyond. */
static void test_value_limits(void)
{
	static const uint8_t ops[] = {
		DP_MSG_READ_RESULT, DP_MSG_WRITE, DP_MSG_NOTIFY, DP_MSG_INDICATE,
	};
	static uint8_t value[DP_MAX_FRAME + 1];

	for (size_t k = 0; k < sizeof(value); k++)
		value[k] = (uint8_t)(k * 7);
	for (size_t i = 0; i < G_N_ELEMENTS(ops); i++) {
		struct dp_msg msg = { .op = ops[i], .chr = DP_CHAR_STREAM, .value = value,
				      .value_len = DP_MAX_FRAME }, got;
		uint8_t buf[DP_MSG_MAX + 2];
		size_t n = 0, hdr = DP_MSG_HEADER_SIZE + (ops[i] == DP_MSG_READ_RESULT);

		g_assert_cmpint(dp_msg_encode(&msg, buf, sizeof(buf), &n), ==, DP_OK);
		g_assert_cmpuint(n, ==, hdr + DP_MAX_FRAME);
		g_assert_cmpuint(n, <=, DP_MSG_MAX);
		g_assert_cmpint(dp_msg_decode(buf, n, &got), ==, DP_OK);
		assert_msg_eq(&got, &msg);

		/* 513 bytes: too long both ways. */
		msg.value_len = DP_MAX_FRAME + 1;
		g_assert_cmpint(dp_msg_encode(&msg, buf, sizeof(buf), &n), ==, DP_ERR_LENGTH);
		buf[hdr + DP_MAX_FRAME] = 0;
		g_assert_cmpint(dp_msg_decode(buf, hdr + DP_MAX_FRAME + 1, &got), ==, DP_ERR_LENGTH);
	}
}

static const struct {
	const char *name, *hex;
	enum dp_err err;
} decode_cases[] = {
	{ "empty", "", DP_ERR_TRUNCATED },
	{ "op-only", "02", DP_ERR_TRUNCATED },
	{ "op-0", "00 01", DP_ERR_OPCODE },
	{ "op-10", "0a 01", DP_ERR_OPCODE },
	{ "op-ff", "ff 01", DP_ERR_OPCODE },
	{ "hello-chr-1", "01 01 f700 01 01 00", DP_ERR_FIELD },
	{ "hello-no-body", "01 00", DP_ERR_TRUNCATED },
	{ "hello-no-name-len", "01 00 f700 01 01", DP_ERR_TRUNCATED },
	{ "hello-mtu-22", "01 00 1600 01 01 00", DP_ERR_FIELD },
	{ "hello-mtu-0", "01 00 0000 01 01 00", DP_ERR_FIELD },
	{ "hello-adv-major-0", "01 00 f700 01 00 00", DP_ERR_FIELD },
	{ "hello-name-30", "01 00 f700 01 01 1e "
	  "4142434445464748494a4b4c4d4e4f505152535455565758595a31323334", DP_ERR_STRING },
	{ "hello-name-past-end", "01 00 f700 01 01 05 41424344", DP_ERR_TRUNCATED },
	{ "hello-trailing", "01 00 f700 01 01 01 41 42", DP_ERR_LENGTH },
	{ "hello-name-0x1f", "01 00 f700 01 01 02 411f", DP_ERR_STRING },
	{ "hello-name-0x7f", "01 00 f700 01 01 02 7f41", DP_ERR_STRING },
	{ "hello-name-nul", "01 00 f700 01 01 02 4100", DP_ERR_STRING },
	{ "hello-name-0x80", "01 00 f700 01 01 01 80", DP_ERR_STRING },
	{ "read-chr-0", "02 00", DP_ERR_FIELD },
	{ "read-chr-8", "02 08", DP_ERR_FIELD },
	{ "read-chr-ff", "02 ff", DP_ERR_FIELD },
	{ "read-trailing", "02 01 00", DP_ERR_LENGTH },
	{ "read-result-chr-0", "03 00 00", DP_ERR_FIELD },
	{ "read-result-no-status", "03 01", DP_ERR_TRUNCATED },
	{ "write-empty", "04 03", DP_ERR_TRUNCATED },
	{ "write-chr-8", "04 08 00", DP_ERR_FIELD },
	{ "write-result-no-status", "05 03", DP_ERR_TRUNCATED },
	{ "write-result-trailing", "05 03 00 00", DP_ERR_LENGTH },
	{ "subscribe-no-mode", "06 02", DP_ERR_TRUNCATED },
	{ "subscribe-mode-3", "06 02 03", DP_ERR_FIELD },
	{ "subscribe-mode-ff", "06 02 ff", DP_ERR_FIELD },
	{ "subscribe-trailing", "06 02 01 00", DP_ERR_LENGTH },
	{ "subscribe-chr-0", "06 00 01", DP_ERR_FIELD },
	{ "notify-empty", "07 02", DP_ERR_TRUNCATED },
	{ "notify-chr-0", "07 00 01", DP_ERR_FIELD },
	{ "indicate-empty", "08 03", DP_ERR_TRUNCATED },
	/* §10.6 order: sizes before ranges, ranges before the name. */
	{ "subscribe-mode-3-trailing", "06 02 03 00", DP_ERR_LENGTH },
	{ "hello-mtu-22-trailing", "01 00 1600 01 01 00 41", DP_ERR_LENGTH },
	{ "hello-name-200-short", "01 00 f700 01 01 c8 41", DP_ERR_TRUNCATED },
	{ "hello-name-30-mtu-22", "01 00 1600 01 01 1e "
	  "4142434445464748494a4b4c4d4e4f505152535455565758595a31323334", DP_ERR_FIELD },
	{ "hello-bad-name-major-0", "01 00 f700 01 00 01 7f", DP_ERR_FIELD },
	{ "read-chr-0-trailing", "02 00 00", DP_ERR_FIELD },
	{ "op-0-short", "00", DP_ERR_TRUNCATED },
	{ "confirm-trailing", "09 03 00", DP_ERR_LENGTH },
	{ "confirm-chr-0", "09 00", DP_ERR_FIELD },
	{ "confirm-chr-8", "09 08", DP_ERR_FIELD },
};

static void test_decode_robustness(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(decode_cases); i++) {
		uint8_t buf[128];
		size_t n = hex_to(buf, sizeof(buf), decode_cases[i].hex);
		struct dp_msg msg;

		g_test_message("case %s", decode_cases[i].name);
		memset(&msg, 0x5a, sizeof(msg));
		g_assert_cmpint(dp_msg_decode(buf, n, &msg), ==, decode_cases[i].err);
		/* A refused message leaves *msg alone. */
		g_assert_cmpuint(msg.op, ==, 0x5a);
	}
	{
		struct dp_msg msg;

		g_assert_cmpint(dp_msg_decode(NULL, 0, &msg), ==, DP_ERR_TRUNCATED);
	}
}

/* Fields an op does not carry come back zero. */
static void test_decode_clears(void)
{
	uint8_t buf[8];
	size_t n = hex_to(buf, sizeof(buf), "02 03");
	struct dp_msg msg;

	memset(&msg, 0x5a, sizeof(msg));
	g_assert_cmpint(dp_msg_decode(buf, n, &msg), ==, DP_OK);
	g_assert_cmpuint(msg.op, ==, DP_MSG_READ);
	g_assert_cmpuint(msg.chr, ==, DP_CHAR_CONTROL);
	g_assert_cmpuint(msg.status, ==, 0);
	g_assert_null(msg.value);
	g_assert_cmpuint(msg.value_len, ==, 0);
	g_assert_cmpuint(msg.att_mtu, ==, 0);
	g_assert_cmpstr(msg.name, ==, "");

	n = hex_to(buf, sizeof(buf), "06 02 02");
	g_assert_cmpint(dp_msg_decode(buf, n, &msg), ==, DP_OK);
	g_assert_cmpuint(msg.status, ==, 2);
	g_assert_null(msg.value);
}

static void test_encode_robustness(void)
{
	static const struct {
		const char *name;
		struct dp_msg msg;
		enum dp_err err;
	} cases[] = {
		{ "op-0", { .op = 0, .chr = 1 }, DP_ERR_OPCODE },
		{ "op-10", { .op = 10, .chr = 1 }, DP_ERR_OPCODE },
		{ "hello-chr-1", { .op = DP_MSG_HELLO, .chr = 1, .att_mtu = 23,
				   .adv = { .proto_major = 1 } }, DP_ERR_FIELD },
		{ "hello-mtu-22", { .op = DP_MSG_HELLO, .att_mtu = 22,
				    .adv = { .proto_major = 1 } }, DP_ERR_FIELD },
		{ "hello-adv-major-0", { .op = DP_MSG_HELLO, .att_mtu = 23 }, DP_ERR_FIELD },
		{ "hello-name-0x1f", { .op = DP_MSG_HELLO, .att_mtu = 23,
				       .adv = { .proto_major = 1 }, .name = "a\x1f" }, DP_ERR_STRING },
		{ "hello-name-0x7f", { .op = DP_MSG_HELLO, .att_mtu = 23,
				       .adv = { .proto_major = 1 }, .name = "\x7f" }, DP_ERR_STRING },
		{ "hello-name-0x80", { .op = DP_MSG_HELLO, .att_mtu = 23,
				       .adv = { .proto_major = 1 }, .name = "\x80" }, DP_ERR_STRING },
		{ "read-chr-0", { .op = DP_MSG_READ, .chr = 0 }, DP_ERR_FIELD },
		{ "read-chr-8", { .op = DP_MSG_READ, .chr = 8 }, DP_ERR_FIELD },
		{ "read-with-value", { .op = DP_MSG_READ, .chr = 1, .value = value3, .value_len = 1 },
		  DP_ERR_LENGTH },
		{ "confirm-with-value", { .op = DP_MSG_CONFIRM, .chr = 1, .value = value3, .value_len = 3 },
		  DP_ERR_LENGTH },
		{ "write-result-with-value", { .op = DP_MSG_WRITE_RESULT, .chr = 1, .value = value3,
					       .value_len = 3 }, DP_ERR_LENGTH },
		{ "write-empty", { .op = DP_MSG_WRITE, .chr = 3 }, DP_ERR_TRUNCATED },
		{ "notify-empty", { .op = DP_MSG_NOTIFY, .chr = 2 }, DP_ERR_TRUNCATED },
		{ "indicate-empty", { .op = DP_MSG_INDICATE, .chr = 3 }, DP_ERR_TRUNCATED },
		{ "write-null-value", { .op = DP_MSG_WRITE, .chr = 3, .value_len = 2 }, DP_ERR_FIELD },
		{ "subscribe-mode-3", { .op = DP_MSG_SUBSCRIBE, .chr = 2, .status = 3 }, DP_ERR_FIELD },
		{ "subscribe-chr-0", { .op = DP_MSG_SUBSCRIBE, .chr = 0, .status = 1 }, DP_ERR_FIELD },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t buf[DP_MSG_MAX];
		size_t n = 777;

		g_test_message("case %s", cases[i].name);
		g_assert_cmpint(dp_msg_encode(&cases[i].msg, buf, sizeof(buf), &n), ==, cases[i].err);
		g_assert_cmpuint(n, ==, 777);
	}

	/* A name filling the whole array has no terminating NUL. */
	{
		struct dp_msg msg = { .op = DP_MSG_HELLO, .att_mtu = 23, .adv = { .proto_major = 1 } };
		uint8_t buf[DP_MSG_MAX];
		size_t n;

		memset(msg.name, 'a', sizeof(msg.name));
		g_assert_cmpint(dp_msg_encode(&msg, buf, sizeof(buf), &n), ==, DP_ERR_STRING);
	}
}

/* NO_SPACE at every cap below the size needed; nothing written past cap. */
static void test_no_space_robustness(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++) {
		uint8_t full[DP_MSG_MAX];
		size_t need = 0;

		g_assert_cmpint(dp_msg_encode(&vectors[i].msg, full, sizeof(full), &need), ==, DP_OK);
		for (size_t cap = 0; cap < need; cap++) {
			uint8_t buf[DP_MSG_MAX];
			size_t n = 777;

			memset(buf, 0xaa, sizeof(buf));
			g_assert_cmpint(dp_msg_encode(&vectors[i].msg, buf, cap, &n), ==, DP_ERR_NO_SPACE);
			g_assert_cmpuint(n, ==, 777);
			for (size_t k = cap; k < sizeof(buf); k++)
				g_assert_cmpuint(buf[k], ==, 0xaa);
		}
	}
}

/* Every proper prefix of a message of fixed size is refused; a message with
 * a value is refused below its smallest value. */
static void test_prefix_robustness(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++) {
		const struct dp_msg *m = &vectors[i].msg;
		uint8_t buf[DP_MSG_MAX];
		size_t n = 0, min;
		bool has_value = m->op == DP_MSG_READ_RESULT || m->op == DP_MSG_WRITE ||
			m->op == DP_MSG_NOTIFY || m->op == DP_MSG_INDICATE;

		g_assert_cmpint(dp_msg_encode(m, buf, sizeof(buf), &n), ==, DP_OK);
		/* READ_RESULT needs its status byte, the others one value byte. */
		min = has_value ? DP_MSG_HEADER_SIZE + 1 : n;
		for (size_t len = 0; len < n; len++) {
			struct dp_msg got;
			enum dp_err err = dp_msg_decode(buf, len, &got);

			g_test_message("case %s prefix %zu", vectors[i].name, len);
			if (len < min)
				g_assert_cmpint(err, !=, DP_OK);
			else
				g_assert_cmpint(err, ==, DP_OK);
		}
	}
}

/* PROTOCOL.md §13.7, byte for byte. */
static void test_spec_example(void)
{
	static const uint8_t start_cmd[] = { 0x10, 0x06, 0x00, 0x04, 0x01, 0x01 };
	static const uint8_t start_rsp[] = { 0x10, 0x08, 0x00, 0x05, 0x01, 0x00, 0x0c, 0x00 };
	static const struct {
		struct dp_msg msg;
		const char *hex;
	} ex[] = {
		{ { .op = DP_MSG_HELLO, .att_mtu = 247,
		    .adv = { .flags = DP_ADV_LOG_PENDING, .proto_major = 1 }, .name = "dermaroll" },
		  "01 00 f7 00 02 01 09 64 65 72 6d 61 72 6f 6c 6c" },
		{ { .op = DP_MSG_SUBSCRIBE, .chr = DP_CHAR_CONTROL, .status = 2 }, "06 03 02" },
		{ { .op = DP_MSG_WRITE_RESULT, .chr = DP_CHAR_CONTROL }, "05 03 00" },
		{ { .op = DP_MSG_WRITE, .chr = DP_CHAR_CONTROL, .value = start_cmd,
		    .value_len = sizeof(start_cmd) }, "04 03 10 06 00 04 01 01" },
		{ { .op = DP_MSG_INDICATE, .chr = DP_CHAR_CONTROL, .value = start_rsp,
		    .value_len = sizeof(start_rsp) }, "08 03 10 08 00 05 01 00 0c 00" },
		{ { .op = DP_MSG_CONFIRM, .chr = DP_CHAR_CONTROL }, "09 03" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ex); i++) {
		uint8_t buf[DP_MSG_MAX], want[64];
		size_t n = 0, wn = hex_to(want, sizeof(want), ex[i].hex);
		struct dp_msg got;

		g_assert_cmpint(dp_msg_encode(&ex[i].msg, buf, sizeof(buf), &n), ==, DP_OK);
		g_assert_cmpmem(buf, n, want, wn);
		g_assert_cmpint(dp_msg_decode(want, wn, &got), ==, DP_OK);
		assert_msg_eq(&got, &ex[i].msg);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/link-msg/bytes", test_bytes);
	g_test_add_func("/link-msg/value-limits", test_value_limits);
	g_test_add_func("/link-msg/decode-clears", test_decode_clears);
	g_test_add_func("/link-msg/robustness/decode", test_decode_robustness);
	g_test_add_func("/link-msg/robustness/encode", test_encode_robustness);
	g_test_add_func("/link-msg/robustness/no-space", test_no_space_robustness);
	g_test_add_func("/link-msg/robustness/prefixes", test_prefix_robustness);
	g_test_add_func("/link-msg/spec-example", test_spec_example);

	return g_test_run();
}
