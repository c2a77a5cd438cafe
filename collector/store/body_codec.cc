#include "store/body_codec.h"

#include <zstd.h>

#include <memory>
#include <new>

namespace pinion::collector {
namespace {

constexpr int kLevel = 1;  // level 1 packs two realistic reports per page; faster levels do not

struct CompressionContextDeleter {
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};
struct DecompressionContextDeleter {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};

}  // namespace

std::string CompressBody(std::string_view body) {
  // One context per thread: allocating one per body would cost more than compressing.
  thread_local std::unique_ptr<ZSTD_CCtx, CompressionContextDeleter> context(ZSTD_createCCtx());
  std::string frame(ZSTD_compressBound(body.size()), '\0');
  std::size_t size = ZSTD_compressCCtx(context.get(), frame.data(), frame.size(), body.data(), body.size(), kLevel);
  if (ZSTD_isError(size)) throw std::bad_alloc();  // only on allocation failure: the bound is always enough
  frame.resize(size);
  return frame;
}

Result<std::string> DecompressBody(std::string_view frame, std::size_t max_size) {
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > max_size) {
    return Error(ErrorCode::kDatabase, "a stored report body is damaged (not a bounded zstd frame)");
  }
  thread_local std::unique_ptr<ZSTD_DCtx, DecompressionContextDeleter> context(ZSTD_createDCtx());
  std::string body(static_cast<std::size_t>(size), '\0');
  std::size_t written = ZSTD_decompressDCtx(context.get(), body.data(), body.size(), frame.data(), frame.size());
  if (ZSTD_isError(written) || written != body.size()) {
    return Error(ErrorCode::kDatabase, std::string("a stored report body is damaged: ") +
                                           (ZSTD_isError(written) ? ZSTD_getErrorName(written) : "short frame"));
  }
  return body;
}

}  // namespace pinion::collector
