// collector/store/body_codec.h — report bodies as the store keeps them: zstd
// frames (level 1). A realistic 3.9 KB body becomes ~1.6 KB, so two reports
// share a 4 KB database page instead of each spilling onto an overflow page:
// half the bytes written to the WAL and the database per report, which is
// where SQLite ingestion spends its time, for ~6 µs of compression.
#ifndef PINION_COLLECTOR_STORE_BODY_CODEC_H_
#define PINION_COLLECTOR_STORE_BODY_CODEC_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "pinion/result.h"

namespace pinion::collector {

// CompressBody returns one zstd frame holding `body` (its size recorded).
std::string CompressBody(std::string_view body);

// DecompressBody reverses CompressBody; kDatabase when `frame` is damaged or
// would expand beyond `max_size`.
Result<std::string> DecompressBody(std::string_view frame, std::size_t max_size);

}  // namespace pinion::collector

#endif  // PINION_COLLECTOR_STORE_BODY_CODEC_H_
