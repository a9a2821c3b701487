/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Messages of the local link to roller-sim (PROTOCOL.md §10).
 *
 * Over a SOCK_SEQPACKET socket each packet is one message, standing in for
 * one ATT operation: u8 op, u8 characteristic id, then a body.  The framing
 * is kept as small as ATT so that the host's link code is the same above it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dp/codec.h"

enum dp_msg_op {
	DP_MSG_HELLO = 0x01,         /* roller -> host on connect: adv data, MTU */
	DP_MSG_READ = 0x02,          /* host -> roller */
	DP_MSG_READ_RESULT = 0x03,   /* roller -> host: u8 att status, value */
	DP_MSG_WRITE = 0x04,         /* host -> roller: value (write with response) */
	DP_MSG_WRITE_RESULT = 0x05,  /* roller -> host: u8 att status */
	DP_MSG_SUBSCRIBE = 0x06,     /* host -> roller: u8 0 off, 1 notify, 2 indicate */
	DP_MSG_NOTIFY = 0x07,        /* roller -> host: value */
	DP_MSG_INDICATE = 0x08,      /* roller -> host: value; host answers CONFIRM */
	DP_MSG_CONFIRM = 0x09,       /* host -> roller */
};

#define DP_MSG_HEADER_SIZE 2
#define DP_MSG_MAX (DP_MSG_HEADER_SIZE + 1 + DP_MAX_FRAME)

/* HELLO body: u16 att_mtu, the advertising payload (DP_ADV_SIZE, §9.2), u8 name
 * length, name. */
#define DP_NAME_MAX 29

struct dp_msg {
	uint8_t op;                  /* enum dp_msg_op */
	uint8_t chr;                 /* enum dp_char; 0 in HELLO */
	uint8_t status;              /* READ_RESULT, WRITE_RESULT; SUBSCRIBE mode */
	const uint8_t *value;        /* points into the decoded buffer */
	size_t value_len;
	/* HELLO only */
	uint16_t att_mtu;
	struct dp_adv adv;
	char name[DP_NAME_MAX + 1];
};

/* Errors, in the order of PROTOCOL.md §10.6: fewer than 2 bytes
 * DP_ERR_TRUNCATED; unknown op DP_ERR_OPCODE; chr not 0 in HELLO or not
 * 1..DP_CHAR_MAX_ otherwise DP_ERR_FIELD; body shorter than the op needs (an
 * empty 1..512 value included) DP_ERR_TRUNCATED; body longer than it allows
 * DP_ERR_LENGTH; SUBSCRIBE mode > 2, att_mtu < 23 or adv proto_major 0
 * DP_ERR_FIELD; HELLO name_len > 29 or a name byte outside 0x20..0x7e
 * DP_ERR_STRING.  Fields an op does not carry are zero; an empty value is
 * NULL.  The encoder checks the same rules on *msg. */
enum dp_err dp_msg_decode(const uint8_t *buf, size_t len, struct dp_msg *msg);
enum dp_err dp_msg_encode(const struct dp_msg *msg, uint8_t *buf, size_t cap, size_t *out_len);
