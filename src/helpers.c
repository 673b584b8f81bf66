// SPDX-License-Identifier: GPL-2.0
/*
 * Wrappers for static inline functions and macros (see helpers.h).
 */
#include <linux/fs.h>
#include <linux/fs_context.h>

#include "helpers.h"

void rext4_fc_error(struct fs_context *fc, const char *msg)
{
	errorf(fc, "%s", msg);
}
