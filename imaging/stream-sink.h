/* p2vkit imaging engine: a sink that sends a disk as stream frames
 * (DATA and ZERO, see stream.h) on a wire.
 */
#ifndef P2V_STREAM_SINK_H
#define P2V_STREAM_SINK_H

#include <stdint.h>

#include "sink.h"
#include "stream.h"

struct stream_sink_stats {
  uint64_t data_bytes;          /* disk bytes sent as DATA */
  uint64_t payload_bytes;       /* what they took on the wire */
};

/* A sink for disk number DISK (its index in HELLO) of SIZE bytes, sending
 * on W.  LEVEL is the zstd level, 0 for no compression.  STATS (not owned)
 * is added to.  Returns NULL with an error recorded.
 */
struct sink *stream_sink_new (struct wire *w, uint32_t disk, const char *name,
                              uint64_t size, int level,
                              struct stream_sink_stats *stats);

#endif /* P2V_STREAM_SINK_H */
