/* Docker's multiplexed attach stream (no TTY): 8-byte frame headers, stdout and stderr interleaved. */
#include <string.h>

#include "mux.h"

void mux_feed(struct mux *m, const char *p, size_t n, mux_out_fn out, void *arg)
{
	while (n) {
		if (m->remaining == 0) {
			size_t take = MUX_HEADER - m->have;

			if (take > n)
				take = n;
			memcpy(m->hdr + m->have, p, take);
			m->have += take;
			p += take;
			n -= take;
			if (m->have < MUX_HEADER)
				return;
			m->have = 0;
			m->stream = m->hdr[0];
			m->remaining = (uint32_t)m->hdr[4] << 24 | (uint32_t)m->hdr[5] << 16 |
				       (uint32_t)m->hdr[6] << 8 | m->hdr[7];
			if (m->stream != 1 && m->stream != 2)
				m->bad++;
			continue;
		}
		size_t take = m->remaining < n ? m->remaining : n;

		if (m->stream == 1 || m->stream == 2)
			out(arg, m->stream == 2, p, take);
		m->remaining -= (uint32_t)take;
		p += take;
		n -= take;
	}
}
