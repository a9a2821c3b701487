// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Local link messages to roller-sim (PROTOCOL.md §10): u8 op, u8 chr, body.
 *
 * Size errors follow the frame codec (§10.6): a body shorter than the op
 * needs (an empty value included) is DP_ERR_TRUNCATED, a longer one (a value
 * over 512 bytes included) DP_ERR_LENGTH.  The encoder reports the code the
 * decoder would give its output.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dp/link-msg.h"

#define HELLO_FIXED (2 + DP_ADV_SIZE + 1)   /* att_mtu, adv data, name length */
#define ATT_MTU_MIN 23                       /* Core Spec: LE default ATT_MTU */

static bool name_char_ok(uint8_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool op_known(uint8_t op)
{
	return op >= DP_MSG_HELLO && op <= DP_MSG_CONFIRM;
}

/* HELLO is link-wide (chr 0); every other op names a characteristic. */
static bool chr_valid(uint8_t op, uint8_t chr)
{
	if (op == DP_MSG_HELLO)
		return chr == 0;
	return chr >= 1 && chr <= DP_CHAR_MAX_;
}

/* Value sizes an op carries: [min, max]. */
static void value_limits(uint8_t op, size_t *min, size_t *max)
{
	switch (op) {
	case DP_MSG_READ_RESULT:
		*min = 0;
		*max = DP_MAX_FRAME;
		return;
	case DP_MSG_WRITE:
	case DP_MSG_NOTIFY:
	case DP_MSG_INDICATE:
		*min = 1;
		*max = DP_MAX_FRAME;
		return;
	}
	*min = *max = 0;
}

static bool has_status(uint8_t op)
{
	return op == DP_MSG_READ_RESULT || op == DP_MSG_WRITE_RESULT ||
		op == DP_MSG_SUBSCRIBE;
}

static enum dp_err hello_decode(const uint8_t *body, size_t len, struct dp_msg *msg)
{
	enum dp_err err;
	uint8_t name_len;

	if (len < HELLO_FIXED)
		return DP_ERR_TRUNCATED;
	name_len = body[2 + DP_ADV_SIZE];
	if (len - HELLO_FIXED < name_len)
		return DP_ERR_TRUNCATED;
	if (len - HELLO_FIXED > name_len)
		return DP_ERR_LENGTH;
	msg->att_mtu = (uint16_t)(body[0] | body[1] << 8);
	if (msg->att_mtu < ATT_MTU_MIN)
		return DP_ERR_FIELD;
	err = dp_adv_decode(body + 2, DP_ADV_SIZE, &msg->adv);
	if (err)
		return err;
	if (name_len > DP_NAME_MAX)
		return DP_ERR_STRING;
	for (size_t i = 0; i < name_len; i++) {
		if (!name_char_ok(body[HELLO_FIXED + i]))
			return DP_ERR_STRING;
		msg->name[i] = (char)body[HELLO_FIXED + i];
	}
	msg->name[name_len] = '\0';
	return DP_OK;
}

/* §10.6: sizes first (short TRUNCATED, long LENGTH), then ranges (FIELD),
 * then the HELLO name (STRING). */
enum dp_err dp_msg_decode(const uint8_t *buf, size_t len, struct dp_msg *msg)
{
	struct dp_msg out;
	const uint8_t *body;
	size_t body_len, fixed, vmin, vmax;
	enum dp_err err;

	memset(&out, 0, sizeof(out));
	if (len < DP_MSG_HEADER_SIZE)
		return DP_ERR_TRUNCATED;
	out.op = buf[0];
	out.chr = buf[1];
	if (!op_known(out.op))
		return DP_ERR_OPCODE;
	if (!chr_valid(out.op, out.chr))
		return DP_ERR_FIELD;
	body = buf + DP_MSG_HEADER_SIZE;
	body_len = len - DP_MSG_HEADER_SIZE;

	if (out.op == DP_MSG_HELLO) {
		err = hello_decode(body, body_len, &out);
		if (err)
			return err;
		*msg = out;
		return DP_OK;
	}

	fixed = has_status(out.op);
	value_limits(out.op, &vmin, &vmax);
	if (body_len < fixed + vmin)
		return DP_ERR_TRUNCATED;
	if (body_len > fixed + vmax)
		return DP_ERR_LENGTH;
	if (fixed)
		out.status = body[0];
	if (out.op == DP_MSG_SUBSCRIBE && out.status > 2)
		return DP_ERR_FIELD;
	if (body_len > fixed) {
		out.value = body + fixed;
		out.value_len = body_len - fixed;
	}
	*msg = out;
	return DP_OK;
}

enum dp_err dp_msg_encode(const struct dp_msg *msg, uint8_t *buf, size_t cap, size_t *out_len)
{
	size_t need, vmin, vmax, name_len = 0;

	if (!op_known(msg->op))
		return DP_ERR_OPCODE;
	if (!chr_valid(msg->op, msg->chr))
		return DP_ERR_FIELD;

	need = DP_MSG_HEADER_SIZE;
	if (msg->op == DP_MSG_HELLO) {
		const char *nul = memchr(msg->name, '\0', sizeof(msg->name));

		if (msg->att_mtu < ATT_MTU_MIN || msg->adv.proto_major < 1)
			return DP_ERR_FIELD;
		if (!nul)
			return DP_ERR_STRING;
		name_len = (size_t)(nul - msg->name);
		for (size_t i = 0; i < name_len; i++)
			if (!name_char_ok((uint8_t)msg->name[i]))
				return DP_ERR_STRING;
		need += HELLO_FIXED + name_len;
	} else {
		if (msg->op == DP_MSG_SUBSCRIBE && msg->status > 2)
			return DP_ERR_FIELD;
		value_limits(msg->op, &vmin, &vmax);
		if (msg->value_len < vmin)
			return DP_ERR_TRUNCATED;
		if (msg->value_len > vmax)
			return DP_ERR_LENGTH;
		if (msg->value_len && !msg->value)
			return DP_ERR_FIELD;
		need += has_status(msg->op) + msg->value_len;
	}
	if (cap < need)
		return DP_ERR_NO_SPACE;

	buf[0] = msg->op;
	buf[1] = msg->chr;
	if (msg->op == DP_MSG_HELLO) {
		buf[2] = (uint8_t)msg->att_mtu;
		buf[3] = (uint8_t)(msg->att_mtu >> 8);
		buf[4] = msg->adv.flags;
		buf[5] = msg->adv.proto_major;
		buf[6] = (uint8_t)name_len;
		if (name_len)
			memcpy(buf + 7, msg->name, name_len);
	} else {
		size_t off = DP_MSG_HEADER_SIZE;

		if (has_status(msg->op))
			buf[off++] = msg->status;
		if (msg->value_len)
			memcpy(buf + off, msg->value, msg->value_len);
	}
	*out_len = need;
	return DP_OK;
}
